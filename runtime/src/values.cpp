#include "pgqpp/runtime/values.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>

namespace pgqpp::runtime {

namespace {

std::string lower(std::string_view s) {
    std::string out{s};
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string quoted(std::string_view s) { return "'" + std::string{s} + "'"; }

/// A decimal number without sign or exponent, split at the point.
struct decimal {
    std::string_view whole;
    std::string_view fraction;
};

/// Reads [digits][.digits] from the front of @p s (at least one digit); returns the
/// number of characters used, 0 if there is no number.
std::size_t read_decimal(std::string_view s, decimal& out) {
    std::size_t i = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    out.whole = s.substr(0, i);
    out.fraction = {};
    if (i < s.size() && s[i] == '.') {
        const std::size_t start = ++i;
        while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
        out.fraction = s.substr(start, i - start);
    }
    if (out.whole.empty() && out.fraction.empty()) return 0;
    return i;
}

constexpr std::int64_t us_per_s = 1000000;
constexpr std::int64_t max_duration_us = std::int64_t{100} * 365 * 24 * 3600 * us_per_s;

struct unit {
    const char* name;
    std::int64_t us;
};

constexpr unit duration_units[] = {
    {"us", 1},
    {"ms", 1000},
    {"s", us_per_s},        {"sec", us_per_s},       {"secs", us_per_s},
    {"second", us_per_s},   {"seconds", us_per_s},
    {"min", 60 * us_per_s}, {"mins", 60 * us_per_s}, {"minute", 60 * us_per_s},
    {"minutes", 60 * us_per_s},
    {"h", 3600 * us_per_s}, {"hour", 3600 * us_per_s}, {"hours", 3600 * us_per_s},
    {"d", 86400 * us_per_s}, {"day", 86400 * us_per_s}, {"days", 86400 * us_per_s},
};

[[noreturn]] void bad_duration(std::string_view text, std::string_view why = {}) {
    std::string msg = "invalid duration " + quoted(text);
    if (!why.empty()) msg += ": " + std::string{why};
    msg += " (examples: 500ms, 2s, 1.5, 1min)";
    throw value_error{msg};
}

}  // namespace

std::string_view trim(std::string_view text) noexcept {
    const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
    while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
    return text;
}

duration parse_duration(std::string_view text) {
    const std::string_view s = trim(text);
    if (s.empty()) bad_duration(text);
    if (s.front() == '-') bad_duration(text, "must not be negative");
    decimal num;
    const std::size_t used = read_decimal(s, num);
    if (used == 0) bad_duration(text);
    const std::string unit_text = lower(trim(s.substr(used)));
    std::int64_t unit_us = us_per_s;  // a plain number is seconds
    if (!unit_text.empty()) {
        bool found = false;
        for (const auto& u : duration_units) {
            if (unit_text == u.name) {
                unit_us = u.us;
                found = true;
                break;
            }
        }
        if (!found) bad_duration(text, "unknown unit " + quoted(unit_text));
    }
    if (num.whole.size() > 15 || num.fraction.size() > 12) bad_duration(text, "too long");

    std::int64_t whole = 0;
    for (char c : num.whole) whole = whole * 10 + (c - '0');
    if (whole > max_duration_us / unit_us) bad_duration(text, "longer than 100 years");
    std::int64_t us = whole * unit_us;
    if (!num.fraction.empty()) {
        // The fraction in double: at most 12 digits, its error is far below a microsecond.
        const double fraction = std::stod("0." + std::string{num.fraction});
        us += static_cast<std::int64_t>(std::llround(fraction * static_cast<double>(unit_us)));
    }
    if (us > max_duration_us) bad_duration(text, "longer than 100 years");
    if (us == 0 && (whole != 0 || num.fraction.find_first_not_of('0') != std::string_view::npos))
        bad_duration(text, "shorter than 1us");
    return duration{us};
}

std::string format_duration(duration d) {
    const std::int64_t us = d.count();
    if (us == 0) return "0";
    if (us < 0) return "-" + format_duration(duration{-us});
    static constexpr unit largest_first[] = {
        {"d", 86400 * us_per_s}, {"h", 3600 * us_per_s}, {"min", 60 * us_per_s},
        {"s", us_per_s},         {"ms", 1000},           {"us", 1}};
    for (const auto& u : largest_first) {
        if (us % u.us == 0) return std::to_string(us / u.us) + u.name;
    }
    return std::to_string(us) + "us";  // not reached: every value is a multiple of 1us
}

std::uint64_t parse_size(std::string_view text) {
    const std::string_view s = trim(text);
    const auto fail = [&](std::string_view why) -> std::uint64_t {
        std::string msg = "invalid size " + quoted(text);
        if (!why.empty()) msg += ": " + std::string{why};
        throw value_error{msg + " (examples: 8192, 64kB, 16MB, 1GB)"};
    };
    std::size_t i = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    if (i == 0) return fail({});
    std::uint64_t n = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + i, n);
    if (ec != std::errc{} || end != s.data() + i) return fail("too large");
    const std::string u = lower(trim(s.substr(i)));
    unsigned shift = 0;
    if (u.empty() || u == "b") {
        shift = 0;
    } else if (u == "k" || u == "kb" || u == "kib") {
        shift = 10;
    } else if (u == "m" || u == "mb" || u == "mib") {
        shift = 20;
    } else if (u == "g" || u == "gb" || u == "gib") {
        shift = 30;
    } else if (u == "t" || u == "tb" || u == "tib") {
        shift = 40;
    } else {
        return fail("unknown unit " + quoted(u));
    }
    if (shift != 0 && n > (std::numeric_limits<std::uint64_t>::max() >> shift))
        return fail("too large");
    return n << shift;
}

std::string format_size(std::uint64_t bytes) {
    if (bytes == 0) return "0";
    static constexpr struct {
        const char* name;
        unsigned shift;
    } units[] = {{"TB", 40}, {"GB", 30}, {"MB", 20}, {"kB", 10}};
    for (const auto& u : units) {
        const std::uint64_t m = std::uint64_t{1} << u.shift;
        if (bytes % m == 0) return std::to_string(bytes / m) + u.name;
    }
    return std::to_string(bytes);
}

bool parse_bool(std::string_view text) {
    const std::string s = lower(trim(text));
    if (s == "1" || s == "true" || s == "yes" || s == "on") return true;
    if (s == "0" || s == "false" || s == "no" || s == "off") return false;
    throw value_error{"invalid boolean " + quoted(text) + " (use 1/0, true/false, yes/no, on/off)"};
}

std::int64_t parse_integer(std::string_view text) {
    const std::string_view s = trim(text);
    std::string_view digits = s;
    if (!digits.empty() && digits.front() == '+') {
        digits.remove_prefix(1);
        if (!digits.empty() && digits.front() == '-') digits = {};  // "+-1"
    }
    std::int64_t n = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
    if (digits.empty() || ec == std::errc::invalid_argument || end != digits.data() + digits.size())
        throw value_error{"invalid integer " + quoted(text)};
    if (ec == std::errc::result_out_of_range)
        throw value_error{"integer out of range " + quoted(text)};
    return n;
}

std::vector<std::string> parse_list(std::string_view text) {
    std::vector<std::string> out;
    std::string item;
    for (char c : text) {
        if (c == ',' || c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            if (!item.empty()) out.push_back(std::move(item));
            item.clear();
        } else {
            item += c;
        }
    }
    if (!item.empty()) out.push_back(std::move(item));
    return out;
}

}  // namespace pgqpp::runtime
