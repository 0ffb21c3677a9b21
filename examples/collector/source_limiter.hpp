/// @file source_limiter.hpp
/// At most N fetches from one mail source at a time, across every worker process: a pool of
/// N PostgreSQL session advisory locks per source, pg_advisory_lock(hashtext('collector:' ||
/// source), slot) with slot in [0, N). A worker holds one slot for the duration of a fetch.
///
/// Why advisory locks rather than a semaphore table: a worker that crashes or loses its
/// connection releases its slot at once (the session ends), with no lease to expire and no
/// row to clean up; taking and releasing a slot writes nothing (no WAL, no dead rows); and
/// waiting for a slot is PostgreSQL's lock queue, not polling. The price: the locks live on a
/// connection of their own (not the batch's transaction, which stays open for the whole batch
/// while a slot must be released right after its fetch), and two sources whose names hash
/// alike share one pool (a smaller limit for both, never a larger one).
#pragma once

#include <pgqpp/connection_config.hpp>

#include <pqxx/connection>

#include <memory>
#include <string>

namespace collector {

class source_limiter {
public:
    /// @param db where the locks are taken (any database every worker reaches: the queue's)
    source_limiter(pgqpp::connection_config db, int per_source);

    /// A held slot; released when destroyed.
    class slot {
    public:
        slot(source_limiter& owner, int key, int number) : owner_{&owner}, key_{key}, n_{number} {}
        slot(slot&& o) noexcept : owner_{o.owner_}, key_{o.key_}, n_{o.n_} { o.owner_ = nullptr; }
        slot& operator=(slot&&) = delete;
        ~slot();
        int number() const { return n_; }

    private:
        source_limiter* owner_;
        int key_, n_;
    };

    /// Takes a free slot of @p source, waiting for one if all are taken.
    /// @throws pqxx errors if the lock connection fails (the caller's batch is then retried)
    slot acquire(const std::string& source);

private:
    pqxx::connection& conn();

    pgqpp::connection_config db_;
    int per_source_;
    std::unique_ptr<pqxx::connection> conn_;
    unsigned next_wait_ = 0;
};

}  // namespace collector
