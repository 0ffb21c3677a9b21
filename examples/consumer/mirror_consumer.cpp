// mirror_consumer: a complete consumer daemon on pgqpp::consumer (docs/consumer.md).
// In local delivery it copies each event into a table of the queue's database, in the
// batch's transaction (exactly once); in remote delivery into a table of --target-db, in a
// transaction that also marks the batch done there (pgq_ext); in at_least_once it appends each event to a file,
// flushed before the batch is finished (a crash may repeat a batch, never lose one).
// An event whose type is "retry" is retried once after --retry-delay.
//
//   mirror_consumer --db "dbname=mail" --queue letters --consumer mirror --target mirror
//   mirror_consumer --db ... --delivery at_least_once --output /var/lib/mirror/events.log
#include <pgqpp/consumer/daemon.hpp>

#include <pqxx/pqxx>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <thread>

namespace rt = pgqpp::runtime;
namespace pc = pgqpp::consumer;

namespace {

// [options]
rt::options_table options() {
    rt::options_table t{"mirror_consumer", "Copies the events of a queue into a table or a file."};
    pc::add_consumer_options(t);  // db, queue, consumer, delivery, poll_period, min_*, fetch_size
    t.add(rt::opt::string("target", "",
                          "local, remote: table (ev_id bigint, ev_data text) to fill."));
    t.add(rt::opt::string("output", "", "at_least_once: file to append 'id data' lines to."));
    t.add(rt::opt::duration("retry_delay", "1s", "Delay of events of type 'retry'."));
    t.add(rt::opt::duration("event_delay", "0",
                            "Pretend each event takes this long (demos and crash tests)."));
    t.add(rt::standard_options());
    return t;
}
// [options]

}  // namespace

// [main]
int main(int argc, char** argv) {
    rt::config_loader loader{options()};
    std::optional<rt::config> cfg = loader.load_or_exit(argc, argv);
    if (!cfg) return loader.exit_code();
    rt::setup_logging(rt::logging_settings::from(*cfg));

    const auto event_delay = cfg->get_duration("event_delay");
    const auto retry_delay =
        std::chrono::duration_cast<std::chrono::seconds>(cfg->get_duration("retry_delay"));
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> out{nullptr, &std::fclose};
    std::string insert;
    pc::delivery mode;
    try {
        mode = pc::parse_delivery(cfg->get_string("delivery"));
        if (mode != pc::delivery::at_least_once) {  // local, or remote into --target-db
            if (cfg->get_string("target").empty())
                throw std::invalid_argument{"exactly-once delivery needs --target TABLE"};
            std::string table;  // a quoted identifier
            for (char ch : cfg->get_string("target")) table += ch == '"' ? "\"\"" : std::string(1, ch);
            insert = "insert into \"" + table + "\" (ev_id, ev_data) values ($1, $2)";
        } else {
            if (cfg->get_string("output").empty())
                throw std::invalid_argument{"at_least_once delivery needs --output FILE"};
            out.reset(std::fopen(cfg->get_string("output").c_str(), "a"));
            if (!out) throw std::invalid_argument{"cannot open " + cfg->get_string("output")};
        }
    } catch (const std::exception& e) {
        spdlog::critical("{}", e.what());
        return rt::exit_failure;
    }

    // [handler]
    pc::consumer consumer{
        cfg->get_string("queue"), cfg->get_string("consumer"), mode,
        [&](const pc::event& ev, pc::batch_context& batch) {
            if (ev.type == "retry" && !ev.retry) return pc::outcome::retry_after(retry_delay);
            if (event_delay.count() > 0) std::this_thread::sleep_for(event_delay);
            if (out)
                std::fprintf(out.get(), "%lld %s\n", static_cast<long long>(ev.id),
                             ev.data.c_str());
            else
                batch.tx().exec_params(insert, ev.id, ev.data);
            return pc::outcome::done();
        }};
    // at_least_once: the effects are durable before finish_batch commits.
    consumer.on_batch_end([&](pc::batch_context&) {
        if (out) std::fflush(out.get());
    });
    // [handler]

    boost::asio::io_context io;
    pc::consumer_daemon daemon{io, loader, std::move(*cfg), consumer};
    if (!daemon.start()) return rt::exit_failure;
    io.run();  // until SIGTERM/SIGINT, after the current batch
    return daemon.exit_code();
}
// [main]
