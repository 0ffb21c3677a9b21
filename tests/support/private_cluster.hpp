/// @file private_cluster.hpp
/// A PostgreSQL cluster of one's own, for tests that must restart or crash the server (the
/// shared cluster of a ctest run serves other tests at the same time).
#pragma once

#include "test_database.hpp"

#include <string>
#include <string_view>

namespace pgqpp::test {

/**
 * Starts a throwaway cluster with tests/harness/pg_cluster.sh in a new temporary directory
 * and stops it in the destructor. Takes a few seconds: share one per test suite.
 *
 * @code
 * private_cluster cluster;
 * const auto conninfo = cluster.create_database("t1", template_kind::ours);
 * cluster.restart_immediate();   // every connection breaks; crash recovery runs
 * @endcode
 */
class private_cluster {
public:
    private_cluster();
    ~private_cluster();
    private_cluster(const private_cluster&) = delete;
    private_cluster& operator=(const private_cluster&) = delete;

    /// A libpq connection string for @p dbname.
    std::string conninfo(std::string_view dbname) const;

    /**
     * Creates database @p name with pgq installed: ours (psql -f pgq_install.sql from
     * $PGQPP_BUILD_DIR) or the real PgQ (CREATE EXTENSION pgq). Returns its conninfo.
     */
    std::string create_database(const std::string& name, template_kind kind);

    /// `pg_ctl restart -m immediate` (tests/support/pg_restart.sh); returns when the server
    /// accepts connections again.
    void restart_immediate();

    const std::string& dir() const { return dir_; }

private:
    std::string top_;  // mkdtemp directory
    std::string dir_;  // the cluster (top_/pg)
    std::string host_, port_;
};

}  // namespace pgqpp::test
