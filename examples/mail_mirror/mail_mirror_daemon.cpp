// mail_mirror_daemon: mirrors the primary's mail (queue 'mail') into the mirror database, in
// remote exactly-once delivery: the letters and folders a batch changes and
// pgq_ext.set_batch_done commit together in the mirror, then the batch is finished on the
// primary. A crash anywhere replays at most the unfinished batch, which pgq_ext recognises.
// A database that is down (primary or mirror) is retried with backoff; the primary keeps
// working meanwhile and the mirror catches up when it is back (docs/example-mail-mirror.md).
//
//   mail_mirror_daemon --db "dbname=mail" --target-db "host=mirror dbname=mail"
//   mail_mirror_daemon --print-config > mirror.ini; mail_mirror_daemon --config mirror.ini
#include "mirror_writer.hpp"

#include <pgqpp/consumer/daemon.hpp>

#include <spdlog/spdlog.h>

#include <optional>

namespace rt = pgqpp::runtime;
namespace pc = pgqpp::consumer;

namespace {

rt::options_table options() {
    rt::options_table t{"mail_mirror_daemon",
                        "Mirrors the mail of the primary (queue 'mail') into a mirror database."};
    pc::add_consumer_options(t, pc::delivery::remote_exactly_once);  // target_db required
    t.set_default("queue", "mail");
    t.set_default("consumer", "mail_mirror");
    t.set_default("fetch_size", "5000");
    t.add(rt::opt::integer("apply_rows", "5000",
                           "Letter changes written to the mirror per statement."));
    t.add(rt::standard_options());
    return t;
}

}  // namespace

int main(int argc, char** argv) {
    rt::config_loader loader{options()};
    std::optional<rt::config> cfg = loader.load_or_exit(argc, argv);
    if (!cfg) return loader.exit_code();
    rt::setup_logging(rt::logging_settings::from(*cfg));
    if (cfg->get_int("apply_rows") <= 0) {
        spdlog::critical("apply_rows must be positive");
        return rt::exit_failure;
    }

    mail::mirror_writer writer{static_cast<std::size_t>(cfg->get_int("apply_rows"))};
    pc::consumer consumer{cfg->get_string("queue"), cfg->get_string("consumer"),
                          pc::delivery::remote_exactly_once,
                          [&](pc::event_stream& events, pc::batch_context& batch) {
                              writer.apply_batch(events, batch);
                          }};

    boost::asio::io_context io;
    pc::consumer_daemon daemon{io, loader, std::move(*cfg), consumer};
    if (!daemon.start()) return rt::exit_failure;
    io.run();  // until SIGTERM/SIGINT, after the current batch
    return daemon.exit_code();
}
