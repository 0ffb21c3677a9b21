// event_log: at-least-once (docs/consumer.md). Each event becomes a line of a log file
// outside any database ("id type data"); the file is fsync'ed at the end of each batch,
// before finish_batch commits. After a crash the last batch is written again: readers
// skip an id they have already seen. Events of type "poison" are retried 3 times, then
// (max_retries) go to the dead letters.
//
//   event_log --db "dbname=mail" --queue letters --consumer audit
//       --output /var/log/letters.log --max-retries 3
// [all]
#include <pgqpp/consumer/daemon.hpp>

#include <spdlog/spdlog.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include <unistd.h>

namespace rt = pgqpp::runtime;
namespace pc = pgqpp::consumer;

int main(int argc, char** argv) {
    rt::options_table options{"event_log", "Appends each event to a log file (at least once)."};
    pc::add_consumer_options(options, pc::delivery::at_least_once);
    options.add(rt::opt::string("output", "", "The log file.").required());
    options.add(rt::standard_options());
    rt::config_loader loader{options};
    std::optional<rt::config> cfg = loader.load_or_exit(argc, argv);
    if (!cfg) return loader.exit_code();
    rt::setup_logging(rt::logging_settings::from(*cfg));
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> out{
        std::fopen(cfg->get_string("output").c_str(), "a"), &std::fclose};
    if (!out) {
        spdlog::critical("cannot open {}: {}", cfg->get_string("output"), std::strerror(errno));
        return rt::exit_failure;
    }

    pc::consumer consumer{
        cfg->get_string("queue"), cfg->get_string("consumer"), pc::delivery::at_least_once,
        [&](const pc::event& ev, pc::batch_context&) {
            if (ev.type == "poison") return pc::outcome::retry_after(std::chrono::seconds{1});
            std::fprintf(out.get(), "%lld %s %s\n", static_cast<long long>(ev.id),
                         ev.type.c_str(), ev.data.c_str());
            return pc::outcome::done();
        }};
    // Durable before finish_batch commits: a crash after this repeats the batch, never loses it.
    consumer.on_batch_end([&](pc::batch_context&) {
        if (std::fflush(out.get()) != 0 || ::fsync(::fileno(out.get())) != 0)
            throw std::runtime_error{std::string{"cannot write the log: "} + std::strerror(errno)};
    });

    boost::asio::io_context io;
    pc::consumer_daemon daemon{io, loader, std::move(*cfg), consumer};
    if (!daemon.start()) return rt::exit_failure;
    io.run();
    return daemon.exit_code();
}
// [all]
