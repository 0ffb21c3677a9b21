/// @file output.hpp
/// How pgqctl shows things to people (aligned tables, "3h 12m", "850 ms", "12 MB") and to
/// scripts (JSON: durations in seconds, times in ISO 8601 UTC).
#pragma once

#include <pgqpp/types.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace pgqctl {

using json = nlohmann::ordered_json;

/// As people write it: "850 ms", "42 s", "3m 20s", "3h 12m", "2d 4h" (negative: "-42 s").
std::string format_duration(pgqpp::duration d);
/// format_duration, or "-" for nullopt.
std::string format_duration(const std::optional<pgqpp::duration>& d);
/// "512 B", "12 kB", "3.4 MB", "1.2 GB".
std::string format_size(std::int64_t bytes);
/// Local time "2026-11-22 03:00:12".
std::string format_time(pgqpp::time_point t);
/// The number, or "-" for nullopt.
std::string format_opt(const std::optional<std::int64_t>& v);

/// A name as messages show it: 'mail'.
inline std::string quote_name(const std::string& name) { return "'" + name + "'"; }

/// Seconds as a JSON number (null for nullopt).
json json_seconds(const std::optional<pgqpp::duration>& d);
/// "2026-11-22T03:00:12.123456Z".
json json_time(const std::optional<pgqpp::time_point>& t);
/// The value, or null.
json json_opt(const std::optional<std::int64_t>& v);

/// Writes @p j to stdout, indented, with a newline.
void print_json(const json& j);
/// Writes @p j to stdout as one line (JSON lines: tail, status --watch), flushed.
void print_json_line(const json& j);

/// Rows of cells, printed with every column as wide as its widest cell.
class table {
public:
    explicit table(std::vector<std::string> header) : header_{std::move(header)} {}
    void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
    bool empty() const noexcept { return rows_.empty(); }
    /// Header and rows, two spaces between columns, no trailing blanks.
    void print(std::ostream& out) const;

private:
    std::vector<std::string> header_;
    std::vector<std::vector<std::string>> rows_;
};

/// Whether file descriptor @p fd (1: stdout, 2: stderr) is a terminal.
bool is_tty(int fd);

}  // namespace pgqctl
