// Configuration from the options table: command line, INI file, environment, defaults
// (runtime/config.hpp). Every error case is a one-line config_error naming where and what.
#include <pgqpp/runtime/config.hpp>

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace rt = pgqpp::runtime;
namespace opt = pgqpp::runtime::opt;
using namespace std::chrono_literals;

namespace {

rt::options_table make_table() {
    rt::options_table t{"watcher", "Watches a queue."};
    t.add(opt::connection("db", "", "Database to watch.").required().env("WATCHER_DB"));
    t.add(opt::string("queue", "letters", "Queue name."));
    t.add(opt::duration("poll_period", "1s", "Poll this often without a NOTIFY.").positive());
    t.add(opt::integer("workers", "2", "Worker count.").range(1, 64).short_name('w'));
    t.add(opt::boolean("dry_run", "0", "Change nothing."));
    t.add(opt::size("fetch_bytes", "16MB", "Fetch at most this much."));
    t.add(opt::choice("mode", "local", {"local", "remote", "at_least_once"}, "Delivery mode."));
    t.add(opt::list("tables", "", "Tables to watch."));
    t.add(opt::string("note", "", "Optional note.").no_default());
    t.add(rt::standard_options());
    return t;
}

/// A config file in a fresh temporary directory, removed at the end of the test.
class temp_dir {
public:
    temp_dir() {
        path_ = std::filesystem::temp_directory_path() /
                ("pgqpp_cfg_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++));
        std::filesystem::create_directories(path_);
    }
    ~temp_dir() { std::filesystem::remove_all(path_); }
    std::string write(const std::string& name, const std::string& content) const {
        const auto p = path_ / name;
        std::ofstream{p, std::ios::binary} << content;
        return p.string();
    }
    std::string path(const std::string& name) const { return (path_ / name).string(); }

private:
    static inline int counter_ = 0;
    std::filesystem::path path_;
};

/// A loader whose environment is a map.
struct fake_env {
    std::map<std::string, std::string> vars;
    rt::config_loader::env_lookup lookup() {
        return [this](const std::string& name) -> std::optional<std::string> {
            const auto it = vars.find(name);
            if (it == vars.end()) return std::nullopt;
            return it->second;
        };
    }
};

/// The config_error message of loading with @p args (and @p env), or "" if it loaded.
std::string load_error(const std::vector<std::string>& args,
                       std::map<std::string, std::string> env = {}) {
    fake_env e{std::move(env)};
    rt::config_loader loader{make_table(), e.lookup()};
    try {
        loader.parse_command_line(args);
        loader.load();
    } catch (const rt::config_error& ex) {
        const std::string what = ex.what();
        EXPECT_EQ(what.find('\n'), std::string::npos) << "not one line: " << what;
        EXPECT_EQ(ex.code(), pgqpp::errc::invalid_argument);
        return what;
    }
    return {};
}

rt::config load(const std::vector<std::string>& args, std::map<std::string, std::string> env = {}) {
    fake_env e{std::move(env)};
    rt::config_loader loader{make_table(), e.lookup()};
    EXPECT_EQ(loader.parse_command_line(args), rt::command_action::run);
    return loader.load();
}

}  // namespace

TEST(Config, DefaultsApplyWhenNothingElseIsGiven) {
    const auto cfg = load({"--db", "dbname=mail"});
    EXPECT_EQ(cfg.get_string("db"), "dbname=mail");
    EXPECT_EQ(cfg.get_string("queue"), "letters");
    EXPECT_EQ(cfg.get_duration("poll_period"), 1s);
    EXPECT_EQ(cfg.get_int("workers"), 2);
    EXPECT_FALSE(cfg.get_bool("dry_run"));
    EXPECT_EQ(cfg.get_size("fetch_bytes"), 16u << 20);
    EXPECT_EQ(cfg.get_string("mode"), "local");
    EXPECT_TRUE(cfg.get_list("tables").empty());
    EXPECT_FALSE(cfg.has_value("note"));
    EXPECT_EQ(cfg.source("queue").from, rt::value_source::kind::default_value);
    EXPECT_EQ(cfg.source("db").where, "--db");
    EXPECT_EQ(cfg.get_connection("db").conninfo(), "dbname=mail");
    EXPECT_EQ(cfg.get_string("log_level"), "info");
    EXPECT_EQ(cfg.get_int("metrics_port"), 0);
    EXPECT_EQ(cfg.get_duration("stats_period"), 30s);
}

TEST(Config, PrecedenceIsCommandLineThenFileThenEnvironmentThenDefault) {
    temp_dir dir;
    const auto file = dir.write("w.ini",
                                "[watcher]\n"
                                "db = dbname=from_file\n"
                                "queue = file_queue\n"
                                "poll_period = 5s\n");
    const std::map<std::string, std::string> env{{"WATCHER_DB", "dbname=from_env"}};

    auto cfg = load({"--config", file, "--queue", "cli_queue"}, env);
    EXPECT_EQ(cfg.get_string("queue"), "cli_queue");          // command line over file
    EXPECT_EQ(cfg.get_string("db"), "dbname=from_file");      // file over environment
    EXPECT_EQ(cfg.source("db").where, file + ":2");
    EXPECT_EQ(cfg.get_duration("poll_period"), 5s);           // file over default
    EXPECT_EQ(cfg.get_int("workers"), 2);                     // default
    EXPECT_EQ(cfg.config_file(), file);

    cfg = load({}, env);
    EXPECT_EQ(cfg.get_string("db"), "dbname=from_env");       // environment over default
    EXPECT_EQ(cfg.source("db").where, "$WATCHER_DB");
    EXPECT_EQ(cfg.source("db").from, rt::value_source::kind::environment);

    cfg = load({"--db=dbname=cli"}, env);
    EXPECT_EQ(cfg.get_string("db"), "dbname=cli");            // command line over environment

    // An empty environment variable counts as unset.
    EXPECT_NE(load_error({}, {{"WATCHER_DB", ""}}), "");
}

TEST(Config, CommandLineForms) {
    const auto cfg = load({"--db", "dbname=x", "--poll-period=250ms", "-w", "8", "--dry-run",
                           "--tables", "a, b c", "--mode", "remote", "--fetch-bytes=1kB", "-v",
                           "-vv", "-q", "--note", ""});
    EXPECT_EQ(cfg.get_duration("poll_period"), 250ms);
    EXPECT_EQ(cfg.get_int("workers"), 8);
    EXPECT_TRUE(cfg.get_bool("dry_run"));  // a boolean alone means true
    EXPECT_EQ(cfg.get_list("tables"), (std::vector<std::string>{"a", "b", "c"}));
    EXPECT_EQ(cfg.get_string("mode"), "remote");
    EXPECT_EQ(cfg.get_size("fetch_bytes"), 1024u);
    EXPECT_EQ(cfg.verbosity(), 2);  // -v -vv -q
    EXPECT_TRUE(cfg.has_value("note"));
    EXPECT_EQ(cfg.get_string("note"), "");

    EXPECT_FALSE(load({"--db", "dbname=x", "--dry-run=off"}).get_bool("dry_run"));
}

TEST(Config, CommandLineErrorsNameTheOption) {
    EXPECT_EQ(load_error({"--db", "dbname=x", "--bogus"}),
              "command line: unrecognised option '--bogus' (see --help)");
    // No abbreviations: --poll must not silently mean --poll-period.
    EXPECT_EQ(load_error({"--db", "dbname=x", "--poll", "1s"}),
              "command line: unrecognised option '--poll' (see --help)");
    EXPECT_EQ(load_error({"--db", "dbname=x", "--poll-period", "fast"}),
              "command line: --poll-period: invalid duration 'fast' (examples: 500ms, 2s, 1.5, "
              "1min)");
    EXPECT_EQ(load_error({"--db", "dbname=x", "--poll-period", "0"}),
              "command line: --poll-period: must be longer than 0");
    EXPECT_EQ(load_error({"--db", "dbname=x", "--workers", "0"}),
              "command line: --workers: must be between 1 and 64, not '0'");
    EXPECT_EQ(load_error({"--db", "dbname=x", "--mode", "remot"}),
              "command line: --mode: invalid value 'remot', one of: local, remote, "
              "at_least_once (did you mean 'remote'?)");
    EXPECT_EQ(load_error({"--db", "dbname=x", "--dry-run=maybe"}),
              "command line: --dry-run: invalid boolean 'maybe' (use 1/0, true/false, yes/no, "
              "on/off)");
    EXPECT_EQ(load_error({"--db", "dbname=x", "--queue", "a", "--queue", "b"}),
              "command line: --queue given more than once");
    EXPECT_EQ(load_error({"--db", "dbname=x", "--workers"}).substr(0, 14), "command line: ");
    EXPECT_EQ(load_error({"--db", "dbname=x", "stray"}).substr(0, 14), "command line: ");
    // A connection string is checked by libpq's parser (core's connection_config).
    const auto e = load_error({"--db", "dbname=x bogus_key=1"});
    EXPECT_EQ(e.rfind("command line: --db: invalid connection string: ", 0), 0u) << e;
    EXPECT_NE(e.find("bogus_key"), std::string::npos) << e;
}

TEST(Config, MissingRequiredOptionSaysWhereToSetIt) {
    EXPECT_EQ(load_error({}),
              "missing required option 'db' (set db in [watcher] of the config file or --db or "
              "$WATCHER_DB)");
}

TEST(Config, FileErrorsNameFileLineAndKey) {
    temp_dir dir;
    const auto check = [&](const std::string& content, const std::string& expected) {
        const auto file = dir.write("bad.ini", content);
        EXPECT_EQ(load_error({"--config", file}), file + ":" + expected) << content;
    };
    check("[watcher]\ndb = dbname=x\npol_period = 2s\n",
          "3: unknown option 'pol_period' in [watcher] (did you mean 'poll_period'?)");
    check("[watcher]\ndb = dbname=x\ncompletely_unknown = 1\n",
          "3: unknown option 'completely_unknown' in [watcher]");
    check("[watcher]\ndb = dbname=x\n\n# comment\npoll_period = soon\n",
          "5: poll_period: invalid duration 'soon' (examples: 500ms, 2s, 1.5, 1min)");
    check("[watcher]\ndb = dbname=x\nworkers = 100\n",
          "3: workers: must be between 1 and 64, not '100'");
    check("[watcher]\ndb = dbname=x\nworkers = two\n", "3: workers: invalid integer 'two'");
    check("[watcher]\ndb = dbname=x\nfetch_bytes = lots\n",
          "3: fetch_bytes: invalid size 'lots' (examples: 8192, 64kB, 16MB, 1GB)");
    check("[watcher]\ndb = dbname=x\ndry_run = perhaps\n",
          "3: dry_run: invalid boolean 'perhaps' (use 1/0, true/false, yes/no, on/off)");
    check("[pgqd]\ndb = dbname=x\n", "1: unknown section [pgqd] (expected [watcher])");
    check("db = dbname=x\n", "1: 'db' is outside a section (start with [watcher])");
    check("[watcher\n", "1: malformed section header '[watcher'");
    check("[watcher]\ndb dbname=x\n", "2: expected 'key = value', got 'db dbname=x'");
    check("[watcher]\n= 5\n", "2: missing key before '='");
    check("[watcher]\ndb = dbname=x\nqueue = a\nqueue = b\n",
          "4: 'queue' given twice (also on line 3)");
    check("[watcher]\nlog_level = loud\ndb = dbname=x\n",
          "2: log_level: invalid value 'loud', one of: trace, debug, info, warning, error, "
          "critical, off");
    check("[watcher]\nmetrics_port = 70000\ndb = dbname=x\n",
          "2: metrics_port: must be between 0 and 65535, not '70000'");
    const auto conn_file = dir.write("conn.ini", "[watcher]\ndb = host=x port='5432\n");
    const auto e = load_error({"--config", conn_file});
    EXPECT_EQ(e.rfind(conn_file + ":2: db: invalid connection string: ", 0), 0u) << e;
}

TEST(Config, UnreadableFileIsAClearError) {
    temp_dir dir;
    const auto missing = dir.path("missing.ini");
    EXPECT_EQ(load_error({"--config", missing}),
              "cannot read config file '" + missing + "': No such file or directory");
    const auto directory = dir.path("");
    EXPECT_EQ(load_error({"--config", directory}),
              "cannot read config file '" + directory + "': Is a directory");
}

TEST(Config, EnvironmentErrorsNameTheVariable) {
    EXPECT_EQ(load_error({"--queue", "q"}, {{"WATCHER_DB", "nonsense"}}).rfind(
                  "environment $WATCHER_DB (db): invalid connection string: ", 0),
              0u);
}

TEST(Config, FileSyntaxDetails) {
    temp_dir dir;
    const auto file = dir.write("ok.ini",
                                "\xEF\xBB\xBF; a BOM, comments and blank lines are fine\r\n"
                                "# hash comment\r\n"
                                "\r\n"
                                "  [ watcher ]  \r\n"
                                "db=dbname=mail user='x y'\r\n"
                                "  queue   =   spaced queue   \r\n"
                                "tables =\r\n");
    const auto cfg = load({"--config", file});
    EXPECT_EQ(cfg.get_string("db"), "dbname=mail user='x y'");
    EXPECT_EQ(cfg.get_string("queue"), "spaced queue");
    EXPECT_TRUE(cfg.get_list("tables").empty());
}

TEST(Config, OtherProgramsSectionsCanBeIgnoredExplicitly) {
    temp_dir dir;
    auto table = make_table();
    table.ignore_section("pgqd");
    const auto file = dir.write("shared.ini",
                                "[pgqd]\nbase_connstr = host=x\nanything = goes\n"
                                "[watcher]\ndb = dbname=x\n");
    rt::config_loader loader{table};
    loader.parse_command_line({"--config", file});
    EXPECT_EQ(loader.load().get_string("db"), "dbname=x");
}

TEST(Config, PositionalConfigFileLikePgqd) {
    temp_dir dir;
    auto table = make_table();
    table.allow_positional_config();
    const auto file = dir.write("p.ini", "[watcher]\ndb = dbname=p\n");
    rt::config_loader loader{table};
    loader.parse_command_line({file});
    EXPECT_EQ(loader.load().get_string("db"), "dbname=p");
    rt::config_loader twice{table};
    try {
        twice.parse_command_line({file, "--config", file});
        FAIL();
    } catch (const rt::config_error& e) {
        EXPECT_NE(std::string{e.what()}.find("more than once"), std::string::npos) << e.what();
    }
}

TEST(Config, ReloadRereadsFileAndEnvironmentButKeepsTheCommandLine) {
    temp_dir dir;
    const auto file = dir.write("r.ini", "[watcher]\ndb = dbname=a\npoll_period = 1s\n");
    fake_env env;
    rt::config_loader loader{make_table(), env.lookup()};
    loader.parse_command_line({"--config", file, "--queue", "fixed"});
    const auto first = loader.load();
    dir.write("r.ini", "[watcher]\ndb = dbname=a\npoll_period = 3s\nqueue = ignored\n");
    const auto second = loader.reload();
    EXPECT_EQ(second.get_duration("poll_period"), 3s);
    EXPECT_EQ(second.get_string("queue"), "fixed");
    EXPECT_EQ(first.changed_keys(second), std::vector<std::string>{"poll_period"});

    dir.write("r.ini", "[watcher]\ndb = dbname=a\npoll_period = never\n");
    EXPECT_THROW(loader.reload(), rt::config_error);  // the program keeps its old config
}

TEST(Config, PrintConfigIsACompleteIniThatLoadsBackTheSame) {
    temp_dir dir;
    const auto cfg = load({"--db", "dbname=mail", "--poll-period", "1.5", "--tables", "a,b"});
    const std::string ini = cfg.to_ini();
    EXPECT_NE(ini.find("[watcher]\n"), std::string::npos);
    EXPECT_NE(ini.find("\ndb = dbname=mail\n"), std::string::npos) << ini;
    EXPECT_NE(ini.find("\npoll_period = 1.5\n"), std::string::npos) << ini;
    EXPECT_NE(ini.find("\n;queue = letters\n"), std::string::npos) << ini;  // default: commented
    EXPECT_NE(ini.find("\n;note =\n"), std::string::npos) << ini;           // unset
    EXPECT_NE(ini.find("; Queue name.\n"), std::string::npos) << ini;       // help
    EXPECT_NE(ini.find("environment: WATCHER_DB"), std::string::npos) << ini;
    const auto table = make_table();
    for (const auto& spec : table.options()) {
        EXPECT_NE(ini.find(spec.key() + " ="), std::string::npos) << spec.key();
    }
    const auto file = dir.write("printed.ini", ini);
    const auto again = load({"--config", file});
    EXPECT_TRUE(cfg.changed_keys(again).empty());
    EXPECT_EQ(again.get_duration("poll_period"), 1500ms);
}

TEST(Config, LoadOrExitHandlesHelpPrintConfigAndErrors) {
    const auto run = [](std::vector<const char*> argv, std::string& out, std::string& err) {
        argv.insert(argv.begin(), "watcher");
        std::ostringstream o, e;
        rt::config_loader loader{make_table(), [](const std::string&) {
                                     return std::optional<std::string>{};
                                 }};
        const auto cfg = loader.load_or_exit(static_cast<int>(argv.size()), argv.data(), o, e);
        out = o.str();
        err = e.str();
        return cfg ? -1 : loader.exit_code();
    };
    std::string out, err;
    EXPECT_EQ(run({"--help"}, out, err), 0);
    EXPECT_EQ(err, "");
    const auto table = make_table();
    for (const auto& spec : table.options()) {
        EXPECT_NE(out.find("--" + spec.command_line_name()), std::string::npos) << spec.key();
    }
    EXPECT_NE(out.find("[default: 1s]"), std::string::npos) << out;
    EXPECT_NE(out.find("[required; env WATCHER_DB]"), std::string::npos) << out;
    EXPECT_NE(out.find("Precedence: command line > config file > environment > default."),
              std::string::npos);
    EXPECT_NE(out.find("--print-config"), std::string::npos);

    EXPECT_EQ(run({"--print-config"}, out, err), 0);  // works without the required options
    EXPECT_NE(out.find("[watcher]"), std::string::npos);

    EXPECT_EQ(run({"--db", "dbname=x", "--check-config"}, out, err), 0);
    EXPECT_EQ(out, "watcher: configuration OK\n");

    EXPECT_EQ(run({"--check-config"}, out, err), rt::exit_usage);
    EXPECT_EQ(err.rfind("watcher: missing required option 'db'", 0), 0u) << err;

    EXPECT_EQ(run({"--db", "dbname=x", "--nope"}, out, err), rt::exit_usage);
    EXPECT_EQ(err, "watcher: command line: unrecognised option '--nope' (see --help)\n");

    EXPECT_EQ(run({"--db", "dbname=x"}, out, err), -1);  // run
}

TEST(Config, VersionOnlyWhenTheTableHasOne) {
    auto table = make_table();
    table.set_version("1.2.3");
    rt::config_loader loader{table};
    EXPECT_EQ(loader.parse_command_line({"-V"}), rt::command_action::version);
    rt::config_loader without{make_table()};
    EXPECT_THROW(without.parse_command_line({"--version"}), rt::config_error);
}

TEST(Config, TableMistakesAreLogicErrors) {
    rt::options_table t{"p", "s"};
    EXPECT_THROW(t.add(opt::string("Bad-Key", "", "h")), std::logic_error);
    EXPECT_THROW(t.add(opt::string("help", "", "h")), std::logic_error);
    EXPECT_THROW(t.add(opt::duration("d", "soon", "h")), std::logic_error);  // bad default
    EXPECT_THROW(t.add(opt::choice("c", "x", {}, "h")), std::logic_error);
    EXPECT_THROW(t.add(opt::string("s", "", "h").short_name('v')), std::logic_error);
    t.add(opt::string("ok", "", "h"));
    EXPECT_THROW(t.add(opt::string("ok", "", "h")), std::logic_error);
    EXPECT_THROW(t.set_default("missing", "1"), std::logic_error);
    EXPECT_THROW(t.set_default("ok", std::string{"two\nlines"}), std::logic_error);

    rt::config_loader loader{t};
    loader.parse_command_line({});
    const auto cfg = loader.load();
    EXPECT_THROW(cfg.get_int("ok"), std::logic_error);     // wrong type
    EXPECT_THROW(cfg.get_string("nope"), std::logic_error);  // not in the table
}

TEST(Config, CustomChecksAndDefaultsCanBeChanged) {
    auto t = make_table();
    t.set_default("syslog", "1");
    t.add(opt::duration("maint_period", "2min", "Maintenance period.")
              .check([](const rt::option_value& v) -> std::string {
                  return std::get<rt::duration>(v) < std::chrono::seconds{10}
                             ? "must be at least 10s"
                             : "";
              }));
    rt::config_loader loader{t};
    loader.parse_command_line({"--db", "dbname=x"});
    EXPECT_TRUE(loader.load().get_bool("syslog"));
    try {
        loader.parse_command_line({"--db", "dbname=x", "--maint-period", "5s"});
        FAIL();
    } catch (const rt::config_error& e) {
        EXPECT_STREQ(e.what(), "command line: --maint-period: must be at least 10s");
    }
}
