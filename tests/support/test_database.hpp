/// @file test_database.hpp
/// A fresh database per test, copied from one of the cluster's templates.
#pragma once

#include <string>
#include <string_view>

namespace pgqpp::test {

/// Which pgq a test database starts with (see tests/harness/make_templates.sh).
enum class template_kind {
    ours,  ///< tmpl_ours: our pure PL/pgSQL pgq (build/pgq_sql/pgq_install.sql), or the
           ///< template named by $PGQPP_TEST_TEMPLATE_OURS (tmpl_ours_light: light batches)
    pgq,   ///< tmpl_pgq: the real PgQ 3.5 C extension from Debian
};

/// "ours" or "pgq" (handy as a test parameter name).
std::string_view to_string(template_kind kind);

/// The template database's name: "tmpl_ours" (or $PGQPP_TEST_TEMPLATE_OURS if set, e.g.
/// "tmpl_ours_light" for the .light runs of a test) or "tmpl_pgq".
std::string_view template_name(template_kind kind);

/// A database name made from @p hint: lowercase [a-z0-9_], a unique suffix (pid, counter,
/// random), at most 63 bytes (PostgreSQL's limit).
std::string make_database_name(std::string_view hint);

/// The current GoogleTest test as "Suite_Test" (or "no_test" outside of a test).
std::string current_test_name();

/**
 * RAII database for one test: created from a template in the constructor, dropped (with
 * FORCE, so leftover connections do not block it) in the destructor.
 *
 * @code
 * pgqpp::test::test_database db{pgqpp::test::template_kind::pgq};
 * pqxx::connection conn{db.conninfo()};
 * @endcode
 */
class test_database {
public:
    /// Name derived from the current GoogleTest test.
    explicit test_database(template_kind kind);
    /// Name derived from @p name_hint instead.
    test_database(template_kind kind, std::string_view name_hint);
    ~test_database();

    test_database(const test_database&) = delete;
    test_database& operator=(const test_database&) = delete;

    const std::string& name() const { return name_; }
    template_kind kind() const { return kind_; }
    /// libpq connection string for this database.
    std::string conninfo() const;

private:
    template_kind kind_;
    std::string name_;
};

}  // namespace pgqpp::test
