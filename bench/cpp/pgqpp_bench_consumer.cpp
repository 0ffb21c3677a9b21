// pgqpp_bench_consumer: the C++ side of the consumer benchmarks (bench/run scenarios
// consume_runtime, mirror_exactly_once and latency_e2e). It is a consumer_daemon
// (pgqpp/consumer/daemon.hpp), the runtime a user's daemon gets, with one of three handlers,
// and it stops itself (SIGTERM to itself: the current batch is finished first) once
// --expect events were handled. Every consumer option works (--db, --queue, --consumer,
// --delivery, --fetch-size, --target-db, ...; --help lists them).
//
//   --work noop      count the events (consume_runtime)
//   --work mirror    remote delivery: each event's (ev_id, ev_data) becomes a row of
//                    --mirror-table in the target database, by a COPY streamed through the
//                    batch (--mirror-method copy) or one prepared INSERT per event (row)
//   --work latency   events carry the epoch seconds (clock_timestamp()) of their commit in
//                    ev_data; the handler records now - that, except for type 'warm'
//                    (warm-up events: handled, not counted).
//
// Output on stdout, `key=value` lines: events, seconds (start of io.run() to its end,
// connecting and the last batch's commit included), events_per_sec, batches (non-empty
// ones); for latency also
// lat_count, p50_ms, p90_ms, p99_ms, max_ms (all types together), and with --latency-file
// one "type ms" line per counted event, in arrival order.
#include <pgqpp/consumer/consumer.hpp>
#include <pgqpp/consumer/daemon.hpp>
#include <pgqpp/quote.hpp>
#include <pgqpp/runtime/runtime.hpp>

#include <boost/asio/io_context.hpp>
#include <pqxx/pqxx>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

namespace pc = pgqpp::consumer;
namespace rt = pgqpp::runtime;

namespace {

rt::options_table options() {
    rt::options_table t{"pgqpp_bench_consumer",
                        "Benchmark consumer: a consumer_daemon with a no-op, mirror or latency "
                        "handler that stops after --expect events."};
    pc::add_consumer_options(t);
    t.add(rt::opt::choice("work", "noop", {"noop", "mirror", "latency"},
                          "noop: count; mirror: rows into --mirror-table (remote delivery); "
                          "latency: commit -> handler of the events not of type 'warm'."));
    t.add(rt::opt::integer("expect", "0", "Stop after this many (counted) events; 0: never."));
    t.add(rt::opt::string("mirror_table", "mirror", "mirror: target table (ev_id, ev_data)."));
    t.add(rt::opt::choice("mirror_method", "copy", {"copy", "row"},
                          "mirror: copy (one COPY streamed per batch) or row (a prepared "
                          "INSERT per event)."));
    t.add(rt::opt::string("latency_file", "",
                          "latency: write one \"type ms\" line per event here."));
    t.add(rt::standard_options());
    return t;
}

double epoch_now() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

void print(const char* key, double value) { std::printf("%s=%.3f\n", key, value); }

/// What the handler saw; stops the daemon once `expect` events were counted.
struct counter {
    std::int64_t expect = 0;
    std::int64_t counted = 0;
    bool stop_sent = false;

    void count() {
        ++counted;
        // The daemon handles SIGTERM between batches: the current one is finished first.
        if (expect > 0 && counted >= expect && !stop_sent) {
            stop_sent = true;
            std::raise(SIGTERM);
        }
    }
};

double percentile(const std::vector<double>& sorted, double p) {
    if (sorted.empty()) return 0.0;
    const auto k = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
    return sorted[std::min(k, sorted.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
    rt::config_loader loader{options()};
    std::optional<rt::config> cfg = loader.load_or_exit(argc, argv);
    if (!cfg) return loader.exit_code();
    rt::setup_logging(rt::logging_settings::from(*cfg));

    const std::string work = cfg->get_string("work");
    counter seen;
    seen.expect = cfg->get_int("expect");
    std::vector<double> latency_ms;
    std::vector<std::string> latency_type;  // ev_type of each latency_ms
    std::string insert;
    std::unique_ptr<pqxx::stream_to> copy;  // mirror/copy: open during a batch
    pc::delivery mode;
    try {
        mode = pc::parse_delivery(cfg->get_string("delivery"));
        if (work == "mirror") {
            if (mode != pc::delivery::remote_exactly_once)
                throw std::invalid_argument{"--work mirror needs --delivery remote"};
            insert = "insert into " + pgqpp::quote_identifier(cfg->get_string("mirror_table")) +
                     " (ev_id, ev_data) values ($1, $2)";
        }
        if (work == "latency")
            latency_ms.reserve(static_cast<std::size_t>(std::max<std::int64_t>(seen.expect, 0)));
    } catch (const std::exception& e) {
        spdlog::critical("{}", e.what());
        return rt::exit_failure;
    }
    const bool by_copy = cfg->get_string("mirror_method") == "copy";
    const std::string table = cfg->get_string("mirror_table");
    const std::string latency_file = cfg->get_string("latency_file");

    pc::event_handler handler;
    if (work == "noop") {
        handler = [&](const pc::event&, pc::batch_context&) {
            seen.count();
            return pc::outcome::done();
        };
    } else if (work == "mirror") {
        handler = [&](const pc::event& ev, pc::batch_context& batch) {
            if (by_copy)
                *copy << std::make_tuple(ev.id, ev.data);
            else
                batch.tx().exec_prepared("bench_mirror_insert", ev.id, ev.data);
            seen.count();
            return pc::outcome::done();
        };
    } else {
        handler = [&](const pc::event& ev, pc::batch_context&) {
            if (ev.type != "warm") {
                const double committed = std::strtod(ev.data.c_str(), nullptr);
                latency_ms.push_back((epoch_now() - committed) * 1000.0);
                latency_type.push_back(ev.type);
                seen.count();
            }
            return pc::outcome::done();
        };
    }
    pc::consumer consumer{cfg->get_string("queue"), cfg->get_string("consumer"), mode, handler};
    std::int64_t batches = 0;  // non-empty ones
    consumer.on_batch_start([&](pc::batch_context&) { ++batches; });
    if (work == "mirror" && !by_copy) {
        // One prepared INSERT per event (libpqxx prepares it on the connection's first use,
        // again after a reconnect).
        consumer.on_batch_start([&](pc::batch_context& batch) {
            ++batches;
            batch.tx().conn().prepare("bench_mirror_insert", insert);
        });
    }
    if (work == "mirror" && by_copy) {
        consumer.on_batch_start([&](pc::batch_context& batch) {
            ++batches;
            copy = std::make_unique<pqxx::stream_to>(
                batch.tx(), table, std::vector<std::string>{"ev_id", "ev_data"});
        });
        consumer.on_batch_end([&](pc::batch_context&) {
            copy->complete();
            copy.reset();
        });
    }

    boost::asio::io_context io;
    pc::consumer_daemon daemon{io, loader, std::move(*cfg), consumer};
    const auto t0 = std::chrono::steady_clock::now();
    if (!daemon.start()) return rt::exit_failure;
    io.run();  // until the SIGTERM sent after --expect events
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    print("events", static_cast<double>(seen.counted));
    print("seconds", elapsed);
    print("events_per_sec", elapsed > 0 ? static_cast<double>(seen.counted) / elapsed : 0.0);
    print("batches", static_cast<double>(batches));
    if (work == "latency") {
        if (!latency_file.empty()) {
            std::ofstream f{latency_file};
            for (std::size_t i = 0; i < latency_ms.size(); ++i)
                f << latency_type[i] << ' ' << latency_ms[i] << '\n';
        }
        std::sort(latency_ms.begin(), latency_ms.end());
        print("lat_count", static_cast<double>(latency_ms.size()));
        print("p50_ms", percentile(latency_ms, 0.50));
        print("p90_ms", percentile(latency_ms, 0.90));
        print("p99_ms", percentile(latency_ms, 0.99));
        print("max_ms", latency_ms.empty() ? 0.0 : latency_ms.back());
    }
    return daemon.exit_code();
}
