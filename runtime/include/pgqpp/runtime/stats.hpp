/// @file stats.hpp
/// The periodic one-line statistics log, the minimal monitoring of every daemon:
/// pgqd's `{ticks: 12, maint: 1, retry: 0}` and python-pgq's
/// `{count: 250, duration: 0.412, idle: 2.5, retry-events: 1}`.
///
/// The program owns its counters; the reporter asks for them every stats_period and logs
/// the line. The callback usually reports the counts of the period and resets them.
///
/// @code
/// pgqpp::runtime::stats_reporter stats{io.get_executor(), log, cfg.get_duration("stats_period"),
///     [&](pgqpp::runtime::stats_line& line) {
///         line.add("ticks", std::exchange(ticks, 0)).add("maint", std::exchange(maint, 0));
///     }};
/// stats.start();
/// @endcode
#pragma once

#include "pgqpp/runtime/logging.hpp"
#include "pgqpp/runtime/values.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace pgqpp::runtime {

/// Builds `{key: value, ...}`.
class stats_line {
public:
    /// Adds an integer count.
    stats_line& add(std::string_view key, std::int64_t value);
    /// Adds a number, printed with up to 3 decimals (`0.412`, `2.5`, `3`).
    stats_line& add(std::string_view key, double value);
    /// Adds a duration as seconds with up to 3 decimals.
    stats_line& add(std::string_view key, duration value);
    /// Convenience for unsigned counters.
    stats_line& add(std::string_view key, std::uint64_t value) {
        return add(key, static_cast<std::int64_t>(value));
    }
    stats_line& add(std::string_view key, int value) {
        return add(key, static_cast<std::int64_t>(value));
    }

    /// Nothing was added.
    bool empty() const noexcept { return fields_ == 0; }
    /// `{ticks: 12, maint: 1}`; `{}` when empty.
    std::string str() const;

private:
    void key(std::string_view k);
    std::string body_;
    int fields_ = 0;
};

/**
 * Logs a stats line every period, on a steady_timer of the program's executor.
 *
 * The collect callback runs on that executor, so it may read the program's plain
 * (non-atomic) counters if the program's work runs there too.
 */
class stats_reporter {
public:
    /// Fills the line for the period just ended.
    using collect_fn = std::function<void(stats_line&)>;

    /**
     * @param ex      executor for the timer and the callback
     * @param log     context of the line (e.g. "[maildb/letters]")
     * @param period  how often; zero means never (start() does nothing)
     * @param collect fills the line
     */
    stats_reporter(boost::asio::any_io_executor ex, log_context log, duration period,
                   collect_fn collect);
    ~stats_reporter();
    stats_reporter(const stats_reporter&) = delete;
    stats_reporter& operator=(const stats_reporter&) = delete;

    /// Starts the periodic reports (the first one period from now).
    void start();
    /// Stops them; the reporter may be started again.
    void stop();
    /// Changes the period (e.g. after a reload); restarts the timer if running.
    void set_period(duration period);
    /// Logs a line now (e.g. at shutdown). With skip_empty, a line with no fields is not logged.
    void report_now();
    /// Do not log lines to which the callback added nothing (python-pgq's behaviour);
    /// default false (pgqd's: always a line).
    void set_skip_empty(bool skip) { skip_empty_ = skip; }

private:
    struct state;
    void arm();
    std::shared_ptr<state> state_;
    bool skip_empty_ = false;
};

}  // namespace pgqpp::runtime
