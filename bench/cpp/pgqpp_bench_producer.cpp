// pgqpp_bench_producer: the C++ side of the producer benchmarks (bench/run scenarios
// cpp_enqueue_single, cpp_enqueue_bulk and async_enqueue). It connects with libpq's
// environment (PGHOST, PGPORT, PGDATABASE, ...) or --conninfo, runs one measurement and
// prints `key=value` lines that the Python scenario parses.
//
//   pgqpp_bench_producer single --threads 4 --seconds 15
//       one event per transaction (pgqpp::insert_event + COMMIT) on N connections
//   pgqpp_bench_producer bulk --events 100000 --method automatic|function|copy|rows|plain-copy
//       one transaction with N events (pgqpp::insert_events); plain-copy: the same rows by
//       COPY into the ordinary table --table (the baseline)
//   pgqpp_bench_producer async --requests 200000 --in-flight 20000 [--connections 1]
//       pgqpp::async_producer with K requests always in flight; events/s and latency
//
// Output: events_per_sec=<x>, plus seconds=, events=, and for async p50_ms=, p99_ms=,
// max_ms=, transactions=.
#include <pgqpp/async_producer.hpp>
#include <pgqpp/producer.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/program_options.hpp>
#include <pqxx/pqxx>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

namespace po = boost::program_options;
using clock_type = std::chrono::steady_clock;

namespace {

/// The ~100-byte JSON payload of the SQL benchmarks (bench/pgqbench/common.py payload_sql).
std::string payload(long n) {
    return "{\"id\":" + std::to_string(n) +
           ",\"kind\":\"bench\",\"text\":\"lorem ipsum dolor sit amet, consectetur adipiscing "
           "elit, sed do eiusm\"}";
}

double seconds_since(clock_type::time_point t0) {
    return std::chrono::duration<double>(clock_type::now() - t0).count();
}

void print(const char* key, double value) { std::printf("%s=%.3f\n", key, value); }

int run_single(const std::string& conninfo, const std::string& queue, int threads,
               double seconds) {
    std::atomic<long> events{0};
    std::atomic<bool> stop{false};
    std::atomic<int> errors{0};
    std::vector<std::thread> workers;
    // Connect first, so that connection time is not measured.
    std::vector<std::unique_ptr<pqxx::connection>> conns;
    for (int i = 0; i < threads; ++i) conns.push_back(std::make_unique<pqxx::connection>(conninfo));
    const auto t0 = clock_type::now();
    for (int i = 0; i < threads; ++i) {
        workers.emplace_back([&, i] {
            long n = 0;
            try {
                while (!stop.load(std::memory_order_relaxed)) {
                    pqxx::work tx{*conns[static_cast<std::size_t>(i)]};
                    pgqpp::insert_event(tx, queue, {"type", payload(i * 1000000000L + n)});
                    tx.commit();
                    ++n;
                }
            } catch (const std::exception& e) {
                std::cerr << "worker " << i << ": " << e.what() << '\n';
                ++errors;
            }
            events += n;
        });
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    stop = true;
    for (auto& w : workers) w.join();
    const double elapsed = seconds_since(t0);
    print("seconds", elapsed);
    print("events", static_cast<double>(events.load()));
    print("events_per_sec", static_cast<double>(events.load()) / elapsed);
    return errors.load() == 0 ? 0 : 1;
}

int run_bulk(const std::string& conninfo, const std::string& queue, long count,
             const std::string& method, const std::string& table) {
    pqxx::connection conn{conninfo};
    std::vector<pgqpp::event> events;
    events.reserve(static_cast<std::size_t>(count));
    for (long i = 0; i < count; ++i) events.push_back({"type", payload(i)});

    const auto t0 = clock_type::now();
    pqxx::work tx{conn};
    if (method == "plain-copy") {
        // The baseline: the same rows into an ordinary table with the event columns, by COPY.
        const std::string now = tx.exec1("select now()::text")[0].as<std::string>();
        pqxx::stream_to copy{tx, table, std::vector<std::string>{"ev_time", "ev_type", "ev_data"}};
        for (const auto& e : events) copy << std::make_tuple(now, e.type, e.data);
        copy.complete();
    } else {
        pgqpp::producer_options options;
        if (method == "automatic") options.method = pgqpp::bulk_method::automatic;
        else if (method == "function") options.method = pgqpp::bulk_method::function;
        else if (method == "copy") options.method = pgqpp::bulk_method::copy;
        else if (method == "rows") options.method = pgqpp::bulk_method::rows;
        else throw std::invalid_argument{"unknown --method " + method};
        const std::size_t n = pgqpp::insert_events(tx, queue, events, options);
        if (n != events.size()) throw std::runtime_error{"inserted " + std::to_string(n)};
    }
    tx.commit();
    const double elapsed = seconds_since(t0);
    print("seconds", elapsed);
    print("events", static_cast<double>(count));
    print("events_per_sec", static_cast<double>(count) / elapsed);
    return 0;
}

int run_async(const std::string& conninfo, const std::string& queue, long total, long in_flight,
              std::size_t connections, std::size_t group) {
    boost::asio::io_context io;
    pgqpp::async_producer_options options;
    options.connections = connections;
    options.max_group_events = group;
    options.max_pending = static_cast<std::size_t>(std::max(in_flight, 1L)) + 1;
    options.request_timeout = std::chrono::minutes{5};
    pgqpp::async_producer producer{io, pgqpp::connection_config{conninfo}, options};

    std::vector<double> latency_ms(static_cast<std::size_t>(total));
    long issued = 0, completed = 0, failed = 0;
    std::function<void()> issue_one;
    issue_one = [&] {
        const long i = issued++;
        const auto t = clock_type::now();
        producer.async_insert(queue, {"type", payload(i)},
                              [&, i, t](boost::system::error_code ec, std::int64_t) {
                                  latency_ms[static_cast<std::size_t>(i)] =
                                      std::chrono::duration<double, std::milli>(
                                          clock_type::now() - t)
                                          .count();
                                  ++completed;
                                  if (ec) {
                                      if (failed++ < 5) std::cerr << "request: " << ec.message() << '\n';
                                  }
                                  if (issued < total) issue_one();
                              });
    };
    // A warm-up request, so that connecting is not measured.
    {
        long warm_issued = 0;
        producer.async_insert(queue, {"warmup", "{}"},
                              [&](boost::system::error_code ec, std::int64_t) {
                                  ++warm_issued;
                                  if (ec) std::cerr << "warm-up: " << ec.message() << '\n';
                              });
        io.run();
        io.restart();
    }
    const auto t0 = clock_type::now();
    for (long k = 0; k < in_flight && issued < total; ++k) issue_one();
    io.run();
    const double elapsed = seconds_since(t0);
    const auto stats = producer.stats();
    producer.stop();

    std::sort(latency_ms.begin(), latency_ms.end());
    auto pct = [&](double p) {
        if (latency_ms.empty()) return 0.0;
        const auto k = static_cast<std::size_t>(p * static_cast<double>(latency_ms.size() - 1));
        return latency_ms[k];
    };
    print("seconds", elapsed);
    print("events", static_cast<double>(completed - failed));
    print("failed", static_cast<double>(failed));
    print("events_per_sec", static_cast<double>(completed - failed) / elapsed);
    print("p50_ms", pct(0.50));
    print("p99_ms", pct(0.99));
    print("max_ms", latency_ms.empty() ? 0.0 : latency_ms.back());
    print("transactions", static_cast<double>(stats.transactions));
    return failed == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    std::string mode, conninfo, queue, method, table;
    int threads = 4;
    double seconds = 10;
    long events = 100000, requests = 200000, in_flight = 20000;
    std::size_t connections = 1, group = 5000;

    po::options_description opts{"pgqpp_bench_producer MODE [options]; MODE: single, bulk, async"};
    opts.add_options()
        ("help,h", "this help")
        ("mode", po::value(&mode), "single | bulk | async")
        ("conninfo", po::value(&conninfo)->default_value(""), "libpq connection string (default: PG* environment)")
        ("queue", po::value(&queue)->default_value("bench_q"), "queue name")
        ("threads", po::value(&threads)->default_value(4), "single: connections/threads")
        ("seconds", po::value(&seconds)->default_value(10), "single: duration")
        ("events", po::value(&events)->default_value(100000), "bulk: events in the transaction")
        ("method", po::value(&method)->default_value("automatic"), "bulk: automatic | function | copy | rows | plain-copy")
        ("table", po::value(&table)->default_value("bench_base.plain_events"), "bulk plain-copy: target table")
        ("requests", po::value(&requests)->default_value(200000), "async: total requests")
        ("in-flight", po::value(&in_flight)->default_value(20000), "async: requests kept in flight")
        ("connections", po::value(&connections)->default_value(1), "async: producer connections")
        ("group", po::value(&group)->default_value(5000), "async: max events per transaction");
    po::positional_options_description pos;
    pos.add("mode", 1);
    try {
        po::variables_map vm;
        po::store(po::command_line_parser(argc, argv).options(opts).positional(pos).run(), vm);
        po::notify(vm);
        if (vm.count("help") || mode.empty()) {
            std::cout << opts << '\n';
            return mode.empty() && !vm.count("help") ? 2 : 0;
        }
        if (mode == "single") return run_single(conninfo, queue, threads, seconds);
        if (mode == "bulk") return run_bulk(conninfo, queue, events, method, table);
        if (mode == "async")
            return run_async(conninfo, queue, requests, in_flight, connections, group);
        std::cerr << "unknown mode " << mode << '\n';
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "pgqpp_bench_producer: " << e.what() << '\n';
        return 1;
    }
}
