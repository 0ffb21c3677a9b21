/// @file config.hpp
/// Configuration of a daemon from one declarative table of options: the command line
/// (Boost.Program_options), an INI file and the environment, with --help, --print-config
/// (a complete sample INI, like pgqd --ini) and reload.
///
/// @code
/// namespace opt = pgqpp::runtime::opt;
/// pgqpp::runtime::options_table table{"tick_watcher", "Logs every tick of a queue."};
/// table.add(opt::connection("db", "", "Database with the queue.").required().env("WATCH_DB"));
/// table.add(opt::string("queue", "", "Queue to watch.").required());
/// table.add(opt::duration("poll_period", "1s", "Poll this often without a NOTIFY.").positive());
/// table.add(pgqpp::runtime::standard_options());      // logging, pidfile, stats, metrics
///
/// pgqpp::runtime::config_loader loader{table};
/// std::optional<pgqpp::runtime::config> cfg = loader.load_or_exit(argc, argv);
/// if (!cfg) return loader.exit_code();                  // --help, or a one-line error
/// auto period = cfg->get_duration("poll_period");
/// ...
/// cfg = loader.reload();                                // on SIGHUP (throws config_error)
/// @endcode
///
/// Sources and precedence (highest first): the command line (`--poll-period 2s`), the
/// config file (`--config FILE`, key `poll_period` in the table's section), the option's
/// environment variable if it has one, the default. Option keys are lowercase
/// [a-z0-9_]; on the command line `_` is written `-`.
///
/// Everything is checked when loaded, and every problem is a config_error whose message is
/// one line naming the source and the key, e.g.
/// `watch.ini:7: poll_period: invalid duration 'abc' (examples: 500ms, 2s, 1.5, 1min)` or
/// `watch.ini:3: unknown option 'pol_period' in [tick_watcher] (did you mean 'poll_period'?)`.
/// Nothing unknown is ever silently ignored.
#pragma once

#include "pgqpp/connection_config.hpp"
#include "pgqpp/error.hpp"
#include "pgqpp/runtime/values.hpp"

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace pgqpp::runtime {

/// Exit status of a program that stops on a bad command line or configuration.
inline constexpr int exit_usage = 2;
/// Exit status of a program that stops on a runtime failure (e.g. a queue that does not exist).
inline constexpr int exit_failure = 1;

/// A bad command line, config file, environment value or missing required option. The
/// message is one line, naming where (file:line, command line option, environment
/// variable) and which key. Its code() is errc::invalid_argument: never worth retrying.
class config_error : public pgqpp::invalid_argument {
public:
    explicit config_error(const std::string& message)
        : pgqpp::invalid_argument{message, "", "", "configuration"} {}
};

/// What kind of value an option holds, which decides how it is parsed and checked.
enum class option_type {
    string,      ///< any one-line text
    integer,     ///< signed 64-bit integer (parse_integer)
    boolean,     ///< 1/0, true/false, yes/no, on/off (parse_bool)
    interval,    ///< a duration: 500ms, 2s, 1.5 (seconds), 1min (parse_duration)
    size,        ///< bytes: 8192, 64kB, 16MB (parse_size)
    connection,  ///< libpq connection string, checked by pgqpp::connection_config
    choice,      ///< one of a fixed set of words (option_spec::choices)
    list,        ///< words separated by commas and/or spaces (parse_list)
};

/// "string", "integer", "boolean", "duration", "size", "connection string", "choice", "list".
std::string_view to_string(option_type type) noexcept;

/// A parsed value: string (string, connection, choice), std::int64_t (integer), bool,
/// duration, std::uint64_t (size), std::vector<std::string> (list); monostate when unset.
using option_value = std::variant<std::monostate, std::string, std::int64_t, bool, duration,
                                  std::uint64_t, std::vector<std::string>>;

/// One row of an options table: key, type, default, help, and optional checks.
/// Made with the opt:: functions below and refined with the chainable setters.
class option_spec {
public:
    /**
     * @param key          lowercase [a-z][a-z0-9_]*; the INI key, `--key-with-dashes` on the
     *                     command line
     * @param type         how the value is parsed
     * @param default_text the default, in the same text form as the file (parsed and checked
     *                     when the option is added to a table)
     * @param help         one or more sentences for --help and --print-config
     */
    option_spec(std::string key, option_type type, std::string default_text, std::string help);

    /// Also read the value from environment variable @p variable (below the config file).
    option_spec& env(std::string variable);
    /// The option has no default: it must be given (by command line, file or environment).
    option_spec& required();
    /// The option has no default, and may stay unset (config::has_value() tells).
    option_spec& no_default();
    /// For option_type::choice: the accepted words (compared case-sensitively).
    option_spec& choices(std::vector<std::string> words);
    /// Integer, duration or size must be greater than zero.
    option_spec& positive();
    /// Integer must lie in [@p min, @p max].
    option_spec& range(std::int64_t min, std::int64_t max);
    /// A one-letter command line alias, e.g. 'd' for -d.
    option_spec& short_name(char letter);
    /// The placeholder in --help (default by type: DURATION, CONNSTR, N, ...).
    option_spec& placeholder(std::string name);
    /**
     * A further check of the parsed value: returns an empty string if it is fine, else the
     * reason (e.g. "must be at most maint_period"), which becomes part of the config_error.
     */
    option_spec& check(std::function<std::string(const option_value&)> fn);

    const std::string& key() const noexcept { return key_; }
    option_type type() const noexcept { return type_; }
    /// The default as text; nullopt for required() and no_default() options.
    const std::optional<std::string>& default_text() const noexcept { return default_; }
    const std::string& help() const noexcept { return help_; }
    const std::string& env_variable() const noexcept { return env_; }
    bool is_required() const noexcept { return required_; }
    const std::vector<std::string>& choice_words() const noexcept { return choices_; }
    char short_letter() const noexcept { return short_; }
    /// `--key-with-dashes` without the dashes in front.
    std::string command_line_name() const;
    /// The placeholder in --help.
    std::string placeholder_name() const;
    /// Describes the accepted values: "duration (e.g. 500ms, 2s, 1.5, 1min)",
    /// "one of: trace, debug, info".
    std::string type_description() const;

    /**
     * Parses and checks @p text.
     * @throws value_error with the reason (without key or location)
     */
    option_value parse(std::string_view text) const;

    /// Sets the default (used by options_table::set_default()).
    void set_default(std::optional<std::string> text) { default_ = std::move(text); }

private:
    std::string key_;
    option_type type_;
    std::optional<std::string> default_;
    std::string help_;
    std::string env_;
    bool required_ = false;
    bool positive_ = false;
    std::optional<std::pair<std::int64_t, std::int64_t>> range_;
    std::vector<std::string> choices_;
    char short_ = '\0';
    std::string placeholder_;
    std::vector<std::function<std::string(const option_value&)>> checks_;
};

/// Makers of option_spec, one per type (`namespace opt = pgqpp::runtime::opt;`).
namespace opt {
/// Free text.
option_spec string(std::string key, std::string default_text, std::string help);
/// Signed integer.
option_spec integer(std::string key, std::string default_text, std::string help);
/// Boolean; on the command line `--flag` alone means true, `--flag=0` false.
option_spec boolean(std::string key, std::string default_text, std::string help);
/// Duration (`2s`, `100ms`, `1.5`, `1min`).
option_spec duration(std::string key, std::string default_text, std::string help);
/// Size in bytes (`8192`, `64kB`, `16MB`).
option_spec size(std::string key, std::string default_text, std::string help);
/// libpq connection string; "" means "everything from PG* environment variables".
option_spec connection(std::string key, std::string default_text, std::string help);
/// One word of @p words.
option_spec choice(std::string key, std::string default_text, std::vector<std::string> words,
                   std::string help);
/// A list of words (`a, b c`).
option_spec list(std::string key, std::string default_text, std::string help);
}  // namespace opt

/**
 * The options of one program: name, one-line summary, INI section, and the option specs.
 *
 * Adding an option parses its default, so a table with a bad default fails at the first
 * start in development (std::logic_error), never in production with a surprise.
 */
class options_table {
public:
    /// @param program the program's name (in --help, messages, and the default INI section)
    /// @param summary one line saying what the program does
    options_table(std::string program, std::string summary);

    /// The INI section the program reads (default: the program name), e.g. "pgqd".
    options_table& set_section(std::string section);
    /// Sections of the INI file that belong to other programs and are skipped (by default
    /// any other section is an error).
    options_table& ignore_section(std::string section);
    /// Version for --version (none: no --version option).
    options_table& set_version(std::string version);
    /// Accept the config file as a bare argument too (`pgqd config.ini`), not only --config.
    options_table& allow_positional_config(bool allow = true);

    /// Adds an option. @throws std::logic_error on a bad key, a duplicate or a bad default
    options_table& add(option_spec spec);
    /// Adds several options (e.g. standard_options()).
    options_table& add(std::vector<option_spec> specs);
    /// Changes the default of an option already added (e.g. `syslog` to "1" for pgqd's
    /// users). std::nullopt removes it. @throws std::logic_error as add()
    options_table& set_default(std::string_view key, std::optional<std::string> text);

    const std::string& program() const noexcept { return program_; }
    const std::string& summary() const noexcept { return summary_; }
    const std::string& section() const noexcept { return section_; }
    const std::vector<std::string>& ignored_sections() const noexcept { return ignored_; }
    const std::string& version() const noexcept { return version_; }
    bool positional_config() const noexcept { return positional_config_; }
    const std::vector<option_spec>& options() const noexcept { return options_; }
    /// The spec of @p key, or null.
    const option_spec* find(std::string_view key) const noexcept;

private:
    std::string program_;
    std::string summary_;
    std::string section_;
    std::vector<std::string> ignored_;
    std::string version_;
    bool positional_config_ = false;
    std::vector<option_spec> options_;
};

/// Where a value came from.
struct value_source {
    enum class kind {
        unset,          ///< no default and not given
        default_value,  ///< the table's default
        environment,    ///< the option's environment variable
        config_file,    ///< the INI file
        command_line,   ///< a command line option
    };
    kind from = kind::unset;
    /// "watch.ini:12", "$WATCH_DB", "--poll-period" or "default".
    std::string where;
};

/**
 * The loaded configuration: one value per option of the table, parsed and checked.
 *
 * Getters are typed; asking for a key that is not in the table, with the wrong type, or
 * without a value is a programming error (std::logic_error).
 */
class config {
public:
    /// Text of a string, connection or choice option.
    const std::string& get_string(std::string_view key) const;
    std::int64_t get_int(std::string_view key) const;
    bool get_bool(std::string_view key) const;
    duration get_duration(std::string_view key) const;
    /// Size in bytes.
    std::uint64_t get_size(std::string_view key) const;
    const std::vector<std::string>& get_list(std::string_view key) const;
    /// A connection option as a (validated) pgqpp::connection_config.
    pgqpp::connection_config get_connection(std::string_view key) const;

    /// Whether the option has a value (false only for unset no_default() options).
    bool has_value(std::string_view key) const;
    /// The value as it was written (for messages).
    const std::string& text(std::string_view key) const;
    /// Where the value came from.
    const value_source& source(std::string_view key) const;

    /// +1 per -v, -1 per -q on the command line (see logging_settings).
    int verbosity() const noexcept { return verbosity_; }
    /// The config file that was read ("" if none).
    const std::string& config_file() const noexcept { return config_file_; }
    const options_table& table() const noexcept { return *table_; }

    /**
     * A complete INI file for this program (--print-config): every option with its help,
     * type and default. Options at their default are commented out (`;key = default`);
     * values given on the command line, in a file or the environment are written as
     * settings. Loading the output as a config file gives the same configuration.
     */
    std::string to_ini() const;

    /// Keys whose values differ between this and @p other (e.g. after reload()).
    std::vector<std::string> changed_keys(const config& other) const;

private:
    friend class config_loader;
    struct entry {
        std::string text;
        option_value value;
        value_source source;
    };
    const entry& at(std::string_view key) const;
    template <class T>
    const T& typed(std::string_view key, const char* expected) const;

    std::shared_ptr<const options_table> table_;
    std::map<std::string, entry, std::less<>> values_;
    int verbosity_ = 0;
    std::string config_file_;
};

/// What the command line asks for.
enum class command_action {
    run,           ///< start the program
    help,          ///< --help
    version,       ///< --version
    print_config,  ///< --print-config
    check_config,  ///< --check-config: load, report problems, exit
};

/**
 * Reads the command line once, and the config file and the environment at every load().
 *
 * Options every program gets: `-h/--help`, `-c/--config FILE`, `--print-config`,
 * `--check-config`, `-v/--verbose` (repeatable), `-q/--quiet` (repeatable) and, when the
 * table has a version, `-V/--version`.
 */
class config_loader {
public:
    /// Looks up an environment variable (nullopt if unset).
    using env_lookup = std::function<std::optional<std::string>(const std::string&)>;

    /// @param env how to read the environment (default: std::getenv; tests inject a map)
    explicit config_loader(options_table table, env_lookup env = {});

    /**
     * Parses the command line (without argv[0]) and remembers it.
     * @throws config_error for unknown options, missing or repeated values
     */
    command_action parse_command_line(const std::vector<std::string>& args);

    /**
     * Builds the configuration from the remembered command line, the config file (read
     * now) and the environment (read now), and checks it.
     * @throws config_error naming the file and line, option or variable, and the key
     */
    config load() const;

    /// load() again (for SIGHUP): the file and the environment are read anew; the command
    /// line still wins. The program decides which changes it applies live.
    config reload() const { return load(); }

    /**
     * All of it for main(): parses argv, and handles --help, --version, --print-config
     * (which works without the required options: it prints a sample) and --check-config
     * by printing to @p out; errors are one line on @p err prefixed with the program name.
     * @return the configuration to run with, or nullopt when main() should return
     *         exit_code() (0 after --help, exit_usage after an error)
     */
    std::optional<config> load_or_exit(int argc, const char* const* argv, std::ostream& out,
                                       std::ostream& err);
    /// load_or_exit() with std::cout and std::cerr.
    std::optional<config> load_or_exit(int argc, const char* const* argv);
    /// Exit status after load_or_exit() returned nullopt.
    int exit_code() const noexcept { return exit_code_; }

    /// The --help text.
    std::string help_text() const;
    const options_table& table() const noexcept { return *table_; }

private:
    config load(bool check_required) const;

    std::shared_ptr<const options_table> table_;
    env_lookup env_;
    std::map<std::string, std::string, std::less<>> cli_values_;  // key -> text
    std::string config_file_;
    int verbosity_ = 0;
    int exit_code_ = 0;
};

/**
 * The options every daemon of the project understands, in one list (add it to a table and
 * use logging_settings::from(), daemon_options::from(), ...):
 *
 * key             | type     | default   | meaning
 * --------------- | -------- | --------- | ------------------------------------------------
 * logfile         | string   | ""        | also log to this file (reopened on reload)
 * log_level       | choice   | info      | trace, debug, info, warning, error, critical, off
 * log_console     | boolean  | 1         | log to stderr
 * syslog          | boolean  | 0         | also log to syslog
 * syslog_ident    | string   | ""        | syslog ident ("" = the program name)
 * syslog_facility | choice   | daemon    | daemon, user, local0 ... local7
 * pidfile         | string   | ""        | write the pid here; refuse to start if it is held
 * stats_period    | duration | 30s       | log a stats line this often (0 = never)
 * metrics_port    | integer  | 0         | serve Prometheus /metrics on this port (0 = off)
 * metrics_address | string   | 127.0.0.1 | address the /metrics endpoint binds to
 */
std::vector<option_spec> standard_options();

}  // namespace pgqpp::runtime
