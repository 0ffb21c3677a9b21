/// @file sql.hpp
/// Every SQL statement of pgqpp_producer, by name (the name is what errors and logs show).
#pragma once

namespace pgqpp::sql {

/// A named SQL statement.
struct query {
    const char* name;
    const char* text;
};

/// One event (PgQ's 7-argument insert_event: security definer, granted to pgq_writer).
inline constexpr query insert_event{"pgq.insert_event",
                                    "select pgq.insert_event($1, $2, $3, $4, $5, $6, $7)"};

/// pgqpp's bulk function: element i of each array is event i.
inline constexpr query insert_event_bulk{
    "pgq.insert_event_bulk",
    "select pgq.insert_event_bulk($1, $2::text[], $3::text[], $4::text[], $5::text[],"
    " $6::text[], $7::text[])"};

/// pgq.insert_event once per array element, in array order, in one statement.
inline constexpr query insert_event_rows{
    "pgq.insert_event",
    "select count(*) from ("
    "select pgq.insert_event($1, u.t, u.d, u.x1, u.x2, u.x3, u.x4)"
    " from unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])"
    " with ordinality as u(t, d, x1, x2, x3, x4, i)"
    " order by u.i) s"};

/// The same, returning each event's id (in array order) and the transaction's id.
inline constexpr query insert_event_rows_ids{
    "pgq.insert_event",
    "select txid_current(), pgq.insert_event($1, u.t, u.d, u.x1, u.x2, u.x3, u.x4)"
    " from unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])"
    " with ordinality as u(t, d, x1, x2, x3, x4, i)"
    " order by u.i"};

/// What the bulk paths need to know, in one round trip: the current event table (raises
/// 'Event queue not found' or 'Writing to queue disabled', as PgQ's bulk path does),
/// ev_time for COPY (= now(), as insert_event uses), whether this role may COPY into it,
/// the per-transaction limit COPY would bypass, and whether pgq.insert_event_bulk exists.
inline constexpr query bulk_target{
    "pgq.current_event_table",
    "select t, now()::text, has_table_privilege(t, 'INSERT'),"
    " (select q.queue_per_tx_limit from pgq.queue q where q.queue_name = $1),"
    " to_regprocedure("
    "'pgq.insert_event_bulk(text,text[],text[],text[],text[],text[],text[])') is not null"
    " from pgq.current_event_table($1) t"};

/// The columns COPY fills; ev_id and ev_txid come from the table's defaults.
inline constexpr const char* copy_columns[] = {"ev_time", "ev_type", "ev_data", "ev_extra1",
                                              "ev_extra2", "ev_extra3", "ev_extra4"};

/// In-doubt resolution (async producer): the fate of a transaction after the connection
/// broke during its COMMIT.
inline constexpr query txid_status{"txid_status", "select txid_status($1)"};

/// Where a queue's events are, and whether this role may read them (to confirm an in-doubt
/// outcome by looking for the events themselves).
inline constexpr query event_table{
    "pgq.queue",
    "select queue_data_pfx, has_table_privilege(queue_data_pfx, 'SELECT')"
    " from pgq.queue where queue_name = $1"};

}  // namespace pgqpp::sql
