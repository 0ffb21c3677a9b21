/// @file consumer.hpp
/// The batch loop of a PgQ consumer: next_batch_custom, events streamed through a cursor,
/// the user's handler, per-event retries flushed in bulk, finish_batch. One call of
/// consumer::process_one() handles one batch in one transaction on the queue database
/// (docs/consumer.md). consumer_daemon (daemon.hpp) runs it as a Unix daemon.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <pgqpp/consumer/event.hpp>
#include <pgqpp/consumer/event_stream.hpp>

#include <pqxx/connection_base>
#include <pqxx/transaction_base>

namespace pgqpp::consumer {

/// How the handler's effects and finish_batch commit.
enum class delivery {
    /// The handler writes through batch_context::tx(), the batch's transaction on the queue
    /// database: its writes and finish_batch commit together, or not at all.
    local_exactly_once,
    /// The handler's effects are outside any database; the batch is finished after the
    /// handler returned for every event. After a crash the batch is delivered again.
    at_least_once,
    /// The handler writes through batch_context::tx(), a transaction on a target database
    /// with pgq_ext; pgq_ext.set_batch_done commits with those writes, before finish_batch
    /// on the queue database. next_batch commits first, on its own, so that a batch keeps
    /// its id across crashes. A batch that pgq_ext.is_batch_done reports done (the target
    /// committed, then the consumer died before finish_batch) is finished without calling
    /// the handler. Caveat: retries of such a batch are lost (they were in the queue's
    /// transaction that did not commit).
    remote_exactly_once,
};

/// Parses "local" / "at_least_once" / "remote" (throws std::invalid_argument otherwise).
delivery parse_delivery(const std::string& text);

/// The open batch.
struct batch_info {
    std::int64_t batch_id = 0;
    std::int64_t tick_id = 0;
    std::int64_t prev_tick_id = 0;
    double lag_seconds = 0;  ///< now() - the batch's end tick time
    /// The queue's event id sequence at the two ticks: the batch's new events have ids
    /// mostly in between (not those of long transactions, nor retried events).
    std::int64_t prev_event_seq = 0, event_seq = 0;
};

/// Given to handlers.
class batch_context {
public:
    batch_context(const batch_info& info, pqxx::transaction_base* tx) : info_{info}, tx_{tx} {}
    const batch_info& info() const { return info_; }
    /// Where the handler writes: the batch's transaction on the queue database
    /// (local_exactly_once) or the target database's transaction (remote_exactly_once).
    /// Throws std::logic_error in at_least_once, where the handler must not rely on it.
    pqxx::transaction_base& tx() const;

private:
    const batch_info& info_;
    pqxx::transaction_base* tx_;
};

using event_handler = std::function<outcome(const event&, batch_context&)>;
/// Takes a whole non-empty batch as a stream of chunks (event_stream.hpp), e.g. to COPY it
/// into a table; it must read the stream to its end. Write its parameter types out
/// (`event_stream&, batch_context&`): a generic lambda would match both constructors.
using batch_handler = std::function<void(event_stream&, batch_context&)>;
/// Called once per non-empty batch, before the first / after the last event.
using batch_hook = std::function<void(batch_context&)>;

/// Batch selection (PgQ's next_batch_custom) and streaming.
struct batch_options {
    std::optional<std::chrono::seconds> min_lag;       ///< only ticks at least this old
    std::optional<std::int64_t> min_count;             ///< wait until this many events
    std::optional<std::chrono::seconds> min_interval;  ///< or until this much time passed
    std::int64_t fetch_size = 1000;                    ///< events per FETCH from the cursor
    /// A retry of an event already retried this many times (ev_retry) becomes a dead
    /// letter ("too many retries") instead; empty: retry forever, as PgQ.
    std::optional<std::int32_t> max_retries;
};

/**
 * Cooperative consumers (PgQ's pgq_coop): several processes share one consumer's position,
 * each a member ("subconsumer") taking whole batches. A member's subscription is named
 * "<consumer>.<subconsumer>"; pgq_coop must be installed in the queue's database (pgqpp's
 * pgq_sql/pgq_coop, or the pgq_coop extension). Delivery local_exactly_once or
 * at_least_once (remote_exactly_once is refused: pgq_ext tracks a batch per member, and a
 * batch taken over from a dead member would be checked under the wrong name).
 */
struct coop_options {
    std::string subconsumer;  ///< this member's name, unique within the consumer
    /// Take over the open batch of a member that has not been active for this long (its
    /// process died); empty: never. Must exceed the longest batch: a live member's batch
    /// taken over is processed twice, and then only one of the two finishes it (the other
    /// is rolled back with batch_not_found), so exactly-once still holds in local delivery.
    std::optional<std::chrono::seconds> dead_interval;
};

/// What process_one() did.
struct batch_result {
    bool got_batch = false;  ///< false: no batch yet (wait for a tick)
    batch_info info;
    std::int64_t events = 0;
    std::int64_t retried = 0;
    std::int64_t dead = 0;  ///< events sent to the dead letters
    bool skipped = false;  ///< remote: pgq_ext said the batch was applied already
};

/**
 * One consumer of one queue. Not thread-safe; one connection at a time.
 *
 * @code
 * pgqpp::consumer::consumer c{"letters", "mirror", delivery::local_exactly_once,
 *     [](const event& ev, batch_context& b) {
 *         b.tx().exec_params("insert into mirror values ($1)", ev.data);
 *         return outcome::done();
 *     }};
 * c.register_consumer(conn);
 * while (c.process_one(conn).got_batch) {}
 * @endcode
 */
class consumer {
public:
    /// The handler is called once per event.
    consumer(std::string queue, std::string name, delivery mode, event_handler handler,
             batch_options options = {});
    /// The handler is called once per non-empty batch with its events as an event_stream.
    consumer(std::string queue, std::string name, delivery mode, batch_handler handler,
             batch_options options = {});

    void on_batch_start(batch_hook h) { on_start_ = std::move(h); }
    void on_batch_end(batch_hook h) { on_end_ = std::move(h); }
    void set_options(const batch_options& o) { options_ = o; }
    /// Makes this consumer one member of a cooperative consumer (coop_options), or a plain
    /// consumer again (nullopt). Throws std::invalid_argument for an empty member name or
    /// remote_exactly_once delivery.
    void set_coop(std::optional<coop_options> coop);
    const std::optional<coop_options>& coop() const { return coop_; }

    const std::string& queue() const { return queue_; }
    const std::string& name() const { return name_; }
    delivery mode() const { return mode_; }

    /// pgq.register_consumer (a no-op if already registered). Throws no_such_queue.
    /// Cooperative: pgq_coop.register_subconsumer (registers the consumer too); throws
    /// feature_not_available when the database has no pgq_coop.
    void register_consumer(pqxx::connection_base& conn);

    /**
     * One batch in one transaction: next_batch_custom, then (if there is one) the events
     * through a cursor, FETCH fetch_size at a time, each given to the handler (or the whole
     * stream to the batch_handler); retries
     * flushed (pgq.event_retry_bulk once per distinct delay, or pgq.event_retry per event on
     * the real PgQ); finish_batch; commit (pgqpp::commit). Empty batches are finished too.
     * Any exception (the handler's included) rolls everything back and is rethrown,
     * translated into pgqpp::error where it came from libpqxx: the batch stays open and the
     * next call gets the same batch again.
     *
     * Cooperative (set_coop): pgq_coop.next_batch_custom(queue, consumer, member, min_lag,
     * min_count, min_interval, dead_interval) commits first, in a transaction of its own (the
     * batch belongs to this member from then on, and the other members are not held up by
     * the lock it takes); then the events, handler and retries as above and
     * pgq_coop.finish_batch in the batch's transaction. A finish_batch that finds the batch
     * no longer ours (taken over by another member meanwhile) rolls the batch back and
     * throws batch_not_found.
     */
    batch_result process_one(pqxx::connection_base& conn);

    /// The same with a target database for remote_exactly_once (@p target must have schema
    /// pgq_ext): next_batch on @p conn, committed; then, in a target transaction, an advisory
    /// lock (a previous run's target commit may still be in progress) and
    /// pgq_ext.is_batch_done (done: the retries and dead letters recorded with the batch, if
    /// any, then finish_batch); the handler with batch.tx() on @p target; the retries and
    /// dead letters recorded by pgq_ext.set_batch_outcome; pgq_ext.set_batch_done; commit
    /// @p target; the retries and dead letters, finish_batch; commit @p conn.  A target whose
    /// pgq_ext lacks set_batch_outcome (PgQ's) gets the retries committed on @p conn before
    /// its own commit instead (see docs/consumer.md: a narrow window for a second delivery).
    batch_result process_one(pqxx::connection_base& conn, pqxx::connection_base* target);

    /// The same, reading a big batch (at least 2 x fetch_size new events) in two parts at
    /// once in at_least_once and remote delivery: the events up to the middle of its id range
    /// through the cursor on @p conn, the rest on @p helper (another connection to the
    /// queue's database, read-only) by a second thread into a small buffer (4 chunks), so that
    /// two server processes produce them. The handler still gets every event once, in ev_id
    /// order.
    batch_result process_one(pqxx::connection_base& conn, pqxx::connection_base* target,
                             pqxx::connection_base* helper);

    /// Whether the connection's pgq has pgq.event_retry_bulk (looked up once per connection).
    bool has_bulk_retry(pqxx::connection_base& conn);
    /// Whether it has pgq.dead_letter_add (looked up with has_bulk_retry).
    bool has_dead_letters(pqxx::connection_base& conn);
    /// Whether a remote target's pgq_ext records batch outcomes (pgq_ext.set_batch_outcome,
    /// pgqpp's; looked up once per connection).
    bool has_outcome_store(pqxx::connection_base& target);

private:
    /// next_batch_custom (pgq_coop's for a member) in a committed transaction; 0: no batch.
    std::int64_t open_batch(pqxx::connection_base& conn);
    /// pgq.finish_batch, or pgq_coop.finish_batch checked to be ours.
    void finish_batch(pqxx::transaction_base& tx, std::int64_t batch_id);
    /// The handlers and hooks over the batch's events; returns the retries and dead letters.
    detail::batch_outcomes handle_events(pqxx::transaction_base& tx, batch_context& ctx,
                                         batch_result& result, pqxx::connection_base* helper);
    /// Hands retries and dead letters to the queue (in @p tx, before finish_batch).
    void apply_outcomes(pqxx::transaction_base& tx, std::int64_t batch_id,
                        const detail::batch_outcomes& outcomes);
    /// Records them in the remote target's pgq_ext, with the batch.
    void save_outcomes(pqxx::transaction_base& target_tx, std::int64_t batch_id,
                       const detail::batch_outcomes& outcomes);
    /// The ones recorded with a batch the target has done.
    detail::batch_outcomes load_outcomes(pqxx::transaction_base& target_tx,
                                         std::int64_t batch_id);

    std::string queue_;
    std::string name_;
    delivery mode_;
    event_handler handler_;
    batch_handler batch_handler_;
    batch_options options_;
    std::optional<coop_options> coop_;
    batch_hook on_start_, on_end_;
    const pqxx::connection_base* bulk_checked_for_ = nullptr;
    bool bulk_ = false;
    bool dead_letters_ = false;
    const pqxx::connection_base* store_checked_for_ = nullptr;
    bool outcome_store_ = false;
};

}  // namespace pgqpp::consumer
