// pgqpp::admin against our pgq and the real PgQ: every call does what the SQL function does,
// typed results carry all columns, and errors come back as the matching pgqpp::error.
#include "sql_helpers.hpp"
#include "test_database.hpp"

#include <pgqpp/admin.hpp>
#include <pgqpp/error.hpp>
#include <pgqpp/producer.hpp>
#include <pgqpp/quote.hpp>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include <chrono>
#include <string>

namespace {

using namespace std::chrono_literals;
using pgqpp::test::execute;
using pgqpp::test::query_value;
using pgqpp::test::template_kind;
using pgqpp::test::test_database;

class Admin : public ::testing::TestWithParam<template_kind> {
protected:
    test_database db_{GetParam()};
    pqxx::connection conn_{db_.conninfo()};
    pgqpp::admin admin_{conn_};
};

std::string name_of(const ::testing::TestParamInfo<template_kind>& info) {
    return std::string{pgqpp::test::to_string(info.param)};
}

INSTANTIATE_TEST_SUITE_P(Both, Admin, ::testing::Values(template_kind::ours, template_kind::pgq),
                         name_of);

TEST_P(Admin, VersionAndAdditions) {
    const auto v = admin_.version();
    EXPECT_EQ(v.rfind("3.", 0), 0u) << v;
    EXPECT_EQ(admin_.has_pgqpp_additions(), GetParam() == template_kind::ours);
}

TEST_P(Admin, CreateConfigureAndDropQueues) {
    EXPECT_TRUE(admin_.create_queue("mail"));
    EXPECT_FALSE(admin_.create_queue("mail"));  // exists already
    EXPECT_TRUE(admin_.create_queue("b-queue with 'quotes'"));

    admin_.set_ticker_max_count("mail", 123);
    admin_.set_ticker_max_lag("mail", 1500ms);
    admin_.set_ticker_idle_period("mail", 90s);
    admin_.set_rotation_period("mail", 3h);
    admin_.set_ticker_paused("mail", true);
    admin_.set_external_ticker("mail", true);

    const auto q = admin_.queue_info("mail");
    ASSERT_TRUE(q.has_value());
    EXPECT_EQ(q->queue_name, "mail");
    EXPECT_EQ(q->queue_ntables, 3);
    EXPECT_EQ(q->queue_cur_table, 0);
    EXPECT_EQ(q->queue_ticker_max_count, 123);
    EXPECT_EQ(q->queue_ticker_max_lag, 1500ms);
    EXPECT_EQ(q->queue_ticker_idle_period, 90s);
    EXPECT_EQ(q->queue_rotation_period, 3h);
    EXPECT_TRUE(q->queue_ticker_paused);
    EXPECT_TRUE(q->queue_external_ticker);
    const auto age = std::chrono::system_clock::now() - q->queue_switch_time;
    EXPECT_LT(age, std::chrono::minutes{5});
    EXPECT_GT(age, -std::chrono::minutes{5});
    ASSERT_TRUE(q->last_tick_id.has_value());  // create_queue ticks once
    EXPECT_GE(*q->last_tick_id, 1);
    ASSERT_TRUE(q->ticker_lag.has_value());
    EXPECT_TRUE(q->ev_new.has_value());

    const auto all = admin_.queues();
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0].queue_name, "b-queue with 'quotes'");  // ordered by name
    EXPECT_EQ(all[1].queue_name, "mail");

    EXPECT_FALSE(admin_.queue_info("nope").has_value());
    EXPECT_THROW(admin_.set_ticker_max_count("nope", 1), pgqpp::no_such_queue);
    EXPECT_THROW(admin_.set_queue_config("mail", "ntables", "5"), pgqpp::invalid_argument);
    EXPECT_THROW(admin_.set_ticker_max_lag("mail", -1s), pgqpp::invalid_argument);
    EXPECT_THROW(admin_.drop_queue("nope"), pgqpp::no_such_queue);

    admin_.drop_queue("b-queue with 'quotes'");
    EXPECT_EQ(admin_.queues().size(), 1u);
}

TEST_P(Admin, ConsumersTicksAndBatches) {
    admin_.create_queue("mail");
    admin_.set_ticker_max_lag("mail", 0s);
    EXPECT_TRUE(admin_.register_consumer("mail", "mirror"));
    EXPECT_FALSE(admin_.register_consumer("mail", "mirror"));
    EXPECT_TRUE(admin_.register_consumer("mail", "archive"));
    EXPECT_THROW(admin_.register_consumer("nope", "x"), pgqpp::no_such_queue);
    EXPECT_THROW(admin_.drop_queue("mail"), pgqpp::error);  // consumers attached

    {
        pqxx::work tx{conn_};
        pgqpp::insert_events(tx, "mail", {{"t", "1"}, {"t", "2"}, {"t", "3"}});
        tx.commit();
    }
    const auto tick = admin_.ticker("mail");
    ASSERT_TRUE(tick.has_value());
    EXPECT_GE(admin_.ticker_all(), 0);

    const auto c = admin_.consumer_info("mail", "mirror");
    ASSERT_TRUE(c.has_value());
    EXPECT_EQ(c->queue_name, "mail");
    EXPECT_EQ(c->consumer_name, "mirror");
    ASSERT_TRUE(c->last_tick.has_value());
    EXPECT_FALSE(c->current_batch.has_value());
    EXPECT_FALSE(c->next_tick.has_value());
    ASSERT_TRUE(c->pending_events.has_value());
    // A sequence difference: PgQ counts the queue's very first event as 0 (a fresh
    // sequence's last_value is already 1).
    EXPECT_GE(*c->pending_events, 2);
    EXPECT_TRUE(c->lag.has_value());
    EXPECT_TRUE(c->last_seen.has_value());
    EXPECT_FALSE(admin_.consumer_info("mail", "nobody").has_value());

    const auto cs = admin_.consumers("mail");
    ASSERT_EQ(cs.size(), 2u);
    EXPECT_EQ(cs[0].consumer_name, "archive");
    EXPECT_EQ(admin_.consumers().size(), 2u);

    // A batch, seen through get_batch_info.
    const auto batch = query_value<std::int64_t>(conn_, "select pgq.next_batch('mail', 'mirror')");
    const auto b = admin_.batch_info(batch);
    ASSERT_TRUE(b.has_value());
    EXPECT_EQ(b->queue_name, "mail");
    EXPECT_EQ(b->consumer_name, "mirror");
    EXPECT_EQ(b->tick_id, *tick);
    EXPECT_LT(b->prev_tick_id, b->tick_id);
    EXPECT_EQ(b->seq_end - b->seq_start, *c->pending_events);
    EXPECT_LE(b->batch_start, b->batch_end);
    EXPECT_EQ(admin_.consumer_info("mail", "mirror")->current_batch, batch);
    EXPECT_FALSE(admin_.batch_info(batch + 1000).has_value());

    // Rewind "archive" to the first tick, then unregister.
    const auto first_tick = *admin_.consumer_info("mail", "archive")->last_tick;
    EXPECT_FALSE(admin_.register_consumer_at("mail", "archive", first_tick));
    EXPECT_TRUE(admin_.unregister_consumer("mail", "archive"));
    EXPECT_FALSE(admin_.unregister_consumer("mail", "archive"));  // not registered: 0

    const auto forced = admin_.force_tick("mail");
    EXPECT_GE(forced, *tick);
    admin_.drop_queue("mail", true);
    EXPECT_TRUE(admin_.queues().empty());
}

TEST_P(Admin, InsideTheCallersTransaction) {
    {
        pqxx::work tx{conn_};
        pgqpp::admin in_tx{tx};
        EXPECT_TRUE(in_tx.create_queue("rolled_back"));
        EXPECT_TRUE(in_tx.queue_info("rolled_back").has_value());
        tx.abort();
    }
    EXPECT_FALSE(admin_.queue_info("rolled_back").has_value());
    {
        pqxx::work tx{conn_};
        pgqpp::admin in_tx{tx};
        in_tx.create_queue("kept");
        in_tx.register_consumer("kept", "c");
        tx.commit();
    }
    EXPECT_TRUE(admin_.consumer_info("kept", "c").has_value());
}

TEST_P(Admin, ValidatesNamesBeforeSending) {
    EXPECT_THROW(admin_.create_queue(""), pgqpp::invalid_argument);
    EXPECT_THROW(admin_.create_queue("bad\xFF"), pgqpp::invalid_argument);
    EXPECT_THROW(admin_.register_consumer("q", "tab\tname"), pgqpp::invalid_argument);
    EXPECT_TRUE(admin_.queues().empty());
}

TEST(Quote, NamesAndLiteralsSurviveTheRoundTrip) {
    test_database db{template_kind::ours};
    pqxx::connection conn{db.conninfo()};
    const std::string name = "we\"ird ñame; drop table x; --";
    const std::string value = "it's \\ a 'value'";
    EXPECT_EQ(pgqpp::quote_identifier(conn, name), pgqpp::quote_identifier(name));
    execute(conn, "create schema " + pgqpp::quote_identifier(name));
    execute(conn, "create table " + pgqpp::quote_identifier(conn, name) + ".t (v text)");
    execute(conn, "insert into " + pgqpp::quote_qualified_name(conn, name + ".t") +
                      " values (" + pgqpp::quote_literal(conn, value) + ")");
    EXPECT_EQ(query_value<std::string>(conn, "select v from " + pgqpp::quote_identifier(name) + ".t"),
              value);
}

TEST(AdminNoPgq, VersionSaysPgqIsNotInstalled) {
    test_database db{template_kind::ours};
    pqxx::connection conn{db.conninfo()};
    execute(conn, "drop schema pgq cascade");
    pgqpp::admin admin{conn};
    EXPECT_THROW(admin.version(), pgqpp::pgq_not_installed);
    EXPECT_THROW(admin.create_queue("q"), pgqpp::pgq_not_installed);
    EXPECT_FALSE(admin.has_pgqpp_additions());
}

}  // namespace
