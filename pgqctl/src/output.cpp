#include "output.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <iostream>

namespace pgqctl {

namespace {

/// Display width of UTF-8 text (code points; good enough for names and durations).
std::size_t width(const std::string& s) {
    return static_cast<std::size_t>(
        std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::string two_units(std::int64_t big, const char* big_unit, std::int64_t small,
                      const char* small_unit) {
    std::string s = std::to_string(big) + big_unit;
    if (small != 0) s += ' ' + std::to_string(small) + small_unit;
    return s;
}

}  // namespace

std::string format_duration(pgqpp::duration d) {
    using namespace std::chrono;
    if (d.count() < 0) return "-" + format_duration(-d);
    const auto us = d.count();
    if (us < 1000) return std::to_string(us) + " us";
    if (us < 1'000'000) return std::to_string(us / 1000) + " ms";
    const std::int64_t s = us / 1'000'000;
    if (s < 60) {
        if (s < 10) {
            char buf[32];
            std::snprintf(buf, sizeof buf, "%.1f s", static_cast<double>(us) / 1e6);
            return buf;
        }
        return std::to_string(s) + " s";
    }
    if (s < 3600) return two_units(s / 60, "m", s % 60, "s");
    if (s < 86400) return two_units(s / 3600, "h", (s % 3600) / 60, "m");
    return two_units(s / 86400, "d", (s % 86400) / 3600, "h");
}

std::string format_duration(const std::optional<pgqpp::duration>& d) {
    return d ? format_duration(*d) : "-";
}

std::string format_size(std::int64_t bytes) {
    if (bytes < 1024) return std::to_string(bytes) + " B";
    const char* units[] = {"kB", "MB", "GB", "TB"};
    double v = static_cast<double>(bytes);
    int i = -1;
    while (v >= 1024 && i < 3) {
        v /= 1024;
        ++i;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, v < 10 ? "%.1f %s" : "%.0f %s", v, units[i]);
    return buf;
}

std::string format_time(pgqpp::time_point t) {
    const std::time_t secs = std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
    std::tm tm{};
    localtime_r(&secs, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
    return buf;
}

std::string format_opt(const std::optional<std::int64_t>& v) {
    return v ? std::to_string(*v) : "-";
}

json json_seconds(const std::optional<pgqpp::duration>& d) {
    if (!d) return nullptr;
    return static_cast<double>(d->count()) / 1e6;
}

json json_time(const std::optional<pgqpp::time_point>& t) {
    if (!t) return nullptr;
    const auto us = t->time_since_epoch().count();
    std::time_t secs = us / 1'000'000;
    auto frac = us % 1'000'000;
    if (frac < 0) {
        frac += 1'000'000;
        --secs;
    }
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[40];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    char out[64];
    std::snprintf(out, sizeof out, "%s.%06lldZ", buf, static_cast<long long>(frac));
    return std::string{out};
}

json json_opt(const std::optional<std::int64_t>& v) {
    if (!v) return nullptr;
    return *v;
}

// Text from the database may not be valid UTF-8 (a SQL_ASCII database): replaced, not thrown.
void print_json(const json& j) {
    std::cout << j.dump(2, ' ', false, json::error_handler_t::replace) << '\n';
}

void print_json_line(const json& j) {
    std::cout << j.dump(-1, ' ', false, json::error_handler_t::replace) << std::endl;
}

void table::print(std::ostream& out) const {
    std::vector<std::size_t> widths(header_.size(), 0);
    auto measure = [&](const std::vector<std::string>& row) {
        for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i)
            widths[i] = std::max(widths[i], width(row[i]));
    };
    measure(header_);
    for (const auto& r : rows_) measure(r);
    auto line = [&](const std::vector<std::string>& row) {
        std::string s;
        for (std::size_t i = 0; i < row.size(); ++i) {
            s += row[i];
            if (i + 1 < row.size()) s.append(widths[i] - width(row[i]) + 2, ' ');
        }
        out << s << '\n';
    };
    line(header_);
    for (const auto& r : rows_) line(r);
}

bool is_tty(int fd) { return ::isatty(fd) == 1; }

}  // namespace pgqctl
