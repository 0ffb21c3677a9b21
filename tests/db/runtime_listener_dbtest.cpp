// Wake-up on tick (runtime/tick_waiter.hpp, runtime/listener.hpp) against the test server:
// our SQL's ticker sends NOTIFY pgq_tick; the real PgQ sends nothing and the poll timeout
// takes over. Also: re-LISTEN after the connection is killed, retries around connecting.
#include "pg_test_env.hpp"
#include "test_database.hpp"

#include <pgqpp/admin.hpp>
#include <pgqpp/error.hpp>
#include <pgqpp/runtime/retry.hpp>
#include <pgqpp/runtime/tick_waiter.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include <chrono>
#include <future>
#include <optional>
#include <thread>

namespace rt = pgqpp::runtime;
using pgqpp::test::template_kind;
using namespace std::chrono_literals;

namespace {

/// Runs @p io until @p done() or 60 s (generous: the machine is shared); true if done.
template <class Pred>
bool run_until(boost::asio::io_context& io, Pred done, std::chrono::seconds limit = 60s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    io.restart();
    while (!done()) {
        if (std::chrono::steady_clock::now() >= deadline) return false;
        io.run_one_for(50ms);
        if (io.stopped()) io.restart();
    }
    return true;
}

/// Makes one tick of @p queue for sure (force_tick, then ticker, each committed), as a
/// ticker daemon would.
void tick(pqxx::connection& conn, const std::string& queue) {
    pgqpp::admin admin{conn};
    admin.force_tick(queue);
    ASSERT_TRUE(admin.ticker(queue).has_value());
}

/// Outcome of one wait.
struct outcome {
    bool done = false;
    boost::system::error_code ec;
    rt::wake_reason reason{};
    std::chrono::steady_clock::time_point at;
};

auto record(outcome& o) {
    return [&o](boost::system::error_code ec, rt::wake_reason r) {
        EXPECT_FALSE(o.done) << "completed twice";
        o.done = true;
        o.ec = ec;
        o.reason = r;
        o.at = std::chrono::steady_clock::now();
    };
}

rt::listener_options fast_reconnect(std::string application_name = "pgqpp_listener_test") {
    rt::listener_options o;
    o.reconnect = {20ms, 200ms, 2.0, 0.1};
    o.application_name = std::move(application_name);
    return o;
}

/// A database with a queue, a tick_waiter listening on it, and a connection for the ticker.
struct fixture {
    pgqpp::test::test_database db;
    std::string queue = "q_runtime";
    pqxx::connection ticker_conn;
    boost::asio::io_context io;
    rt::tick_waiter waiter;

    explicit fixture(template_kind kind, rt::listener_options o = fast_reconnect())
        : db{kind}, ticker_conn{db.conninfo()},
          waiter{io.get_executor(), pgqpp::connection_config{db.conninfo()}, std::move(o),
                 rt::log_context{db.name()}} {
        pgqpp::admin{ticker_conn}.create_queue(queue);
        pgqpp::admin{ticker_conn}.create_queue("q_other");
    }

    void start_and_wait_listening() {
        waiter.start();
        ASSERT_TRUE(run_until(io, [&] { return waiter.state() == rt::listener_state::listening; }))
            << "LISTEN connection did not come up: " << rt::to_string(waiter.state());
        // Drain the listener_ready wake-up of the first connect (no waits were pending).
        io.restart();
        io.poll();
    }
};

}  // namespace

TEST(TickWaiter, WakesOnOurTickerNotify) {
    fixture f{template_kind::ours};
    f.start_and_wait_listening();
    outcome o;
    f.waiter.async_wait_for_tick(f.queue, 10min, record(o));
    // Idle with a wait pending: the socket does not wake the loop (no busy polling).
    const auto wakeups = f.waiter.stats().wakeups;
    f.io.restart();
    f.io.run_for(300ms);
    EXPECT_FALSE(o.done);
    EXPECT_EQ(f.waiter.stats().wakeups, wakeups);

    tick(f.ticker_conn, f.queue);
    ASSERT_TRUE(run_until(f.io, [&] { return o.done; }));
    EXPECT_FALSE(o.ec) << o.ec.message();
    EXPECT_EQ(o.reason, rt::wake_reason::notified);
    EXPECT_EQ(f.waiter.stats().notifications, 1u);
    EXPECT_LE(f.waiter.stats().wakeups - wakeups, 2u);
}

TEST(TickWaiter, TicksOfOtherQueuesDoNotWake) {
    fixture f{template_kind::ours};
    f.start_and_wait_listening();
    outcome mine;
    outcome other;
    f.waiter.async_wait_for_tick(f.queue, 500ms, record(mine));
    f.waiter.async_wait_for_tick("q_other", 10min, record(other));
    tick(f.ticker_conn, "q_other");
    ASSERT_TRUE(run_until(f.io, [&] { return mine.done && other.done; }));
    EXPECT_EQ(other.reason, rt::wake_reason::notified);
    EXPECT_EQ(mine.reason, rt::wake_reason::timeout);
}

TEST(TickWaiter, SeveralWaitersOnOneQueueAllWake) {
    fixture f{template_kind::ours};
    f.start_and_wait_listening();
    outcome a;
    outcome b;
    f.waiter.async_wait_for_tick(f.queue, 10min, record(a));
    f.waiter.async_wait_for_tick(f.queue, 10min, record(b));
    tick(f.ticker_conn, f.queue);
    ASSERT_TRUE(run_until(f.io, [&] { return a.done && b.done; }));
    EXPECT_EQ(a.reason, rt::wake_reason::notified);
    EXPECT_EQ(b.reason, rt::wake_reason::notified);
}

TEST(TickWaiter, ATickBetweenWaitsIsNotSleptThrough) {
    fixture f{template_kind::ours};
    f.start_and_wait_listening();
    outcome first;
    f.waiter.async_wait_for_tick(f.queue, 1ms, record(first));  // e.g. an idle poll
    ASSERT_TRUE(run_until(f.io, [&] { return first.done; }));
    EXPECT_EQ(first.reason, rt::wake_reason::timeout);

    // The tick arrives while nobody waits (the consumer is between next_batch and the wait).
    tick(f.ticker_conn, f.queue);
    ASSERT_TRUE(run_until(f.io, [&] { return f.waiter.stats().notifications == 1; }));
    outcome second;
    f.waiter.async_wait_for_tick(f.queue, 10min, record(second));
    ASSERT_TRUE(run_until(f.io, [&] { return second.done; }));
    EXPECT_EQ(second.reason, rt::wake_reason::notified);

    // ...and it counts once: the next wait sleeps until its timeout.
    outcome third;
    f.waiter.async_wait_for_tick(f.queue, 200ms, record(third));
    ASSERT_TRUE(run_until(f.io, [&] { return third.done; }));
    EXPECT_EQ(third.reason, rt::wake_reason::timeout);
}

TEST(TickWaiter, RealPgqSendsNoNotifySoThePollTimeoutWakes) {
    fixture f{template_kind::pgq};
    f.start_and_wait_listening();
    outcome o;
    const auto start = std::chrono::steady_clock::now();
    f.waiter.async_wait_for_tick(f.queue, 400ms, record(o));
    tick(f.ticker_conn, f.queue);  // a real tick, but the real PgQ does not notify
    ASSERT_TRUE(run_until(f.io, [&] { return o.done; }));
    EXPECT_FALSE(o.ec);
    EXPECT_EQ(o.reason, rt::wake_reason::timeout);
    EXPECT_GE(o.at - start, 400ms);
    EXPECT_EQ(f.waiter.stats().notifications, 0u);
}

TEST(TickWaiter, ListensAgainAfterTheConnectionIsKilled) {
    fixture f{template_kind::ours, fast_reconnect("pgqpp_relisten_test")};
    f.start_and_wait_listening();
    const int first_pid = f.waiter.backend_pid();
    ASSERT_GT(first_pid, 0);

    outcome lost;
    f.waiter.async_wait_for_tick(f.queue, 10min, record(lost));
    pqxx::connection admin{pgqpp::test::pg_test_env::get().admin_conninfo()};
    {
        pqxx::work tx{admin};
        tx.exec_params("select pg_terminate_backend($1)", first_pid);
        tx.commit();
    }
    ASSERT_TRUE(run_until(f.io, [&] { return lost.done; }));
    EXPECT_EQ(lost.ec, pgqpp::make_error_code(pgqpp::errc::connection_lost));
    EXPECT_EQ(lost.reason, rt::wake_reason::listener_lost);

    // The next wait ends when LISTEN is back (ticks may have been missed meanwhile)...
    outcome ready;
    f.waiter.async_wait_for_tick(f.queue, 10min, record(ready));
    ASSERT_TRUE(run_until(f.io, [&] { return ready.done; }));
    EXPECT_FALSE(ready.ec);
    EXPECT_EQ(ready.reason, rt::wake_reason::listener_ready);
    EXPECT_EQ(f.waiter.state(), rt::listener_state::listening);
    EXPECT_NE(f.waiter.backend_pid(), first_pid);
    EXPECT_EQ(f.waiter.stats().connects, 2u);

    // ...and notifications arrive on the new connection.
    outcome notified;
    f.waiter.async_wait_for_tick(f.queue, 10min, record(notified));
    tick(f.ticker_conn, f.queue);
    ASSERT_TRUE(run_until(f.io, [&] { return notified.done; }));
    EXPECT_EQ(notified.reason, rt::wake_reason::notified);
}

TEST(TickWaiter, StopCancelsWaits) {
    fixture f{template_kind::ours};
    f.start_and_wait_listening();
    outcome o;
    f.waiter.async_wait_for_tick(f.queue, 10min, record(o));
    f.waiter.stop();
    ASSERT_TRUE(run_until(f.io, [&] { return o.done; }));
    EXPECT_EQ(o.ec, boost::asio::error::operation_aborted);
    EXPECT_EQ(o.reason, rt::wake_reason::cancelled);
    EXPECT_EQ(f.waiter.state(), rt::listener_state::stopped);
}

TEST(TickWaiter, WorksWithOtherCompletionTokens) {
    fixture f{template_kind::ours};
    f.start_and_wait_listening();
    auto work = boost::asio::make_work_guard(f.io);
    f.io.restart();
    std::thread loop{[&] { f.io.run(); }};
    // The waiter is used on its loop's thread; the test thread only waits for the future.
    std::promise<std::future<rt::wake_reason>> started;
    boost::asio::post(f.io, [&] {
        started.set_value(f.waiter.async_wait_for_tick(f.queue, 100ms, boost::asio::use_future));
    });
    EXPECT_EQ(started.get_future().get().get(), rt::wake_reason::timeout);
    work.reset();
    f.io.stop();
    loop.join();
}

TEST(TickWaiter, UnreachableServerMeansWaitsJustTimeOut) {
    boost::asio::io_context io;
    // Nothing listens on port 1 of localhost: every attempt is refused at once.
    rt::tick_waiter waiter{io.get_executor(),
                           pgqpp::connection_config{"host=127.0.0.1 port=1 dbname=x"},
                           fast_reconnect(), rt::log_context{"unreachable"}};
    waiter.start();
    outcome o;
    waiter.async_wait_for_tick("q", 300ms, record(o));
    ASSERT_TRUE(run_until(io, [&] { return o.done; }));
    EXPECT_FALSE(o.ec);  // failed connects are not reported to waits: they poll
    EXPECT_EQ(o.reason, rt::wake_reason::timeout);
    EXPECT_GE(waiter.stats().failures, 1u);
    EXPECT_NE(waiter.state(), rt::listener_state::listening);
}

TEST(TickWaiter, MissingDatabaseKeepsRetryingWithBackoff) {
    boost::asio::io_context io;
    rt::tick_waiter waiter{io.get_executor(),
                           pgqpp::connection_config{
                               pgqpp::test::pg_test_env::get().conninfo("no_such_database_xyz")},
                           fast_reconnect(), rt::log_context{"missing"}};
    waiter.start();
    ASSERT_TRUE(run_until(io, [&] { return waiter.stats().failures >= 3; }));
    EXPECT_EQ(waiter.stats().connects, 0u);
}

TEST(RetrierAroundConnect, RetriesAnUnreachableServerButNotAMissingQueue) {
    pgqpp::test::test_database db{template_kind::ours};
    boost::asio::io_context io;

    // A missing queue is a permanent failure: one attempt, then the program exits.
    rt::retrier startup{io.get_executor(), {10ms, 50ms, 2.0, 0.0}, rt::log_context{"test"},
                        "startup"};
    int attempts = 0;
    std::optional<std::exception_ptr> outcome;
    std::unique_ptr<pqxx::connection> conn;
    startup.async_run(
        [&] {
            ++attempts;
            conn = pgqpp::connection_config{db.conninfo()}.connect();
            if (!pgqpp::admin{*conn}.queue_info("no_such_queue"))
                throw pgqpp::no_such_queue{"queue no_such_queue does not exist"};
        },
        [&](std::exception_ptr e) { outcome = e; });
    ASSERT_TRUE(run_until(io, [&] { return outcome.has_value(); }));
    EXPECT_EQ(attempts, 1);
    ASSERT_NE(*outcome, nullptr);
    EXPECT_EQ(rt::classify_failure(*outcome), rt::failure_kind::permanent);

    // A server that refuses connections is retried (here until it has failed 3 times).
    attempts = 0;
    outcome.reset();
    rt::retrier connect{io.get_executor(), {10ms, 50ms, 2.0, 0.0}, rt::log_context{"test"},
                        "connect"};
    connect.async_run(
        [&] {
            if (++attempts <= 3) {
                pgqpp::connection_config{"host=127.0.0.1 port=1 dbname=x connect_timeout=5"}
                    .connect();
            }
            conn = pgqpp::connection_config{db.conninfo()}.connect();
        },
        [&](std::exception_ptr e) { outcome = e; });
    ASSERT_TRUE(run_until(io, [&] { return outcome.has_value(); }));
    EXPECT_EQ(*outcome, nullptr);
    EXPECT_EQ(attempts, 4);
}
