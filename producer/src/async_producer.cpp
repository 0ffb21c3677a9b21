// The async producer's engine: a bounded FIFO of requests, worker threads with one
// connection each, group commit, and the in-doubt resolution that keeps "exactly once".
//
// A request's life:  submit() -> waiting_ -> a worker's group -> one transaction
//   -> committed: handler(ok, ev_id)
//   -> certainly not committed (connection lost before COMMIT, serialization failure,
//      txid_status 'aborted'): the same group runs again, until the request's deadline
//   -> COMMIT in doubt: resolve() after reconnecting; undecidable -> commit_outcome_unknown
//   -> a server error: the whole group for queue-wide errors, else the group is split in
//      halves until the failing request is alone.
#include "pgqpp/async_producer.hpp"

#include "insert_impl.hpp"
#include "pgqpp/quote.hpp"
#include "pgqpp/validate.hpp"
#include "sql.hpp"

#include <pqxx/pqxx>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

namespace pgqpp {

namespace {

using clock = std::chrono::steady_clock;

struct request {
    std::string queue;
    event ev;
    std::size_t bytes = 0;
    clock::time_point deadline;
    std::unique_ptr<async_producer::completion> done;
};

using group_t = std::vector<request>;

std::shared_ptr<spdlog::logger> library_logger() {
    if (auto named = spdlog::get("pgqpp")) return named;
    return spdlog::default_logger();
}

/// Routes the server's notices on our connections to the log instead of stderr.
class notice_logger final : public pqxx::errorhandler {
public:
    notice_logger(pqxx::connection_base& conn, std::shared_ptr<spdlog::logger> log)
        : pqxx::errorhandler{conn}, log_{std::move(log)} {}
    bool operator()(const char msg[]) noexcept override {
        try {
            log_->debug("async_producer: server notice: {}", primary_message(msg));
        } catch (...) {
        }
        return false;
    }

private:
    std::shared_ptr<spdlog::logger> log_;
};

/// Errors that concern the queue (or the database), not one request: every request of the
/// group would fail the same way, so splitting the group cannot help.
bool is_queue_wide(errc code) {
    switch (code) {
    case errc::no_such_queue:
    case errc::insert_disallowed:
    case errc::permission_denied:
    case errc::pgq_not_installed:
    case errc::feature_not_available:
        return true;
    default:
        return false;
    }
}

std::string describe(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& x) {
        return x.what();
    } catch (...) {
        return "unknown exception";
    }
}

/// pgqpp::commit_in_doubt, or libpqxx's own in_doubt_error (the test hook throws that).
bool is_in_doubt(const std::exception& e) {
    return dynamic_cast<const commit_in_doubt*>(&e) != nullptr ||
           dynamic_cast<const pqxx::in_doubt_error*>(&e) != nullptr;
}

std::string ids_literal(const std::vector<std::int64_t>& ids) {
    std::string out = "{";
    for (std::size_t i = 0; i < ids.size(); ++i) {
        if (i != 0) out += ',';
        out += std::to_string(ids[i]);
    }
    out += '}';
    return out;
}

}  // namespace

class async_producer::impl {
public:
    impl(connection_config database, async_producer_options options)
        : db_{std::move(database)}, opt_{std::move(options)}, log_{library_logger()} {
        if (opt_.connections == 0) throw invalid_argument{"async_producer: connections must be >= 1"};
        if (opt_.max_pending == 0) throw invalid_argument{"async_producer: max_pending must be >= 1"};
        if (opt_.max_group_events == 0)
            throw invalid_argument{"async_producer: max_group_events must be >= 1"};
        if (opt_.request_timeout.count() <= 0)
            throw invalid_argument{"async_producer: request_timeout must be positive"};
        if (opt_.reconnect_min_delay.count() <= 0 ||
            opt_.reconnect_max_delay < opt_.reconnect_min_delay)
            throw invalid_argument{"async_producer: bad reconnect delays"};
        db_ = db_.with_default("application_name", opt_.application_name)
                  .with_default("connect_timeout", "10");
        for (std::size_t i = 0; i < opt_.connections; ++i)
            threads_.emplace_back([this, i] { worker{*this, i}.run(); });
    }

    ~impl() { stop(true); }

    void submit(std::string queue, event ev, std::unique_ptr<completion> done) {
        try {
            validate_queue_name(queue);
            // Our connections use client_encoding UTF8, so text must be UTF-8.
            validate_event(ev, opt_.limits, true);
        } catch (const error& e) {
            log_->debug("async_producer: rejected: {}", e.what());
            failed_ += 1;
            done->complete(e.error_code(), 0);
            return;
        }
        request r;
        r.bytes = ev.size_bytes();
        r.queue = std::move(queue);
        r.ev = std::move(ev);
        r.deadline = clock::now() + opt_.request_timeout;
        r.done = std::move(done);
        errc rejected{};
        {
            std::lock_guard<std::mutex> lk{mu_};
            if (stopping_) {
                rejected = errc::shutting_down;
            } else if (pending_ >= opt_.max_pending ||
                       (pending_ > 0 && pending_bytes_ + r.bytes > opt_.max_pending_bytes)) {
                rejected = errc::queue_full;
            } else {
                ++pending_;
                pending_bytes_ += r.bytes;
                waiting_.push_back(std::move(r));
            }
        }
        if (rejected != errc{}) {
            failed_ += 1;
            r.done->complete(make_error_code(rejected), 0);  // outside the lock: may run inline
            return;
        }
        accepted_ += 1;
        cv_.notify_one();
    }

    void stop(bool drain) {
        std::lock_guard<std::mutex> stop_lock{stop_mu_};
        std::deque<request> dropped;
        {
            std::lock_guard<std::mutex> lk{mu_};
            stopping_ = true;
            if (!drain) {
                drain_ = false;
                dropped.swap(waiting_);
            }
        }
        cv_.notify_all();
        complete_all(dropped, make_error_code(errc::shutting_down));
        for (auto& t : threads_) {
            if (t.joinable()) t.join();
        }
        // Requests accepted after the workers decided to exit (cannot happen: stopping_ is set
        // first) or left by a worker that died would be here.
        std::deque<request> rest;
        {
            std::lock_guard<std::mutex> lk{mu_};
            rest.swap(waiting_);
        }
        complete_all(rest, make_error_code(errc::shutting_down));
    }

    async_producer_stats stats() const {
        async_producer_stats s;
        s.accepted = accepted_;
        s.committed = committed_;
        s.failed = failed_;
        s.transactions = transactions_;
        s.retries = retries_;
        s.reconnects = reconnects_;
        s.in_doubt = in_doubt_;
        s.in_doubt_unknown = in_doubt_unknown_;
        std::lock_guard<std::mutex> lk{mu_};
        s.pending = pending_;
        return s;
    }

private:
    // ---- the shared queue ---------------------------------------------------------------

    /// Completes accepted requests; they stop counting as pending.
    template <class Container>
    void complete_all(Container& requests, boost::system::error_code ec,
                      const std::vector<std::int64_t>* ids = nullptr) {
        if (requests.empty()) return;
        std::size_t bytes = 0;
        for (const auto& r : requests) bytes += r.bytes;
        // Not pending any more before the handlers can run: a handler may submit again.
        {
            std::lock_guard<std::mutex> lk{mu_};
            pending_ -= requests.size();
            pending_bytes_ -= bytes;
        }
        (ec ? failed_ : committed_) += requests.size();
        std::size_t i = 0;
        for (auto& r : requests) {
            r.done->complete(ec, ids ? (*ids)[i] : 0);
            ++i;
        }
        requests.clear();
    }

    /// Moves the waiting requests whose deadline passed into @p expired (call with mu_ held).
    void take_expired_locked(clock::time_point now, std::deque<request>& expired) {
        // All requests have the same timeout and are appended in order: the front is oldest.
        while (!waiting_.empty() && waiting_.front().deadline <= now) {
            expired.push_back(std::move(waiting_.front()));
            waiting_.pop_front();
        }
    }

    /// Fails the waiting requests whose deadline passed.
    void expire_waiting() {
        std::deque<request> expired;
        {
            std::lock_guard<std::mutex> lk{mu_};
            take_expired_locked(clock::now(), expired);
        }
        if (!expired.empty()) {
            log_->warn("async_producer: {} requests timed out waiting for the database",
                       expired.size());
            complete_all(expired, make_error_code(errc::database_unavailable));
        }
    }

    /// Blocks until there is work; fills @p group with requests for one queue (the oldest
    /// request's), up to the group limits. False when stopping and nothing is left.
    bool take_group(group_t& group) {
        std::deque<request> expired;
        std::unique_lock<std::mutex> lk{mu_};
        for (;;) {
            take_expired_locked(clock::now(), expired);
            if (!expired.empty()) {
                lk.unlock();
                complete_all(expired, make_error_code(errc::database_unavailable));
                lk.lock();
                continue;
            }
            if (!waiting_.empty()) break;
            if (stopping_) return false;
            cv_.wait(lk);
        }
        const std::string queue = waiting_.front().queue;
        std::size_t bytes = 0;
        auto fits = [&](const request& r) {
            return group.size() < opt_.max_group_events &&
                   (group.empty() || bytes + r.bytes <= opt_.max_group_bytes);
        };
        // Fast path: the oldest requests are usually all for the same queue.
        while (!waiting_.empty() && waiting_.front().queue == queue && fits(waiting_.front())) {
            bytes += waiting_.front().bytes;
            group.push_back(std::move(waiting_.front()));
            waiting_.pop_front();
        }
        if (!waiting_.empty() && group.size() < opt_.max_group_events &&
            bytes < opt_.max_group_bytes) {
            // Requests for other queues in between: take the rest of ours, keep the order.
            std::deque<request> rest;
            for (auto& r : waiting_) {
                if (r.queue == queue && fits(r)) {
                    bytes += r.bytes;
                    group.push_back(std::move(r));
                } else {
                    rest.push_back(std::move(r));
                }
            }
            waiting_.swap(rest);
        }
        return true;
    }

    bool abandoning() {
        std::lock_guard<std::mutex> lk{mu_};
        return stopping_ && !drain_;
    }

    /// Sleeps until @p until, or until stop(drain = false).
    void sleep_until(clock::time_point until) {
        std::unique_lock<std::mutex> lk{mu_};
        cv_.wait_until(lk, until, [&] { return stopping_ && !drain_; });
    }

    // ---- a worker: one thread, one connection --------------------------------------------

    class worker {
    public:
        worker(impl& owner, std::size_t index) : o_{owner}, index_{index} {}

        void run() {
            for (;;) {
                group_t group;
                if (!o_.take_group(group)) break;
                try {
                    process(group);
                } catch (const std::exception& e) {
                    // Not expected (e.g. out of memory). The requests left in the group
                    // were not committed (every commit completes its group first).
                    o_.log_->error("async_producer[{}]: internal error: {}", index_, e.what());
                    o_.complete_all(group, make_error_code(errc::server_error));
                }
            }
            disconnect();
        }

    private:
        enum class fate { committed, aborted, unknown };

        struct attempt {
            enum { committed, retry, in_doubt, failed } kind = failed;
            std::exception_ptr error;  // for retry/failed
            std::int64_t txid = 0;
            std::vector<std::int64_t> ids;
        };

        // -- connection --

        void disconnect() {
            notices_.reset();
            conn_.reset();
        }

        /// Connects if needed, retrying with backoff until @p deadline. While waiting, the
        /// shared queue's expired requests are failed, and @p on_wait is called (the caller
        /// expires its own group's). False if the deadline passed (or @p give_up() said so).
        template <class OnWait>
        bool connect_until(clock::time_point deadline, OnWait&& on_wait) {
            auto delay = o_.opt_.reconnect_min_delay;
            while (!conn_) {
                try {
                    auto conn = o_.db_.connect();
                    conn->set_client_encoding("UTF8");
                    notices_ = std::make_unique<notice_logger>(*conn, o_.log_);
                    conn_ = std::move(conn);
                    backend_pid_ = conn_->backendpid();
                    if (connected_once_) {
                        o_.reconnects_ += 1;
                        o_.log_->info("async_producer[{}]: reconnected to {}", index_,
                                      o_.db_.describe());
                    }
                    connected_once_ = true;
                    return true;
                } catch (const std::exception& e) {
                    disconnect();
                    o_.log_->warn("async_producer[{}]: cannot connect to {}: {} (retry in {} ms)",
                                  index_, o_.db_.describe(), primary_message(e.what()),
                                  delay.count());
                }
                const auto now = clock::now();
                if (now >= deadline) return false;
                o_.sleep_until(std::min(deadline, now + delay));
                delay = std::min(delay * 2, o_.opt_.reconnect_max_delay);
                o_.expire_waiting();
                if (!on_wait()) return false;
            }
            return true;
        }

        // -- one group --

        static clock::time_point earliest_deadline(const group_t& g) {
            auto d = clock::time_point::max();
            for (const auto& r : g) d = std::min(d, r.deadline);
            return d;
        }

        static clock::time_point latest_deadline(const group_t& g) {
            auto d = clock::time_point::min();
            for (const auto& r : g) d = std::max(d, r.deadline);
            return d;
        }

        /// Fails the requests of @p g whose deadline passed: they never committed.
        void expire(group_t& g) {
            const auto now = clock::now();
            if (std::none_of(g.begin(), g.end(), [&](const request& r) { return r.deadline <= now; }))
                return;
            group_t expired;
            group_t rest;
            for (auto& r : g) (r.deadline <= now ? expired : rest).push_back(std::move(r));
            o_.log_->warn("async_producer[{}]: {} requests timed out (database unavailable)",
                          index_, expired.size());
            o_.complete_all(expired, make_error_code(errc::database_unavailable));
            g.swap(rest);
        }

        /// Runs @p group to completion: every request in it is completed (and removed) by
        /// the time this returns normally. If it throws, the requests left in @p group are
        /// not committed.
        void process(group_t& group) {
            while (!group.empty()) {
                expire(group);
                if (group.empty()) return;
                if (o_.abandoning()) {
                    o_.complete_all(group, make_error_code(errc::shutting_down));
                    return;
                }
                const bool up = connect_until(earliest_deadline(group), [&] {
                    expire(group);
                    return !group.empty() && !o_.abandoning();
                });
                if (!up) continue;  // the loop expires, abandons or retries

                attempt a = run_transaction(group);
                switch (a.kind) {
                case attempt::committed:
                    o_.transactions_ += 1;
                    o_.complete_all(group, {}, &a.ids);
                    return;
                case attempt::retry:
                    o_.retries_ += 1;
                    continue;
                case attempt::in_doubt:
                    disconnect();  // a connection that failed during COMMIT is not reused
                    switch (resolve(group, a.txid, a.ids)) {
                    case fate::committed:
                        o_.transactions_ += 1;
                        o_.complete_all(group, {}, &a.ids);
                        return;
                    case fate::aborted:
                        o_.retries_ += 1;
                        continue;
                    case fate::unknown:
                        o_.in_doubt_unknown_ += 1;
                        o_.complete_all(group, make_error_code(errc::commit_outcome_unknown));
                        return;
                    }
                    return;
                case attempt::failed:
                    fail(group, a.error);
                    return;
                }
            }
        }

        /// A server error that is not about connectivity: the whole group for queue-wide
        /// errors, else split it so that the requests that can commit do.
        void fail(group_t& group, const std::exception_ptr& e) {
            const errc code = code_of(e);
            if (group.size() > 1 && !is_queue_wide(code)) {
                const auto half = static_cast<std::ptrdiff_t>(group.size() / 2);
                group_t second{std::make_move_iterator(group.begin() + half),
                               std::make_move_iterator(group.end())};
                group.erase(group.begin() + half, group.end());
                try {
                    process(group);
                    process(second);
                } catch (...) {
                    // Whatever is left of either half is not committed: hand it back.
                    std::move(second.begin(), second.end(), std::back_inserter(group));
                    throw;
                }
                return;
            }
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& x) {
                o_.log_->warn("async_producer[{}]: {} requests for queue '{}' failed: {}", index_,
                              group.size(), group.front().queue, x.what());
            }
            o_.complete_all(group, make_error_code(code));
        }

        attempt run_transaction(const group_t& group) {
            attempt a;
            detail::rows_result rows;
            try {
                pqxx::work tx{*conn_};
                rows = detail::insert_rows_with_ids(
                    tx, group.front().queue, group.size(),
                    [&group](std::size_t i) -> const event& { return group[i].ev; });
                if (o_.opt_.test_hook) o_.opt_.test_hook("before_commit", backend_pid_);
                try {
                    // pgqpp::commit, not tx.commit(): libpqxx 6.4 reports some connections
                    // lost during COMMIT as ordinary errors.
                    commit(tx);
                    if (o_.opt_.test_hook) o_.opt_.test_hook("after_commit", backend_pid_);
                } catch (const std::exception& e) {
                    if (!is_in_doubt(e)) throw;
                    o_.in_doubt_ += 1;
                    o_.log_->warn(
                        "async_producer[{}]: COMMIT of txid {} ({} events for '{}') in doubt: {}; "
                        "resolving",
                        index_, rows.txid, group.size(), group.front().queue, e.what());
                    a.kind = attempt::in_doubt;
                    a.txid = rows.txid;
                    a.ids = std::move(rows.ids);
                    return a;
                }
                a.kind = attempt::committed;
                a.ids = std::move(rows.ids);
                return a;
            } catch (...) {
                a.error = translate(std::current_exception(), "async_producer");
                const errc code = code_of(a.error);
                if (code == errc::connection_lost || !conn_ || !conn_->is_open()) {
                    // Nothing was committed: COMMIT was never sent (or failed with an error).
                    o_.log_->warn("async_producer[{}]: connection lost ({}); {} requests will "
                                  "be retried",
                                  index_, describe(a.error), group.size());
                    disconnect();
                    a.kind = attempt::retry;
                } else if (code == errc::transaction_rollback) {
                    a.kind = attempt::retry;
                } else {
                    a.kind = attempt::failed;
                }
                return a;
            }
        }

        /// After a COMMIT in doubt: did transaction @p txid commit?
        fate resolve(group_t& group, std::int64_t txid, const std::vector<std::int64_t>& ids) {
            // The requests share this fate, so they wait for the last one's deadline.
            const auto deadline = latest_deadline(group);
            const std::string& queue = group.front().queue;
            for (;;) {
                if (!connect_until(deadline, [&] { return !o_.abandoning(); })) {
                    o_.log_->error(
                        "async_producer[{}]: outcome of txid {} unknown (database unreachable "
                        "until the request timeout); {} events for '{}' may or may not exist",
                        index_, txid, ids.size(), queue);
                    return fate::unknown;
                }
                try {
                    switch (check(txid, queue, ids)) {
                    case verdict::committed:
                        o_.log_->warn("async_producer[{}]: txid {} committed", index_, txid);
                        return fate::committed;
                    case verdict::aborted:
                        o_.log_->warn("async_producer[{}]: txid {} did not commit; retrying",
                                      index_, txid);
                        return fate::aborted;
                    case verdict::contradictory:
                        return fate::unknown;
                    case verdict::in_progress:
                        break;
                    }
                } catch (const std::exception& e) {
                    if (code_of(std::current_exception()) != errc::connection_lost) {
                        o_.log_->error("async_producer[{}]: cannot resolve txid {}: {}", index_,
                                       txid, e.what());
                        return fate::unknown;
                    }
                    disconnect();
                }
                // Still in progress (the old backend is finishing), or the connection broke
                // again: look again shortly (unless stop(false) said not to wait).
                if (clock::now() >= deadline || o_.abandoning()) return fate::unknown;
                o_.sleep_until(std::min(deadline, clock::now() + std::chrono::milliseconds{50}));
            }
        }

        enum class verdict { committed, aborted, in_progress, contradictory };

        /// One look at txid_status() and, if this role may read them, at the events.
        verdict check(std::int64_t txid, const std::string& queue,
                      const std::vector<std::int64_t>& ids) {
            pqxx::nontransaction n{*conn_};
            std::optional<std::string> status;
            try {
                const auto r = n.exec_params(sql::txid_status.text, txid);
                if (!r[0][0].is_null()) status = r[0][0].as<std::string>();
            } catch (const pqxx::sql_error& e) {
                // After a crash, an xid whose WAL never reached the disk is "in the future"
                // of the recovered server: it certainly did not commit.
                if (e.sqlstate() == "22023" &&
                    std::string_view{e.what()}.find("in the future") != std::string_view::npos) {
                    status = "future";
                } else {
                    throw;
                }
            }
            if (status && *status == "in progress") return verdict::in_progress;
            // The events themselves are the best evidence: after a crash that lost an xid,
            // the xid may be given to another transaction; xid and event ids together not.
            std::optional<std::int64_t> found;
            const auto t = n.exec_params(sql::event_table.text, queue);
            if (!t.empty() && t[0][1].as<bool>()) {
                const std::string table = quote_qualified_name(*conn_, t[0][0].as<std::string>());
                found = n.exec_params("select count(*) from " + table +
                                          " where ev_txid = $1 and ev_id = any($2::bigint[])",
                                      txid, ids_literal(ids))[0][0]
                            .as<std::int64_t>();
            }
            const auto n_ids = static_cast<std::int64_t>(ids.size());
            const bool says_committed = status && *status == "committed";
            const bool says_aborted = status && (*status == "aborted" || *status == "future");
            if (found) {
                if (*found == n_ids && says_committed) return verdict::committed;
                if (*found == 0 && says_aborted) return verdict::aborted;
            } else {
                if (says_committed) return verdict::committed;
                if (says_aborted) return verdict::aborted;
            }
            o_.log_->error("async_producer[{}]: txid {}: status {} but {} of {} events found; "
                           "outcome unknown",
                           index_, txid, status.value_or("NULL"),
                           found ? std::to_string(*found) : std::string{"(not readable)"}, n_ids);
            return verdict::contradictory;
        }

        impl& o_;
        std::size_t index_;
        std::unique_ptr<pqxx::connection> conn_;
        std::unique_ptr<notice_logger> notices_;  // destroyed before conn_ (disconnect())
        int backend_pid_ = 0;
        bool connected_once_ = false;
    };

    connection_config db_;
    async_producer_options opt_;
    std::shared_ptr<spdlog::logger> log_;

    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::deque<request> waiting_;   // accepted, not taken by a worker; FIFO
    std::size_t pending_ = 0;       // accepted, not completed (waiting_ + in workers)
    std::size_t pending_bytes_ = 0;
    bool stopping_ = false;
    bool drain_ = true;

    std::mutex stop_mu_;
    std::vector<std::thread> threads_;

    std::atomic<std::uint64_t> accepted_{0}, committed_{0}, failed_{0}, transactions_{0},
        retries_{0}, reconnects_{0}, in_doubt_{0}, in_doubt_unknown_{0};
};

async_producer::async_producer(boost::asio::io_context& io, connection_config database,
                               async_producer_options options)
    : executor_{io.get_executor()},
      impl_{std::make_unique<impl>(std::move(database), std::move(options))} {}

async_producer::~async_producer() { impl_->stop(true); }

void async_producer::submit(std::string queue, event ev, std::unique_ptr<completion> done) {
    impl_->submit(std::move(queue), std::move(ev), std::move(done));
}

void async_producer::stop(bool drain) { impl_->stop(drain); }

async_producer_stats async_producer::stats() const { return impl_->stats(); }

}  // namespace pgqpp
