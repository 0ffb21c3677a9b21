/// @file params.hpp
/// Internal: nullable text for libpqxx 6.4 statement parameters and COPY rows, and text[]
/// literals for the bulk statements.
#pragma once

#include "pgqpp/producer.hpp"

#include <pqxx/strconv>

#include <functional>
#include <optional>
#include <stdexcept>
#include <string>

namespace pgqpp::detail {

/// A text value or NULL, referring to a string that outlives the statement (libpqxx 6.4
/// has no std::optional parameters).
struct text_ref {
    const std::string* value = nullptr;  ///< nullptr: SQL NULL

    static text_ref of(const std::string& s) { return {&s}; }
    static text_ref of(const std::optional<std::string>& s) { return {s ? &*s : nullptr}; }
};

/// Appends @p s to a text[] literal as one quoted element: "a\"b\\c".
void append_array_element(std::string& out, std::string_view s);

/**
 * The six parallel text[] literals (type, data, extra1..4) of events [first, last), in
 * order. An extra array whose elements are all NULL is left out (nullopt: pass NULL, which
 * the SQL treats as all-NULL) to save building and parsing it.
 */
struct event_arrays {
    std::string type;
    std::string data;
    std::optional<std::string> extra[4];

    /// From @p n events, event i being @p at(i).
    event_arrays(std::size_t n, const std::function<const event&(std::size_t)>& at);
    /// From events [first, last).
    event_arrays(const event* first, const event* last)
        : event_arrays(static_cast<std::size_t>(last - first),
                       [first](std::size_t i) -> const event& { return first[i]; }) {}
};

}  // namespace pgqpp::detail

namespace pqxx {
/// Lets text_ref be a statement parameter and a COPY field.
template <>
struct string_traits<pgqpp::detail::text_ref> {
    static constexpr const char* name() noexcept { return "pgqpp::detail::text_ref"; }
    static constexpr bool has_null() noexcept { return true; }
    static bool is_null(const pgqpp::detail::text_ref& t) { return t.value == nullptr; }
    static pgqpp::detail::text_ref null() { return {}; }
    static void from_string(const char[], pgqpp::detail::text_ref&) {
        throw std::logic_error{"text_ref is write-only"};
    }
    static std::string to_string(const pgqpp::detail::text_ref& t) { return *t.value; }
};
}  // namespace pqxx
