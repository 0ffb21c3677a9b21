// Checks the test harness itself: each template gives a fresh database with pgq installed,
// and test_database cleans up after itself.
#include "pg_test_env.hpp"
#include "test_database.hpp"
#include "wait_until.hpp"

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include <chrono>
#include <optional>
#include <string>

namespace {

using pgqpp::test::pg_test_env;
using pgqpp::test::template_kind;
using pgqpp::test::test_database;

bool database_exists(const std::string& name) {
    pqxx::connection conn{pg_test_env::get().admin_conninfo()};
    pqxx::read_transaction tx{conn};
    return tx.exec_params1("select count(*) from pg_database where datname = $1", name)[0]
               .as<int>() == 1;
}

class FreshDatabase : public ::testing::TestWithParam<template_kind> {};

TEST_P(FreshDatabase, HasPgqSchemaAndA3xVersion) {
    test_database db{GetParam()};
    pqxx::connection conn{db.conninfo()};
    pqxx::work tx{conn};

    const auto has_schema =
        tx.exec1("select exists (select 1 from pg_namespace where nspname = 'pgq')")[0].as<bool>();
    ASSERT_TRUE(has_schema) << "no schema pgq in a database made from "
                            << pgqpp::test::template_name(GetParam());

    const auto version = tx.exec1("select pgq.version()")[0].as<std::optional<std::string>>();
    ASSERT_TRUE(version.has_value()) << "pgq.version() returned NULL";
    EXPECT_EQ(version->rfind("3.", 0), 0u) << "pgq.version() = " << *version;
}

INSTANTIATE_TEST_SUITE_P(Templates, FreshDatabase,
                         ::testing::Values(template_kind::ours, template_kind::pgq),
                         [](const auto& param_info) {
                             return std::string{pgqpp::test::to_string(param_info.param)};
                         });

TEST(TestDatabase, IsDroppedByItsDestructorEvenWithOpenConnections) {
    std::string name;
    std::optional<pqxx::connection> left_open;
    {
        test_database db{template_kind::pgq};
        name = db.name();
        EXPECT_TRUE(database_exists(name));
        left_open.emplace(db.conninfo());
    }
    EXPECT_FALSE(database_exists(name));
}

TEST(TestDatabase, NamesAreValidIdentifiersAndUnique) {
    const std::string long_hint(200, 'X');
    const auto a = pgqpp::test::make_database_name(long_hint + "/Param.1");
    const auto b = pgqpp::test::make_database_name(long_hint + "/Param.1");
    EXPECT_LE(a.size(), 63u);
    EXPECT_NE(a, b);
    EXPECT_EQ(a.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_"), std::string::npos) << a;
}

TEST(WaitUntil, ReturnsTrueOnceThePredicateHoldsAndFalseAtTheDeadline) {
    using namespace std::chrono_literals;
    int calls = 0;
    EXPECT_TRUE(pgqpp::test::wait_for(5s, [&] { return ++calls == 3; }, 1ms));
    EXPECT_EQ(calls, 3);
    EXPECT_FALSE(pgqpp::test::wait_for(20ms, [] { return false; }, 1ms));
}

}  // namespace
