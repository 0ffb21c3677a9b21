// pgqpp::async_producer on a real server (ours and the real PgQ): completions only after
// commit, group commit under concurrency, bounded queue, timeouts, and the faults that must
// never lose or duplicate an event (backends killed at random, connections lost during
// COMMIT). The server restart is in async_restart_dbtest.cpp (it needs a private cluster).
#include "async_test_support.hpp"
#include "sql_helpers.hpp"
#include "test_database.hpp"
#include "wait_until.hpp"

#include <pgqpp/admin.hpp>
#include <pgqpp/async_producer.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include <atomic>
#include <chrono>
#include <future>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using pgqpp::test::async_outcomes;
using pgqpp::test::execute;
using pgqpp::test::query_value;
using pgqpp::test::template_kind;
using pgqpp::test::test_database;
using pgqpp::test::wait_for;

class AsyncProducer : public ::testing::TestWithParam<template_kind> {
protected:
    test_database db_{GetParam()};
    pqxx::connection conn_{db_.conninfo()};
    boost::asio::io_context io_;

    void SetUp() override { pgqpp::admin{conn_}.create_queue("q"); }

    pgqpp::connection_config config() const { return pgqpp::connection_config{db_.conninfo()}; }

    /// Takes an ACCESS EXCLUSIVE lock on pgq.queue, which every insert needs to read: the
    /// producer's next transaction waits until release().
    struct queue_lock {
        pqxx::connection conn;
        pqxx::work tx;
        explicit queue_lock(const std::string& conninfo) : conn{conninfo}, tx{conn} {
            tx.exec("lock table pgq.queue in access exclusive mode");
        }
        void release() { tx.commit(); }
    };

    /// Whether a producer backend waits on a lock (i.e. its transaction is blocked).
    bool producer_waits() {
        return query_value<bool>(
            conn_, "select exists (select 1 from pg_stat_activity where datname ="
                   " current_database() and application_name = 'pgqpp_async_producer'"
                   " and wait_event_type = 'Lock')");
    }
};

std::string name_of(const ::testing::TestParamInfo<template_kind>& info) {
    return std::string{pgqpp::test::to_string(info.param)};
}

INSTANTIATE_TEST_SUITE_P(Both, AsyncProducer,
                         ::testing::Values(template_kind::ours, template_kind::pgq), name_of);

TEST_P(AsyncProducer, CompletesAfterCommitWithTheEventId) {
    pgqpp::async_producer producer{io_, config()};
    async_outcomes out{100};
    for (int i = 0; i < 100; ++i) producer.async_insert("q", out.event(i), out.handler(i));
    io_.run();
    out.expect_all_ok();
    out.expect_exactly_the_committed_events(conn_, "q");
    EXPECT_EQ(producer.stats().committed, 100u);
    EXPECT_EQ(producer.stats().pending, 0u);
}

TEST_P(AsyncProducer, WorksWithUseFuture) {
    pgqpp::async_producer producer{io_, config()};
    auto ok = producer.async_insert("q", {"t", "via future"}, boost::asio::use_future);
    auto bad = producer.async_insert("nope", {"t", "d"}, boost::asio::use_future);
    // use_future's handler has an executor of its own: no io.run() needed.
    EXPECT_GT(ok.get(), 0);
    try {
        bad.get();
        FAIL() << "no error";
    } catch (const boost::system::system_error& e) {
        EXPECT_EQ(e.code(), pgqpp::make_error_code(pgqpp::errc::no_such_queue));
    }
}

TEST_P(AsyncProducer, ManyConcurrentHandlersShareFewTransactions) {
    constexpr int per_thread = 5000, threads = 4, total = per_thread * threads;
    pgqpp::async_producer producer{io_, config()};
    async_outcomes out{total};
    auto guard = boost::asio::make_work_guard(io_);
    std::vector<std::thread> runners;
    for (int i = 0; i < 2; ++i) runners.emplace_back([&] { io_.run(); });
    std::vector<std::thread> submitters;
    for (int t = 0; t < threads; ++t) {
        submitters.emplace_back([&, t] {
            for (int k = 0; k < per_thread; ++k) {
                const int i = t * per_thread + k;
                producer.async_insert("q", out.event(i), out.handler(i));
            }
        });
    }
    for (auto& s : submitters) s.join();
    ASSERT_TRUE(wait_for(60s, [&] { return out.completed() == total; }));
    guard.reset();
    for (auto& r : runners) r.join();
    out.expect_all_ok();
    out.expect_exactly_the_committed_events(conn_, "q");
    const auto stats = producer.stats();
    EXPECT_EQ(stats.committed, static_cast<std::uint64_t>(total));
    EXPECT_LT(stats.transactions, static_cast<std::uint64_t>(total) / 4) << "no group commit?";
}

TEST_P(AsyncProducer, QueueErrorsFailOnlyThatQueuesRequests) {
    pgqpp::async_producer producer{io_, config()};
    async_outcomes out{200};
    for (int i = 0; i < 200; ++i)
        producer.async_insert(i % 2 ? "q" : "nope", out.event(i), out.handler(i));
    io_.run();
    for (int i = 0; i < 200; ++i) {
        if (i % 2)
            EXPECT_FALSE(out.at(i).ec) << i << ": " << out.at(i).ec.message();
        else
            EXPECT_EQ(out.at(i).ec, pgqpp::make_error_code(pgqpp::errc::no_such_queue)) << i;
    }
    out.expect_exactly_the_committed_events(conn_, "q");
}

TEST_P(AsyncProducer, AGroupOverThePerTransactionLimitIsSplit) {
    execute(conn_, "update pgq.queue set queue_per_tx_limit = 3 where queue_name = 'q'");
    pgqpp::async_producer producer{io_, config()};
    async_outcomes out{21};
    queue_lock lock{db_.conninfo()};
    producer.async_insert("q", out.event(0), out.handler(0));
    ASSERT_TRUE(wait_for(10s, [&] { return producer_waits(); }));
    for (int i = 1; i < 21; ++i) producer.async_insert("q", out.event(i), out.handler(i));
    lock.release();  // now one group of 20 > 3 events: split until each part fits
    io_.run();
    out.expect_all_ok();
    out.expect_exactly_the_committed_events(conn_, "q");
    EXPECT_GE(producer.stats().transactions, 8u);
}

TEST_P(AsyncProducer, InDoubtCommitThatDidCommitSucceedsOnce) {
    std::atomic<int> faults{0};
    pgqpp::async_producer_options options;
    options.test_hook = [&](const char* point, int) {
        // The COMMIT went through, but the client is told "connection lost" (once).
        if (std::string{point} == "after_commit" && faults++ == 0)
            throw pqxx::in_doubt_error{"simulated: connection lost during COMMIT"};
    };
    pgqpp::async_producer producer{io_, config(), options};
    async_outcomes out{10};
    for (int i = 0; i < 10; ++i) producer.async_insert("q", out.event(i), out.handler(i));
    io_.run();
    out.expect_all_ok();
    out.expect_exactly_the_committed_events(conn_, "q");
    EXPECT_EQ(producer.stats().in_doubt, 1u);
    EXPECT_EQ(producer.stats().retries, 0u);
}

TEST_P(AsyncProducer, ConnectionLostDuringCommitIsResolvedThenRetriedOnce) {
    pqxx::connection killer{db_.conninfo()};
    std::atomic<int> faults{0};
    pgqpp::async_producer_options options;
    options.test_hook = [&](const char* point, int pid) {
        // The backend dies before COMMIT arrives: libpqxx reports the commit "in doubt";
        // txid_status() says it aborted, so the group must run again, exactly once.
        if (std::string{point} == "before_commit" && faults++ == 0) {
            pqxx::nontransaction n{killer};
            n.exec("select pg_terminate_backend(" + std::to_string(pid) + ", 10000)");
        }
    };
    pgqpp::async_producer producer{io_, config(), options};
    async_outcomes out{10};
    for (int i = 0; i < 10; ++i) producer.async_insert("q", out.event(i), out.handler(i));
    io_.run();
    out.expect_all_ok();
    out.expect_exactly_the_committed_events(conn_, "q");
    const auto stats = producer.stats();
    EXPECT_EQ(stats.in_doubt, 1u);
    EXPECT_GE(stats.retries, 1u);
    EXPECT_GE(stats.reconnects, 1u);
}

TEST_P(AsyncProducer, BackendsKilledAtRandomLoseAndDuplicateNothing) {
    constexpr int total = 6000;
    pgqpp::async_producer_options options;
    options.connections = 2;
    options.max_group_events = 200;
    pgqpp::async_producer producer{io_, config(), options};
    async_outcomes out{total};
    auto guard = boost::asio::make_work_guard(io_);
    std::thread runner{[&] { io_.run(); }};

    std::atomic<bool> done{false};
    std::atomic<int> kills{0};
    std::thread killer{[&] {
        pqxx::connection k{db_.conninfo()};
        std::mt19937 rng{12345};
        while (!done) {
            std::this_thread::sleep_for(std::chrono::milliseconds{5 + rng() % 30});
            pqxx::nontransaction n{k};
            kills += n.exec1("select count(pg_terminate_backend(pid)) from pg_stat_activity"
                             " where datname = current_database()"
                             " and application_name = 'pgqpp_async_producer'")[0]
                         .as<int>();
        }
    }};
    for (int i = 0; i < total; ++i) {
        producer.async_insert("q", out.event(i), out.handler(i));
        if (i % 100 == 99) std::this_thread::sleep_for(2ms);  // spread over ~0.1-1 s
    }
    ASSERT_TRUE(wait_for(120s, [&] { return out.completed() == total; }));
    done = true;
    killer.join();
    guard.reset();
    runner.join();

    // Every completion is a commit or a clear failure; the committed ones are exactly the
    // events in the queue.
    out.expect_only_clear_failures();
    out.expect_exactly_the_committed_events(conn_, "q");
    const auto stats = producer.stats();
    std::cout << "kills=" << kills << " committed=" << stats.committed
              << " failed=" << stats.failed << " retries=" << stats.retries
              << " in_doubt=" << stats.in_doubt << " unknown=" << stats.in_doubt_unknown
              << " reconnects=" << stats.reconnects << " transactions=" << stats.transactions
              << '\n';
    EXPECT_GT(kills.load(), 0);
    // With a 30 s request timeout and a server that stays up, nothing should fail.
    EXPECT_EQ(stats.committed, static_cast<std::uint64_t>(total));
}

// ---- behaviour that does not depend on the pgq implementation: ours only ---------------

class AsyncProducerOurs : public AsyncProducer {};
INSTANTIATE_TEST_SUITE_P(Ours, AsyncProducerOurs, ::testing::Values(template_kind::ours), name_of);

TEST_P(AsyncProducerOurs, InvalidInputCompletesAtOnceThroughTheExecutor) {
    pgqpp::async_producer_options options;
    options.limits.max_event_bytes = 1000;
    pgqpp::async_producer producer{io_, config(), options};
    async_outcomes out{3};
    producer.async_insert("", out.event(0), out.handler(0));
    producer.async_insert("q", {"t", "bad \xFF"}, out.handler(1));
    producer.async_insert("q", {"t", std::string(1001, 'x')}, out.handler(2));
    EXPECT_EQ(out.completed(), 0) << "a handler ran inside async_insert()";
    io_.run();
    for (int i = 0; i < 3; ++i)
        EXPECT_EQ(out.at(i).ec, pgqpp::make_error_code(pgqpp::errc::invalid_argument)) << i;
    EXPECT_EQ(producer.stats().accepted, 0u);
}

TEST_P(AsyncProducerOurs, QueueFullBeyondMaxPending) {
    pgqpp::async_producer_options options;
    options.max_pending = 2;
    pgqpp::async_producer producer{io_, config(), options};
    async_outcomes out{3};
    queue_lock lock{db_.conninfo()};
    producer.async_insert("q", out.event(0), out.handler(0));  // in a (blocked) transaction
    ASSERT_TRUE(wait_for(10s, [&] { return producer_waits(); }));
    producer.async_insert("q", out.event(1), out.handler(1));  // waiting
    producer.async_insert("q", out.event(2), out.handler(2));  // one too many
    io_.poll();
    ASSERT_TRUE(wait_for(10s, [&] {
        io_.poll();
        return out.completed() == 1;
    }));
    EXPECT_EQ(out.at(2).ec, pgqpp::make_error_code(pgqpp::errc::queue_full));
    lock.release();
    io_.run();
    EXPECT_FALSE(out.at(0).ec);
    EXPECT_FALSE(out.at(1).ec);
}

TEST_P(AsyncProducerOurs, DatabaseUnavailableAfterTheRequestTimeout) {
    pgqpp::async_producer_options options;
    options.request_timeout = 300ms;
    pgqpp::async_producer producer{
        io_, pgqpp::connection_config{"host=/nonexistent-pgqpp-socket port=5 dbname=x"}, options};
    async_outcomes out{5};
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 5; ++i) producer.async_insert("q", out.event(i), out.handler(i));
    io_.run();
    const auto took = std::chrono::steady_clock::now() - t0;
    for (int i = 0; i < 5; ++i)
        EXPECT_EQ(out.at(i).ec, pgqpp::make_error_code(pgqpp::errc::database_unavailable)) << i;
    EXPECT_LT(took, 10s);
}

TEST_P(AsyncProducerOurs, StopWithoutDrainFailsWaitingRequestsButFinishesTheRunningOne) {
    pgqpp::async_producer producer{io_, config()};
    async_outcomes out{6};
    queue_lock lock{db_.conninfo()};
    producer.async_insert("q", out.event(0), out.handler(0));
    ASSERT_TRUE(wait_for(10s, [&] { return producer_waits(); }));
    for (int i = 1; i < 5; ++i) producer.async_insert("q", out.event(i), out.handler(i));
    std::thread stopper{[&] { producer.stop(false); }};
    ASSERT_TRUE(wait_for(10s, [&] {
        io_.poll();
        return out.completed() == 4;
    }));
    lock.release();
    stopper.join();
    producer.async_insert("q", out.event(5), out.handler(5));
    io_.run();
    EXPECT_FALSE(out.at(0).ec) << out.at(0).ec.message();
    for (int i = 1; i < 6; ++i)
        EXPECT_EQ(out.at(i).ec, pgqpp::make_error_code(pgqpp::errc::shutting_down)) << i;
    out.expect_exactly_the_committed_events(conn_, "q");
}

TEST_P(AsyncProducerOurs, DestructorDrainsAcceptedRequests) {
    async_outcomes out{50};
    {
        pgqpp::async_producer producer{io_, config()};
        for (int i = 0; i < 50; ++i) producer.async_insert("q", out.event(i), out.handler(i));
    }  // stop(true): waits until all 50 are committed
    io_.run();
    out.expect_all_ok();
    out.expect_exactly_the_committed_events(conn_, "q");
}

}  // namespace
