/// @file retry.hpp
/// Which failures are worth retrying, and a loop that retries an attempt with backoff on
/// an Asio executor (typically: connecting to a database).
///
/// @code
/// pgqpp::runtime::retrier connect{io.get_executor(), {}, log, "connect"};
/// connect.async_run(
///     [&] { conn = db.connect(); check_queue(*conn); },     // throws on failure
///     [&](std::exception_ptr e) {
///         if (e) { log.critical("{}", pgqpp::runtime::describe_failure(e)); exit_code = 1; return; }
///         start_work();
///     });
/// @endcode
#pragma once

#include "pgqpp/runtime/backoff.hpp"
#include "pgqpp/runtime/logging.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <exception>
#include <functional>
#include <memory>
#include <string>

namespace pgqpp::runtime {

/// Whether trying again can help.
enum class failure_kind {
    transient,  ///< retry after a delay: the server is down, the connection broke, a deadlock
    permanent,  ///< do not retry: a bad setting or a missing object; say so and exit
};

/**
 * The default classification, based on pgqpp's error codes (core's pgqpp::error):
 *
 * - permanent: invalid_argument (bad connection string, bad name, any config_error),
 *   no_such_queue, not_registered, pgq_not_installed, feature_not_available,
 *   permission_denied, insert_disallowed, per_tx_limit_exceeded, batch_not_found;
 *   std::logic_error and std::bad_alloc;
 * - transient: everything else, notably connection_lost, transaction_rollback,
 *   commit_outcome_unknown (the connection is gone; whoever committed must resolve the
 *   doubt), server_error (e.g. a statement timeout, the server shutting down), and
 *   exceptions that are not pgqpp's.
 *
 * A program with other needs (the ticker waits for a database without pgq, for instance)
 * passes its own function to retrier.
 */
failure_kind classify_failure(std::exception_ptr e) noexcept;

/// The message of @p e (what() of a std::exception, "unknown exception" otherwise).
std::string describe_failure(std::exception_ptr e);

/**
 * Runs an attempt again and again, with backoff between failures, until it succeeds or
 * fails permanently.
 *
 * Everything runs on the executor; the attempt itself is synchronous (it may block, e.g. a
 * libpqxx connect). Every transient failure is logged as a warning with the delay.
 * Not thread-safe: use it from the executor's thread.
 */
class retrier {
public:
    using classify_fn = std::function<failure_kind(std::exception_ptr)>;
    /// Called with the outcome: nullptr after success, the exception after a permanent
    /// failure, a boost::system::system_error(operation_aborted) after cancel().
    using done_fn = std::function<void(std::exception_ptr)>;

    /**
     * @param what     names the attempt in log lines ("connect", "LISTEN")
     * @param classify decides what is retried (default classify_failure)
     * @param random   random source of the backoff (tests inject one)
     */
    retrier(boost::asio::any_io_executor ex, backoff_options options, log_context log,
            std::string what, classify_fn classify = {}, backoff::random_source random = {});
    /// Cancels a run in progress (its done callback is not called any more).
    ~retrier();
    retrier(const retrier&) = delete;
    retrier& operator=(const retrier&) = delete;

    /**
     * Starts: the first attempt runs soon (posted, never inside this call).
     * A run already in progress is cancelled first (its done callback gets
     * operation_aborted). The backoff is reset after a success.
     */
    void async_run(std::function<void()> attempt, done_fn done);
    /// Stops waiting; done gets operation_aborted (posted).
    void cancel();
    /// Whether a run is in progress.
    bool running() const noexcept;
    /// Called after each transient failure with the error and the delay before the next
    /// attempt (for metrics).
    void on_retry(std::function<void(std::exception_ptr, duration)> fn);
    /// The backoff policy (failures() counts the failures of the current run).
    const backoff& policy() const noexcept;

private:
    struct state;
    std::shared_ptr<state> state_;
};

}  // namespace pgqpp::runtime
