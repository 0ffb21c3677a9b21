/// @file daemon.hpp
/// Process control for a daemon on a Boost.Asio io_context: SIGTERM/SIGINT stop it
/// gracefully (a second one exits at once), SIGHUP reloads, a pidfile guards against a
/// second instance. The program runs in the foreground (systemd's Type=simple/exec).
///
/// @code
/// boost::asio::io_context io;
/// pgqpp::runtime::daemon d{io, pgqpp::runtime::daemon_options::from(cfg)};
/// d.on_stop([&](int) { worker.stop(); });          // finish the current batch, then return
/// d.on_reload([&] { cfg = loader.reload(); ... });
/// d.start();                                        // pidfile + signals (throws pidfile_error)
/// worker.start();
/// io.run();                                         // returns when the worker has stopped
/// return 0;                                         // ~daemon removes the pidfile
/// @endcode
#pragma once

#include <boost/asio/io_context.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <string>

namespace pgqpp::runtime {

class config;

/// Settings of a daemon.
struct daemon_options {
    /// The program's name, for log lines.
    std::string name = "pgqpp";
    /// Pidfile path ("" for none).
    std::string pidfile;

    /// name from the table's program, pidfile from the `pidfile` key (standard_options()).
    static daemon_options from(const config& cfg);
};

/**
 * Signals and pidfile of a daemon process.
 *
 * Signals are caught by a boost::asio::signal_set on a small internal thread, so they are
 * seen even while the program's io_context is busy (e.g. inside a long synchronous batch):
 *
 * - SIGTERM or SIGINT, the first time: logs it and posts the on_stop callback to the
 *   program's io_context. The program finishes its current unit of work and lets io.run()
 *   return. stop_requested() becomes true at once, for work that wants to check it.
 * - SIGTERM or SIGINT again while stopping: logs it, removes the pidfile and ends the
 *   process at once with std::_Exit(128 + signal) (143 for SIGTERM, 130 for SIGINT), without
 *   waiting for the current work. Nothing committed is lost: that is the database's job.
 * - SIGHUP: posts the on_reload callback to the program's io_context.
 * - SIGPIPE is ignored (a closed socket or pipe is an error return, not a death).
 *
 * Only one daemon object should be started per process. The callbacks run on the
 * program's io_context, never on the internal thread.
 */
class daemon {
public:
    daemon(boost::asio::io_context& io, daemon_options options);
    /// finish().
    ~daemon();
    daemon(const daemon&) = delete;
    daemon& operator=(const daemon&) = delete;

    /// Called (on the program's io_context) on the first SIGTERM/SIGINT, with the signal
    /// number, or by request_stop() with 0.
    void on_stop(std::function<void(int signal)> fn);
    /// Called (on the program's io_context) on SIGHUP.
    void on_reload(std::function<void()> fn);

    /**
     * Writes the pidfile (if configured) and starts handling signals.
     * @throws pidfile_error if another running process holds the pidfile, or it cannot be
     *         written; nothing is started then
     */
    void start();

    /// Behaves like a first SIGTERM (without a signal): for a program that decides to stop
    /// by itself. Thread-safe.
    void request_stop();
    /// Whether a stop was requested (by a signal or request_stop()). Thread-safe.
    bool stop_requested() const noexcept;

    /// Stops handling signals (they get their default action again) and removes the
    /// pidfile. Idempotent; the destructor calls it.
    void finish();

private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

}  // namespace pgqpp::runtime
