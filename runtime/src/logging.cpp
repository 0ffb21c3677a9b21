#include "pgqpp/runtime/logging.hpp"

#include "pgqpp/runtime/config.hpp"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/dist_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/syslog_sink.h>
#include <spdlog/spdlog.h>

#include <syslog.h>

#include <stdexcept>
#include <vector>

namespace pgqpp::runtime {

namespace {

constexpr const char* line_pattern = "%Y-%m-%d %H:%M:%S.%e [%P] %^%l%$ %v";

/// The root logger writes to one dist_sink whose children setup_logging() replaces: the
/// dist_sink's own mutex makes the swap safe while other threads log.
struct root {
    std::shared_ptr<spdlog::sinks::dist_sink_mt> dist = std::make_shared<spdlog::sinks::dist_sink_mt>();
    std::shared_ptr<spdlog::logger> logger;
    /// Kept across setup_logging() calls: each syslog_sink calls openlog() when made and
    /// closelog() when destroyed, so replacing it by an equal one would lose the ident.
    spdlog::sink_ptr syslog;
    std::string syslog_key;

    root() {
        auto console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
        console->set_pattern(line_pattern);
        dist->set_sinks({console});
        logger = std::make_shared<spdlog::logger>("", dist);
        logger->set_level(spdlog::level::info);
        // Every line reaches the file at once: a crash loses nothing, tail -f is current.
        logger->flush_on(spdlog::level::trace);
        spdlog::set_default_logger(logger);
    }
};

root& the_root() {
    static root r;
    return r;
}

int facility_of(const std::string& name) {
    if (name == "daemon") return LOG_DAEMON;
    if (name == "user") return LOG_USER;
    static constexpr int locals[] = {LOG_LOCAL0, LOG_LOCAL1, LOG_LOCAL2, LOG_LOCAL3,
                                     LOG_LOCAL4, LOG_LOCAL5, LOG_LOCAL6, LOG_LOCAL7};
    if (name.size() == 6 && name.compare(0, 5, "local") == 0 && name[5] >= '0' && name[5] <= '7')
        return locals[name[5] - '0'];
    throw std::invalid_argument{"unknown syslog facility '" + name + "'"};
}

}  // namespace

spdlog::level::level_enum parse_log_level(std::string_view word) {
    if (word == "trace") return spdlog::level::trace;
    if (word == "debug") return spdlog::level::debug;
    if (word == "info") return spdlog::level::info;
    if (word == "warning" || word == "warn") return spdlog::level::warn;
    if (word == "error") return spdlog::level::err;
    if (word == "critical") return spdlog::level::critical;
    if (word == "off") return spdlog::level::off;
    throw std::invalid_argument{"unknown log level '" + std::string{word} + "'"};
}

logging_settings logging_settings::from(const config& cfg) {
    logging_settings s;
    s.program = cfg.table().program();
    int level = parse_log_level(cfg.get_string("log_level"));
    if (level != spdlog::level::off) {
        level -= cfg.verbosity();
        level = std::max<int>(spdlog::level::trace, std::min<int>(spdlog::level::critical, level));
    }
    s.level = static_cast<spdlog::level::level_enum>(level);
    s.console = cfg.get_bool("log_console");
    s.logfile = cfg.get_string("logfile");
    s.syslog = cfg.get_bool("syslog");
    s.syslog_ident = cfg.get_string("syslog_ident");
    s.syslog_facility = cfg.get_string("syslog_facility");
    return s;
}

void setup_logging(const logging_settings& settings) {
    root& r = the_root();
    std::vector<spdlog::sink_ptr> sinks;
    if (settings.console) {
        auto console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
        console->set_pattern(line_pattern);
        sinks.push_back(std::move(console));
    }
    if (!settings.logfile.empty()) {
        // Opened before anything is swapped: a bad path leaves the old sinks in place.
        auto file = std::make_shared<spdlog::sinks::basic_file_sink_mt>(settings.logfile);
        file->set_pattern(line_pattern);
        sinks.push_back(std::move(file));
    }
    if (settings.syslog) {
        const std::string ident =
            settings.syslog_ident.empty() ? settings.program : settings.syslog_ident;
        const std::string key = ident + '\n' + settings.syslog_facility;
        if (!r.syslog || r.syslog_key != key) {
            const int facility = facility_of(settings.syslog_facility);
            r.dist->set_sinks({});  // the old sink's closelog() before the new openlog()
            r.syslog.reset();
            auto sys = std::make_shared<spdlog::sinks::syslog_sink_mt>(ident, LOG_PID, facility,
                                                                       true);
            sys->set_pattern("%v");
            r.syslog = std::move(sys);
            r.syslog_key = key;
        }
        sinks.push_back(r.syslog);
    } else {
        r.syslog.reset();
    }
    r.dist->set_sinks(std::move(sinks));
    r.logger->set_level(settings.level);
}

const std::shared_ptr<spdlog::logger>& root_logger() { return the_root().logger; }

std::string log_prefix(std::string_view db, std::string_view queue) {
    if (db.empty() && queue.empty()) return {};
    std::string out = "[";
    out += db;
    if (!queue.empty()) {
        out += '/';
        out += queue;
    }
    out += ']';
    return out;
}

void log_context::write(spdlog::level::level_enum level, std::string_view message) const {
    const auto& logger = root_logger();
    if (prefix_.empty()) {
        logger->log(level, "{}", message);
    } else {
        logger->log(level, "{} {}", prefix_, message);
    }
}

}  // namespace pgqpp::runtime
