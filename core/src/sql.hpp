/// @file sql.hpp
/// Every SQL statement of pgqpp_core, by name. The name is what errors and logs show
/// (pgqpp::error::operation()).
#pragma once

namespace pgqpp::sql {

/// A named SQL statement.
struct query {
    const char* name;
    const char* text;
};

// Intervals and timestamps travel as integer microseconds (exact, no parsing of
// IntervalStyle/DateStyle output).
#define PGQPP_USEC(expr) "(extract(epoch from " expr ") * 1000000)::int8"

inline constexpr query version{"pgq.version", "select pgq.version()"};
inline constexpr query has_additions{
    "has_pgqpp_additions",
    "select to_regprocedure("
    "'pgq.insert_event_bulk(text,text[],text[],text[],text[],text[],text[])') is not null"};

inline constexpr query create_queue{"pgq.create_queue", "select pgq.create_queue($1)"};
inline constexpr query drop_queue{"pgq.drop_queue", "select pgq.drop_queue($1, $2)"};
inline constexpr query set_queue_config{"pgq.set_queue_config",
                                        "select pgq.set_queue_config($1, $2, $3)"};
inline constexpr query register_consumer{"pgq.register_consumer",
                                         "select pgq.register_consumer($1, $2)"};
inline constexpr query register_consumer_at{"pgq.register_consumer_at",
                                            "select pgq.register_consumer_at($1, $2, $3)"};
inline constexpr query unregister_consumer{"pgq.unregister_consumer",
                                           "select pgq.unregister_consumer($1, $2)"};

#define PGQPP_QUEUE_INFO_COLUMNS                              \
    "select queue_name, queue_ntables, queue_cur_table, "     \
    PGQPP_USEC("queue_rotation_period") ", "                  \
    PGQPP_USEC("queue_switch_time") ", "                      \
    "queue_external_ticker, queue_ticker_paused, "            \
    "queue_ticker_max_count, "                                \
    PGQPP_USEC("queue_ticker_max_lag") ", "                   \
    PGQPP_USEC("queue_ticker_idle_period") ", "               \
    PGQPP_USEC("ticker_lag") ", "                             \
    "ev_per_sec, ev_new, last_tick_id"

inline constexpr query queue_info{"pgq.get_queue_info",
                                  PGQPP_QUEUE_INFO_COLUMNS " from pgq.get_queue_info($1)"};
inline constexpr query queues{"pgq.get_queue_info",
                              PGQPP_QUEUE_INFO_COLUMNS " from pgq.get_queue_info()"};

#define PGQPP_CONSUMER_INFO_COLUMNS                           \
    "select queue_name, consumer_name, "                      \
    PGQPP_USEC("lag") ", " PGQPP_USEC("last_seen") ", "       \
    "last_tick, current_batch, next_tick, pending_events"

inline constexpr query consumer_info{
    "pgq.get_consumer_info", PGQPP_CONSUMER_INFO_COLUMNS " from pgq.get_consumer_info($1, $2)"};
inline constexpr query consumers_of{
    "pgq.get_consumer_info", PGQPP_CONSUMER_INFO_COLUMNS " from pgq.get_consumer_info($1)"};
inline constexpr query consumers{"pgq.get_consumer_info",
                                 PGQPP_CONSUMER_INFO_COLUMNS " from pgq.get_consumer_info()"};

inline constexpr query batch_info{
    "pgq.get_batch_info",
    "select queue_name, consumer_name, "
    PGQPP_USEC("batch_start") ", " PGQPP_USEC("batch_end") ", "
    "prev_tick_id, tick_id, " PGQPP_USEC("lag") ", seq_start, seq_end "
    "from pgq.get_batch_info($1)"};

inline constexpr query ticker{"pgq.ticker", "select pgq.ticker($1)"};
inline constexpr query ticker_all{"pgq.ticker", "select pgq.ticker()"};
inline constexpr query force_tick{"pgq.force_tick", "select pgq.force_tick($1)"};

#undef PGQPP_QUEUE_INFO_COLUMNS
#undef PGQPP_CONSUMER_INFO_COLUMNS
#undef PGQPP_USEC

}  // namespace pgqpp::sql
