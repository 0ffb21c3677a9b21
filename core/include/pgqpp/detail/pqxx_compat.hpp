/// @file pqxx_compat.hpp
/// Internal (not API): work-arounds for libpqxx 6.4 that pgqpp's libraries share.
#pragma once

#include "pgqpp/error.hpp"

#include <pqxx/subtransaction>
#include <pqxx/transaction_base>

namespace pgqpp::detail {

/**
 * Makes sure @p tx has started on the server before a parameterized statement runs in it.
 *
 * libpqxx 6.4 issues a pqxx::subtransaction's SAVEPOINT lazily, on its first exec(), but
 * exec_params() and exec_prepared() skip that step: a parameterized statement as the first
 * one in a subtransaction would run *before* the SAVEPOINT, outside the subtransaction, and
 * survive its rollback. Every other transaction type starts in its constructor. So for a
 * subtransaction this runs one cheap exec() (a no-op once the SAVEPOINT exists).
 */
inline void ensure_begun(pqxx::transaction_base& tx) {
    if (dynamic_cast<pqxx::subtransaction*>(&tx) == nullptr) return;
    try {
        tx.exec("select 1");
    } catch (...) {
        rethrow_translated("SAVEPOINT");
    }
}

}  // namespace pgqpp::detail
