#include "pgqpp/connection_config.hpp"

#include "pgqpp/error.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <cctype>
#include <memory>

namespace pgqpp {

namespace {

struct options_deleter {
    void operator()(PQconninfoOption* o) const noexcept { PQconninfoFree(o); }
};
using options_ptr = std::unique_ptr<PQconninfoOption, options_deleter>;

bool mentions_password(std::string_view conninfo) {
    std::string lower{conninfo};
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (lower.find("password") != std::string::npos) return true;
    // URI with user:password@
    const auto scheme = lower.find("://");
    if (scheme != std::string::npos) {
        const auto at = lower.find('@', scheme);
        const auto colon = lower.find(':', scheme + 3);
        if (at != std::string::npos && colon != std::string::npos && colon < at) return true;
    }
    return false;
}

/// libpq quotes the offending token, which may be a piece of the password
/// (`password=two words` gives `missing "=" after "words"`): hide quoted parts then.
std::string redact_quoted(std::string_view message) {
    std::string out;
    bool inside = false;
    for (char c : message) {
        if (c == '"') {
            out += c;
            if (!inside) out += "...";
            inside = !inside;
        } else if (!inside) {
            out += c;
        }
    }
    return out;
}

options_ptr parse(const std::string& conninfo) {
    char* errmsg = nullptr;
    options_ptr opts{PQconninfoParse(conninfo.c_str(), &errmsg)};
    if (!opts) {
        std::string message = errmsg != nullptr ? errmsg : "out of memory";
        if (errmsg != nullptr) PQfreemem(errmsg);
        while (!message.empty() && (message.back() == '\n' || message.back() == ' '))
            message.pop_back();
        if (mentions_password(conninfo)) {
            message = redact_quoted(message) +
                      " (quoted parts hidden: the connection string contains a password)";
        }
        throw invalid_argument{"invalid connection string: " + message, "", "",
                               "connection_config"};
    }
    return opts;
}

}  // namespace

connection_config::connection_config(std::string conninfo) : conninfo_{std::move(conninfo)} {
    parse(conninfo_);
}

std::string connection_config::describe() const {
    const auto opts = parse(conninfo_);
    std::string out;
    for (const char* key : {"host", "hostaddr", "port", "dbname", "user", "service"}) {
        for (auto* o = opts.get(); o->keyword != nullptr; ++o) {
            if (o->val == nullptr || *o->val == '\0' || std::string_view{o->keyword} != key)
                continue;
            if (!out.empty()) out += ' ';
            out += key;
            out += '=';
            out += o->val;
        }
    }
    return out.empty() ? std::string{"(from environment)"} : out;
}

bool connection_config::has(std::string_view key) const {
    const auto opts = parse(conninfo_);
    for (auto* o = opts.get(); o->keyword != nullptr; ++o) {
        if (std::string_view{o->keyword} == key) return o->val != nullptr;
    }
    return false;
}

connection_config connection_config::with_default(std::string_view key,
                                                  std::string_view value) const {
    const auto opts = parse(conninfo_);
    bool known = false;
    for (auto* o = opts.get(); o->keyword != nullptr; ++o) {
        if (std::string_view{o->keyword} != key) continue;
        known = true;
        if (o->val != nullptr) return *this;
    }
    if (!known) {
        throw invalid_argument{"invalid connection option \"" + std::string{key} + "\"", "", "",
                               "connection_config"};
    }
    // A URI cannot be extended with key=value; libpq accepts both in one string only as
    // separate forms, so rebuild the string from the parsed options.
    std::string out;
    for (auto* o = opts.get(); o->keyword != nullptr; ++o) {
        if (o->val == nullptr) continue;
        out += o->keyword;
        out += '=';
        out += quote_conninfo_value(o->val);
        out += ' ';
    }
    out += std::string{key} + '=' + quote_conninfo_value(value);
    connection_config copy;
    copy.conninfo_ = std::move(out);
    return copy;
}

std::unique_ptr<pqxx::connection> connection_config::connect() const {
    try {
        return std::make_unique<pqxx::connection>(conninfo_);
    } catch (...) {
        rethrow_translated("connect");
    }
}

std::string quote_conninfo_value(std::string_view value) {
    std::string quoted = "'";
    for (char c : value) {
        if (c == '\'' || c == '\\') quoted += '\\';
        quoted += c;
    }
    quoted += '\'';
    return quoted;
}

}  // namespace pgqpp
