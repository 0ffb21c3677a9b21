#include "pgqpp/runtime/config.hpp"

#include <boost/program_options.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

namespace pgqpp::runtime {

namespace po = boost::program_options;

namespace {

std::string in_quotes(std::string_view s) { return "'" + std::string{s} + "'"; }

bool valid_key(std::string_view key) {
    if (key.empty() || !(key.front() >= 'a' && key.front() <= 'z')) return false;
    return std::all_of(key.begin(), key.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    });
}

/// Keys (and words) close to @p word, for "did you mean" hints.
std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t subst = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, subst});
        }
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

std::string suggestion(std::string_view word, const std::vector<std::string>& candidates) {
    std::string best;
    std::size_t best_distance = 3;  // suggest only close matches
    for (const auto& c : candidates) {
        const std::size_t d = edit_distance(word, c);
        if (d < best_distance) {
            best_distance = d;
            best = c;
        }
    }
    return best.empty() ? std::string{} : " (did you mean " + in_quotes(best) + "?)";
}

std::vector<std::string> keys_of(const options_table& table) {
    std::vector<std::string> keys;
    for (const auto& o : table.options()) keys.push_back(o.key());
    return keys;
}

std::string dashed(std::string_view key) {
    std::string out{key};
    std::replace(out.begin(), out.end(), '_', '-');
    return out;
}

/// Wraps @p text at @p width columns, each line starting with @p prefix.
std::string wrap(std::string_view text, std::string_view prefix, std::size_t width = 78) {
    std::string out;
    std::string line{prefix};
    std::istringstream words{std::string{text}};
    std::string word;
    bool line_empty = true;
    while (words >> word) {
        if (!line_empty && line.size() + 1 + word.size() > width) {
            out += line + '\n';
            line = std::string{prefix};
            line_empty = true;
        }
        if (!line_empty) line += ' ';
        line += word;
        line_empty = false;
    }
    if (!line_empty) out += line + '\n';
    return out;
}

std::optional<std::string> getenv_lookup(const std::string& name) {
    const char* v = std::getenv(name.c_str());  // NOLINT(concurrency-mt-unsafe): read at load
    if (v == nullptr) return std::nullopt;
    return std::string{v};
}

}  // namespace

// ---- option_type / option_spec -------------------------------------------------------

std::string_view to_string(option_type type) noexcept {
    switch (type) {
    case option_type::string: return "string";
    case option_type::integer: return "integer";
    case option_type::boolean: return "boolean";
    case option_type::interval: return "duration";
    case option_type::size: return "size";
    case option_type::connection: return "connection string";
    case option_type::choice: return "choice";
    case option_type::list: return "list";
    }
    return "unknown";
}

option_spec::option_spec(std::string key, option_type type, std::string default_text,
                         std::string help)
    : key_{std::move(key)}, type_{type}, default_{std::move(default_text)}, help_{std::move(help)} {}

option_spec& option_spec::env(std::string variable) {
    env_ = std::move(variable);
    return *this;
}

option_spec& option_spec::required() {
    required_ = true;
    default_.reset();
    return *this;
}

option_spec& option_spec::no_default() {
    default_.reset();
    return *this;
}

option_spec& option_spec::choices(std::vector<std::string> words) {
    choices_ = std::move(words);
    return *this;
}

option_spec& option_spec::positive() {
    positive_ = true;
    return *this;
}

option_spec& option_spec::range(std::int64_t min, std::int64_t max) {
    range_ = std::make_pair(min, max);
    return *this;
}

option_spec& option_spec::short_name(char letter) {
    short_ = letter;
    return *this;
}

option_spec& option_spec::placeholder(std::string name) {
    placeholder_ = std::move(name);
    return *this;
}

option_spec& option_spec::check(std::function<std::string(const option_value&)> fn) {
    checks_.push_back(std::move(fn));
    return *this;
}

std::string option_spec::command_line_name() const { return dashed(key_); }

std::string option_spec::placeholder_name() const {
    if (!placeholder_.empty()) return placeholder_;
    switch (type_) {
    case option_type::string: return "TEXT";
    case option_type::integer: return "N";
    case option_type::boolean: return "BOOL";
    case option_type::interval: return "DURATION";
    case option_type::size: return "SIZE";
    case option_type::connection: return "CONNSTR";
    case option_type::choice: return "WORD";
    case option_type::list: return "LIST";
    }
    return "VALUE";
}

std::string option_spec::type_description() const {
    switch (type_) {
    case option_type::string: return "text";
    case option_type::integer:
        if (range_) {
            return "integer " + std::to_string(range_->first) + ".." +
                   std::to_string(range_->second);
        }
        return positive_ ? "integer > 0" : "integer";
    case option_type::boolean: return "boolean (1/0, true/false, yes/no, on/off)";
    case option_type::interval:
        return std::string{positive_ ? "duration > 0" : "duration"} +
               " (e.g. 500ms, 2s, 1.5, 1min)";
    case option_type::size:
        return std::string{positive_ ? "size > 0" : "size"} + " (e.g. 8192, 64kB, 16MB)";
    case option_type::connection:
        return "libpq connection string (\"\" = from PG* environment variables)";
    case option_type::choice: {
        std::string out = "one of:";
        for (std::size_t i = 0; i < choices_.size(); ++i) out += (i ? ", " : " ") + choices_[i];
        return out;
    }
    case option_type::list: return "list (words separated by commas or spaces)";
    }
    return "value";
}

option_value option_spec::parse(std::string_view text) const {
    if (text.find_first_of("\r\n") != std::string_view::npos)
        throw value_error{"value must be a single line"};
    option_value value;
    switch (type_) {
    case option_type::string: value = std::string{text}; break;
    case option_type::integer: {
        const auto n = parse_integer(text);
        if (positive_ && n <= 0) throw value_error{"must be greater than 0, not " + in_quotes(text)};
        if (range_ && (n < range_->first || n > range_->second)) {
            throw value_error{"must be between " + std::to_string(range_->first) + " and " +
                              std::to_string(range_->second) + ", not " + in_quotes(text)};
        }
        value = n;
        break;
    }
    case option_type::boolean: value = parse_bool(text); break;
    case option_type::interval: {
        const auto d = parse_duration(text);
        if (positive_ && d.count() == 0) throw value_error{"must be longer than 0"};
        value = d;
        break;
    }
    case option_type::size: {
        const auto n = parse_size(text);
        if (positive_ && n == 0) throw value_error{"must be greater than 0"};
        value = n;
        break;
    }
    case option_type::connection:
        try {
            pgqpp::connection_config check{std::string{text}};
        } catch (const pgqpp::error& e) {
            throw value_error{e.what()};
        }
        value = std::string{text};
        break;
    case option_type::choice: {
        const std::string word{trim(text)};
        if (std::find(choices_.begin(), choices_.end(), word) == choices_.end()) {
            throw value_error{"invalid value " + in_quotes(text) + ", " + type_description() +
                              suggestion(word, choices_)};
        }
        value = word;
        break;
    }
    case option_type::list: value = parse_list(text); break;
    }
    for (const auto& fn : checks_) {
        std::string problem = fn(value);
        if (!problem.empty()) throw value_error{problem};
    }
    return value;
}

namespace opt {
option_spec string(std::string key, std::string default_text, std::string help) {
    return {std::move(key), option_type::string, std::move(default_text), std::move(help)};
}
option_spec integer(std::string key, std::string default_text, std::string help) {
    return {std::move(key), option_type::integer, std::move(default_text), std::move(help)};
}
option_spec boolean(std::string key, std::string default_text, std::string help) {
    return {std::move(key), option_type::boolean, std::move(default_text), std::move(help)};
}
option_spec duration(std::string key, std::string default_text, std::string help) {
    return {std::move(key), option_type::interval, std::move(default_text), std::move(help)};
}
option_spec size(std::string key, std::string default_text, std::string help) {
    return {std::move(key), option_type::size, std::move(default_text), std::move(help)};
}
option_spec connection(std::string key, std::string default_text, std::string help) {
    return {std::move(key), option_type::connection, std::move(default_text), std::move(help)};
}
option_spec choice(std::string key, std::string default_text, std::vector<std::string> words,
                   std::string help) {
    option_spec s{std::move(key), option_type::choice, std::move(default_text), std::move(help)};
    s.choices(std::move(words));
    return s;
}
option_spec list(std::string key, std::string default_text, std::string help) {
    return {std::move(key), option_type::list, std::move(default_text), std::move(help)};
}
}  // namespace opt

// ---- options_table ---------------------------------------------------------------------

options_table::options_table(std::string program, std::string summary)
    : program_{std::move(program)}, summary_{std::move(summary)}, section_{program_} {}

options_table& options_table::set_section(std::string section) {
    section_ = std::move(section);
    return *this;
}

options_table& options_table::ignore_section(std::string section) {
    ignored_.push_back(std::move(section));
    return *this;
}

options_table& options_table::set_version(std::string version) {
    version_ = std::move(version);
    return *this;
}

options_table& options_table::allow_positional_config(bool allow) {
    positional_config_ = allow;
    return *this;
}

namespace {
/// Names the general options take; program options must not collide with them.
bool is_reserved(std::string_view key) {
    return key == "help" || key == "config" || key == "print_config" || key == "check_config" ||
           key == "verbose" || key == "quiet" || key == "version" || key == "config_file";
}

void check_spec(const option_spec& spec) {
    const std::string& key = spec.key();
    if (!valid_key(key))
        throw std::logic_error{"option key " + in_quotes(key) + " must match [a-z][a-z0-9_]*"};
    if (is_reserved(key)) throw std::logic_error{"option key " + in_quotes(key) + " is reserved"};
    if (spec.type() == option_type::choice && spec.choice_words().empty())
        throw std::logic_error{"choice option " + in_quotes(key) + " has no choices"};
    const char s = spec.short_letter();
    if (s != '\0' && (s == 'h' || s == 'c' || s == 'v' || s == 'q' || s == 'V'))
        throw std::logic_error{"option " + in_quotes(key) + ": short name -" + std::string(1, s) +
                               " is reserved"};
    if (spec.default_text()) {
        try {
            spec.parse(*spec.default_text());
        } catch (const value_error& e) {
            throw std::logic_error{"option " + in_quotes(key) + ": bad default: " + e.what()};
        }
    }
}
}  // namespace

options_table& options_table::add(option_spec spec) {
    check_spec(spec);
    if (find(spec.key()) != nullptr)
        throw std::logic_error{"option " + in_quotes(spec.key()) + " added twice"};
    if (spec.short_letter() != '\0') {
        for (const auto& o : options_) {
            if (o.short_letter() == spec.short_letter())
                throw std::logic_error{"short name -" + std::string(1, spec.short_letter()) +
                                       " used twice"};
        }
    }
    options_.push_back(std::move(spec));
    return *this;
}

options_table& options_table::add(std::vector<option_spec> specs) {
    for (auto& s : specs) add(std::move(s));
    return *this;
}

options_table& options_table::set_default(std::string_view key, std::optional<std::string> text) {
    for (auto& o : options_) {
        if (o.key() != key) continue;
        option_spec changed = o;
        changed.set_default(std::move(text));
        check_spec(changed);
        o = std::move(changed);
        return *this;
    }
    throw std::logic_error{"set_default: no option " + in_quotes(key)};
}

const option_spec* options_table::find(std::string_view key) const noexcept {
    for (const auto& o : options_) {
        if (o.key() == key) return &o;
    }
    return nullptr;
}

// ---- config ----------------------------------------------------------------------------

const config::entry& config::at(std::string_view key) const {
    const auto it = values_.find(key);
    if (it == values_.end()) throw std::logic_error{"no option " + in_quotes(key) + " in the table"};
    return it->second;
}

template <class T>
const T& config::typed(std::string_view key, const char* expected) const {
    const entry& e = at(key);
    if (const T* v = std::get_if<T>(&e.value)) return *v;
    if (std::holds_alternative<std::monostate>(e.value))
        throw std::logic_error{"option " + in_quotes(key) + " has no value (check has_value())"};
    throw std::logic_error{"option " + in_quotes(key) + " is not " + expected};
}

const std::string& config::get_string(std::string_view key) const {
    return typed<std::string>(key, "a string, connection or choice");
}
std::int64_t config::get_int(std::string_view key) const {
    return typed<std::int64_t>(key, "an integer");
}
bool config::get_bool(std::string_view key) const { return typed<bool>(key, "a boolean"); }
duration config::get_duration(std::string_view key) const {
    return typed<duration>(key, "a duration");
}
std::uint64_t config::get_size(std::string_view key) const {
    return typed<std::uint64_t>(key, "a size");
}
const std::vector<std::string>& config::get_list(std::string_view key) const {
    return typed<std::vector<std::string>>(key, "a list");
}
pgqpp::connection_config config::get_connection(std::string_view key) const {
    return pgqpp::connection_config{get_string(key)};
}

bool config::has_value(std::string_view key) const {
    return !std::holds_alternative<std::monostate>(at(key).value);
}
const std::string& config::text(std::string_view key) const { return at(key).text; }
const value_source& config::source(std::string_view key) const { return at(key).source; }

std::string config::to_ini() const {
    const options_table& t = *table_;
    std::string out;
    out += "; " + t.program() + ": " + t.summary() + "\n";
    out += "; Generated by: " + t.program() + " --print-config\n";
    out += "; Lines starting with ';' are comments; a commented-out setting shows the default.\n";
    out += "; Precedence: command line > this file > environment > default.\n";
    out += "\n[" + t.section() + "]\n";
    for (const auto& spec : t.options()) {
        const entry& e = at(spec.key());
        out += "\n";
        out += wrap(spec.help(), "; ");
        std::string facts = spec.type_description();
        if (spec.is_required()) facts += "; required";
        if (!spec.env_variable().empty()) facts += "; environment: " + spec.env_variable();
        out += wrap(facts, ";   ");
        const std::string setting = spec.key() + (e.text.empty() ? " =" : " = " + e.text);
        switch (e.source.from) {
        case value_source::kind::unset: out += ";" + spec.key() + " =\n"; break;
        case value_source::kind::default_value: out += ";" + setting + "\n"; break;
        default: out += setting + "\n"; break;
        }
    }
    return out;
}

std::vector<std::string> config::changed_keys(const config& other) const {
    std::vector<std::string> out;
    for (const auto& [key, e] : values_) {
        const auto it = other.values_.find(key);
        if (it == other.values_.end() || it->second.value != e.value) out.push_back(key);
    }
    return out;
}

// ---- config_loader ---------------------------------------------------------------------

namespace {

struct cli_descriptions {
    po::options_description program;
    po::options_description general{"General options"};
    po::options_description hidden;
    po::positional_options_description positional;
};

std::string cli_help_line(const option_spec& spec) {
    std::string text = spec.help();
    std::string facts;
    if (spec.is_required()) {
        facts = "required";
    } else if (spec.default_text()) {
        facts = "default: " + (spec.default_text()->empty() ? std::string{"\"\""}
                                                            : *spec.default_text());
    }
    if (spec.type() == option_type::choice) {
        if (!facts.empty()) facts += "; ";
        facts += spec.type_description();
    }
    if (!spec.env_variable().empty()) {
        if (!facts.empty()) facts += "; ";
        facts += "env " + spec.env_variable();
    }
    if (!facts.empty()) text += " [" + facts + "]";
    return text;
}

std::unique_ptr<cli_descriptions> describe(const options_table& table) {
    auto d = std::make_unique<cli_descriptions>();
    d->program.add_options();  // keeps the caption empty; the help prints its own heading
    for (const auto& spec : table.options()) {
        std::string name = spec.command_line_name();
        if (spec.short_letter() != '\0') name += std::string{","} + spec.short_letter();
        auto* sem = po::value<std::string>()->value_name(spec.placeholder_name());
        if (spec.type() == option_type::boolean) sem->implicit_value("1");
        d->program.add(boost::shared_ptr<po::option_description>(
            new po::option_description(name.c_str(), sem, cli_help_line(spec).c_str())));
    }
    auto g = d->general.add_options();
    g("help,h", "Show this help and exit.");
    g("config,c", po::value<std::string>()->value_name("FILE"),
      ("Read settings from this INI file (section [" + table.section() + "]).").c_str());
    g("print-config", "Print a complete sample config file (the effective settings) and exit.");
    g("check-config", "Load and check the configuration, then exit (0 if it is fine).");
    g("verbose,v", "More log output (repeatable: -vv).");
    g("quiet,q", "Less log output (repeatable).");
    if (!table.version().empty()) g("version,V", "Show the version and exit.");
    if (table.positional_config()) {
        d->hidden.add_options()("config-file", po::value<std::string>(), "config file");
        d->positional.add("config-file", 1);
    }
    return d;
}

}  // namespace

config_loader::config_loader(options_table table, env_lookup env)
    : table_{std::make_shared<const options_table>(std::move(table))},
      env_{env ? std::move(env) : env_lookup{getenv_lookup}} {}

command_action config_loader::parse_command_line(const std::vector<std::string>& args) {
    cli_values_.clear();
    config_file_.clear();
    verbosity_ = 0;
    const auto d = describe(*table_);
    po::options_description all;
    all.add(d->program).add(d->general).add(d->hidden);
    po::parsed_options parsed{&all};
    try {
        // No abbreviations (--tick for --ticker-period): a typo must not match another option.
        const int style = po::command_line_style::default_style &
                          ~po::command_line_style::allow_guessing;
        parsed = po::command_line_parser(args).options(all).positional(d->positional)
                     .style(style).run();
    } catch (const po::error& e) {
        throw config_error{std::string{"command line: "} + e.what() + " (see --help)"};
    }

    command_action action = command_action::run;
    std::map<std::string, std::string> seen;  // option name -> how it was written
    for (const auto& o : parsed.options) {
        const std::string& name = o.string_key;
        const std::string value = o.value.empty() ? std::string{} : o.value.front();
        if (name == "verbose") {
            ++verbosity_;
            continue;
        }
        if (name == "quiet") {
            --verbosity_;
            continue;
        }
        const std::string written = o.position_key >= 0 ? "config file argument" : "--" + name;
        if (!seen.emplace(name == "config-file" ? "config" : name, written).second) {
            throw config_error{"command line: " + written + " given more than once"};
        }
        if (name == "help") {
            action = command_action::help;
        } else if (name == "version") {
            if (action == command_action::run) action = command_action::version;
        } else if (name == "print-config") {
            if (action == command_action::run) action = command_action::print_config;
        } else if (name == "check-config") {
            if (action == command_action::run) action = command_action::check_config;
        } else if (name == "config" || name == "config-file") {
            if (value.empty()) throw config_error{"command line: " + written + ": empty file name"};
            config_file_ = value;
        } else {
            std::string key = name;
            std::replace(key.begin(), key.end(), '-', '_');
            const option_spec* spec = table_->find(key);
            if (spec == nullptr) throw config_error{"command line: unknown option --" + name};
            // `--flag` alone: the implicit value, which program_options only fills in store().
            const std::string text =
                o.value.empty() && spec->type() == option_type::boolean ? "1" : value;
            try {
                spec->parse(text);
            } catch (const value_error& e) {
                throw config_error{"command line: --" + name + ": " + e.what()};
            }
            cli_values_[key] = text;
        }
    }
    return action;
}

config config_loader::load() const { return load(true); }

config config_loader::load(bool check_required) const {
    config cfg;
    cfg.table_ = table_;
    cfg.verbosity_ = verbosity_;
    cfg.config_file_ = config_file_;

    // Lowest first: defaults, then environment, then the file, then the command line.
    for (const auto& spec : table_->options()) {
        config::entry e;
        if (spec.default_text()) {
            e.text = *spec.default_text();
            e.value = spec.parse(e.text);
            e.source = {value_source::kind::default_value, "default"};
        }
        if (!spec.env_variable().empty()) {
            const auto v = env_(spec.env_variable());
            if (v && !v->empty()) {
                try {
                    e.value = spec.parse(*v);
                } catch (const value_error& ex) {
                    throw config_error{"environment $" + spec.env_variable() + " (" + spec.key() +
                                       "): " + ex.what()};
                }
                e.text = *v;
                e.source = {value_source::kind::environment, "$" + spec.env_variable()};
            }
        }
        cfg.values_.emplace(spec.key(), std::move(e));
    }

    if (!config_file_.empty()) {
        std::error_code dir_check;
        if (std::filesystem::is_directory(config_file_, dir_check)) {
            // An ifstream "opens" a directory and then just reads nothing.
            throw config_error{"cannot read config file " + in_quotes(config_file_) +
                               ": Is a directory"};
        }
        std::ifstream in{config_file_, std::ios::binary};
        if (!in) {
            throw config_error{"cannot read config file " + in_quotes(config_file_) + ": " +
                               std::strerror(errno)};
        }
        std::string line;
        std::size_t number = 0;
        std::string section;
        bool in_ours = false;
        bool skipping = false;
        std::map<std::string, std::size_t> first_line;
        while (std::getline(in, line)) {
            ++number;
            const std::string where = config_file_ + ":" + std::to_string(number);
            if (number == 1 && line.compare(0, 3, "\xEF\xBB\xBF") == 0) line.erase(0, 3);
            const std::string_view t = trim(line);
            if (t.empty() || t.front() == '#' || t.front() == ';') continue;
            if (t.front() == '[') {
                if (t.back() != ']')
                    throw config_error{where + ": malformed section header " + in_quotes(t)};
                section = std::string{trim(t.substr(1, t.size() - 2))};
                const auto& ign = table_->ignored_sections();
                in_ours = section == table_->section();
                skipping = std::find(ign.begin(), ign.end(), section) != ign.end();
                if (!in_ours && !skipping) {
                    throw config_error{where + ": unknown section [" + section + "] (expected [" +
                                       table_->section() + "])"};
                }
                continue;
            }
            const auto eq = t.find('=');
            const std::string key{trim(t.substr(0, eq))};
            if (eq == std::string_view::npos || key.find_first_of(" \t") != std::string::npos)
                throw config_error{where + ": expected 'key = value', got " + in_quotes(t)};
            const std::string value{trim(t.substr(eq + 1))};
            if (key.empty()) throw config_error{where + ": missing key before '='"};
            if (section.empty()) {
                throw config_error{where + ": " + in_quotes(key) + " is outside a section (start with [" +
                                   table_->section() + "])"};
            }
            if (skipping) continue;
            const option_spec* spec = table_->find(key);
            if (spec == nullptr) {
                throw config_error{where + ": unknown option " + in_quotes(key) + " in [" + section +
                                   "]" + suggestion(key, keys_of(*table_))};
            }
            const auto [it, fresh] = first_line.emplace(key, number);
            if (!fresh) {
                throw config_error{where + ": " + in_quotes(key) + " given twice (also on line " +
                                   std::to_string(it->second) + ")"};
            }
            auto& e = cfg.values_.at(key);
            try {
                e.value = spec->parse(value);
            } catch (const value_error& ex) {
                throw config_error{where + ": " + key + ": " + ex.what()};
            }
            e.text = value;
            e.source = {value_source::kind::config_file, where};
        }
        if (in.bad()) {
            throw config_error{"cannot read config file " + in_quotes(config_file_) + ": " +
                               std::strerror(errno)};
        }
    }

    for (const auto& [key, text] : cli_values_) {
        const option_spec* spec = table_->find(key);
        auto& e = cfg.values_.at(key);
        e.value = spec->parse(text);  // checked in parse_command_line()
        e.text = text;
        e.source = {value_source::kind::command_line, "--" + spec->command_line_name()};
    }

    for (const auto& spec : table_->options()) {
        if (!check_required || !spec.is_required() || cfg.has_value(spec.key())) continue;
        std::string how = spec.key() + " in [" + table_->section() + "] of the config file or --" +
                          spec.command_line_name();
        if (!spec.env_variable().empty()) how += " or $" + spec.env_variable();
        throw config_error{"missing required option " + in_quotes(spec.key()) + " (set " + how + ")"};
    }
    return cfg;
}

std::string config_loader::help_text() const {
    const options_table& t = *table_;
    const auto d = describe(t);
    std::ostringstream out;
    out << "Usage: " << t.program() << " [OPTIONS]"
        << (t.positional_config() ? " [CONFIG_FILE]" : " [--config FILE]") << "\n";
    out << t.summary() << "\n\n";
    if (!t.options().empty()) {
        out << "Options (each --some-option is the key some_option in the [" << t.section()
            << "] section of the config file):\n";
        out << d->program << "\n";
    }
    out << d->general << "\n";
    out << "Precedence: command line > config file > environment > default.\n"
           "Durations: 500ms, 2s, 1.5 (seconds), 1min, 2h. Sizes: 8192, 64kB, 16MB.\n"
           "Booleans: 1/0, true/false, yes/no, on/off.\n"
           "Exit status: 0 success, "
        << exit_failure << " runtime failure, " << exit_usage
        << " bad command line or configuration.\n";
    return out.str();
}

std::optional<config> config_loader::load_or_exit(int argc, const char* const* argv,
                                                  std::ostream& out, std::ostream& err) {
    std::vector<std::string> args;
    for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
    const std::string& program = table_->program();
    try {
        switch (parse_command_line(args)) {
        case command_action::help:
            out << help_text();
            exit_code_ = 0;
            return std::nullopt;
        case command_action::version:
            out << program << " " << table_->version() << "\n";
            exit_code_ = 0;
            return std::nullopt;
        case command_action::print_config:
            out << load(false).to_ini();  // a sample: required options may be unset
            exit_code_ = 0;
            return std::nullopt;
        case command_action::check_config:
            load();
            out << program << ": configuration OK\n";
            exit_code_ = 0;
            return std::nullopt;
        case command_action::run: break;
        }
        return load();
    } catch (const config_error& e) {
        err << program << ": " << e.what() << "\n";
        exit_code_ = exit_usage;
        return std::nullopt;
    }
}

std::optional<config> config_loader::load_or_exit(int argc, const char* const* argv) {
    return load_or_exit(argc, argv, std::cout, std::cerr);
}

// ---- standard options ------------------------------------------------------------------

std::vector<option_spec> standard_options() {
    std::vector<option_spec> out;
    out.push_back(opt::string("logfile", "",
                              "Also write the log to this file (reopened on reload, for "
                              "logrotate); \"\" for none.")
                      .placeholder("FILE"));
    out.push_back(opt::choice("log_level", "info",
                              {"trace", "debug", "info", "warning", "error", "critical", "off"},
                              "Least severe messages to log; each -v lowers it one step, each -q "
                              "raises it."));
    out.push_back(opt::boolean("log_console", "1", "Log to standard error."));
    out.push_back(opt::boolean("syslog", "0", "Also log to syslog."));
    out.push_back(opt::string("syslog_ident", "", "Syslog ident; \"\" for the program name.")
                      .placeholder("NAME"));
    out.push_back(opt::choice("syslog_facility", "daemon",
                              {"daemon", "user", "local0", "local1", "local2", "local3",
                               "local4", "local5", "local6", "local7"},
                              "Syslog facility."));
    out.push_back(opt::string("pidfile", "",
                              "Write the process id to this file; refuse to start while another "
                              "running process holds it. \"\" for none.")
                      .placeholder("FILE"));
    out.push_back(opt::duration("stats_period", "30s",
                                "Log a line of statistics this often; 0 turns it off."));
    out.push_back(opt::integer("metrics_port", "0",
                               "Serve Prometheus metrics at http://ADDRESS:PORT/metrics; 0 turns "
                               "it off.")
                      .range(0, 65535)
                      .placeholder("PORT"));
    out.push_back(opt::string("metrics_address", "127.0.0.1",
                              "Address the metrics endpoint listens on (0.0.0.0 for all IPv4 "
                              "interfaces).")
                      .placeholder("ADDRESS"));
    return out;
}

}  // namespace pgqpp::runtime
