/// @file refresh_state.hpp
/// The refresher's memory, a table in the queue's database: per view, whether it is dirty
/// (since when, and a generation counter bumped by every batch that marks it) and when it
/// was last refreshed. Marks are written in the batch's own transaction, so they commit
/// with pgq.finish_batch or not at all: a crash can never finish a batch and lose the
/// refresh it asked for. A mark is cleared only after the refresh committed, and only if no
/// batch marked the view again meanwhile (same generation).
#pragma once

#include "view_map.hpp"

#include <pqxx/connection_base>
#include <pqxx/transaction_base>

#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace matview_refresh {

/// A dirty view as the refresher sees it.
struct dirty_view {
    view_ref ref;
    std::int64_t generation = 0;  ///< the mark this refresh covers
    double wait_seconds = 0;      ///< until the interval allows a refresh (0: now)
    double dirty_seconds = 0;     ///< how long it has been dirty
};

class refresh_state {
public:
    /// @param table the state table (may be schema-qualified); @p consumer keys its rows
    refresh_state(std::string table, std::string consumer);

    /// Creates the table unless it exists (in a transaction of its own).
    void create(pqxx::connection_base& conn) const;
    /// The same inside @p tx.
    void ensure(pqxx::transaction_base& tx) const;
    /// Marks @p views dirty in @p tx (the batch's transaction; creates the table if needed).
    void mark(pqxx::transaction_base& tx, const std::set<view_ref>& views) const;
    /// The dirty views, with how long each must still wait for @p interval to have passed
    /// since its last refresh ended.
    std::vector<dirty_view> dirty(pqxx::connection_base& conn,
                                  std::chrono::microseconds interval) const;
    /// After a committed refresh: remembers its end (now()) and clears the mark unless a
    /// batch marked the view again since @p v was read.
    void refreshed(pqxx::connection_base& conn, const dirty_view& v) const;

private:
    std::string table_;  ///< quoted
    std::string consumer_;
};

}  // namespace matview_refresh
