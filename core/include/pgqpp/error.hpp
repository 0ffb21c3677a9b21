/// @file error.hpp
/// What can go wrong, as exceptions (synchronous API) and as error codes (asynchronous API).
///
/// Every failure of the library is a pgqpp::error (a std::runtime_error) whose code() says
/// what the caller can do about it. PostgreSQL errors keep their SQLSTATE and the server's
/// message; translate() turns the exceptions of libpqxx into these types. The same codes
/// (pgqpp::errc) are delivered to Boost.Asio completion handlers as a
/// boost::system::error_code of pgqpp::error_category().
#pragma once

#include <boost/system/error_code.hpp>

#include <pqxx/transaction_base>

#include <exception>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace pgqpp {

/// The kinds of failure, shared by exceptions (error::code()) and error codes.
enum class errc {
    // 0 is "no error" for error_code, so the values start at 1.
    no_such_queue = 1,       ///< the queue does not exist
    not_registered,          ///< the consumer is not registered on the queue
    insert_disallowed,       ///< the queue refuses inserts (queue_disable_insert)
    per_tx_limit_exceeded,   ///< more events in one transaction than queue_per_tx_limit allows
    permission_denied,       ///< SQLSTATE 42501: the role lacks a grant (pgq_writer, ...)
    connection_lost,         ///< the connection broke; nothing was committed: retry is safe
    commit_outcome_unknown,  ///< the connection broke during COMMIT: it may or may not have committed
    invalid_argument,        ///< rejected by client-side validation (or a server data exception)
    batch_not_found,         ///< the batch id is unknown (or not this consumer's)
    pgq_not_installed,       ///< no schema pgq (or an incomplete one) in this database
    feature_not_available,   ///< a pgqpp addition (e.g. pgq.insert_event_bulk) is missing: real PgQ
    transaction_rollback,    ///< serialization failure or deadlock: the transaction was rolled back
    server_error,            ///< any other error reported by PostgreSQL
    queue_full,              ///< async producer: too many requests pending
    database_unavailable,    ///< async producer: no database connection within the request timeout
    shutting_down,           ///< async producer: stopped before the request was processed
};

/// The boost::system error category of pgqpp::errc ("pgqpp").
const boost::system::error_category& error_category() noexcept;

/// An error_code of pgqpp::error_category().
inline boost::system::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), error_category()};
}

/// A short name of the code, e.g. "no_such_queue".
std::string_view to_string(errc e) noexcept;

/**
 * Base class of every exception pgqpp throws.
 *
 * @code
 * try {
 *     pgqpp::insert_event(tx, "mail", ev);
 * } catch (const pgqpp::no_such_queue& e) {
 *     // e.sqlstate() == "P0001", e.server_message() == "No such queue"
 * } catch (const pgqpp::error& e) {
 *     if (e.is_retryable()) retry_later();
 * }
 * @endcode
 */
class error : public std::runtime_error {
public:
    /**
     * @param code           what kind of failure
     * @param what           the full message (what())
     * @param sqlstate       the server's SQLSTATE, empty for client-side errors
     * @param server_message the server's primary message, without "ERROR:" and context lines
     * @param operation      the SQL function or statement that failed, e.g. "pgq.insert_event"
     */
    error(errc code, const std::string& what, std::string sqlstate = {},
          std::string server_message = {}, std::string operation = {});

    /// What kind of failure this is.
    errc code() const noexcept { return code_; }
    /// code() as an error_code of pgqpp::error_category().
    boost::system::error_code error_code() const noexcept { return make_error_code(code_); }
    /// The five-character SQLSTATE reported by PostgreSQL ("" if the error is not the server's).
    const std::string& sqlstate() const noexcept { return sqlstate_; }
    /// The server's primary message (e.g. "No such queue"); "" for client-side errors.
    const std::string& server_message() const noexcept { return server_message_; }
    /// The SQL function or statement that failed (e.g. "pgq.insert_event"), if known.
    const std::string& operation() const noexcept { return operation_; }

    /**
     * Whether running the whole transaction again may succeed: true for connection_lost
     * and transaction_rollback (serialization failure, deadlock).
     *
     * Never true for commit_outcome_unknown: the transaction may have committed, and
     * repeating it could duplicate its events.
     */
    bool is_retryable() const noexcept;

private:
    errc code_;
    std::string sqlstate_;
    std::string server_message_;
    std::string operation_;
};

/// Declares a subclass of pgqpp::error with a fixed code.
#define PGQPP_DECLARE_ERROR(name, code_value)                                              \
    class name : public error {                                                            \
    public:                                                                                \
        explicit name(const std::string& what, std::string sqlstate = {},                  \
                      std::string server_message = {}, std::string operation = {})         \
            : error(code_value, what, std::move(sqlstate), std::move(server_message),      \
                    std::move(operation)) {}                                               \
    }

/// The queue does not exist ('No such queue', 'Event queue not found', ...).
PGQPP_DECLARE_ERROR(no_such_queue, errc::no_such_queue);
/// The consumer is not registered on the queue ('Not subscriber to queue: q/c').
PGQPP_DECLARE_ERROR(not_registered, errc::not_registered);
/// Inserts into the queue are disabled ('Insert into queue disallowed').
PGQPP_DECLARE_ERROR(insert_disallowed, errc::insert_disallowed);
/// "Queue '<q>' allows max <n> events from one TX".
PGQPP_DECLARE_ERROR(per_tx_limit_exceeded, errc::per_tx_limit_exceeded);
/// SQLSTATE 42501: the role lacks a privilege (see the pgq_reader/pgq_writer/pgq_admin roles).
PGQPP_DECLARE_ERROR(permission_denied, errc::permission_denied);
/// The connection broke before the transaction's COMMIT was sent: nothing was committed.
PGQPP_DECLARE_ERROR(connection_lost, errc::connection_lost);
/**
 * The connection broke while COMMIT was in progress: the transaction may or may not have
 * committed. Deliberately not a connection_lost, so that code retrying on connection_lost
 * never repeats a transaction that might have committed.
 */
PGQPP_DECLARE_ERROR(commit_in_doubt, errc::commit_outcome_unknown);
/// An argument failed validation (name, encoding, size), before anything was sent.
PGQPP_DECLARE_ERROR(invalid_argument, errc::invalid_argument);
/// The batch does not exist ('batch not found', 'Cannot find data for batch <id>', ...).
PGQPP_DECLARE_ERROR(batch_not_found, errc::batch_not_found);
/// The database has no (complete) pgq schema.
PGQPP_DECLARE_ERROR(pgq_not_installed, errc::pgq_not_installed);
/// A pgqpp addition to the SQL API is missing (the database runs the real PgQ).
PGQPP_DECLARE_ERROR(feature_not_available, errc::feature_not_available);
/// Serialization failure or deadlock (SQLSTATE class 40): run the transaction again.
PGQPP_DECLARE_ERROR(transaction_rollback, errc::transaction_rollback);

#undef PGQPP_DECLARE_ERROR

/**
 * Translates an exception into the matching pgqpp::error subclass.
 *
 * libpqxx's sql_error (by SQLSTATE and, for PgQ's plain `raise exception` errors with
 * SQLSTATE P0001, or XX000 from its C code, by their fixed texts), broken_connection,
 * in_doubt_error and transaction_rollback are translated; a pgqpp::error and anything else
 * are returned unchanged. An sql_error without SQLSTATE is libpq's own failure (the server
 * never answered), so it becomes connection_lost; libpqxx 6.4's insufficient_privilege,
 * which lacks its SQLSTATE, gets 42501.
 *
 * @param e         the exception (may be null: then null is returned)
 * @param operation the SQL function or statement that was running, e.g. "pgq.insert_event"
 * @return the translated exception
 */
std::exception_ptr translate(std::exception_ptr e, std::string_view operation);

/// Rethrows the exception being handled, translated (call it inside a catch block).
[[noreturn]] void rethrow_translated(std::string_view operation);

/**
 * Commits @p tx; if the outcome is unknown, throws pgqpp::commit_in_doubt.
 *
 * Use it instead of `tx.commit()` where a duplicate or a loss matters. libpqxx 6.4 does not
 * always report a connection lost during COMMIT as pqxx::in_doubt_error: depending on when
 * libpq notices, it throws a plain error ("server closed the connection unexpectedly") that
 * looks like a rejected COMMIT. Here every failure that is not the server's own answer
 * to COMMIT (an error with a SQLSTATE, e.g. a serialization failure: then nothing was
 * committed and that error is thrown, translated) is reported as commit_in_doubt.
 *
 * After commit_in_doubt, find out with `select txid_status(<txid>)` on a new connection,
 * using txid_current() taken before the commit (the async producer does this itself).
 */
void commit(pqxx::transaction_base& tx);

/// The errc of an exception after translation (errc::server_error for unknown exceptions).
errc code_of(std::exception_ptr e) noexcept;

/// Builds the pgqpp::error for a server error with @p sqlstate and full libpq message text.
std::exception_ptr make_server_error(std::string_view sqlstate, std::string_view message,
                                     std::string_view operation);

/// The primary message of a libpq error text: "ERROR:  No such queue\nCONTEXT: ..." gives
/// "No such queue".
std::string primary_message(std::string_view libpq_message);

}  // namespace pgqpp

namespace boost::system {
template <>
struct is_error_code_enum<pgqpp::errc> : std::true_type {};
}  // namespace boost::system
