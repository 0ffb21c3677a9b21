/// @file sql_helpers.hpp
/// Small conveniences for tests that drive pgq through SQL: one-value queries in their own
/// transaction, roles, and recognising "this statement waited on a lock and timed out".
#pragma once

#include <pqxx/pqxx>

#include <optional>
#include <string>
#include <utility>

namespace pgqpp::test {

/// Runs @p sql with @p args in its own committed transaction; returns the first column of
/// the single row as T (std::optional<U> for a value that may be NULL).
template <class T, class... Args>
T query_value(pqxx::connection& conn, const std::string& sql, Args&&... args) {
    pqxx::work tx{conn};
    auto value = tx.exec_params1(sql, std::forward<Args>(args)...)[0].template as<T>();
    tx.commit();
    return value;
}

/// Runs @p sql in its own committed transaction, ignoring any result.  Without @p args,
/// @p sql may hold several statements separated by semicolons.
template <class... Args>
void execute(pqxx::connection& conn, const std::string& sql, Args&&... args) {
    pqxx::work tx{conn};
    if constexpr (sizeof...(Args) == 0)
        tx.exec(sql);
    else
        tx.exec_params(sql, std::forward<Args>(args)...);
    tx.commit();
}

/// Creates role @p name with @p options (e.g. "login in role pgq_writer") unless it exists.
/// Roles are cluster-wide and tests run in parallel: whoever comes first creates it.
inline void create_role_once(pqxx::connection& conn, const std::string& name,
                             const std::string& options = "") {
    execute(conn, "do $$ begin create role " + conn.quote_name(name) + " " + options +
                      "; exception when duplicate_object or unique_violation then null; end $$");
}

/// True if @p error is PostgreSQL's statement_timeout or lock_timeout cancellation.
inline bool is_timeout(const pqxx::sql_error& error) {
    const std::string state = error.sqlstate();
    return state == "57014" /* query_canceled */ || state == "55P03" /* lock_not_available */;
}

}  // namespace pgqpp::test
