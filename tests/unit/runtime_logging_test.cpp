// Logging setup, [db/queue] prefixes and the periodic stats line (runtime/logging.hpp,
// runtime/stats.hpp). Lines go to a log file that the test reads back.
#include <pgqpp/runtime/config.hpp>
#include <pgqpp/runtime/logging.hpp>
#include <pgqpp/runtime/stats.hpp>

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

namespace rt = pgqpp::runtime;
using namespace std::chrono_literals;

namespace {

std::string temp_log(const std::string& name) {
    return (std::filesystem::temp_directory_path() /
            ("pgqpp_log_" + std::to_string(::getpid()) + "_" + name + ".log"))
        .string();
}

std::string read_file(const std::string& path) {
    std::ifstream in{path};
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

/// Logs to @p file only (no console: keeps the test output clean).
void log_to(const std::string& file, spdlog::level::level_enum level = spdlog::level::info) {
    rt::logging_settings s;
    s.console = false;
    s.logfile = file;
    s.level = level;
    rt::setup_logging(s);
}

}  // namespace

TEST(LogPrefix, NamesDatabaseAndQueue) {
    EXPECT_EQ(rt::log_prefix("maildb", "letters"), "[maildb/letters]");
    EXPECT_EQ(rt::log_prefix("maildb"), "[maildb]");
    EXPECT_EQ(rt::log_prefix("", ""), "");
    EXPECT_EQ(rt::log_context("db", "q").prefix(), "[db/q]");
}

TEST(Logging, ContextLinesGoToTheLogFileWithLevelAndPrefix) {
    const auto file = temp_log("ctx");
    std::filesystem::remove(file);
    log_to(file);
    rt::log_context log{"maildb", "letters"};
    log.info("batch {}: {} events", 17, 250);
    log.debug("not shown at info");
    rt::log_context{}.warn("no prefix");
    const std::string text = read_file(file);  // flushed at every line
    EXPECT_TRUE(std::regex_search(
        text, std::regex{R"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \[\d+\] info \[maildb/letters\] batch 17: 250 events\n)"}))
        << text;
    EXPECT_EQ(text.find("not shown"), std::string::npos);
    EXPECT_NE(text.find("warning no prefix\n"), std::string::npos) << text;
    std::filesystem::remove(file);
}

TEST(Logging, ReloadReopensTheFileAndChangesTheLevel) {
    const auto file = temp_log("reopen");
    std::filesystem::remove(file);
    log_to(file);
    rt::log_context log{"db"};
    log.info("first");
    // logrotate moves the file away; reload must write to a new one at the old path.
    std::filesystem::rename(file, file + ".1");
    log_to(file, spdlog::level::debug);
    log.debug("second");
    EXPECT_NE(read_file(file + ".1").find("first"), std::string::npos);
    EXPECT_NE(read_file(file).find("[db] second"), std::string::npos);
    std::filesystem::remove(file);
    std::filesystem::remove(file + ".1");
}

TEST(Logging, BadLogFileKeepsTheOldSinks) {
    const auto file = temp_log("keep");
    std::filesystem::remove(file);
    log_to(file);
    rt::logging_settings bad;
    bad.console = false;
    bad.logfile = "/dev/null/y.log";  // a file as the directory: cannot be created
    EXPECT_ANY_THROW(rt::setup_logging(bad));
    rt::log_context{}.info("still here");
    EXPECT_NE(read_file(file).find("still here"), std::string::npos);
    std::filesystem::remove(file);
}

TEST(Logging, SettingsFromConfigApplyVerbosity) {
    rt::options_table t{"prog", "s"};
    t.add(rt::standard_options());
    const auto level_for = [&](std::vector<std::string> args) {
        rt::config_loader loader{t};
        loader.parse_command_line(args);
        return rt::logging_settings::from(loader.load()).level;
    };
    EXPECT_EQ(level_for({}), spdlog::level::info);
    EXPECT_EQ(level_for({"-v"}), spdlog::level::debug);
    EXPECT_EQ(level_for({"-vvv"}), spdlog::level::trace);  // clamped
    EXPECT_EQ(level_for({"-q"}), spdlog::level::warn);
    EXPECT_EQ(level_for({"--log-level", "error", "-v"}), spdlog::level::warn);
    EXPECT_EQ(level_for({"--log-level", "off", "-v"}), spdlog::level::off);

    rt::config_loader loader{t};
    loader.parse_command_line({"--logfile", "/tmp/x.log", "--syslog", "--log-console=0"});
    const auto s = rt::logging_settings::from(loader.load());
    EXPECT_EQ(s.logfile, "/tmp/x.log");
    EXPECT_TRUE(s.syslog);
    EXPECT_FALSE(s.console);
    EXPECT_EQ(s.program, "prog");
}

TEST(StatsLine, FormatsLikePgqdAndPython) {
    rt::stats_line line;
    EXPECT_TRUE(line.empty());
    EXPECT_EQ(line.str(), "{}");
    line.add("ticks", std::int64_t{12}).add("maint", 1).add("retry", std::uint64_t{0});
    EXPECT_EQ(line.str(), "{ticks: 12, maint: 1, retry: 0}");
    rt::stats_line py;
    py.add("count", 250).add("duration", 0.4123).add("idle", 2.5).add("lag", rt::duration{3s});
    EXPECT_EQ(py.str(), "{count: 250, duration: 0.412, idle: 2.5, lag: 3}");
}

TEST(StatsReporter, LogsAtEveryPeriodWhatTheProgramSupplies) {
    const auto file = temp_log("stats");
    std::filesystem::remove(file);
    log_to(file);
    boost::asio::io_context io;
    int ticks = 0;
    int reports = 0;
    rt::stats_reporter stats{io.get_executor(), rt::log_context{"db"}, 10ms,
                             [&](rt::stats_line& line) {
                                 line.add("ticks", std::exchange(ticks, 0));
                                 if (++reports == 3) io.stop();
                             }};
    stats.start();
    ticks = 5;
    io.run_for(30s);  // generous: ends at the third report
    EXPECT_EQ(reports, 3);
    const std::string text = read_file(file);
    EXPECT_NE(text.find("[db] {ticks: 5}"), std::string::npos) << text;
    EXPECT_NE(text.find("[db] {ticks: 0}"), std::string::npos) << text;

    stats.stop();
    io.restart();
    io.run_for(50ms);
    EXPECT_EQ(reports, 3);  // stopped: nothing more

    rt::stats_reporter off{io.get_executor(), {}, rt::duration{0}, [&](rt::stats_line&) {
                               ADD_FAILURE() << "period 0 must never report";
                           }};
    off.start();
    io.restart();
    io.run_for(20ms);

    rt::stats_reporter quiet{io.get_executor(), rt::log_context{"quiet"}, 1h,
                             [](rt::stats_line&) {}};
    quiet.set_skip_empty(true);
    quiet.report_now();
    EXPECT_EQ(read_file(file).find("[quiet]"), std::string::npos);
    std::filesystem::remove(file);
}
