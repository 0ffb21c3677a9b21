/// @file validate.hpp
/// Client-side checks of names and text, so that bad input is rejected with a clear error
/// before anything is sent (and nothing is half-written).
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace pgqpp {

/// Longest queue or consumer name accepted, in bytes. PgQ itself has no limit (names are
/// `text`), but a name is repeated in every log line and NOTIFY payload (max ~8000 bytes).
inline constexpr std::size_t max_name_bytes = 256;

/// The first byte offset where @p text is not valid UTF-8 (as PostgreSQL's UTF8 encoding
/// defines it: no overlong forms, no surrogates, nothing above U+10FFFF), or nullopt.
std::optional<std::size_t> find_invalid_utf8(std::string_view text) noexcept;

/**
 * Checks a text value for a UTF8 database: valid UTF-8 and no NUL byte (PostgreSQL text
 * cannot hold one).
 * @param field names the value in the error, e.g. "ev_data"
 * @throws pgqpp::invalid_argument "ev_data: invalid UTF-8 at byte 17 (0xff)" or
 *         "ev_data: NUL byte at byte 3 (PostgreSQL text cannot contain NUL)"
 */
void validate_text(std::string_view field, std::string_view text);

/**
 * Checks a queue or consumer name: not empty, at most max_name_bytes bytes, valid UTF-8,
 * no control characters (bytes below 0x20 and 0x7f).
 * @param kind "queue name" or "consumer name", used in the message
 * @throws pgqpp::invalid_argument naming what is wrong
 */
void validate_name(std::string_view kind, std::string_view name);

/// validate_name("queue name", name).
inline void validate_queue_name(std::string_view name) { validate_name("queue name", name); }
/// validate_name("consumer name", name).
inline void validate_consumer_name(std::string_view name) { validate_name("consumer name", name); }

}  // namespace pgqpp
