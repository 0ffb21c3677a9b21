/// @file producer.hpp
/// Enqueue events inside the caller's own libpqxx transaction: one event, or many at once
/// through the fastest correct bulk path. The events exist if and only if that transaction
/// commits.
#pragma once

#include "pgqpp/connection_config.hpp"
#include "pgqpp/error.hpp"
#include "pgqpp/validate.hpp"

#include <pqxx/transaction_base>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pgqpp {

/**
 * One event, with all of PgQ's producer fields. ev_id, ev_time and ev_txid are set by the
 * database (ev_time is the transaction's now()).
 *
 * @code
 * pgqpp::event ev{"letter.stored", R"({"id": 42})"};
 * ev.extra1 = "mailbox-7";
 * @endcode
 */
struct event {
    std::string type;                   ///< ev_type: what happened; consumers dispatch on it
    std::string data;                   ///< ev_data: the payload (often JSON, see json.hpp)
    std::optional<std::string> extra1;  ///< ev_extra1 (NULL if empty); triggers put the table name here
    std::optional<std::string> extra2;  ///< ev_extra2
    std::optional<std::string> extra3;  ///< ev_extra3
    std::optional<std::string> extra4;  ///< ev_extra4

    event() = default;
    /// An event with type, data and (optionally) the extra fields.
    event(std::string type_, std::string data_, std::optional<std::string> extra1_ = {},
          std::optional<std::string> extra2_ = {}, std::optional<std::string> extra3_ = {},
          std::optional<std::string> extra4_ = {})
        : type{std::move(type_)},
          data{std::move(data_)},
          extra1{std::move(extra1_)},
          extra2{std::move(extra2_)},
          extra3{std::move(extra3_)},
          extra4{std::move(extra4_)} {}

    /// Bytes of text in all fields (what max_event_bytes limits).
    std::size_t size_bytes() const noexcept;
};

/// How insert_events() writes many events (see docs/producer.md for measurements).
enum class bulk_method {
    /// The fastest path allowed (measured: docs/producer.md): COPY into
    /// pgq.current_event_table when this role may (INSERT on the event table: pgq_admin or
    /// the owner) and the queue has no per-transaction limit, which COPY would bypass; else
    /// pgq.insert_event_bulk (pgqpp); else `rows` (the real PgQ, as pgq_writer).
    automatic,
    /// pgq.insert_event_bulk (pgqpp only): array parameters, one call per chunk.
    function,
    /// COPY into pgq.current_event_table(queue). Needs INSERT on the event table (pgq_admin
    /// or the owner); fails if the queue has a per-transaction limit, which COPY would
    /// bypass.
    copy,
    /// One statement that calls pgq.insert_event once per event (unnest of arrays). Works
    /// everywhere with the pgq_writer role, honours every check of pgq.insert_event.
    rows,
};

/// "automatic", "function", "copy" or "rows".
std::string_view to_string(bulk_method m) noexcept;

/// Limits and choices of the synchronous producer functions.
struct producer_options {
    /// Largest event accepted (sum of its fields' bytes). PostgreSQL's limit for one text
    /// value is 1 GB; large values cost several times their size in server memory.
    std::size_t max_event_bytes = std::size_t{256} << 20;
    /// Bulk path of insert_events().
    bulk_method method = bulk_method::automatic;
    /// insert_events() sends at most this many bytes of event text per statement (a
    /// PostgreSQL array or COPY row is limited to 1 GB); bigger inputs are split into
    /// several statements in the same transaction, in order.
    std::size_t max_statement_bytes = std::size_t{64} << 20;
};

/**
 * Checks an event before anything is sent: each field valid UTF-8 without NUL bytes (when
 * @p check_utf8; see insert_event()), the whole at most options.max_event_bytes.
 * @throws pgqpp::invalid_argument naming the field (and byte offset, for encoding errors)
 */
void validate_event(const event& ev, const producer_options& options = {},
                    bool check_utf8 = true);

/**
 * Inserts one event into @p queue inside @p tx (pgq.insert_event); it is committed or rolled
 * back with @p tx (savepoints included: a pqxx::subtransaction that aborts takes it back).
 *
 * @param tx      the caller's transaction
 * @param queue   queue name
 * @param ev      the event
 * @param options limits
 * @return the event's id (ev_id)
 *
 * The queue name and event are validated first (validate_queue_name(), validate_event());
 * text is checked as UTF-8 when the connection's client_encoding is UTF8 (the default for a
 * UTF8 database), otherwise the server converts and checks it.
 *
 * @throws pgqpp::invalid_argument on bad input (nothing was sent, @p tx is still usable)
 * @throws pgqpp::no_such_queue, pgqpp::insert_disallowed, pgqpp::per_tx_limit_exceeded,
 *         pgqpp::permission_denied, pgqpp::connection_lost, pgqpp::error from the server
 *         (@p tx is then aborted, as with any failed statement)
 */
std::int64_t insert_event(pqxx::transaction_base& tx, std::string_view queue, const event& ev,
                          const producer_options& options = {});

/**
 * Inserts many events into @p queue inside @p tx, in the order given (their ev_ids increase
 * in that order), through options.method.
 *
 * All events are validated before the first byte is sent, so bad input throws
 * pgqpp::invalid_argument and leaves @p tx untouched.
 *
 * @return the number of events inserted (events.size())
 * @throws like insert_event(); pgqpp::feature_not_available for bulk_method::function on
 *         the real PgQ; pgqpp::invalid_argument for bulk_method::copy on a queue with a
 *         per-transaction limit
 */
std::size_t insert_events(pqxx::transaction_base& tx, std::string_view queue,
                          const std::vector<event>& events, const producer_options& options = {});

/**
 * The method insert_events() would use for @p queue now (resolves bulk_method::automatic;
 * one or two catalog queries in @p tx).
 */
bulk_method choose_bulk_method(pqxx::transaction_base& tx, std::string_view queue,
                               bulk_method requested = bulk_method::automatic);

}  // namespace pgqpp
