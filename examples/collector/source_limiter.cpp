// source_limiter.hpp: try every slot, then wait in PostgreSQL's lock queue for one.
#include "source_limiter.hpp"

#include <pqxx/pqxx>

#include <spdlog/spdlog.h>

namespace collector {

source_limiter::source_limiter(pgqpp::connection_config db, int per_source)
    : db_{std::move(db)}, per_source_{per_source} {
    if (per_source_ < 1) throw std::invalid_argument{"the per-source limit must be at least 1"};
}

pqxx::connection& source_limiter::conn() {
    if (!conn_ || !conn_->is_open()) conn_ = db_.connect();
    return *conn_;
}

source_limiter::slot source_limiter::acquire(const std::string& source) {
    pqxx::nontransaction tx{conn()};
    const int key = tx.exec_params("select hashtext('collector:' || $1)", source)[0][0].as<int>();
    for (int n = 0; n < per_source_; ++n)
        if (tx.exec_params("select pg_try_advisory_lock($1, $2)", key, n)[0][0].as<bool>())
            return slot{*this, key, n};
    // All taken: queue for one of them (rotating, so that waiters spread over the slots).
    const int n = static_cast<int>(next_wait_++ % static_cast<unsigned>(per_source_));
    tx.exec_params("select pg_advisory_lock($1, $2)", key, n);
    return slot{*this, key, n};
}

source_limiter::slot::~slot() {
    if (!owner_ || !owner_->conn_) return;
    try {
        pqxx::nontransaction tx{*owner_->conn_};
        tx.exec_params("select pg_advisory_unlock($1, $2)", key_, n_);
    } catch (const std::exception& e) {
        // The connection is gone, and the lock with it.
        spdlog::warn("releasing a source slot: {}", e.what());
        owner_->conn_.reset();
    }
}

}  // namespace collector
