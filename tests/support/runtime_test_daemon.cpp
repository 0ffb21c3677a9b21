// A tiny daemon for the signal tests (tests/unit/runtime_daemon_test.cpp): the real
// runtime (config, daemon, pidfile) in a separate process, reporting what happens on stdout
// one line at a time so the test can follow it.
//
//   runtime_test_daemon [--pidfile FILE] [--busy-ms N]
//
// Prints "ready" once signals are handled. With --busy-ms, it then runs one blocking unit of
// work of N ms on the event loop (a long batch), printing "work-start" and "work-done".
// SIGHUP prints "reload"; the graceful stop prints "stopping" and the process exits 0 when
// the loop is done.
#include <pgqpp/runtime/config.hpp>
#include <pgqpp/runtime/daemon.hpp>
#include <pgqpp/runtime/logging.hpp>
#include <pgqpp/runtime/pidfile.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdio>
#include <thread>

namespace rt = pgqpp::runtime;

namespace {
void say(const char* what) {
    std::printf("%s\n", what);
    std::fflush(stdout);
}
}  // namespace

int main(int argc, char** argv) {
    rt::options_table table{"runtime_test_daemon", "Signal test helper."};
    table.add(rt::standard_options());
    table.add(rt::opt::integer("busy_ms", "0", "Run one blocking unit of work this long."));
    rt::config_loader loader{table};
    const auto cfg = loader.load_or_exit(argc, argv);
    if (!cfg) return loader.exit_code();
    auto log_settings = rt::logging_settings::from(*cfg);
    log_settings.level = spdlog::level::warn;  // stdout is the protocol; logs go to stderr
    rt::setup_logging(log_settings);

    boost::asio::io_context io;
    rt::daemon d{io, rt::daemon_options::from(*cfg)};
    // Keeps the loop alive until the stop; a real program would have its work here.
    boost::asio::steady_timer idle{io, std::chrono::hours{24}};
    idle.async_wait([](boost::system::error_code) {});
    d.on_stop([&](int) {
        say("stopping");
        idle.cancel();
    });
    d.on_reload([] { say("reload"); });
    try {
        d.start();
    } catch (const rt::pidfile_error& e) {
        std::fprintf(stderr, "runtime_test_daemon: %s\n", e.what());
        return rt::exit_failure;
    }
    say("ready");
    if (const auto busy = cfg->get_int("busy_ms"); busy > 0) {
        boost::asio::post(io, [busy] {
            say("work-start");
            std::this_thread::sleep_for(std::chrono::milliseconds{busy});
            say("work-done");
        });
    }
    io.run();
    return 0;
}
