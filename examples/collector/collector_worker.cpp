// collector_worker: one cooperative member of the collector (docs/example-collector.md).
// Start several, each with its own --subconsumer: they share the consumer's position in the
// job queue (pgq_coop), each taking whole batches. A job is "collect mailbox X from source
// Y"; the worker fetches it from the mail server (at most per_source_limit fetches per
// source across all workers), stores the letters and a follow-up event in the batch's
// transaction, and retries failures with a growing delay until max_retries, after which
// the job is a dead letter (pgq.dead_letter_list / pgq.dead_letter_requeue).
#include "collect_job.hpp"
#include "source_limiter.hpp"

#include <pgqpp/consumer/daemon.hpp>
#include <pgqpp/runtime/runtime.hpp>

#include <boost/asio/io_context.hpp>

#include <spdlog/spdlog.h>

#include <optional>

namespace pc = pgqpp::consumer;
namespace rt = pgqpp::runtime;
using std::chrono::duration_cast;

namespace {

rt::options_table options() {
    rt::options_table t{"collector_worker",
                        "Collects mailboxes from mail sources: one member of a cooperative "
                        "consumer of the job queue."};
    pc::add_consumer_options(t);  // db, queue, consumer, subconsumer, dead_interval, ...
    t.set_default("queue", "collect_jobs");
    t.set_default("consumer", "collector");
    t.set_default("max_retries", "5");
    t.add(rt::opt::string("mail_server", "127.0.0.1:8025", "host:port of the mail server."));
    t.add(rt::opt::integer("per_source_limit", "2",
                           "At most this many fetches from one source at a time, over all "
                           "workers (advisory locks in the queue's database).")
              .range(1, 10000));
    t.add(rt::opt::duration("fetch_timeout", "10s", "Give up on a fetch after this long.")
              .positive());
    t.add(rt::opt::duration("retry_delay", "10s",
                            "Delay of a job's first retry; it doubles at every further one "
                            "(whole seconds).")
              .positive());
    t.add(rt::opt::duration("retry_max_delay", "10min", "The longest retry delay.").positive());
    t.add(rt::opt::string("followup_queue", "collected",
                          "Queue of the 'mailbox.collected' events (one per job done)."));
    t.add(rt::standard_options());
    return t;
}

std::chrono::seconds whole_seconds(rt::duration d) {
    return std::max(std::chrono::seconds{1}, std::chrono::ceil<std::chrono::seconds>(d));
}

}  // namespace

int main(int argc, char** argv) {
    rt::config_loader loader{options()};
    std::optional<rt::config> cfg = loader.load_or_exit(argc, argv);
    if (!cfg) return loader.exit_code();
    rt::setup_logging(rt::logging_settings::from(*cfg));

    collector::job_settings settings;
    std::optional<collector::source_limiter> limiter;
    try {
        if (cfg->get_string("delivery") != "local")
            throw std::invalid_argument{
                "collector_worker needs delivery = local (letters commit with the batch)"};
        const auto& server = cfg->get_string("mail_server");
        const auto colon = server.rfind(':');
        if (colon == std::string::npos || colon == 0 || colon + 1 == server.size())
            throw std::invalid_argument{"mail_server: expected host:port, got '" + server + "'"};
        settings.host = server.substr(0, colon);
        settings.port = server.substr(colon + 1);
        settings.fetch_timeout =
            duration_cast<std::chrono::milliseconds>(cfg->get_duration("fetch_timeout"));
        settings.retry_delay = whole_seconds(cfg->get_duration("retry_delay"));
        settings.retry_max_delay = whole_seconds(cfg->get_duration("retry_max_delay"));
        settings.followup_queue = cfg->get_string("followup_queue");
        settings.worker = cfg->get_string("subconsumer").empty() ? cfg->get_string("consumer")
                                                                 : cfg->get_string("subconsumer");
        limiter.emplace(cfg->get_connection("db"),
                        static_cast<int>(cfg->get_int("per_source_limit")));
    } catch (const std::exception& e) {
        spdlog::critical("{}", e.what());
        return rt::exit_usage;
    }

    collector::collect_job job{settings, *limiter};
    pc::consumer consumer{cfg->get_string("queue"), cfg->get_string("consumer"),
                          pc::delivery::local_exactly_once, std::ref(job)};
    boost::asio::io_context io;
    pc::consumer_daemon daemon{io, loader, std::move(*cfg), consumer};  // + coop options
    if (!daemon.start()) return rt::exit_failure;
    io.run();  // until SIGTERM/SIGINT, after the current batch
    return daemon.exit_code();
}
