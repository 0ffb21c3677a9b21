/// @file json.hpp
/// JSON payloads with nlohmann::json (Debian's nlohmann-json3-dev): build an event's ev_data
/// from a JSON value, and read it back.
///
/// @code
/// auto ev = pgqpp::json_event("letter.stored", {{"id", 42}, {"mailbox", "inbox"}});
/// pgqpp::insert_event(tx, "mail", ev);
/// // consumer side:
/// nlohmann::json payload = pgqpp::parse_json(ev.data);
/// @endcode
#pragma once

#include "pgqpp/error.hpp"
#include "pgqpp/producer.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace pgqpp {

/**
 * Serializes @p value compactly (no spaces), as UTF-8.
 * @throws pgqpp::invalid_argument if a string in @p value is not valid UTF-8
 */
inline std::string to_json_text(const nlohmann::json& value) {
    try {
        return value.dump();
    } catch (const nlohmann::json::exception& e) {
        throw invalid_argument{std::string{"JSON payload: "} + e.what()};
    }
}

/**
 * An event whose ev_data is @p data serialized as JSON.
 * @throws pgqpp::invalid_argument if a string in @p data is not valid UTF-8
 */
inline event json_event(std::string type, const nlohmann::json& data) {
    return event{std::move(type), to_json_text(data)};
}

/**
 * Parses an ev_data that holds JSON.
 * @throws pgqpp::invalid_argument with the parser's message (byte position included)
 */
inline nlohmann::json parse_json(std::string_view ev_data) {
    try {
        return nlohmann::json::parse(ev_data.begin(), ev_data.end());
    } catch (const nlohmann::json::exception& e) {
        throw invalid_argument{std::string{"ev_data is not valid JSON: "} + e.what()};
    }
}

}  // namespace pgqpp
