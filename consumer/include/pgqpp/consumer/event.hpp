/// @file event.hpp
/// An event of a batch and what a handler says about it (consumer.hpp, event_stream.hpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

namespace pgqpp::consumer {

/// ev_time: microseconds since the Unix epoch, as PostgreSQL keeps a timestamptz (whatever
/// the session's TimeZone); `infinity` and `-infinity` are max() and min().
using event_time =
    std::chrono::time_point<std::chrono::system_clock, std::chrono::microseconds>;

/// One event of a batch, as pgq.get_batch_events returns it.
struct event {
    std::int64_t id = 0;
    std::int64_t txid = 0;
    event_time time{};
    std::optional<std::int32_t> retry;
    std::string type;
    std::string data;
    std::optional<std::string> extra1, extra2, extra3, extra4;
};

/// What a handler says about one event.
struct outcome {
    enum class kind { done, retry, dead_letter };
    kind what = kind::done;
    std::chrono::seconds delay{0};  ///< for retry: deliver again after this long
    std::string reason;             ///< for dead_letter: kept for the operator

    static outcome done() { return {}; }
    static outcome retry_after(std::chrono::seconds d) { return {kind::retry, d, {}}; }
    /// Into pgq.dead_letter (pgqpp's SQL; on the real PgQ the batch fails with
    /// feature_not_available) until an operator requeues it (pgq.dead_letter_requeue).
    static outcome dead_letter(std::string why) {
        return {kind::dead_letter, std::chrono::seconds{0}, std::move(why)};
    }
};

}  // namespace pgqpp::consumer
