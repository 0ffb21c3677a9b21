// The synchronous producer on a real server, on our pgq and on the real PgQ C extension:
// atomic with the caller's transaction (commit, rollback, savepoints), every field kept,
// bulk inserts complete and in order on every bulk path, bad input rejected before anything
// is written.
#include "sql_helpers.hpp"
#include "test_database.hpp"

#include <pgqpp/admin.hpp>
#include <pgqpp/error.hpp>
#include <pgqpp/json.hpp>
#include <pgqpp/producer.hpp>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include <optional>
#include <string>
#include <vector>

namespace {

using namespace std::string_literals;
using pgqpp::test::execute;
using pgqpp::test::query_value;
using pgqpp::test::template_kind;
using pgqpp::test::test_database;

/// One event as a consumer sees it (pgq.get_batch_events).
struct row {
    std::int64_t id;
    std::optional<std::string> type, data, extra1, extra2, extra3, extra4;
};

class Producer : public ::testing::TestWithParam<template_kind> {
protected:
    test_database db_{GetParam()};
    pqxx::connection conn_{db_.conninfo()};

    void SetUp() override {
        pgqpp::admin admin{conn_};
        admin.create_queue("q");
        admin.register_consumer("q", "reader");
    }

    bool ours() const { return GetParam() == template_kind::ours; }

    /// Ticks, then reads the next batch of "reader" completely (and finishes it).
    std::vector<row> consume() {
        pgqpp::admin{conn_}.force_tick("q");
        pgqpp::admin{conn_}.ticker("q");
        pqxx::work tx{conn_};
        const auto batch = tx.exec1("select pgq.next_batch('q', 'reader')")[0];
        std::vector<row> rows;
        if (batch.is_null()) return rows;
        const auto r = tx.exec_params(
            "select ev_id, ev_type, ev_data, ev_extra1, ev_extra2, ev_extra3, ev_extra4"
            " from pgq.get_batch_events($1) order by ev_id",
            batch.as<std::int64_t>());
        for (const auto& x : r) {
            auto opt = [&](int i) -> std::optional<std::string> {
                if (x[i].is_null()) return std::nullopt;
                return x[i].as<std::string>();
            };
            rows.push_back({x[0].as<std::int64_t>(), opt(1), opt(2), opt(3), opt(4), opt(5), opt(6)});
        }
        tx.exec_params("select pgq.finish_batch($1)", batch.as<std::int64_t>());
        tx.commit();
        return rows;
    }
};

std::string name_of(const ::testing::TestParamInfo<template_kind>& info) {
    return std::string{pgqpp::test::to_string(info.param)};
}

INSTANTIATE_TEST_SUITE_P(Both, Producer,
                         ::testing::Values(template_kind::ours, template_kind::pgq), name_of);

TEST_P(Producer, EventExistsOnlyIfTheTransactionCommits) {
    std::int64_t committed_id = 0;
    {
        pqxx::work tx{conn_};
        tx.exec0("create table letters (id int primary key)");
        tx.exec0("insert into letters values (1)");
        committed_id = pgqpp::insert_event(tx, "q", {"letter.stored", R"({"id": 1})"});
        tx.commit();
    }
    {
        pqxx::work tx{conn_};
        tx.exec0("insert into letters values (2)");
        pgqpp::insert_event(tx, "q", {"letter.stored", R"({"id": 2})"});
        tx.abort();
    }
    {
        // Destroyed without commit: rolled back too.
        pqxx::work tx{conn_};
        pgqpp::insert_event(tx, "q", {"letter.stored", R"({"id": 3})"});
    }
    const auto rows = consume();
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].id, committed_id);
    EXPECT_EQ(rows[0].data, R"({"id": 1})");
}

TEST_P(Producer, SavepointRollbackTakesBackOnlyItsEvents) {
    pqxx::work tx{conn_};
    const auto first = pgqpp::insert_event(tx, "q", {"t", "before"});
    {
        pqxx::subtransaction sp{tx, "sp1"};
        pgqpp::insert_event(sp, "q", {"t", "inside, rolled back"});
        pgqpp::insert_events(sp, "q", {{"t", "bulk, rolled back"}, {"t", "bulk 2"}});
        sp.abort();
    }
    std::int64_t kept = 0;
    {
        pqxx::subtransaction sp{tx, "sp2"};
        kept = pgqpp::insert_event(sp, "q", {"t", "inside, kept"});
        sp.commit();
    }
    tx.commit();
    const auto rows = consume();
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0].id, first);
    EXPECT_EQ(rows[0].data, "before");
    EXPECT_EQ(rows[1].id, kept);
    EXPECT_EQ(rows[1].data, "inside, kept");
}

TEST_P(Producer, KeepsEveryFieldNullsAndAwkwardText) {
    const std::string awkward = "quote \" backslash \\ tab \t newline \n comma , {braces} NULL ü 日本";
    pqxx::work tx{conn_};
    pgqpp::insert_event(tx, "q", {"type1", awkward, "x1", std::nullopt, "", "x4"});
    pgqpp::insert_event(tx, "q", {"", ""});
    pgqpp::insert_events(tx, "q",
                         {{"bulk", awkward, std::nullopt, "x2", std::nullopt, std::nullopt},
                          {"NULL", "NULL", "NULL"}});
    tx.commit();
    const auto rows = consume();
    ASSERT_EQ(rows.size(), 4u);
    EXPECT_EQ(rows[0].type, "type1");
    EXPECT_EQ(rows[0].data, awkward);
    EXPECT_EQ(rows[0].extra1, "x1");
    EXPECT_EQ(rows[0].extra2, std::nullopt);
    EXPECT_EQ(rows[0].extra3, "");
    EXPECT_EQ(rows[0].extra4, "x4");
    EXPECT_EQ(rows[1].type, "");
    EXPECT_EQ(rows[1].data, "");
    EXPECT_EQ(rows[1].extra1, std::nullopt);
    EXPECT_EQ(rows[2].data, awkward);
    EXPECT_EQ(rows[2].extra1, std::nullopt);
    EXPECT_EQ(rows[2].extra2, "x2");
    EXPECT_EQ(rows[3].type, "NULL");  // the string, not SQL NULL
    EXPECT_EQ(rows[3].extra1, "NULL");
    EXPECT_EQ(rows[3].extra2, std::nullopt);
}

/// 100,000 events in one transaction arrive complete, in order, with increasing ids.
TEST_P(Producer, BulkOf100000EventsArrivesCompleteAndInOrder) {
    constexpr int n = 100000;
    std::vector<pgqpp::event> events;
    events.reserve(n);
    for (int i = 0; i < n; ++i)
        events.emplace_back("bulk", std::to_string(i), i % 7 == 0 ? std::optional<std::string>{"x"}
                                                                    : std::nullopt);
    pqxx::work tx{conn_};
    const auto method = pgqpp::choose_bulk_method(tx, "q");
    // The test runs as superuser: COPY is allowed and fastest, on both.
    EXPECT_EQ(method, pgqpp::bulk_method::copy);
    EXPECT_EQ(pgqpp::insert_events(tx, "q", events), static_cast<std::size_t>(n));
    tx.commit();

    const auto rows = consume();
    ASSERT_EQ(rows.size(), static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
        ASSERT_EQ(rows[static_cast<std::size_t>(i)].data, std::to_string(i)) << "at " << i;
        ASSERT_EQ(rows[static_cast<std::size_t>(i)].extra1.has_value(), i % 7 == 0) << "at " << i;
        if (i > 0) {
            ASSERT_GT(rows[static_cast<std::size_t>(i)].id, rows[static_cast<std::size_t>(i) - 1].id);
        }
    }
}

/// Every bulk path (those the database has) writes the same events; small statements force
/// the split into several statements.
TEST_P(Producer, EveryBulkPathWritesTheSameEventsInOrder) {
    std::vector<pgqpp::bulk_method> methods{pgqpp::bulk_method::copy, pgqpp::bulk_method::rows};
    if (ours()) methods.push_back(pgqpp::bulk_method::function);
    for (const auto method : methods) {
        SCOPED_TRACE(std::string{pgqpp::to_string(method)});
        std::vector<pgqpp::event> events;
        for (int i = 0; i < 2000; ++i)
            events.emplace_back("t" + std::to_string(i % 3), "\"" + std::to_string(i) + "\\",
                                std::nullopt, i % 2 ? std::optional<std::string>{"odd"} : std::nullopt);
        pgqpp::producer_options options;
        options.method = method;
        options.max_statement_bytes = 3000;  // ~500 events per statement
        pqxx::work tx{conn_};
        EXPECT_EQ(pgqpp::insert_events(tx, "q", events, options), events.size());
        tx.commit();
        const auto rows = consume();
        ASSERT_EQ(rows.size(), events.size());
        for (std::size_t i = 0; i < rows.size(); ++i) {
            ASSERT_EQ(rows[i].type, events[i].type);
            ASSERT_EQ(rows[i].data, events[i].data);
            ASSERT_EQ(rows[i].extra1, std::nullopt);
            ASSERT_EQ(rows[i].extra2, events[i].extra2);
        }
    }
}

TEST_P(Producer, BulkFunctionIsAFeatureOfOursOnly) {
    pgqpp::producer_options options;
    options.method = pgqpp::bulk_method::function;
    pqxx::work tx{conn_};
    if (ours()) {
        EXPECT_EQ(pgqpp::insert_events(tx, "q", {{"t", "d"}}, options), 1u);
    } else {
        EXPECT_THROW(pgqpp::insert_events(tx, "q", {{"t", "d"}}, options),
                     pgqpp::feature_not_available);
    }
}

TEST_P(Producer, CopyIsNotUsedWhereItWouldBypassThePerTransactionLimit) {
    execute(conn_, "update pgq.queue set queue_per_tx_limit = 5 where queue_name = 'q'");
    std::vector<pgqpp::event> six(6, pgqpp::event{"t", "d"});
    {
        pqxx::work tx{conn_};
        EXPECT_NE(pgqpp::choose_bulk_method(tx, "q"), pgqpp::bulk_method::copy);
        EXPECT_THROW(pgqpp::insert_events(tx, "q", six), pgqpp::per_tx_limit_exceeded);
    }
    {
        pqxx::work tx{conn_};
        pgqpp::producer_options copy;
        copy.method = pgqpp::bulk_method::copy;
        EXPECT_THROW(pgqpp::insert_events(tx, "q", six, copy), pgqpp::invalid_argument);
    }
    pqxx::work tx{conn_};
    EXPECT_EQ(pgqpp::insert_events(tx, "q", std::vector<pgqpp::event>(5, {"t", "d"})), 5u);
    tx.commit();
}

TEST_P(Producer, WriterRoleUsesAPathItIsAllowedTo) {
    pgqpp::test::create_role_once(conn_, "pgqpp_test_writer", "login in role pgq_writer");
    execute(conn_, "grant usage on schema pgq to pgqpp_test_writer");
    const std::string writer = db_.conninfo() + " user=pgqpp_test_writer";
    pqxx::connection wconn{writer};
    pqxx::work tx{wconn};
    const auto method = pgqpp::choose_bulk_method(tx, "q");
    EXPECT_EQ(method, ours() ? pgqpp::bulk_method::function : pgqpp::bulk_method::rows);
    EXPECT_EQ(pgqpp::insert_events(tx, "q", std::vector<pgqpp::event>(100, {"t", "d"})), 100u);
    EXPECT_GT(pgqpp::insert_event(tx, "q", {"t", "single"}), 0);
    tx.commit();
    EXPECT_EQ(consume().size(), 101u);
}

TEST_P(Producer, BadInputIsRejectedBeforeAnythingIsSentAndTheTransactionStaysUsable) {
    pqxx::work tx{conn_};
    const auto before = pgqpp::insert_event(tx, "q", {"t", "kept"});

    EXPECT_THROW(pgqpp::insert_event(tx, "", {"t", "d"}), pgqpp::invalid_argument);
    EXPECT_THROW(pgqpp::insert_event(tx, "q\xff", {"t", "d"}), pgqpp::invalid_argument);
    try {
        pgqpp::insert_event(tx, "q", {"t", "valid then \xC0\xAF"});
        ADD_FAILURE() << "non-UTF-8 accepted";
    } catch (const pgqpp::invalid_argument& e) {
        EXPECT_EQ(std::string{e.what()}, "ev_data: invalid UTF-8 at byte 11 (0xc0)");
    }
    try {
        std::vector<pgqpp::event> events(10, {"t", "fine"});
        events[7].extra3 = "bad \xFF";
        pgqpp::insert_events(tx, "q", events);
        ADD_FAILURE() << "non-UTF-8 accepted";
    } catch (const pgqpp::invalid_argument& e) {
        EXPECT_EQ(std::string{e.what()}, "event 7: ev_extra3: invalid UTF-8 at byte 4 (0xff)");
    }
    pgqpp::producer_options small;
    small.max_event_bytes = 100;
    EXPECT_THROW(pgqpp::insert_event(tx, "q", {"t", std::string(101, 'x')}, small),
                 pgqpp::invalid_argument);
    EXPECT_THROW(pgqpp::insert_event(tx, "q", {"t", "nul\0"s}), pgqpp::invalid_argument);

    // Nothing of the above reached the server: the transaction goes on.
    const auto after = pgqpp::insert_event(tx, "q", {"t", "kept too"});
    tx.commit();
    const auto rows = consume();
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0].id, before);
    EXPECT_EQ(rows[1].id, after);
}

TEST_P(Producer, JsonPayloadsRoundTrip) {
    const nlohmann::json payload = {{"id", 42}, {"to", "ü@example.org"}, {"tags", {"a", "b"}}};
    pqxx::work tx{conn_};
    pgqpp::insert_event(tx, "q", pgqpp::json_event("letter.stored", payload));
    tx.commit();
    const auto rows = consume();
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(pgqpp::parse_json(*rows[0].data), payload);
    EXPECT_THROW(pgqpp::parse_json("{not json"), pgqpp::invalid_argument);
    EXPECT_THROW(pgqpp::json_event("t", nlohmann::json("bad \xFF")), pgqpp::invalid_argument);
}

}  // namespace
