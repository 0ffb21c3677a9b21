/// @file pg_test_env.hpp
/// Where the test cluster of this ctest run is, and libpq connection strings for it.
#pragma once

#include <pgqpp/connection_config.hpp>  // quote_conninfo_value, used with these settings

#include <string>
#include <string_view>

namespace pgqpp::test {

/// Connection settings of the throwaway cluster started by tests/harness/pg_cluster.sh.
struct pg_test_env {
    std::string host;  ///< unix socket directory
    std::string port;
    std::string user;

    /// The cluster named by $PGQPP_TEST_CLUSTER (read once, on first use).
    /// @throws std::runtime_error if the variable is unset or DIR/env is missing or incomplete.
    static const pg_test_env& get();

    /// Reads `<cluster_dir>/env` (lines `KEY='value'`, as written by pg_cluster.sh).
    static pg_test_env load(const std::string& cluster_dir);

    /// A libpq connection string for database @p dbname on this cluster.
    std::string conninfo(std::string_view dbname) const;

    /// Connection string for the maintenance database, for CREATE/DROP DATABASE.
    std::string admin_conninfo() const { return conninfo("postgres"); }
};

}  // namespace pgqpp::test
