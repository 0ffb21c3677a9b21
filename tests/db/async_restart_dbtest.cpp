// The async producer while the database crash-restarts (`pg_ctl restart -m immediate`) in
// the middle of a stream of requests, on ours and on the real PgQ: each completion reports
// either a commit or a clear failure, and afterwards the committed requests are exactly the
// events in the queue, each once. Runs on a private cluster: the shared one serves other
// tests at the same time.
#include "async_test_support.hpp"
#include "private_cluster.hpp"
#include "wait_until.hpp"

#include <pgqpp/admin.hpp>
#include <pgqpp/async_producer.hpp>

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include <atomic>
#include <chrono>
#include <iostream>
#include <memory>
#include <thread>

namespace {

using namespace std::chrono_literals;
using pgqpp::test::async_outcomes;
using pgqpp::test::private_cluster;
using pgqpp::test::template_kind;
using pgqpp::test::wait_for;

class AsyncRestart : public ::testing::TestWithParam<template_kind> {
protected:
    static void SetUpTestSuite() { cluster_ = std::make_unique<private_cluster>(); }
    static void TearDownTestSuite() { cluster_.reset(); }
    static std::unique_ptr<private_cluster> cluster_;
};

std::unique_ptr<private_cluster> AsyncRestart::cluster_;

std::string name_of(const ::testing::TestParamInfo<template_kind>& info) {
    return std::string{pgqpp::test::to_string(info.param)};
}

INSTANTIATE_TEST_SUITE_P(Both, AsyncRestart,
                         ::testing::Values(template_kind::ours, template_kind::pgq), name_of);

TEST_P(AsyncRestart, EveryCompletionIsACommitOrAClearFailureAndNothingIsLostOrDuplicated) {
    const std::string db = "restart_" + std::string{pgqpp::test::to_string(GetParam())};
    const std::string conninfo = cluster_->create_database(db, GetParam());
    {
        pqxx::connection conn{conninfo};
        pgqpp::admin{conn}.create_queue("q");
    }

    constexpr int total = 8000;
    boost::asio::io_context io;
    async_outcomes out{total};
    std::atomic<bool> restarted{false};
    pgqpp::async_producer_options options;
    options.max_group_events = 500;
    options.request_timeout = 60s;
    options.reconnect_max_delay = 200ms;
    // The crash comes when about a third of the requests have completed, right before a
    // COMMIT is sent: that transaction's outcome is in doubt and must be resolved after the
    // restart, while more requests keep arriving and wait for the server.
    options.test_hook = [&](const char* point, int) {
        if (std::string{point} == "before_commit" && out.completed() >= total / 3 &&
            !restarted.exchange(true)) {
            cluster_->restart_immediate();
        }
    };
    pgqpp::async_producer producer{io, pgqpp::connection_config{conninfo}, options};
    auto guard = boost::asio::make_work_guard(io);
    std::thread runner{[&] { io.run(); }};

    for (int i = 0; i < total; ++i) {
        producer.async_insert("q", out.event(i), out.handler(i));
        if (i % 40 == 39) std::this_thread::sleep_for(12ms);
    }
    ASSERT_TRUE(wait_for(120s, [&] { return out.completed() == total; }))
        << out.completed() << " of " << total << " completed";
    guard.reset();
    runner.join();

    const auto stats = producer.stats();
    std::cout << "committed=" << stats.committed << " failed=" << stats.failed
              << " retries=" << stats.retries << " in_doubt=" << stats.in_doubt
              << " unknown=" << stats.in_doubt_unknown << " reconnects=" << stats.reconnects
              << " transactions=" << stats.transactions << '\n';
    EXPECT_TRUE(restarted.load());
    EXPECT_GE(stats.reconnects, 1u) << "the restart did not hit the producer";
    EXPECT_GE(stats.in_doubt, 1u) << "no COMMIT was in doubt";

    out.expect_only_clear_failures();
    pqxx::connection conn{conninfo};
    out.expect_exactly_the_committed_events(conn, "q");
    // The server was back within seconds and requests may wait 60 s: none may time out. (A
    // COMMIT in doubt that cannot be resolved is the only acceptable failure.)
    int unavailable = 0;
    for (int i = 0; i < total; ++i)
        unavailable += out.at(i).ec == pgqpp::make_error_code(pgqpp::errc::database_unavailable);
    EXPECT_EQ(unavailable, 0);
}

}  // namespace
