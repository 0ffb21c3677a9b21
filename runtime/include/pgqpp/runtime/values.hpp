/// @file values.hpp
/// Parsing and printing of configuration values: durations, sizes, booleans, integers and
/// word lists, with messages that say what was expected.
///
/// Every parse_* function throws value_error with a short reason ("invalid duration 'x'
/// (examples: 500ms, 2s, 1.5, 1min)"); the configuration loader adds where the value came
/// from (file and line, command line option or environment variable) and the key.
#pragma once

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace pgqpp::runtime {

/// Durations in configuration, with microsecond resolution (the same type as pgqpp::duration).
using duration = std::chrono::microseconds;

/// A value that does not parse; what() is the reason, without location or key.
class value_error : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

/**
 * Parses a duration.
 *
 * A number, optionally followed by a unit, optionally separated by spaces: `us`, `ms`, `s`
 * (also `sec`, `second(s)`), `min` (also `minute(s)`), `h` (also `hour(s)`), `d` (also
 * `day(s)`). A plain number is seconds and may have a fraction, as in pgqd's config
 * (`ticker_period = 0.5`). Examples: `2s`, `100ms`, `1.5`, `1min`, `0`.
 *
 * @throws value_error for anything else, including negative values, values beyond 100
 *         years and fractions of a microsecond that round to nothing ("1ns" is not a unit)
 */
duration parse_duration(std::string_view text);

/// The shortest exact spelling of @p d that parse_duration() reads back: "0", "250us",
/// "100ms", "1500ms", "2s", "1min", "90s", "2h", "1d".
std::string format_duration(duration d);

/**
 * Parses a size in bytes: a whole number, optionally followed by `B`, `kB`/`KB`/`KiB`/`k`,
 * `MB`/`MiB`/`M`, `GB`/`GiB`/`G`, `TB`/`TiB`/`T` (case-insensitive; multiples of 1024, as
 * in PostgreSQL's own settings). Examples: `8192`, `64kB`, `16MB`, `1GiB`.
 * @throws value_error for anything else or on overflow
 */
std::uint64_t parse_size(std::string_view text);

/// The shortest exact spelling of @p bytes that parse_size() reads back: "0", "1000",
/// "64kB", "16MB", "1GB".
std::string format_size(std::uint64_t bytes);

/**
 * Parses a boolean: `1`, `true`, `yes`, `on` or `0`, `false`, `no`, `off`
 * (case-insensitive).
 * @throws value_error for anything else (an empty value too)
 */
bool parse_bool(std::string_view text);

/**
 * Parses a signed 64-bit decimal integer (an optional sign, digits, nothing else).
 * @throws value_error for anything else or out of range
 */
std::int64_t parse_integer(std::string_view text);

/// Splits a list at commas and/or whitespace, dropping empty items: "a, b c" gives
/// {"a", "b", "c"}, as pgqd reads `database_list`. Never throws.
std::vector<std::string> parse_list(std::string_view text);

/// @p text without leading and trailing spaces, tabs, CR and LF.
std::string_view trim(std::string_view text) noexcept;

}  // namespace pgqpp::runtime
