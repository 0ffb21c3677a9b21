/// @file types.hpp
/// Typed rows of the queue's info functions: pgq.get_queue_info, pgq.get_consumer_info and
/// pgq.get_batch_info. Intervals are std::chrono::microseconds (PostgreSQL's resolution),
/// timestamps std::chrono::system_clock::time_point, and NULLs std::optional.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace pgqpp {

/// PostgreSQL's interval resolution. An interval with months counts them as 30 days
/// (as extract(epoch from ...) does).
using duration = std::chrono::microseconds;
/// A timestamptz.
using time_point = std::chrono::time_point<std::chrono::system_clock, duration>;

/// One row of pgq.get_queue_info(): a queue's configuration and ticker state (14 columns).
struct queue_info {
    std::string queue_name;
    int queue_ntables = 0;                 ///< number of event tables (rotation)
    int queue_cur_table = 0;               ///< the table inserts go to now
    duration queue_rotation_period{};      ///< rotate at most this often
    time_point queue_switch_time{};        ///< last rotation
    bool queue_external_ticker = false;    ///< ticks come from elsewhere; pgq.ticker() skips it
    bool queue_ticker_paused = false;      ///< pgq.ticker() skips it
    int queue_ticker_max_count = 0;        ///< tick after this many events...
    duration queue_ticker_max_lag{};       ///< ...or when the last tick is this old (and events wait)
    duration queue_ticker_idle_period{};   ///< tick at least this often without events
    std::optional<duration> ticker_lag;    ///< age of the newest tick
    std::optional<double> ev_per_sec;      ///< over the last ~20 ticks; NULL if undefined
    std::optional<std::int64_t> ev_new;   ///< events since the newest tick (approximate)
    std::optional<std::int64_t> last_tick_id;
};

/// One row of pgq.get_consumer_info() (8 columns).
struct consumer_info {
    std::string queue_name;
    std::string consumer_name;
    std::optional<duration> lag;           ///< now - time of the consumer's last tick
    std::optional<duration> last_seen;     ///< now - last activity (next_batch/finish_batch)
    std::optional<std::int64_t> last_tick;
    std::optional<std::int64_t> current_batch;  ///< the open batch, if any
    std::optional<std::int64_t> next_tick;      ///< end tick of the open batch
    std::optional<std::int64_t> pending_events; ///< events in ticks after last_tick
};

/// pgq.get_batch_info(batch_id) (9 columns).
struct batch_info {
    std::string queue_name;
    std::string consumer_name;
    time_point batch_start{};   ///< time of the previous tick
    time_point batch_end{};     ///< time of the batch's tick
    std::int64_t prev_tick_id = 0;
    std::int64_t tick_id = 0;
    duration lag{};             ///< now - batch_end
    std::int64_t seq_start = 0; ///< event sequence at prev_tick
    std::int64_t seq_end = 0;   ///< event sequence at tick
};

}  // namespace pgqpp
