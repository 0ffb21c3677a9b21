// The change-capture triggers cache what they know about a table per session
// (pgq_sql/functions/pgq._trigger_support.sql).  These tests change the table under a
// session that has the cache filled -- from the same session, inside one transaction, and
// from another session -- and check that the next event shows the change.  Every test runs
// on our SQL and on the real PgQ C triggers (the expected payloads are the same).
#include "sql_helpers.hpp"
#include "test_database.hpp"

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include <string>
#include <utility>
#include <vector>

namespace {

using pgqpp::test::execute;
using pgqpp::test::template_kind;
using pgqpp::test::test_database;

/// (ev_type, ev_data) of the newest event.
std::pair<std::string, std::string> last_event(pqxx::connection& conn) {
    pqxx::work tx{conn};
    auto row = tx.exec1(
        "select ev_type, coalesce(ev_data, '') from pgq.event_template order by ev_id desc limit 1");
    tx.commit();
    return {row[0].as<std::string>(), row[1].as<std::string>()};
}

class TriggerCache : public ::testing::TestWithParam<template_kind> {
protected:
    test_database db_{GetParam()};
    pqxx::connection a_{db_.conninfo()};   // fires the triggers
    pqxx::connection b_{db_.conninfo()};   // changes the table

    void SetUp() override {
        execute(a_, "select pgq.create_queue('cq')");
        execute(a_, "create table t (id int primary key, a text, b int)");
        execute(a_, "create trigger l after insert or update or delete on t"
                    " for each row execute procedure pgq.logutriga('cq')");
        execute(a_, "create table j (id int primary key, a text, b int)");
        execute(a_, "create trigger j after insert or update or delete on j"
                    " for each row execute procedure pgq.jsontriga('cq')");
        // fill the caches
        execute(a_, "insert into t values (1, 'x', 1)");
        EXPECT_EQ(last_event(a_), std::make_pair(std::string("I:id"), std::string("id=1&a=x&b=1")));
        execute(a_, "insert into j values (1, 'x', 1)");
        EXPECT_EQ(last_event(a_).second, R"({"id":1,"a":"x","b":1})");
    }
};

TEST_P(TriggerCache, ColumnsChangedByAnotherSession) {
    execute(b_, "alter table t add column c text default 'new'");
    execute(a_, "insert into t values (2, 'y', 2)");
    EXPECT_EQ(last_event(a_).second, "id=2&a=y&b=2&c=new");

    execute(b_, "alter table t rename column a to renamed");
    execute(a_, "insert into t values (3, 'z', 3)");
    EXPECT_EQ(last_event(a_).second, "id=3&renamed=z&b=3&c=new");

    execute(b_, "alter table t drop column b");
    execute(a_, "insert into t values (4, 'w')");
    EXPECT_EQ(last_event(a_).second, "id=4&renamed=w&c=new");

    // drop and add in one go: same number of columns
    execute(b_, "alter table t drop column c, add column d int default 7");
    execute(a_, "insert into t values (5, 'v')");
    EXPECT_EQ(last_event(a_).second, "id=5&renamed=v&d=7");
}

TEST_P(TriggerCache, TableRenamedByAnotherSession) {
    execute(b_, "alter table t rename to t2");
    execute(a_, "insert into t2 values (2, 'y', 2)");
    execute(b_, "create schema s2; alter table j set schema s2");
    execute(a_, "insert into s2.j values (2, 'y', 2)");
    pqxx::work tx{a_};
    auto rows = tx.exec("select ev_type, ev_extra1 from pgq.event_template order by ev_id desc limit 2");
    tx.commit();
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[1][1].as<std::string>(), "public.t2");
    EXPECT_EQ(rows[0][0].as<std::string>(), R"({"op":"INSERT","table":["s2","j"],"pkey":["id"]})");
    EXPECT_EQ(rows[0][1].as<std::string>(), "s2.j");
}

TEST_P(TriggerCache, PrimaryKeyChangedByAnotherSession) {
    execute(b_, "alter table t drop constraint t_pkey");
    execute(a_, "insert into t values (2, 'y', 2)");
    EXPECT_EQ(last_event(a_).first, "I:");
    EXPECT_THROW(execute(a_, "update t set a = 'q' where id = 2"), pqxx::sql_error);

    execute(b_, "alter table t add primary key (b, a)");
    execute(a_, "insert into t values (3, 'z', 3)");
    EXPECT_EQ(last_event(a_).first, "I:b,a");
    execute(a_, "update t set id = 30 where id = 3");
    EXPECT_EQ(last_event(a_).first, "U:b,a");

    // a key column renamed.  PgQ's C trigger keeps the old name in ev_type (its key cache
    // is not refreshed by a rename) until the session ends; ours shows the new one.
    const std::string renamed_key = GetParam() == template_kind::ours ? "I:bb,a" : "I:b,a";
    execute(b_, "alter table t rename column b to bb");
    execute(a_, "insert into t values (4, 'w', 4)");
    EXPECT_EQ(last_event(a_).first, renamed_key);

    // replica identity full: the key no longer shows in the relation's replica index
    execute(b_, "alter table t replica identity full");
    execute(a_, "insert into t values (5, 'v', 5)");
    EXPECT_EQ(last_event(a_).first, renamed_key);
    execute(b_, "alter table t drop constraint t_pkey, add primary key (id)");
    execute(a_, "insert into t values (6, 'u', 6)");
    EXPECT_EQ(last_event(a_).first, "I:id");
}

TEST_P(TriggerCache, TypeChangedByAnotherSession) {
    execute(b_, "alter table j alter column b type text");
    execute(a_, "insert into j values (2, 'y', '2')");
    EXPECT_EQ(last_event(a_).second, R"({"id":2,"a":"y","b":"2"})");
    execute(b_, "alter table j alter column b type bigint using b::bigint");
    execute(a_, "insert into j values (3, 'z', 3)");
    EXPECT_EQ(last_event(a_).second, R"({"id":3,"a":"z","b":3})");
}

TEST_P(TriggerCache, SameSessionAndSameTransaction) {
    execute(a_, "alter table t add column c int default 5");
    execute(a_, "insert into t values (2, 'y', 2)");
    EXPECT_EQ(last_event(a_).second, "id=2&a=y&b=2&c=5");

    {
        pqxx::work tx{a_};
        tx.exec("insert into t values (3, 'z', 3)");
        tx.exec("alter table t rename column c to cc");
        tx.exec("insert into t values (4, 'w', 4)");
        tx.exec("alter table t drop column cc");
        tx.exec("insert into t values (5, 'v', 5)");
        tx.commit();
    }
    pqxx::work tx{a_};
    auto rows = tx.exec("select ev_data from pgq.event_template order by ev_id desc limit 3");
    tx.commit();
    ASSERT_EQ(rows.size(), 3u);
    EXPECT_EQ(rows[2][0].as<std::string>(), "id=3&a=z&b=3&c=5");
    EXPECT_EQ(rows[1][0].as<std::string>(), "id=4&a=w&b=4&cc=5");
    EXPECT_EQ(rows[0][0].as<std::string>(), "id=5&a=v&b=5");
}

TEST_P(TriggerCache, RolledBackChange) {
    {
        pqxx::work tx{a_};
        tx.exec("alter table t add column c int default 5");
        tx.exec("insert into t values (2, 'y', 2)");
        // the cache now knows c ...
        tx.abort();
    }
    // ... and must not keep it after the rollback
    execute(a_, "insert into t values (3, 'z', 3)");
    EXPECT_EQ(last_event(a_).second, "id=3&a=z&b=3");
}

TEST_P(TriggerCache, RecreatedTriggerWithOtherArguments) {
    execute(b_, "drop trigger l on t");
    execute(b_, "create trigger l after insert or update or delete on t"
                " for each row execute procedure pgq.logutriga('cq', 'ignore=b', 'pkey=a')");
    execute(a_, "insert into t values (2, 'y', 2)");
    EXPECT_EQ(last_event(a_), std::make_pair(std::string("I:a"), std::string("id=2&a=y")));
}

INSTANTIATE_TEST_SUITE_P(Targets, TriggerCache,
                         ::testing::Values(template_kind::ours, template_kind::pgq),
                         [](const auto& param_info) {
                             return std::string{pgqpp::test::to_string(param_info.param)};
                         });

// Without the event trigger (an install by a role that may not create one) the triggers
// look at the table on every row: still correct.
TEST(TriggerCacheWithoutEventTrigger, ChangesAreSeen) {
    test_database db{template_kind::ours};
    pqxx::connection a{db.conninfo()};
    pqxx::connection b{db.conninfo()};
    execute(a, "drop event trigger pgq_trigger_cache");
    execute(a, "select pgq.create_queue('cq')");
    execute(a, "create table t (id int primary key, a text)");
    execute(a, "create trigger l after insert on t for each row execute procedure pgq.logutriga('cq')");
    execute(a, "insert into t values (1, 'x')");
    EXPECT_EQ(last_event(a).second, "id=1&a=x");
    execute(b, "alter table t add column c text default 'new'");
    execute(a, "insert into t values (2, 'y')");
    EXPECT_EQ(last_event(a).second, "id=2&a=y&c=new");
    execute(b, "alter table t rename column a to aa");
    execute(a, "insert into t values (3, 'z')");
    EXPECT_EQ(last_event(a).second, "id=3&aa=z&c=new");
    execute(b, "alter table t drop constraint t_pkey, add primary key (aa)");
    execute(a, "insert into t values (4, 'w')");
    EXPECT_EQ(last_event(a), std::make_pair(std::string("I:aa"), std::string("id=4&aa=w&c=new")));
}

}  // namespace
