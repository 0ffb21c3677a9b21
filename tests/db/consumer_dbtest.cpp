// The consumer's batch loop (consumer/): every committed event delivered once, in order,
// streamed in chunks; local exactly-once commits the handler's rows with finish_batch; a
// failed batch comes back whole; retries come back after pgq.maint_retry_events(); batch
// selection options. On our SQL and on the real PgQ.
#include "sql_helpers.hpp"
#include "test_database.hpp"

#include <pgqpp/consumer/consumer.hpp>
#include <pgqpp/error.hpp>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include <algorithm>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {

using pgqpp::test::execute;
using pgqpp::test::template_kind;
using pgqpp::test::test_database;
namespace pc = pgqpp::consumer;

class ConsumerTest : public ::testing::TestWithParam<template_kind> {
protected:
    void SetUp() override {
        db_ = std::make_unique<test_database>(GetParam());
        conn_ = std::make_unique<pqxx::connection>(db_->conninfo());
        execute(*conn_, "select pgq.create_queue('q')");
        execute(*conn_, "select pgq.set_queue_config('q', 'ticker_max_lag', '0')");
        execute(*conn_, "select pgq.set_queue_config('q', 'ticker_idle_period', '0')");
        execute(*conn_, "create table sink (ev_id bigint primary key, ev_data text)");
    }

    /// @p n events in transactions of @p per_tx, then a tick.
    void produce(int n, int per_tx = 100, const std::string& type = "t") {
        for (int i = 0; i < n; i += per_tx) {
            pqxx::work tx{*conn_};
            tx.exec_params("select pgq.insert_event('q', $1, g::text) "
                           "from generate_series($2::int, $3::int) g",
                           type, i, std::min(n, i + per_tx) - 1);
            tx.commit();
        }
        tick();
    }
    void tick() { execute(*conn_, "select pgq.ticker('q')"); }

    /// An at-least-once consumer of 'q' that records the ids it is given and throws at its
    /// @p fail_at-th call while @p fail is set.
    static pc::consumer failing_consumer(int fail_at, std::int64_t fetch_size, const bool& fail,
                                         std::set<std::int64_t>& seen) {
        return pc::consumer{"q", "c1", pc::delivery::at_least_once,
                            [&fail, &seen, fail_at, calls = 0](const pc::event& ev,
                                                               pc::batch_context&) mutable {
                                if (++calls == fail_at && fail)
                                    throw std::runtime_error{"handler failed"};
                                seen.insert(ev.id);
                                return pc::outcome::done();
                            },
                            pc::batch_options{{}, {}, {}, fetch_size, {}}};
    }

    /// A remote target (a database of its own with pgq_ext and table sink) and a queue
    /// connection with a lock_timeout: finish_batch on it fails while hold_subscriptions()
    /// holds the consumers' rows (call it from a handler: next_batch is done by then).
    struct blocked_finish {
        test_database target_db;
        pqxx::connection target;
        pqxx::connection queue;
        std::optional<pqxx::work> blocker;

        blocked_finish(const std::string& queue_conninfo, const char* target_name)
            : target_db{template_kind::ours, target_name}, target{target_db.conninfo()},
              queue{queue_conninfo} {
            execute(target, "create table sink (ev_id bigint, ev_data text)");
            execute(queue, "set lock_timeout = '300ms'");
        }
        void hold_subscriptions(pqxx::connection& conn) {
            blocker.emplace(conn);
            blocker->exec("select 1 from pgq.subscription for update");
        }
        long target_count(const std::string& sql) {
            pqxx::nontransaction tx{target};
            return tx.exec(sql)[0][0].as<long>();
        }
    };

    long count(const std::string& sql) {
        pqxx::nontransaction tx{*conn_};
        return tx.exec(sql)[0][0].as<long>();
    }

    std::unique_ptr<test_database> db_;
    std::unique_ptr<pqxx::connection> conn_;
};

TEST_P(ConsumerTest, DeliversEveryEventOnceInOrderInChunks) {
    std::vector<std::int64_t> seen;
    std::vector<std::int64_t> batch_ids;
    pc::consumer c{"q", "c1", pc::delivery::at_least_once,
                   [&](const pc::event& ev, pc::batch_context& b) {
                       if (!seen.empty() && batch_ids.back() == b.info().batch_id) {
                           EXPECT_GT(ev.id, seen.back()) << "order within a batch";
                       }
                       if (batch_ids.empty() || batch_ids.back() != b.info().batch_id)
                           batch_ids.push_back(b.info().batch_id);
                       seen.push_back(ev.id);
                       EXPECT_THROW(b.tx(), std::logic_error);
                       return pc::outcome::done();
                   },
                   pc::batch_options{{}, {}, {}, 7, {}}};
    c.register_consumer(*conn_);
    tick();
    produce(1000);
    produce(333, 50);
    int batches = 0;
    while (c.process_one(*conn_).got_batch) ++batches;
    EXPECT_GE(batches, 2);
    ASSERT_EQ(seen.size(), 1333u);
    EXPECT_EQ(std::set<std::int64_t>(seen.begin(), seen.end()).size(), 1333u);
    // An empty batch is finished too, and then there is nothing.
    tick();
    auto r = c.process_one(*conn_);
    EXPECT_TRUE(r.got_batch);
    EXPECT_EQ(r.events, 0);
    EXPECT_FALSE(c.process_one(*conn_).got_batch);
    EXPECT_EQ(seen.size(), 1333u);
}

TEST_P(ConsumerTest, EventFieldsArriveAsInserted) {
    std::vector<pc::event> got;
    pc::consumer c{"q", "c1", pc::delivery::at_least_once,
                   [&](const pc::event& ev, pc::batch_context&) {
                       got.push_back(ev);
                       return pc::outcome::done();
                   }};
    c.register_consumer(*conn_);
    std::int64_t txid = 0;
    {
        pqxx::work tx{*conn_};
        tx.exec("select pgq.insert_event('q', 'ty', 'dä''ta\n', 'e1', null, 'e3', '')");
        txid = tx.exec("select txid_current()")[0][0].as<std::int64_t>();
        tx.commit();
    }
    tick();
    // ev_time arrives to the microsecond, whatever the session's time zone
    pqxx::nontransaction{*conn_}.exec("set timezone = 'America/St_Johns'");
    while (c.process_one(*conn_).got_batch) {}
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].type, "ty");
    EXPECT_EQ(got[0].data, "dä'ta\n");
    EXPECT_EQ(got[0].extra1, std::optional<std::string>{"e1"});
    EXPECT_EQ(got[0].extra2, std::nullopt);
    EXPECT_EQ(got[0].extra3, std::optional<std::string>{"e3"});
    EXPECT_EQ(got[0].extra4, std::optional<std::string>{""});
    EXPECT_EQ(got[0].retry, std::nullopt);
    EXPECT_EQ(got[0].txid, txid);
    pqxx::work tx{*conn_};
    const auto stored_us =
        tx.exec("select (extract(epoch from ev_time) * 1000000)::bigint from " +
                tx.exec("select queue_data_pfx from pgq.queue where queue_name = 'q'")[0][0]
                    .as<std::string>() +
                " where ev_id = " + std::to_string(got[0].id))[0][0]
            .as<std::int64_t>();
    EXPECT_EQ(got[0].time.time_since_epoch().count(), stored_us);
    const auto age = std::chrono::system_clock::now() - got[0].time;
    EXPECT_GE(age, std::chrono::seconds{0});
    EXPECT_LT(age, std::chrono::minutes{10});
}

TEST_P(ConsumerTest, LocalExactlyOnceRollsBackAFailedBatchWhole) {
    int calls = 0;
    bool fail = true;
    pc::consumer c{"q", "c1", pc::delivery::local_exactly_once,
                   [&](const pc::event& ev, pc::batch_context& b) {
                       if (++calls == 50 && fail) throw std::runtime_error{"handler failed"};
                       b.tx().exec_params("insert into sink values ($1, $2)", ev.id, ev.data);
                       return pc::outcome::done();
                   }};
    c.register_consumer(*conn_);
    produce(200);
    EXPECT_THROW(c.process_one(*conn_), std::runtime_error);
    EXPECT_EQ(count("select count(*) from sink"), 0);
    fail = false;
    auto r = c.process_one(*conn_);
    EXPECT_TRUE(r.got_batch);
    EXPECT_EQ(r.events, 200);
    EXPECT_EQ(count("select count(*) from sink"), 200);
    EXPECT_FALSE(c.process_one(*conn_).got_batch);
}

// at_least_once sends each next FETCH before the handler runs: a handler failing (or a batch
// handler returning early) with one in flight fails the batch and leaves the connection
// usable, and the batch comes again whole.
TEST_P(ConsumerTest, AtLeastOnceFailingWithAFetchInFlightRedeliversTheBatch) {
    bool fail = true;
    std::set<std::int64_t> seen;
    pc::consumer c = failing_consumer(12, 10, fail, seen);
    c.register_consumer(*conn_);
    produce(95);
    EXPECT_THROW(c.process_one(*conn_), std::runtime_error);
    pc::consumer early{"q", "c1", pc::delivery::at_least_once,
                       [](pc::event_stream& events, pc::batch_context&) { events.next_chunk(); },
                       pc::batch_options{{}, {}, {}, 10, {}}};
    EXPECT_THROW(early.process_one(*conn_), std::logic_error);
    fail = false;
    seen.clear();
    auto r = c.process_one(*conn_);
    EXPECT_TRUE(r.got_batch);
    EXPECT_EQ(r.events, 95);
    EXPECT_EQ(seen.size(), 95u);
    EXPECT_FALSE(c.process_one(*conn_).got_batch);
}

// fetch_connections = 2: a big batch in two parts, the second read by a thread on a helper
// connection; the handler must still see every event once, in ev_id order, across the split.
TEST_P(ConsumerTest, BatchReadInTwoPartsArrivesWholeInOrder) {
    pqxx::connection helper{db_->conninfo()};
    std::vector<std::int64_t> seen;
    std::vector<std::int64_t> retried;
    std::int64_t batch = 0;
    pc::consumer c{"q", "c1", pc::delivery::at_least_once,
                   [&](const pc::event& ev, pc::batch_context& b) {
                       if (b.info().batch_id != batch) batch = b.info().batch_id;
                       else EXPECT_GT(ev.id, seen.back()) << "order within a batch";
                       seen.push_back(ev.id);
                       if (std::stol(ev.data) % 97 == 0 && !ev.retry) {
                           retried.push_back(ev.id);
                           return pc::outcome::retry_after(std::chrono::seconds{0});
                       }
                       return pc::outcome::done();
                   },
                   pc::batch_options{{}, {}, {}, 30, {}}};
    c.register_consumer(*conn_);
    produce(1000, 70);  // 34 chunks of 30: split (>= 2 x fetch_size)
    produce(61, 61);    // 61 events: split, the first part ends on a chunk boundary (30 + 0)
    produce(59, 59);    // under 2 x fetch_size: one cursor
    long retried_reported = 0;
    for (pc::batch_result r; (r = c.process_one(*conn_, nullptr, &helper)).got_batch;)
        retried_reported += r.retried;
    ASSERT_EQ(seen.size(), 1120u);
    EXPECT_EQ(std::set<std::int64_t>(seen.begin(), seen.end()).size(), 1120u);
    // the second parts were read on the helper connection (its last statement: the COMMIT
    // of the part reader's transaction)
    {
        pqxx::nontransaction tx{*conn_};
        EXPECT_EQ(tx.exec_params1("select lower(query) from pg_stat_activity where pid = $1",
                                  helper.backendpid())[0]
                      .as<std::string>(),
                  "commit");
    }
    EXPECT_EQ(retried_reported, static_cast<long>(retried.size()));
    // the retries of both parts come back
    while (count("select pgq.maint_retry_events()") > 0) {}
    tick();
    seen.clear();
    while (c.process_one(*conn_, nullptr, &helper).got_batch) {}
    std::sort(seen.begin(), seen.end());
    std::sort(retried.begin(), retried.end());
    EXPECT_EQ(seen, retried);
}

TEST_P(ConsumerTest, BatchReadInTwoPartsFailingInTheSecondPartRedeliversTheBatch) {
    pqxx::connection helper{db_->conninfo()};
    bool fail = true;
    std::set<std::int64_t> seen;
    pc::consumer c = failing_consumer(450, 20, fail, seen);
    c.register_consumer(*conn_);
    produce(600, 600);
    EXPECT_THROW(c.process_one(*conn_, nullptr, &helper), std::runtime_error);
    fail = false;
    seen.clear();
    // the helper connection is usable again: the part reader's transaction ended
    auto r = c.process_one(*conn_, nullptr, &helper);
    EXPECT_TRUE(r.got_batch);
    EXPECT_EQ(r.events, 600);
    EXPECT_EQ(seen.size(), 600u);
    EXPECT_FALSE(c.process_one(*conn_, nullptr, &helper).got_batch);
}

TEST_P(ConsumerTest, RetriedEventsComeBack) {
    std::vector<std::int64_t> first, again;
    pc::consumer c{"q", "c1", pc::delivery::at_least_once,
                   [&](const pc::event& ev, pc::batch_context&) {
                       if (ev.retry) {
                           again.push_back(ev.id);
                           return pc::outcome::done();
                       }
                       if (ev.type == "retry") {
                           first.push_back(ev.id);
                           return pc::outcome::retry_after(std::chrono::seconds{0});
                       }
                       return pc::outcome::done();
                   }};
    c.register_consumer(*conn_);
    EXPECT_EQ(c.has_bulk_retry(*conn_), GetParam() == template_kind::ours);
    produce(20, 10, "retry");
    produce(30, 10, "plain");
    long retried = 0;
    for (pc::batch_result r; (r = c.process_one(*conn_)).got_batch;) retried += r.retried;
    EXPECT_EQ(retried, 20);
    EXPECT_EQ(first.size(), 20u);
    // PgQ's maint_retry_events moves a few events per call: call it until it moves none.
    while (count("select pgq.maint_retry_events()") > 0) {}
    tick();
    while (c.process_one(*conn_).got_batch) {}
    std::sort(again.begin(), again.end());
    std::sort(first.begin(), first.end());
    EXPECT_EQ(again, first);
}

TEST_P(ConsumerTest, MinCountHoldsBackASmallBatch) {
    pc::consumer c{"q", "c1", pc::delivery::at_least_once,
                   [](const pc::event&, pc::batch_context&) { return pc::outcome::done(); },
                   pc::batch_options{{}, 10, {}, 100, {}}};
    c.register_consumer(*conn_);
    tick();
    produce(3);
    EXPECT_FALSE(c.process_one(*conn_).got_batch);
    produce(20);
    auto r = c.process_one(*conn_);
    EXPECT_TRUE(r.got_batch);
    EXPECT_EQ(r.events, 23);
}

TEST_P(ConsumerTest, DeadLettersByOutcomeAndAfterMaxRetries) {
    pc::batch_options opts;
    opts.max_retries = 1;
    int bad_seen = 0;
    pc::consumer c{"q", "c1", pc::delivery::at_least_once,
                   [&](const pc::event& ev, pc::batch_context&) {
                       if (ev.type == "bad") {
                           ++bad_seen;
                           return pc::outcome::dead_letter("bad event");
                       }
                       if (ev.type == "flaky") return pc::outcome::retry_after(std::chrono::seconds{0});
                       return pc::outcome::done();
                   },
                   opts};
    c.register_consumer(*conn_);
    produce(5, 5, "bad");
    if (GetParam() == template_kind::pgq) {
        EXPECT_FALSE(c.has_dead_letters(*conn_));
        try {
            c.process_one(*conn_);
            FAIL() << "no error without pgq.dead_letter_add";
        } catch (const pgqpp::error& e) {
            EXPECT_EQ(e.code(), pgqpp::errc::feature_not_available);
            EXPECT_NE(std::string{e.what()}.find("dead_letter_add"), std::string::npos);
        }
        return;
    }
    EXPECT_TRUE(c.has_dead_letters(*conn_));
    auto r = c.process_one(*conn_);
    EXPECT_EQ(r.dead, 5);
    produce(3, 3, "flaky");
    r = c.process_one(*conn_);
    EXPECT_EQ(r.retried, 3);
    while (count("select pgq.maint_retry_events()") > 0) {}
    tick();
    long dead = 0;
    for (pc::batch_result b; (b = c.process_one(*conn_)).got_batch;) dead += b.dead;
    EXPECT_EQ(dead, 3);  // retried once already: max_retries sends them to the dead letters
    EXPECT_EQ(count("select count(*) from pgq.dead_letter_list('q', 'c1')"), 8);
    EXPECT_EQ(count("select count(*) from pgq.dead_letter_list('q', 'c1') "
                    "where dl_reason like 'too many retries%'"),
              3);
    EXPECT_EQ(bad_seen, 5);
}

TEST_P(ConsumerTest, RemoteExactlyOnceWritesTheTargetOnceAndSkipsADoneBatch) {
    // The target: another database with pgq_ext (ours provides it as plain SQL).
    test_database target_db{template_kind::ours, "consumer_remote_target"};
    pqxx::connection target{target_db.conninfo()};
    execute(target, "create table sink (ev_id bigint, ev_data text)");
    int calls = 0;
    int fail_at = 50;
    pc::consumer c{"q", "c1", pc::delivery::remote_exactly_once,
                   [&](const pc::event& ev, pc::batch_context& b) {
                       if (++calls == fail_at) throw std::runtime_error{"handler failed"};
                       b.tx().exec_params("insert into sink values ($1, $2)", ev.id, ev.data);
                       return pc::outcome::done();
                   }};
    c.register_consumer(*conn_);
    EXPECT_THROW(c.process_one(*conn_), std::logic_error);  // no target
    produce(200);
    EXPECT_THROW(c.process_one(*conn_, &target), std::runtime_error);
    auto target_rows = [&] {
        pqxx::nontransaction tx{target};
        return tx.exec("select count(*), count(distinct ev_id) from sink")[0];
    };
    EXPECT_EQ(target_rows()[0].as<long>(), 0);
    fail_at = -1;
    auto r = c.process_one(*conn_, &target);
    EXPECT_TRUE(r.got_batch);
    EXPECT_FALSE(r.skipped);
    EXPECT_EQ(r.events, 200);
    EXPECT_EQ(target_rows()[0].as<long>(), 200);
    EXPECT_EQ(target_rows()[1].as<long>(), 200);

    // The target committed but finish_batch did not: the batch comes again and is skipped.
    produce(100);
    std::int64_t open_batch = 0;
    {
        pqxx::work tx{*conn_};
        open_batch = tx.exec("select pgq.next_batch('q', 'c1')")[0][0].as<std::int64_t>();
        tx.commit();
    }
    execute(target, "select pgq_ext.set_batch_done('c1', " + std::to_string(open_batch) + ")");
    calls = 0;
    r = c.process_one(*conn_, &target);
    EXPECT_TRUE(r.got_batch);
    EXPECT_TRUE(r.skipped);
    EXPECT_EQ(r.info.batch_id, open_batch);
    EXPECT_EQ(calls, 0);
    EXPECT_EQ(target_rows()[0].as<long>(), 200);
    EXPECT_FALSE(c.process_one(*conn_, &target).got_batch);
}

// Cooperative consumers (pgq_coop): members of one consumer take different batches; the
// batch of a member that died (here: failed and never came back) is taken over after
// dead_interval; every row once.
TEST_P(ConsumerTest, CoopMembersShareBatchesAndTakeOverADeadMembersBatch) {
    auto insert = [](const pc::event& ev, pc::batch_context& b) {
        b.tx().exec_params("insert into sink values ($1, $2)", ev.id, ev.data);
        return pc::outcome::done();
    };
    bool m1_fails = true;
    pc::consumer m1{"q", "c", pc::delivery::local_exactly_once,
                    [&](const pc::event& ev, pc::batch_context& b) {
                        if (m1_fails) throw std::runtime_error{"m1 dies"};
                        return insert(ev, b);
                    }};
    pc::consumer m2{"q", "c", pc::delivery::local_exactly_once, insert};
    m1.set_coop(pc::coop_options{"m1", std::chrono::seconds{1}});
    m2.set_coop(pc::coop_options{"m2", std::chrono::seconds{1}});
    if (GetParam() == template_kind::pgq) {  // the real PgQ's template has no pgq_coop
        try {
            m1.register_consumer(*conn_);
            FAIL() << "no error without pgq_coop";
        } catch (const pgqpp::error& e) {
            EXPECT_EQ(e.code(), pgqpp::errc::feature_not_available);
            EXPECT_NE(std::string{e.what()}.find("pgq_coop"), std::string::npos);
        }
        return;
    }
    pqxx::connection conn2{db_->conninfo()};
    m1.register_consumer(*conn_);
    m2.register_consumer(conn2);
    produce(100);
    produce(100);
    produce(100);
    EXPECT_THROW(m1.process_one(*conn_), std::runtime_error);
    const auto held = count("select current_batch from pgq.get_consumer_info('q', 'c.m1')");
    ASSERT_GT(held, 0) << "m1 keeps its batch after a failure";
    auto r = m2.process_one(conn2);
    ASSERT_TRUE(r.got_batch);
    EXPECT_NE(r.info.batch_id, held) << "m2 does not get m1's batch while m1 is alive";
    EXPECT_EQ(r.events, 100);
    std::this_thread::sleep_for(std::chrono::milliseconds{1200});  // m1 now looks dead
    r = m2.process_one(conn2);
    ASSERT_TRUE(r.got_batch);
    EXPECT_EQ(r.info.batch_id, held) << "m2 takes over m1's batch after dead_interval";
    EXPECT_EQ(r.events, 100);
    m1_fails = false;
    r = m1.process_one(*conn_);  // m1 comes back: a fresh batch, not the one taken over
    ASSERT_TRUE(r.got_batch);
    EXPECT_NE(r.info.batch_id, held);
    EXPECT_FALSE(m1.process_one(*conn_).got_batch);
    EXPECT_FALSE(m2.process_one(conn2).got_batch);
    EXPECT_EQ(count("select count(*) from sink"), 300);
    EXPECT_EQ(count("select count(distinct ev_id) from sink"), 300);
    EXPECT_THROW(m1.set_coop(pc::coop_options{"", {}}), std::invalid_argument);
    pc::consumer remote{"q", "c", pc::delivery::remote_exactly_once, insert};
    EXPECT_THROW(remote.set_coop(pc::coop_options{"m3", {}}), std::invalid_argument);
}

// A live member that looked dead (its batch outlasted dead_interval): the other member takes
// the batch over and finishes it first; the slow one's finish_batch finds the batch gone and
// rolls back, so each row is still written once.
TEST_P(ConsumerTest, CoopLiveMemberTakenOverRollsBackItsCopy) {
    if (GetParam() == template_kind::pgq) GTEST_SKIP() << "the real PgQ's template has no pgq_coop";
    execute(*conn_, "create table sink2 (ev_id bigint, ev_data text)");  // no key: duplicates show
    auto insert = [](const pc::event& ev, pc::batch_context& b) {
        b.tx().exec_params("insert into sink2 values ($1, $2)", ev.id, ev.data);
        return pc::outcome::done();
    };
    pqxx::connection conn2{db_->conninfo()};
    pc::consumer fast{"q", "c", pc::delivery::local_exactly_once, insert};
    fast.set_coop(pc::coop_options{"fast", std::chrono::seconds{1}});
    pc::batch_result fast_result;
    bool first = true;
    pc::consumer slow{"q", "c", pc::delivery::local_exactly_once,
                      [&](const pc::event& ev, pc::batch_context& b) {
                          if (std::exchange(first, false)) {
                              std::this_thread::sleep_for(std::chrono::milliseconds{1200});
                              fast_result = fast.process_one(conn2);  // takes our batch over
                          }
                          return insert(ev, b);
                      }};
    slow.set_coop(pc::coop_options{"slow", std::chrono::seconds{1}});
    slow.register_consumer(*conn_);
    fast.register_consumer(conn2);
    produce(50);
    try {
        slow.process_one(*conn_);
        FAIL() << "the slow member finished a batch taken over";
    } catch (const pgqpp::error& e) {
        EXPECT_EQ(e.code(), pgqpp::errc::batch_not_found) << e.what();
    }
    EXPECT_TRUE(fast_result.got_batch);
    EXPECT_EQ(fast_result.events, 50);
    EXPECT_EQ(count("select count(*) from sink2"), 50);
    EXPECT_EQ(count("select count(distinct ev_id) from sink2"), 50);
    EXPECT_FALSE(slow.process_one(*conn_).got_batch);
}

// The per-batch handler: the batch as a stream of chunks, each COPYed into the table in the
// batch's transaction (local exactly-once); retries from the stream; a handler that stops
// reading early fails the batch, which comes back whole.
TEST_P(ConsumerTest, BatchHandlerCopiesTheStreamChunkByChunk) {
    std::vector<std::size_t> chunk_sizes;
    bool stop_early = true;
    pc::consumer c{"q", "c1", pc::delivery::local_exactly_once,
                   [&](pc::event_stream& events, pc::batch_context& batch) {
                       chunk_sizes.clear();
                       for (const auto* chunk = &events.next_chunk(); !chunk->empty();
                            chunk = &events.next_chunk()) {
                           chunk_sizes.push_back(chunk->size());
                           pqxx::stream_to copy{batch.tx(), "sink",
                                                std::vector<std::string>{"ev_id", "ev_data"}};
                           for (const pc::event& ev : *chunk) {
                               if (ev.type == "retry" && !ev.retry)
                                   events.retry(ev, std::chrono::seconds{0});
                               else
                                   copy << std::make_tuple(ev.id, ev.data);
                           }
                           copy.complete();  // before the next FETCH on this connection
                           if (stop_early) return;
                       }
                       EXPECT_TRUE(events.at_end());
                   },
                   pc::batch_options{{}, {}, {}, 7, {}}};
    c.register_consumer(*conn_);
    {
        pqxx::work tx{*conn_};
        tx.exec("select pgq.insert_event('q', case when g % 10 = 0 then 'retry' else 't' end, "
                "g::text) from generate_series(1, 100) g");
        tx.commit();
    }
    tick();
    EXPECT_THROW(c.process_one(*conn_), std::logic_error);  // returned after one chunk
    EXPECT_EQ(count("select count(*) from sink"), 0);
    stop_early = false;
    auto r = c.process_one(*conn_);
    ASSERT_TRUE(r.got_batch);
    EXPECT_EQ(r.events, 100);
    EXPECT_EQ(r.retried, 10);
    EXPECT_EQ(chunk_sizes.size(), 15u);  // 14 x 7 + 2
    EXPECT_EQ(*std::max_element(chunk_sizes.begin(), chunk_sizes.end()), 7u);
    EXPECT_EQ(count("select count(*) from sink"), 90);
    EXPECT_EQ(count("select count(distinct ev_id) from sink"), 90);
    tick();
    EXPECT_EQ(c.process_one(*conn_).events, 0);  // an empty batch: the handler is not called
    EXPECT_EQ(chunk_sizes.size(), 15u);
    // The retried events come back, one by one through a range-for this time.
    while (count("select pgq.maint_retry_events()") > 0) {}
    tick();
    std::vector<std::int32_t> retry_counts;
    pc::consumer again{"q", "c1", pc::delivery::local_exactly_once,
                       [&](pc::event_stream& events, pc::batch_context& batch) {
                           for (const pc::event& ev : events) {
                               retry_counts.push_back(ev.retry.value_or(0));
                               batch.tx().exec_params("insert into sink values ($1, $2)", ev.id,
                                                      ev.data);
                           }
                       },
                       pc::batch_options{{}, {}, {}, 3, {}}};
    while (again.process_one(*conn_).got_batch) {}
    EXPECT_EQ(retry_counts, std::vector<std::int32_t>(10, 1));
    EXPECT_EQ(count("select count(distinct ev_id) from sink"), 100);
}

// Remote: finish_batch fails after the target committed the batch (here: another session
// holds the subscription row and the queue connection has a lock_timeout). The batch kept
// its id (next_batch committed on its own), so the next call finds it done in pgq_ext and
// finishes it without applying it again.
TEST_P(ConsumerTest, RemoteFinishFailedAfterTargetCommitSkipsTheBatchNextTime) {
    blocked_finish remote{db_->conninfo(), "consumer_remote_finish"};
    int calls = 0;
    pc::consumer c{"q", "c1", pc::delivery::remote_exactly_once,
                   [&](const pc::event& ev, pc::batch_context& b) {
                       if (++calls == 1) remote.hold_subscriptions(*conn_);
                       b.tx().exec_params("insert into sink values ($1, $2)", ev.id, ev.data);
                       return pc::outcome::done();
                   }};
    c.register_consumer(remote.queue);
    produce(100);
    EXPECT_THROW(c.process_one(remote.queue, &remote.target), pgqpp::error);  // lock timeout
    remote.blocker->abort();
    EXPECT_EQ(calls, 100);
    const auto open = count("select current_batch from pgq.get_consumer_info('q', 'c1')");
    ASSERT_GT(open, 0) << "the batch stays open under its id";
    auto r = c.process_one(remote.queue, &remote.target);
    EXPECT_TRUE(r.got_batch);
    EXPECT_TRUE(r.skipped);
    EXPECT_EQ(r.info.batch_id, open);
    EXPECT_EQ(calls, 100);
    EXPECT_EQ(remote.target_count("select count(*) from sink"), 100);
    EXPECT_EQ(remote.target_count("select count(distinct ev_id) from sink"), 100);
    EXPECT_FALSE(c.process_one(remote.queue, &remote.target).got_batch);
}

// Remote with retries and dead letters: they commit with the batch in the target's pgq_ext
// (set_batch_outcome), not in the queue before it. finish_batch fails after the target's
// commit (as above): the queue has none of them yet; the next call skips the batch and hands
// the queue the recorded ones, once.
TEST_P(ConsumerTest, RemoteRetriesAndDeadLettersCommitWithTheBatchInTheTarget) {
    const bool dead_letters = GetParam() == template_kind::ours;  // PgQ has no dead letters
    blocked_finish remote{db_->conninfo(), "consumer_remote_outcomes"};
    int calls = 0;
    pc::consumer c{"q", "c1", pc::delivery::remote_exactly_once,
                   [&](const pc::event& ev, pc::batch_context& b) {
                       if (++calls == 1) remote.hold_subscriptions(*conn_);
                       const int n = std::stoi(ev.data);
                       if (n % 10 == 0) return pc::outcome::retry_after(std::chrono::seconds{600});
                       if (n % 10 == 5 && dead_letters) return pc::outcome::dead_letter("bad");
                       b.tx().exec_params("insert into sink values ($1, $2)", ev.id, ev.data);
                       return pc::outcome::done();
                   }};
    c.register_consumer(remote.queue);
    EXPECT_TRUE(c.has_outcome_store(remote.target));
    produce(100);
    EXPECT_THROW(c.process_one(remote.queue, &remote.target), pgqpp::error);  // lock timeout
    remote.blocker->abort();
    const long recorded = dead_letters ? 20 : 10;
    EXPECT_EQ(remote.target_count("select count(*) from pgq_ext.batch_outcome"), recorded);
    EXPECT_EQ(count("select count(*) from pgq.retry_queue"), 0) << "before the batch finishes";

    auto r = c.process_one(remote.queue, &remote.target);
    EXPECT_TRUE(r.skipped);
    EXPECT_EQ(r.retried, 10);
    EXPECT_EQ(r.dead, dead_letters ? 10 : 0);
    EXPECT_EQ(calls, 100);
    EXPECT_EQ(count("select count(*) from pgq.retry_queue "
                    "where ev_retry_after > now() + interval '500 seconds'"),
              10);
    if (dead_letters) {
        EXPECT_EQ(count("select count(*) from pgq.dead_letter_list('q', 'c1') "
                        "where dl_reason = 'bad'"),
                  10);
    }
    EXPECT_EQ(remote.target_count("select count(*) from sink"), 100 - recorded);

    // The next batch done forgets them (and keeps its own: 0 retried, 5 dead on ours).
    produce(10);
    r = c.process_one(remote.queue, &remote.target);
    EXPECT_FALSE(r.skipped);
    EXPECT_EQ(r.retried + r.dead, dead_letters ? 2 : 1);
    EXPECT_EQ(remote.target_count("select count(*) from pgq_ext.batch_outcome"),
              r.retried + r.dead);
    EXPECT_EQ(remote.target_count("select count(*) from pgq_ext.batch_outcome where batch_id = " +
                                  std::to_string(r.info.batch_id)),
              r.retried + r.dead);
}

INSTANTIATE_TEST_SUITE_P(Templates, ConsumerTest,
                         ::testing::Values(template_kind::ours, template_kind::pgq),
                         [](const auto& p) { return std::string{to_string(p.param)}; });

}  // namespace
