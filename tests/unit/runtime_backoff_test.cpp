// Backoff bounds with an injected random source, failure classification, and the retry
// loop on an io_context (runtime/backoff.hpp, runtime/retry.hpp).
#include <pgqpp/runtime/backoff.hpp>
#include <pgqpp/runtime/config.hpp>
#include <pgqpp/runtime/retry.hpp>

#include <pgqpp/error.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/system/system_error.hpp>
#include <gtest/gtest.h>

namespace rt = pgqpp::runtime;
using namespace std::chrono_literals;

namespace {
rt::backoff::random_source constant(double u) {
    return [u] { return u; };
}
}  // namespace

TEST(Backoff, GrowsByTheMultiplierUpToTheMaximum) {
    rt::backoff b{{100ms, 1s, 2.0, 0.0}};
    EXPECT_EQ(b.next_delay(), 100ms);
    EXPECT_EQ(b.next_delay(), 200ms);
    EXPECT_EQ(b.next_delay(), 400ms);
    EXPECT_EQ(b.next_delay(), 800ms);
    EXPECT_EQ(b.next_delay(), 1s);
    EXPECT_EQ(b.next_delay(), 1s);
    EXPECT_EQ(b.failures(), 6u);
    b.reset();
    EXPECT_EQ(b.failures(), 0u);
    EXPECT_EQ(b.next_delay(), 100ms);
}

TEST(Backoff, JitterStaysWithinItsBoundsAndNeverExceedsMax) {
    // Lowest random draw: initial * (1 - jitter); highest: initial * (1 + jitter).
    rt::backoff low{{100ms, 10s, 2.0, 0.2}, constant(0.0)};
    EXPECT_EQ(low.next_delay(), 80ms);
    EXPECT_EQ(low.next_delay(), 160ms);
    rt::backoff high{{100ms, 10s, 2.0, 0.2}, constant(0.999999)};
    EXPECT_NEAR(std::chrono::duration<double>(high.next_delay()).count(), 0.12, 1e-4);
    rt::backoff mid{{100ms, 10s, 2.0, 0.2}, constant(0.5)};
    EXPECT_EQ(mid.next_delay(), 100ms);
    // At the cap, the upper jitter is cut to max.
    rt::backoff capped{{1s, 1s, 2.0, 0.5}, constant(0.999)};
    for (int i = 0; i < 5; ++i) EXPECT_LE(capped.next_delay(), 1s);
    // A random source out of range is clamped, not trusted.
    rt::backoff wild{{100ms, 1s, 2.0, 0.5}, constant(7.0)};
    EXPECT_EQ(wild.next_delay(), 150ms);
}

TEST(Backoff, RealRandomnessStaysInBoundsForManyFailures) {
    rt::backoff b{{10ms, 2s, 3.0, 0.3}};
    for (int i = 0; i < 5000; ++i) {
        const auto d = b.next_delay();
        ASSERT_GE(d, 7ms);
        ASSERT_LE(d, 2s);
    }
}

TEST(Backoff, RejectsOptionsOutOfRange) {
    EXPECT_THROW(rt::backoff({0ms, 1s, 2.0, 0.1}), std::invalid_argument);
    EXPECT_THROW(rt::backoff({2s, 1s, 2.0, 0.1}), std::invalid_argument);
    EXPECT_THROW(rt::backoff({1s, 2s, 0.5, 0.1}), std::invalid_argument);
    EXPECT_THROW(rt::backoff({1s, 2s, 2.0, 1.5}), std::invalid_argument);
}

TEST(ClassifyFailure, BadSettingsAndMissingObjectsArePermanent) {
    const auto kind = [](auto e) { return rt::classify_failure(std::make_exception_ptr(e)); };
    using rt::failure_kind;
    EXPECT_EQ(kind(pgqpp::invalid_argument{"invalid connection string"}), failure_kind::permanent);
    EXPECT_EQ(kind(rt::config_error{"x"}), failure_kind::permanent);
    EXPECT_EQ(kind(pgqpp::no_such_queue{"No such queue"}), failure_kind::permanent);
    EXPECT_EQ(kind(pgqpp::not_registered{"Not subscriber"}), failure_kind::permanent);
    EXPECT_EQ(kind(pgqpp::pgq_not_installed{"no pgq"}), failure_kind::permanent);
    EXPECT_EQ(kind(pgqpp::permission_denied{"denied"}), failure_kind::permanent);
    EXPECT_EQ(kind(std::logic_error{"bug"}), failure_kind::permanent);

    EXPECT_EQ(kind(pgqpp::connection_lost{"gone"}), failure_kind::transient);
    EXPECT_EQ(kind(pgqpp::transaction_rollback{"deadlock"}), failure_kind::transient);
    EXPECT_EQ(kind(pgqpp::commit_in_doubt{"?"}), failure_kind::transient);
    EXPECT_EQ(kind(pgqpp::error{pgqpp::errc::server_error, "statement timeout"}),
              failure_kind::transient);
    EXPECT_EQ(kind(std::runtime_error{"whatever"}), failure_kind::transient);
    EXPECT_EQ(rt::describe_failure(std::make_exception_ptr(std::runtime_error{"boom"})), "boom");
    EXPECT_EQ(rt::describe_failure(std::make_exception_ptr(42)), "unknown exception");
}

TEST(Retrier, RetriesTransientFailuresWithBackoffUntilSuccess) {
    boost::asio::io_context io;
    rt::retrier r{io.get_executor(), {1ms, 4ms, 2.0, 0.0}, {}, "connect"};
    std::vector<rt::duration> delays;
    r.on_retry([&](std::exception_ptr, rt::duration d) { delays.push_back(d); });
    int attempts = 0;
    bool done = false;
    std::exception_ptr outcome = std::make_exception_ptr(1);
    r.async_run(
        [&] {
            if (++attempts < 5) throw pgqpp::connection_lost{"server closed the connection"};
        },
        [&](std::exception_ptr e) {
            done = true;
            outcome = e;
        });
    EXPECT_EQ(attempts, 0);  // never inside async_run()
    io.run_for(30s);
    EXPECT_TRUE(done);
    EXPECT_EQ(outcome, nullptr);
    EXPECT_EQ(attempts, 5);
    EXPECT_EQ(delays, (std::vector<rt::duration>{1ms, 2ms, 4ms, 4ms}));
    EXPECT_EQ(r.policy().failures(), 0u);  // reset after the success
    EXPECT_FALSE(r.running());
}

TEST(Retrier, StopsAtOnceOnAPermanentFailure) {
    boost::asio::io_context io;
    rt::retrier r{io.get_executor(), {1ms, 4ms, 2.0, 0.0}, {}, "connect"};
    int attempts = 0;
    std::exception_ptr outcome;
    r.async_run(
        [&] {
            ++attempts;
            throw pgqpp::no_such_queue{"No such queue"};
        },
        [&](std::exception_ptr e) { outcome = e; });
    io.run_for(30s);
    EXPECT_EQ(attempts, 1);
    ASSERT_NE(outcome, nullptr);
    EXPECT_THROW(std::rethrow_exception(outcome), pgqpp::no_such_queue);
}

TEST(Retrier, CancelEndsTheRunWithOperationAborted) {
    boost::asio::io_context io;
    rt::retrier r{io.get_executor(), {1h, 1h, 2.0, 0.0}, {}, "connect"};
    int attempts = 0;
    std::exception_ptr outcome;
    r.async_run([&] { ++attempts; throw std::runtime_error{"down"}; },
                [&](std::exception_ptr e) { outcome = e; });
    io.run_for(20ms);  // first attempt fails, then it waits an hour
    EXPECT_EQ(attempts, 1);
    EXPECT_TRUE(r.running());
    r.cancel();
    io.restart();
    io.run_for(1s);
    ASSERT_NE(outcome, nullptr);
    try {
        std::rethrow_exception(outcome);
    } catch (const boost::system::system_error& e) {
        EXPECT_EQ(e.code(), boost::asio::error::operation_aborted);
    }
    EXPECT_EQ(attempts, 1);
}

TEST(Retrier, CustomClassification) {
    boost::asio::io_context io;
    rt::retrier r{io.get_executor(), {1ms, 1ms, 2.0, 0.0}, {}, "check",
                  [](std::exception_ptr) { return rt::failure_kind::transient; }};
    int attempts = 0;
    bool ok = false;
    r.async_run([&] { if (++attempts < 3) throw pgqpp::pgq_not_installed{"later"}; },
                [&](std::exception_ptr e) { ok = e == nullptr; });
    io.run_for(30s);
    EXPECT_TRUE(ok);
    EXPECT_EQ(attempts, 3);
}
