/// @file logging.hpp
/// spdlog set up from the configuration: stderr, a log file and/or syslog, the level from
/// `log_level` adjusted by -v/-q, and a prefix per database/queue so that every line says
/// what it is about (`[maildb/letters] batch 17: 250 events`), as pgqd does.
///
/// @code
/// pgqpp::runtime::setup_logging(pgqpp::runtime::logging_settings::from(cfg));
/// pgqpp::runtime::log_context log{"maildb", "letters"};
/// log.info("batch {}: {} events", batch_id, n);   // ... INFO [maildb/letters] batch 17: 250 events
/// @endcode
///
/// There is one root logger for the whole process (root_logger()). setup_logging() can be
/// called again at any time (on reload): it swaps the sinks in place, under a lock, so other
/// threads keep logging, a log file is reopened (for logrotate) and the level changes.
#pragma once

#include <spdlog/logger.h>

#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace pgqpp::runtime {

class config;

/// Where and what to log.
struct logging_settings {
    /// Program name: syslog ident by default, and the context of lines without one.
    std::string program = "pgqpp";
    /// Least severe level logged.
    spdlog::level::level_enum level = spdlog::level::info;
    /// Log to standard error.
    bool console = true;
    /// Also append to this file ("" for none).
    std::string logfile;
    /// Also log to syslog.
    bool syslog = false;
    /// Syslog ident ("" for the program name).
    std::string syslog_ident;
    /// Syslog facility name (daemon, user, local0 ... local7).
    std::string syslog_facility = "daemon";

    /**
     * From a config whose table includes standard_options(): log_level moved one step
     * down per -v (info → debug → trace) and up per -q (info → warning → error), logfile,
     * log_console, syslog, syslog_ident, syslog_facility.
     */
    static logging_settings from(const config& cfg);
};

/// "trace", "debug", "info", "warning", "error", "critical", "off" to a level.
/// @throws std::invalid_argument for other words
spdlog::level::level_enum parse_log_level(std::string_view word);

/**
 * Points the root logger at the sinks of @p settings and sets its level.
 *
 * Line format: `2026-11-22 01:49:51.123 [4711] INFO [db/queue] message` (syslog lines
 * without the time and pid). Safe to call again while other threads log.
 * @throws spdlog::spdlog_ex (a std::exception) if the log file cannot be opened; the
 *         previous sinks then stay in place
 */
void setup_logging(const logging_settings& settings);

/// The process-wide logger every log_context writes to (stderr at info until
/// setup_logging() is called). Also installed as spdlog's default logger.
const std::shared_ptr<spdlog::logger>& root_logger();

/// "[db/queue]" for @p db and @p queue; "[db]" without a queue; "" when both are empty.
std::string log_prefix(std::string_view db, std::string_view queue = {});

/**
 * A logger that puts a fixed context in front of every message: `[maildb/letters] ...`.
 * Cheap to copy; the format arguments are only formatted when the level is enabled.
 */
class log_context {
public:
    /// No context: messages as they are.
    log_context() = default;
    /// Context "[name]", or "[name/queue]" with a queue: `log_context{"maildb", "letters"}`.
    explicit log_context(std::string_view name, std::string_view queue = {})
        : prefix_{log_prefix(name, queue)} {}

    /// The prefix, e.g. "[maildb/letters]".
    const std::string& prefix() const noexcept { return prefix_; }

    bool should_log(spdlog::level::level_enum level) const {
        return root_logger()->should_log(level);
    }

    /// Logs at @p level; `log(level::info, "batch {}", id)`.
    template <class... Args>
    void log(spdlog::level::level_enum level, fmt::format_string<Args...> format,
             Args&&... args) const {
        if (!should_log(level)) return;
        write(level, fmt::format(format, std::forward<Args>(args)...));
    }

    template <class... Args>
    void trace(fmt::format_string<Args...> f, Args&&... a) const {
        log(spdlog::level::trace, f, std::forward<Args>(a)...);
    }
    template <class... Args>
    void debug(fmt::format_string<Args...> f, Args&&... a) const {
        log(spdlog::level::debug, f, std::forward<Args>(a)...);
    }
    template <class... Args>
    void info(fmt::format_string<Args...> f, Args&&... a) const {
        log(spdlog::level::info, f, std::forward<Args>(a)...);
    }
    template <class... Args>
    void warn(fmt::format_string<Args...> f, Args&&... a) const {
        log(spdlog::level::warn, f, std::forward<Args>(a)...);
    }
    template <class... Args>
    void error(fmt::format_string<Args...> f, Args&&... a) const {
        log(spdlog::level::err, f, std::forward<Args>(a)...);
    }
    template <class... Args>
    void critical(fmt::format_string<Args...> f, Args&&... a) const {
        log(spdlog::level::critical, f, std::forward<Args>(a)...);
    }

    /// Logs @p message as it is (no formatting).
    void write(spdlog::level::level_enum level, std::string_view message) const;

private:
    std::string prefix_;
};

}  // namespace pgqpp::runtime
