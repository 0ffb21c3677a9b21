/// @file async_producer.hpp
/// Enqueue from Boost.Asio programs without blocking the event loop: requests are grouped
/// into shared transactions (group commit) on background connections, and each completion
/// handler runs once its event is committed, or with a clear error.
#pragma once

#include "pgqpp/connection_config.hpp"
#include "pgqpp/error.hpp"
#include "pgqpp/producer.hpp"

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>

namespace pgqpp {

/// Settings of an async_producer. The defaults suit a service with many small events.
struct async_producer_options {
    /// Requests accepted and not yet completed. Beyond this async_insert() completes at once
    /// with errc::queue_full: memory stays bounded when the database is slow or gone.
    std::size_t max_pending = 100000;
    /// The same bound in bytes of event text.
    std::size_t max_pending_bytes = std::size_t{256} << 20;
    /// Most events in one transaction (group commit). Bigger groups amortise the commit
    /// better; smaller ones complete sooner.
    std::size_t max_group_events = 5000;
    /// Most bytes of event text in one transaction.
    std::size_t max_group_bytes = std::size_t{16} << 20;
    /**
     * A request fails with errc::database_unavailable when it could not be committed within
     * this time from async_insert() (database down, reconnecting). A request whose COMMIT was
     * in doubt and could not be resolved by then fails with errc::commit_outcome_unknown.
     */
    std::chrono::milliseconds request_timeout{30000};
    /// First delay before reconnecting; doubled after each failure, up to reconnect_max_delay.
    std::chrono::milliseconds reconnect_min_delay{50};
    /// Longest delay between connection attempts.
    std::chrono::milliseconds reconnect_max_delay{2000};
    /// Database connections (each with its own thread). With 1, requests commit in the order
    /// they were made; with more, requests on different connections may commit in any order.
    std::size_t connections = 1;
    /// Event limits (max_event_bytes); async_insert() validates like insert_event().
    producer_options limits{};
    /// Sets application_name unless the connection string does.
    std::string application_name = "pgqpp_async_producer";
    /**
     * For tests only: called on the worker thread at "before_commit" and "after_commit" with
     * the backend pid. It may terminate that backend, or throw pqxx::in_doubt_error at
     * "after_commit" to simulate a connection lost during COMMIT.
     */
    std::function<void(const char* point, int backend_pid)> test_hook;
};

/// Counters of an async_producer (a consistent snapshot of each, not of all together).
struct async_producer_stats {
    std::uint64_t accepted = 0;       ///< requests taken into the pending queue
    std::uint64_t committed = 0;      ///< completed with success
    std::uint64_t failed = 0;         ///< completed with an error (rejections included)
    std::uint64_t transactions = 0;   ///< committed transactions (groups)
    std::uint64_t retries = 0;        ///< groups run again after a failure that did not commit
    std::uint64_t reconnects = 0;     ///< successful connections after the first
    std::uint64_t in_doubt = 0;       ///< COMMITs whose outcome had to be resolved
    std::uint64_t in_doubt_unknown = 0;  ///< ...and could not be: errc::commit_outcome_unknown
    std::size_t pending = 0;          ///< accepted, not yet completed
};

/**
 * A producer for Boost.Asio programs.
 *
 * @code
 * boost::asio::io_context io;
 * pgqpp::async_producer producer{io, pgqpp::connection_config{"dbname=mail"}};
 * producer.async_insert("mail", pgqpp::event{"letter.stored", payload},
 *     [](boost::system::error_code ec, std::int64_t ev_id) {
 *         if (ec) log("not enqueued: {}", ec.message());   // e.g. pgqpp::errc::queue_full
 *         else    log("committed as event {}", ev_id);
 *     });
 * io.run();
 * @endcode
 *
 * How it works: async_insert() validates the event and appends it to a bounded queue of
 * pending requests, which never blocks. Background threads (one per connection) take
 * all pending requests of one queue, up to max_group_events, insert them with one statement
 * in one transaction and COMMIT once; then each request's handler is posted to its
 * associated executor (by default the io_context's) with `(error_code{}, ev_id)`.
 *
 * Guarantees:
 * - a handler runs exactly once; with success only after its event was committed;
 * - no event is committed twice: a group is run again only when its transaction certainly
 *   did not commit (the connection broke before COMMIT, or the server says it aborted);
 * - if the connection breaks during COMMIT, the outcome is resolved after reconnecting with
 *   txid_status() (and, when this role may read the event table, by finding the events):
 *   committed → success; aborted → run again; undecidable → errc::commit_outcome_unknown.
 *   Such a handler must not blindly enqueue again: the event may exist;
 * - while the database is unreachable, requests wait (reconnecting with backoff) up to
 *   request_timeout, then fail with errc::database_unavailable;
 * - errors of the queue (errc::no_such_queue, errc::insert_disallowed, ...) fail the
 *   requests for that queue only; a request that fails on its own is isolated by
 *   splitting its group, and the others still commit.
 *
 * Thread safety: async_insert() and stats() may be called from any thread. The destructor
 * calls stop(), which blocks: do not destroy the producer on an io_context thread that its
 * own handlers need.
 */
class async_producer {
public:
    /**
     * Starts the background connection threads (they connect lazily, with retries).
     * @param io       default executor for completion handlers without one of their own
     * @param database where to connect
     * @param options  limits and timeouts
     * @throws pgqpp::invalid_argument for inconsistent options (e.g. connections == 0)
     */
    async_producer(boost::asio::io_context& io, connection_config database,
                   async_producer_options options = {});
    ~async_producer();

    async_producer(const async_producer&) = delete;
    async_producer& operator=(const async_producer&) = delete;

    /**
     * Enqueues @p ev into @p queue; completes with `(boost::system::error_code, std::int64_t
     * ev_id)` once the event is committed (ev_id 0 on error).
     *
     * @param token a completion handler, boost::asio::use_future (the future then throws
     *              boost::system::system_error on failure), or any other Asio completion token
     *
     * Errors (pgqpp::errc, in pgqpp::error_category()): invalid_argument (validation),
     * queue_full, shutting_down, database_unavailable, commit_outcome_unknown, and the
     * server's (no_such_queue, insert_disallowed, permission_denied, per_tx_limit_exceeded,
     * server_error, ...).
     */
    template <class CompletionToken>
    auto async_insert(std::string queue, event ev, CompletionToken&& token) {
        return boost::asio::async_initiate<CompletionToken,
                                           void(boost::system::error_code, std::int64_t)>(
            initiate_insert{this}, token, std::move(queue), std::move(ev));
    }

    /**
     * Stops accepting requests (later ones complete with errc::shutting_down) and waits for
     * the background threads. With @p drain, requests already accepted are still processed
     * (each until it commits or its request_timeout passes); without, those not yet in a
     * transaction complete with errc::shutting_down at once. Idempotent.
     */
    void stop(bool drain = true);

    /// Counters since construction.
    async_producer_stats stats() const;

    /// Type-erased completion of one request (internal).
    class completion {
    public:
        virtual ~completion() = default;
        /// Posts the handler with the result; called exactly once.
        virtual void complete(boost::system::error_code ec, std::int64_t ev_id) = 0;
    };

private:
    template <class Handler>
    class completion_for final : public completion {
    public:
        using executor_type =
            boost::asio::associated_executor_t<Handler, boost::asio::io_context::executor_type>;

        completion_for(Handler&& h, boost::asio::io_context::executor_type fallback)
            : work_{boost::asio::get_associated_executor(h, fallback)}, handler_{std::move(h)} {}

        void complete(boost::system::error_code ec, std::int64_t ev_id) override {
            auto executor = work_.get_executor();
            boost::asio::post(executor, [handler = std::move(handler_), ec, ev_id]() mutable {
                handler(ec, ev_id);
            });
            work_.reset();
        }

    private:
        // Keeps the handler's executor (e.g. io.run()) from running out of work while the
        // request is pending.
        boost::asio::executor_work_guard<executor_type> work_;
        Handler handler_;
    };

    struct initiate_insert {
        async_producer* self;
        template <class Handler>
        void operator()(Handler&& handler, std::string queue, event ev) const {
            using handler_type = std::decay_t<Handler>;
            self->submit(std::move(queue), std::move(ev),
                         std::make_unique<completion_for<handler_type>>(
                             handler_type(std::forward<Handler>(handler)), self->executor_));
        }
    };

    void submit(std::string queue, event ev, std::unique_ptr<completion> done);

    class impl;
    boost::asio::io_context::executor_type executor_;
    std::unique_ptr<impl> impl_;
};

}  // namespace pgqpp
