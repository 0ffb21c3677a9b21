// Snapshot semantics of batches (DESIGN.md guarantees 1 and 2), on our SQL and, for
// comparison, on the real PgQ: many concurrent producers with commits, rollbacks and
// savepoint rollbacks, a long transaction, a ticker running all the while, and a consumer.
// Every committed event must arrive exactly once, events of rolled-back work never, events
// within a batch in ev_id order, and the long transaction's events only after it commits.
#include "sql_helpers.hpp"
#include "test_database.hpp"

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include <algorithm>
#include <atomic>
#include <iterator>
#include <chrono>
#include <future>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using pgqpp::test::execute;
using pgqpp::test::query_value;
using pgqpp::test::template_kind;
using pgqpp::test::test_database;

struct delivered_event {
    long batch_end_tick;
    long ev_id;
};

class SnapshotSemantics : public ::testing::TestWithParam<template_kind> {
protected:
    test_database db_{GetParam()};

    void SetUp() override {
        pqxx::connection conn{db_.conninfo()};
        execute(conn, "select pgq.create_queue('sq')");
        execute(conn, "update pgq.queue set queue_ticker_max_lag = '0' where queue_name = 'sq'");
        execute(conn, "select pgq.register_consumer('sq', 'c')");
    }

    /// Runs one producer: @p transactions transactions of random size, a fifth of them rolled
    /// back and some with a rolled-back savepoint; returns the payloads that committed.
    std::vector<std::string> produce(int producer, int transactions) {
        pqxx::connection conn{db_.conninfo()};
        std::mt19937 rng(static_cast<unsigned>(producer));
        std::vector<std::string> committed;
        for (int t = 0; t < transactions; ++t) {
            pqxx::work tx{conn};
            std::vector<std::string> kept;
            const int events = 1 + static_cast<int>(rng() % 20);
            const bool use_savepoint = rng() % 4 == 0;
            for (int e = 0; e < events; ++e) {
                const std::string data = "p" + std::to_string(producer) + "-t" + std::to_string(t) +
                                         "-e" + std::to_string(e);
                if (use_savepoint && e == events / 2) {
                    tx.exec("savepoint sp");
                    tx.exec_params("select pgq.insert_event('sq', 'lost', $1)", data + "-savepoint");
                    tx.exec("rollback to savepoint sp");
                }
                tx.exec_params("select pgq.insert_event('sq', 't', $1)", data);
                kept.push_back(data);
            }
            if (rng() % 5 == 0) {
                tx.abort();
            } else {
                tx.commit();
                committed.insert(committed.end(), kept.begin(), kept.end());
            }
        }
        return committed;
    }
};

TEST_P(SnapshotSemantics, EveryCommittedEventOnceInOrderNothingRolledBack) {
    std::atomic<bool> producing{true};

    // the long transaction: inserts first, commits after many ticks
    pqxx::connection long_conn{db_.conninfo()};
    pqxx::work long_tx{long_conn};
    for (int i = 0; i < 5; ++i)
        long_tx.exec_params("select pgq.insert_event('sq', 'long', $1)", "long-" + std::to_string(i));

    auto ticker = std::async(std::launch::async, [&] {
        pqxx::connection conn{db_.conninfo()};
        while (producing) {
            execute(conn, "select pgq.ticker('sq')");
            std::this_thread::sleep_for(5ms);
        }
    });
    std::vector<std::future<std::vector<std::string>>> producers;
    for (int p = 0; p < 4; ++p)
        producers.push_back(std::async(std::launch::async, [this, p] { return produce(p, 40); }));

    std::multiset<std::string> expected;
    for (auto& p : producers)
        for (auto& data : p.get()) expected.insert(data);

    pqxx::connection conn{db_.conninfo()};
    const auto last_tick_before_commit =
        query_value<long>(conn, "select max(tick_id) from pgq.tick");
    long_tx.commit();
    for (int i = 0; i < 5; ++i) expected.insert("long-" + std::to_string(i));

    // make sure a tick follows everything
    execute(conn, "select pgq.insert_event('sq', 'last', 'last')");
    expected.insert("last");
    producing = false;
    ticker.get();
    execute(conn, "select pgq.force_tick('sq')");
    execute(conn, "select pgq.ticker('sq')");

    std::multiset<std::string> received;
    std::map<std::string, long> batch_end_of;
    int batches = 0;
    for (;;) {
        pqxx::work tx{conn};
        const auto row = tx.exec1("select batch_id, cur_tick_id from pgq.next_batch_info('sq', 'c')");
        if (row[0].is_null()) break;
        ++batches;
        const auto batch = row[0].as<long>();
        const auto end_tick = row[1].as<long>();
        long last_id = 0;
        for (const auto& ev : tx.exec_params("select ev_id, ev_data from pgq.get_batch_events($1)", batch)) {
            const auto id = ev[0].as<long>();
            EXPECT_GT(id, last_id) << "events of batch " << batch << " not in ev_id order";
            last_id = id;
            const auto data = ev[1].as<std::string>();
            received.insert(data);
            batch_end_of[data] = end_tick;
        }
        tx.exec_params("select pgq.finish_batch($1)", batch);
        tx.commit();
    }

    EXPECT_GT(batches, 5) << "the ticker should have cut the stream into many batches";
    EXPECT_EQ(received.size(), expected.size());
    std::vector<std::string> extra, missing;
    std::set_difference(received.begin(), received.end(), expected.begin(), expected.end(),
                        std::back_inserter(extra));
    std::set_difference(expected.begin(), expected.end(), received.begin(), received.end(),
                        std::back_inserter(missing));
    EXPECT_TRUE(extra.empty()) << extra.size() << " unexpected or duplicate, e.g. " << extra.front();
    EXPECT_TRUE(missing.empty()) << missing.size() << " missing, e.g. " << missing.front();
    for (int i = 0; i < 5; ++i) {
        const auto it = batch_end_of.find("long-" + std::to_string(i));
        ASSERT_NE(it, batch_end_of.end());
        EXPECT_GT(it->second, last_tick_before_commit)
            << "an event of the long transaction was delivered in a batch ending before its commit";
    }
}

INSTANTIATE_TEST_SUITE_P(Templates, SnapshotSemantics,
                         ::testing::Values(template_kind::ours, template_kind::pgq),
                         [](const auto& param_info) { return std::string{pgqpp::test::to_string(param_info.param)}; });

}  // namespace
