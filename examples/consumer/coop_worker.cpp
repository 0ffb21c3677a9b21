// coop_worker: a member of a cooperative consumer (docs/consumer.md). Start several with the
// same --consumer and different --subconsumer names: they share the consumer's batches,
// each batch going to one of them, in local exactly-once (the result rows commit with
// pgq_coop.finish_batch). A member killed while holding a batch has it taken over by
// another after --dead-interval (longer than any batch).
//
//   create table job_results (ev_id bigint primary key, worker text, result text);
//   coop_worker --db "dbname=jobs" --queue jobs --consumer workers --subconsumer w1
//       --dead-interval 5min
// [all]
#include <pgqpp/consumer/daemon.hpp>

#include <pqxx/pqxx>
#include <spdlog/spdlog.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <thread>

namespace rt = pgqpp::runtime;
namespace pc = pgqpp::consumer;

int main(int argc, char** argv) {
    rt::options_table options{"coop_worker", "Runs slow jobs as one member of a cooperative consumer."};
    pc::add_consumer_options(options, pc::delivery::local_exactly_once);  // subconsumer, ...
    options.add(rt::opt::duration("work_time", "0", "Pretend each job takes this long."));
    options.add(rt::standard_options());
    rt::config_loader loader{options};
    std::optional<rt::config> cfg = loader.load_or_exit(argc, argv);
    if (!cfg) return loader.exit_code();
    rt::setup_logging(rt::logging_settings::from(*cfg));
    const std::string worker = cfg->get_string("subconsumer");
    if (worker.empty()) {
        spdlog::critical("coop_worker needs --subconsumer (this member's name)");
        return rt::exit_failure;
    }
    const auto work_time = cfg->get_duration("work_time");

    pc::consumer consumer{
        cfg->get_string("queue"), cfg->get_string("consumer"), pc::delivery::local_exactly_once,
        [&](const pc::event& ev, pc::batch_context& batch) {
            std::this_thread::sleep_for(work_time);  // the slow job
            const std::string result = std::to_string(std::hash<std::string>{}(ev.data));
            batch.tx().exec_params(
                "insert into job_results (ev_id, worker, result) values ($1, $2, $3)", ev.id,
                worker, result);
            return pc::outcome::done();
        }};
    // The daemon makes it a member (consumer.set_coop) from subconsumer and dead_interval.

    boost::asio::io_context io;
    pc::consumer_daemon daemon{io, loader, std::move(*cfg), consumer};
    if (!daemon.start()) return rt::exit_failure;
    io.run();
    return daemon.exit_code();
}
// [all]
