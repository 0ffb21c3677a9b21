// The weak points of PgQ that pgqpp fixes (DESIGN.md, issue "The queue in SQL"). Each test
// asserts the fixed behaviour on our SQL and, where the old behaviour can be shown
// deterministically, runs the same scenario on the real PgQ 3.5 C extension as a control:
// the control proves that the test would fail on the old behaviour.
#include "pg_test_env.hpp"
#include "sql_helpers.hpp"
#include "test_database.hpp"
#include "wait_until.hpp"

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include <chrono>
#include <future>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using pgqpp::test::create_role_once;
using pgqpp::test::execute;
using pgqpp::test::query_value;
using pgqpp::test::template_kind;
using pgqpp::test::test_database;

/// Starts @p sql on its own connection in the background; the future yields the error text
/// ("" on success).  Used to see whether a statement waits on a lock held by the test.
std::future<std::string> run_in_background(std::string conninfo, std::string sql) {
    return std::async(std::launch::async, [conninfo = std::move(conninfo), sql = std::move(sql)] {
        try {
            pqxx::connection conn{conninfo};
            pqxx::nontransaction tx{conn};
            tx.exec(sql);
            return std::string{};
        } catch (const std::exception& e) {
            return std::string{e.what()};
        }
    });
}

/// Whether a backend of this database is waiting on a lock right now.
bool someone_waits_on_a_lock(pqxx::connection& conn) {
    return query_value<bool>(conn,
                             "select exists (select 1 from pg_stat_activity"
                             " where datname = current_database() and wait_event_type = 'Lock')");
}

// --- rotation --------------------------------------------------------------------------

class Rotation : public ::testing::Test {
protected:
    test_database db_{template_kind::ours};
    pqxx::connection conn_{db_.conninfo()};

    void SetUp() override {
        execute(conn_, "select pgq.create_queue('rq')");
        execute(conn_, "select pgq.set_queue_config('rq', 'rotation_period', '0')");
        execute(conn_, "select pgq.insert_event('rq', 't', 'd')");
    }
    int cur_table() {
        return query_value<int>(conn_, "select queue_cur_table from pgq.queue where queue_name = 'rq'");
    }
    std::string table_to_truncate() {
        return query_value<std::string>(
            conn_, "select queue_data_pfx || '_' || ((queue_cur_table + 1) % queue_ntables)"
                   " from pgq.queue where queue_name = 'rq'");
    }
};

TEST_F(Rotation, SkipsARoundWhenTheTableIsLockedAndRotatesOnceItIsFree) {
    // pg_dump holds ACCESS SHARE on every table it dumps
    pqxx::connection dumper{db_.conninfo()};
    pqxx::work dump_tx{dumper};
    dump_tx.exec("lock table " + table_to_truncate() + " in access share mode");

    execute(conn_, "set statement_timeout = '5s'");
    execute(conn_, "select pgq.maint_rotate_tables_step1('rq')");  // must not wait
    EXPECT_EQ(cur_table(), 0) << "rotated although the table was locked";

    // producers and the ticker are not held up meanwhile
    execute(conn_, "select pgq.insert_event('rq', 't', 'during lock')");
    execute(conn_, "select pgq.ticker('rq')");

    dump_tx.commit();
    execute(conn_, "select pgq.maint_rotate_tables_step1('rq')");
    EXPECT_EQ(cur_table(), 1);
    execute(conn_, "select pgq.maint_rotate_tables_step2()");
}

/// An admin transaction that changed a queue's settings and is still open (or anything
/// else holding the queue row) must not stall the maintenance daemon.
void hold_queue_row_and_rotate(test_database& db, bool expect_wait) {
    pqxx::connection conn{db.conninfo()};
    execute(conn, "select pgq.create_queue('rq')");
    execute(conn, "select pgq.set_queue_config('rq', 'rotation_period', '0')");

    pqxx::connection admin{db.conninfo()};
    pqxx::work admin_tx{admin};
    admin_tx.exec("select pgq.set_queue_config('rq', 'ticker_max_count', '1000')");

    auto rotation = run_in_background(
        db.conninfo(), "set statement_timeout = '3s'; select pgq.maint_rotate_tables_step1('rq')");
    const std::string error = rotation.get();
    admin_tx.abort();
    if (expect_wait) {
        EXPECT_NE(error.find("statement timeout"), std::string::npos)
            << "control: the real PgQ was expected to wait on the queue row, got: '" << error << "'";
    } else {
        EXPECT_EQ(error, "") << "rotation step 1 waited on the locked queue row";
    }
}

TEST(RotationQueueRowLock, OursSkipsInsteadOfWaiting) {
    test_database db{template_kind::ours};
    hold_queue_row_and_rotate(db, /*expect_wait=*/false);
}

TEST(RotationQueueRowLock, ControlRealPgqWaits) {
    test_database db{template_kind::pgq};
    hold_queue_row_and_rotate(db, /*expect_wait=*/true);
}

// --- rotation and snapshots older than the switch ----------------------------------------

/// Reads consumer c's batches of @p queue to the end: their events' ev_data, in order.
std::vector<std::string> drain(pqxx::connection& conn, const std::string& queue) {
    std::vector<std::string> data;
    for (;;) {
        pqxx::work tx{conn};
        const pqxx::row next = tx.exec_params1("select pgq.next_batch($1, 'c')", queue);
        if (next[0].is_null()) return data;
        const long batch = next[0].as<long>();
        for (const auto& row : tx.exec_params("select ev_data from pgq.get_batch_events($1)", batch))
            data.push_back(row[0].as<std::string>());
        tx.exec_params("select pgq.finish_batch($1)", batch);
        tx.commit();
    }
}

/// Ticks queue "oq", then drain()s it.
std::vector<std::string> tick_and_drain(pqxx::connection& conn) {
    execute(conn, "select pgq.ticker('oq')");
    return drain(conn, "oq");
}

/// Ticks and lets consumer c read until its last tick's snapshot is past the queue's step 2:
/// then it no longer holds rotation back, and its next batches read only the current table.
/// Another test's transaction can hold every tick back for a while (txids are
/// cluster-wide). Returns what it read.
std::vector<std::string> catch_up_past_step2(pqxx::connection& conn) {
    std::vector<std::string> read;
    EXPECT_TRUE(pgqpp::test::wait_for(
        60s,
        [&] {
            for (auto& d : tick_and_drain(conn)) read.push_back(std::move(d));
            return query_value<bool>(
                conn, "select coalesce(txid_snapshot_xmin(t.tick_snapshot) > q.queue_switch_step2,"
                      " false)"
                      "  from pgq.queue q"
                      "  join pgq.subscription s on s.sub_queue = q.queue_id"
                      "  join pgq.tick t on t.tick_queue = q.queue_id and t.tick_id = s.sub_last_tick"
                      " where q.queue_name = 'oq'");
        },
        50ms))
        << "consumer c did not get past the rotation point";
    return read;
}

/// Queue "oq" ticking on every call and due for rotation whenever asked; consumer "c" has
/// read its first event, so rotation is no longer held back by it.
void make_rotating_queue(pqxx::connection& conn) {
    execute(conn, "select pgq.create_queue('oq')");
    for (const char* setting : {"rotation_period', '0", "ticker_max_count', '1",
                                "ticker_max_lag', '0", "ticker_idle_period', '0"})
        execute(conn, std::string{"select pgq.set_queue_config('oq', '"} + setting + "')");
    execute(conn, "select pgq.register_consumer('oq', 'c')");
    execute(conn, "select pgq.insert_event('oq', 't', 'before')");
    EXPECT_EQ(catch_up_past_step2(conn), std::vector<std::string>{"before"});
}

/// Rotation as pgqd does it (step 1, then step 2 in a later transaction), by a pgq_admin
/// who is not superuser.  Returns whether step 2 is recorded.
bool rotate_as_admin(test_database& db) {
    pqxx::connection admin{db.conninfo() + " user=pgqpp_test_admin"};
    execute(admin, "select pgq.maint_rotate_tables_step1('oq')");
    EXPECT_EQ(query_value<int>(admin, "select queue_cur_table from pgq.queue"), 1) << "no rotation";
    execute(admin, "select pgq.maint_rotate_tables_step2()");
    return query_value<bool>(admin, "select queue_switch_step2 is not null from pgq.queue"
                                    " where queue_name = 'oq'");
}

struct old_snapshot_outcome {
    std::vector<std::string> delivered;
    bool step2_while_open = false;  ///< step 2 recorded while the producer was open
};

/// A producer's REPEATABLE READ transaction takes its snapshot before a rotation's switch
/// and inserts its event only after step 2 (its txid is taken then); a consumer caught up
/// meanwhile, then reads on.
old_snapshot_outcome event_of_a_snapshot_older_than_the_switch(test_database& db) {
    pqxx::connection conn{db.conninfo()};
    create_role_once(conn, "pgqpp_test_admin", "login in role pgq_admin");
    make_rotating_queue(conn);

    pqxx::connection producer_conn{db.conninfo()};
    pqxx::transaction<pqxx::isolation_level::repeatable_read> producer{producer_conn};
    producer.exec("select 1");  // the snapshot, no txid yet

    old_snapshot_outcome out;
    out.step2_while_open = rotate_as_admin(db);
    // with step 2 recorded, the consumer's next batches read only the new table
    EXPECT_TRUE((out.step2_while_open ? catch_up_past_step2(conn) : tick_and_drain(conn)).empty());

    producer.exec("select pgq.insert_event('oq', 't', 'old snapshot')");
    producer.commit();
    execute(conn, "select pgq.insert_event('oq', 't', 'after')");
    out.delivered = tick_and_drain(conn);
    // the producer is gone: nothing to wait for
    pqxx::connection admin{db.conninfo() + " user=pgqpp_test_admin"};
    execute(admin, "select pgq.maint_rotate_tables_step2()");
    EXPECT_TRUE(query_value<bool>(conn, "select queue_switch_step2 is not null from pgq.queue"));
    for (const auto& d : tick_and_drain(conn)) out.delivered.push_back(d);
    return out;
}

TEST(RotationOldSnapshot, OursDeliversTheEventsOfARepeatableReadProducerStartedBeforeTheSwitch) {
    test_database db{template_kind::ours};
    const auto out = event_of_a_snapshot_older_than_the_switch(db);
    EXPECT_FALSE(out.step2_while_open) << "step 2 must wait for the producer's snapshot";
    EXPECT_EQ(out.delivered, (std::vector<std::string>{"old snapshot", "after"}));
}

TEST(RotationOldSnapshot, ControlRealPgqLosesTheEvent) {
    test_database db{template_kind::pgq};
    const auto out = event_of_a_snapshot_older_than_the_switch(db);
    EXPECT_TRUE(out.step2_while_open);
    EXPECT_EQ(out.delivered, std::vector<std::string>{"after"}) << "control: PgQ was expected "
                                                                   "to lose 'old snapshot'";
}

/// The documented bulk path: pgq.current_event_table() in one statement, the rows (COPY,
/// here an INSERT) in a later one of the same READ COMMITTED transaction, a whole rotation
/// in between.
std::vector<std::string> rows_loaded_after_the_switch(test_database& db) {
    pqxx::connection conn{db.conninfo()};
    create_role_once(conn, "pgqpp_test_admin", "login in role pgq_admin");
    make_rotating_queue(conn);
    pqxx::connection producer_conn{db.conninfo()};
    pqxx::work producer{producer_conn};
    const auto table = producer.exec1("select pgq.current_event_table('oq')")[0].as<std::string>();

    EXPECT_TRUE(rotate_as_admin(db)) << "no snapshot is held between the statements";
    // A producer that holds a txid older than step 2 keeps every tick behind it (ours: taken
    // by current_event_table); one that does not lets the consumer move past step 2.
    const bool has_txid = producer.exec1("select txid_current_if_assigned() is not null")[0].as<bool>();
    EXPECT_TRUE((has_txid ? tick_and_drain(conn) : catch_up_past_step2(conn)).empty());

    producer.exec("insert into " + table + " (ev_time, ev_type, ev_data) values (now(), 't', 'loaded')");
    producer.commit();
    execute(conn, "select pgq.insert_event('oq', 't', 'after')");
    return tick_and_drain(conn);
}

TEST(RotationOldSnapshot, OursDeliversRowsLoadedIntoTheCurrentEventTableAcrossASwitch) {
    test_database db{template_kind::ours};
    EXPECT_EQ(rows_loaded_after_the_switch(db), (std::vector<std::string>{"loaded", "after"}));
}

TEST(RotationOldSnapshot, ControlRealPgqLosesTheLoadedRows) {
    test_database db{template_kind::pgq};
    EXPECT_EQ(rows_loaded_after_the_switch(db), std::vector<std::string>{"after"});
}

TEST(RotationOldSnapshot, StepTwoNamesTheSessionsItWaitsFor) {
    test_database db{template_kind::ours};
    pqxx::connection conn{db.conninfo()};
    make_rotating_queue(conn);
    pqxx::connection other{db.conninfo()};
    pqxx::transaction<pqxx::isolation_level::repeatable_read> reader{other};
    const auto reader_pid = reader.exec1("select pg_backend_pid()")[0].as<int>();
    execute(conn, "select pgq.maint_rotate_tables_step1('oq')");
    ASSERT_EQ(query_value<int>(conn, "select queue_cur_table from pgq.queue"), 1);
    const auto step1 = query_value<long>(conn, "select queue_switch_step1 from pgq.queue");
    EXPECT_EQ(query_value<std::string>(
                  conn, "select coalesce(string_agg(p::text, ','), '') from pgq._old_snapshot_pids($1) p",
                  step1),
              std::to_string(reader_pid));
    execute(conn, "select pgq.maint_rotate_tables_step2()");
    EXPECT_TRUE(query_value<bool>(conn, "select queue_switch_step2 is null from pgq.queue"));
    // a snapshot taken after step 1 committed is not waited for
    reader.abort();
    pqxx::work later{other};
    later.exec("select 1");
    EXPECT_EQ(query_value<long>(conn, "select count(*) from pgq._old_snapshot_pids($1)", step1), 0);
    execute(conn, "select pgq.maint_rotate_tables_step2()");
    EXPECT_TRUE(query_value<bool>(conn, "select queue_switch_step2 > queue_switch_step1 from pgq.queue"));
}

TEST(RotationOldSnapshot, StepTwoInStepOnesTransactionWaitsForALaterOne) {
    test_database db{template_kind::ours};
    pqxx::connection conn{db.conninfo()};
    make_rotating_queue(conn);
    execute(conn, "select pgq.maint_rotate_tables_step1('oq'); select pgq.maint_rotate_tables_step2()");
    EXPECT_EQ(query_value<int>(conn, "select queue_cur_table from pgq.queue"), 1);
    EXPECT_TRUE(query_value<bool>(conn, "select queue_switch_step2 is null from pgq.queue"))
        << "step 2 in step 1's own transaction: sessions still see the old table until it commits";
    execute(conn, "select pgq.maint_rotate_tables_step2()");
    EXPECT_TRUE(query_value<bool>(conn, "select queue_switch_step2 > queue_switch_step1 from pgq.queue"));
}

// --- the external ticker ---------------------------------------------------------------

/// An external ticker (cascading) hands in tick ids. Tick 10, event A, then tick 5 (a lower
/// id with a newer snapshot), event B, tick 11; a consumer registered before reads all
/// batches. Returns the events it got, or the error of the tick going back.
std::string events_around_a_tick_going_back(test_database& db) {
    pqxx::connection conn{db.conninfo()};
    execute(conn, "select pgq.create_queue('xq')");
    execute(conn, "select pgq.set_queue_config('xq', 'external_ticker', '1')");
    execute(conn, "select pgq.register_consumer('xq', 'c')");
    execute(conn, "select pgq.ticker('xq', 10, now(), 0)");
    execute(conn, "select pgq.insert_event('xq', 't', 'A')");
    try {
        execute(conn, "select pgq.ticker('xq', 5, now(), 1)");
    } catch (const pqxx::sql_error& e) {
        return e.what();
    }
    execute(conn, "select pgq.insert_event('xq', 't', 'B')");
    execute(conn, "select pgq.ticker('xq', 11, now(), 2)");
    std::string got;
    for (const auto& data : drain(conn, "xq")) got += data;
    return got;
}

TEST(ExternalTicker, OursRefusesATickIdBelowTheNewest) {
    test_database db{template_kind::ours};
    EXPECT_NE(events_around_a_tick_going_back(db).find(
                  "tick id 5 of queue xq is below its newest tick 10: tick ids must grow"),
              std::string::npos);
}

TEST(ExternalTicker, ControlRealPgqDeliversAnEventTwice) {
    test_database db{template_kind::pgq};
    EXPECT_EQ(events_around_a_tick_going_back(db), "AAB");
}

// --- concurrent tickers ----------------------------------------------------------------

/// Two tickers, the first one's transaction still open: PgQ inserts a second tick at once
/// (its snapshot may then be older than a tick with a lower id); ours waits for the first
/// ticker and then sees that no tick is needed.
int ticks_from_two_overlapping_tickers(test_database& db) {
    pqxx::connection conn{db.conninfo()};
    execute(conn, "select pgq.create_queue('tq')");
    execute(conn, "update pgq.queue set queue_ticker_max_count = 1,"
                  " queue_ticker_max_lag = '1 hour' where queue_name = 'tq'");
    execute(conn, "select pgq.insert_event('tq', 't', 'd')");
    const auto before = query_value<int>(conn, "select count(*) from pgq.tick");

    pqxx::connection first{db.conninfo()};
    pqxx::work first_tx{first};
    first_tx.exec("select pgq.ticker('tq')");

    auto second = run_in_background(db.conninfo(), "select pgq.ticker('tq')");
    // let the second ticker run into the first one's lock, if it takes any
    pgqpp::test::wait_for(2s, [&] { return someone_waits_on_a_lock(conn); });
    first_tx.commit();
    EXPECT_EQ(second.get(), "");
    return query_value<int>(conn, "select count(*) from pgq.tick") - before;
}

TEST(ConcurrentTickers, OursMakeOneTickNotTwo) {
    test_database db{template_kind::ours};
    EXPECT_EQ(ticks_from_two_overlapping_tickers(db), 1);
}

TEST(ConcurrentTickers, ControlRealPgqMakesTwo) {
    test_database db{template_kind::pgq};
    EXPECT_EQ(ticks_from_two_overlapping_tickers(db), 2);
}

TEST(ConcurrentTickers, TickSnapshotsOnlyGrowUnderManyTickersAndProducers) {
    test_database db{template_kind::ours};
    pqxx::connection conn{db.conninfo()};
    execute(conn, "select pgq.create_queue('tq')");
    execute(conn, "update pgq.queue set queue_ticker_max_count = 1,"
                  " queue_ticker_max_lag = '0' where queue_name = 'tq'");

    const auto deadline = std::chrono::steady_clock::now() + 3s;
    auto worker = [&](const char* sql) {
        return std::async(std::launch::async, [&, sql] {
            pqxx::connection c{db.conninfo()};
            int n = 0;
            while (std::chrono::steady_clock::now() < deadline) {
                execute(c, sql);
                ++n;
            }
            return n;
        });
    };
    auto t1 = worker("select pgq.ticker('tq')");
    auto t2 = worker("select pgq.ticker('tq')");
    auto t3 = worker("select pgq.ticker()");
    auto p1 = worker("select pgq.insert_event('tq', 't', 'd')");
    auto p2 = worker("select pgq.insert_event('tq', 't', 'd')");
    EXPECT_GT(t1.get() + t2.get() + t3.get(), 10);
    EXPECT_GT(p1.get() + p2.get(), 10);

    // For consecutive ticks a < b: whatever a sees committed, b sees committed too.
    const auto violations = query_value<int>(conn, R"(
        with t as (
            select tick_id, tick_snapshot,
                   lag(tick_snapshot) over (order by tick_id) as prev
              from pgq.tick where tick_queue = (select queue_id from pgq.queue where queue_name = 'tq'))
        select count(*) from t
         where prev is not null
           and (txid_snapshot_xmax(tick_snapshot) < txid_snapshot_xmax(prev)
                or txid_snapshot_xmin(tick_snapshot) < txid_snapshot_xmin(prev)
                or exists (select 1 from txid_snapshot_xip(tick_snapshot) x
                            where txid_visible_in_snapshot(x, prev))))");
    EXPECT_EQ(violations, 0);
}

// --- event_retry cost ------------------------------------------------------------------

/// Scans of the event tables (and their indexes) while retrying events of one batch.
struct retry_scans {
    long first_two = 0;  ///< during the first two retries
    long all = 0;        ///< during all of them
};

/// Retries @p retries events of a 500-event batch one by one in one transaction and counts
/// the scans of the event tables that took.
retry_scans event_table_scans_for_retries(test_database& db, int retries) {
    pqxx::connection conn{db.conninfo()};
    execute(conn, "select pgq.create_queue('eq')");
    execute(conn, "select pgq.register_consumer('eq', 'c')");
    execute(conn, "select pgq.insert_event('eq', 't', 'payload ' || i) from generate_series(1, 500) i");
    execute(conn, "select pgq.force_tick('eq')");
    execute(conn, "select pgq.ticker('eq')");

    pqxx::work tx{conn};
    const auto batch = tx.exec1("select pgq.next_batch('eq', 'c')")[0].as<long>();
    const auto ids = tx.exec_params("select ev_id from pgq.get_batch_events($1) order by ev_id limit $2",
                                    batch, retries);
    // sequential scans count on the table, index scans on its index: sum both
    const std::string scans_sql =
        "select coalesce(sum(pg_stat_get_xact_numscans(r.oid)), 0) from pg_class r"
        " where r.oid in (select i.inhrelid from pg_inherits i"
        "                  where i.inhparent = (select queue_data_pfx::regclass from pgq.queue"
        "                                        where queue_name = 'eq')"
        "                 union all"
        "                 select x.indexrelid from pg_index x join pg_inherits i on i.inhrelid = x.indrelid"
        "                  where i.inhparent = (select queue_data_pfx::regclass from pgq.queue"
        "                                        where queue_name = 'eq'))";
    const auto before = tx.exec1(scans_sql)[0].as<long>();
    retry_scans scans;
    int n = 0;
    for (const auto& row : ids) {
        EXPECT_EQ(tx.exec_params1("select pgq.event_retry($1, $2, 60)", batch, row[0].as<long>())[0].as<int>(), 1);
        if (++n == 2) scans.first_two = tx.exec1(scans_sql)[0].as<long>() - before;
    }
    scans.all = tx.exec1(scans_sql)[0].as<long>() - before;
    EXPECT_EQ(tx.exec1("select count(*) from pgq.retry_queue")[0].as<int>(), retries);
    tx.commit();
    return scans;
}

TEST(EventRetry, ManyRetriesInABatchScanTheBatchAtMostTwice) {
    test_database db{template_kind::ours};
    // The first retry runs the batch query, the second fills the session's cache with it;
    // the other 98 read the cache only. (How many scans one run of the batch query counts
    // depends on the cluster's other sessions: transactions that finished between the two
    // ticks are looked up by an IN list, one index scan per txid.)
    const auto scans = event_table_scans_for_retries(db, 100);
    EXPECT_GE(scans.first_two, 2);
    EXPECT_EQ(scans.all, scans.first_two);
}

TEST(EventRetry, ControlRealPgqScansTheBatchPerRetry) {
    test_database db{template_kind::pgq};
    EXPECT_GE(event_table_scans_for_retries(db, 100).all, 100);
}

// --- registration race -----------------------------------------------------------------

/// The first registration of a consumer is still uncommitted when a second session
/// registers the same name.
std::string second_of_two_overlapping_registrations(test_database& db) {
    pqxx::connection conn{db.conninfo()};
    execute(conn, "select pgq.create_queue('q1')");
    execute(conn, "select pgq.create_queue('q2')");

    pqxx::connection first{db.conninfo()};
    pqxx::work first_tx{first};
    first_tx.exec("select pgq.register_consumer('q1', 'newcomer')");

    auto second = run_in_background(db.conninfo(), "select pgq.register_consumer('q2', 'newcomer')");
    pgqpp::test::wait_for(2s, [&] { return someone_waits_on_a_lock(conn); });
    first_tx.commit();
    return second.get();
}

TEST(ConcurrentRegistration, OursSucceedsForBoth) {
    test_database db{template_kind::ours};
    EXPECT_EQ(second_of_two_overlapping_registrations(db), "");
    pqxx::connection conn{db.conninfo()};
    EXPECT_EQ(query_value<int>(conn, "select count(*) from pgq.get_consumer_info() where consumer_name = 'newcomer'"), 2);
    EXPECT_EQ(query_value<int>(conn, "select count(*) from pgq.consumer where co_name = 'newcomer'"), 1);
}

TEST(ConcurrentRegistration, ControlRealPgqFailsOnTheUniqueName) {
    test_database db{template_kind::pgq};
    EXPECT_NE(second_of_two_overlapping_registrations(db).find("consumer_name_uq"), std::string::npos);
}

TEST(ConcurrentRegistration, ManySessionsRegisteringTheSameConsumerAllSucceed) {
    test_database db{template_kind::ours};
    pqxx::connection conn{db.conninfo()};
    for (int q = 0; q < 4; ++q) execute(conn, "select pgq.create_queue('q" + std::to_string(q) + "')");

    std::vector<std::future<std::string>> sessions;
    for (int i = 0; i < 8; ++i)
        sessions.push_back(run_in_background(
            db.conninfo(),
            "select pgq.register_consumer('q" + std::to_string(i % 4) + "', 'crowd');"
            "select pgq.unregister_consumer('q" + std::to_string(i % 4) + "', 'crowd');"
            "select pgq.register_consumer('q" + std::to_string(i % 4) + "', 'crowd')"));
    for (auto& s : sessions) EXPECT_EQ(s.get(), "");
    EXPECT_EQ(query_value<int>(conn, "select count(*) from pgq.get_consumer_info() where consumer_name = 'crowd'"), 4);
}

// --- next_batch ------------------------------------------------------------------------

/// Process A opens a batch and has not committed yet when process B asks for the same
/// consumer's next batch. Returns the batch ids both got.
std::pair<long, long> two_processes_ask_for_one_consumers_batch(test_database& db) {
    pqxx::connection conn{db.conninfo()};
    execute(conn, "select pgq.create_queue('nq')");
    execute(conn, "select pgq.register_consumer('nq', 'c')");
    execute(conn, "select pgq.insert_event('nq', 't', 'd')");
    execute(conn, "select pgq.force_tick('nq')");
    execute(conn, "select pgq.ticker('nq')");

    pqxx::connection a{db.conninfo()};
    pqxx::work a_tx{a};
    const auto a_batch = a_tx.exec1("select pgq.next_batch('nq', 'c')")[0].as<long>();

    auto b_batch = std::async(std::launch::async, [&db] {
        pqxx::connection b{db.conninfo()};
        return query_value<long>(b, "select pgq.next_batch('nq', 'c')");
    });
    pgqpp::test::wait_for(2s, [&] { return someone_waits_on_a_lock(conn); });
    a_tx.commit();
    return {a_batch, b_batch.get()};
}

TEST(NextBatch, TwoProcessesOfOneConsumerGetTheSameBatch) {
    test_database db{template_kind::ours};
    const auto [a, b] = two_processes_ask_for_one_consumers_batch(db);
    EXPECT_EQ(a, b);
}

TEST(NextBatch, ControlRealPgqOverwritesTheFirstProcesssBatch) {
    test_database db{template_kind::pgq};
    const auto [a, b] = two_processes_ask_for_one_consumers_batch(db);
    EXPECT_NE(a, b);
}

TEST(NextBatch, AnIdlePollWritesNothing) {
    test_database db{template_kind::ours};
    pqxx::connection conn{db.conninfo()};
    execute(conn, "select pgq.create_queue('nq')");
    execute(conn, "select pgq.register_consumer('nq', 'c')");
    pqxx::work tx{conn};
    EXPECT_TRUE(tx.exec1("select pgq.next_batch('nq', 'c')")[0].is_null());
    EXPECT_TRUE(tx.exec1("select txid_current_if_assigned()")[0].is_null())
        << "an empty next_batch took a transaction id (it locked or wrote something)";
}

// --- NOTIFY on tick --------------------------------------------------------------------

class tick_listener final : public pqxx::notification_receiver {
public:
    explicit tick_listener(pqxx::connection_base& conn) : pqxx::notification_receiver{conn, "pgq_tick"} {}
    void operator()(const std::string& payload, int) override { payloads.push_back(payload); }
    std::vector<std::string> payloads;
};

TEST(TickNotify, EachTickNotifiesChannelPgqTickWithTheQueueName) {
    test_database db{template_kind::ours};
    pqxx::connection conn{db.conninfo()};
    execute(conn, "select pgq.create_queue('mail.in')");
    execute(conn, "select pgq.create_queue('other')");
    execute(conn, "update pgq.queue set queue_ticker_max_lag = '0'");

    pqxx::connection listener_conn{db.conninfo()};
    tick_listener listener{listener_conn};
    listener_conn.get_notifs();

    execute(conn, "select pgq.insert_event('mail.in', 't', 'd')");
    execute(conn, "select pgq.ticker('mail.in')");
    ASSERT_TRUE(pgqpp::test::wait_for(5s, [&] {
        listener_conn.await_notification(0, 100000);
        return !listener.payloads.empty();
    }));
    EXPECT_EQ(listener.payloads, std::vector<std::string>{"mail.in"});

    // no tick, no notification; a rolled-back tick is not announced either
    execute(conn, "update pgq.queue set queue_ticker_max_lag = '1 hour', queue_ticker_idle_period = '1 hour'");
    execute(conn, "select pgq.ticker('mail.in')");
    {
        pqxx::work tx{conn};
        tx.exec("select pgq.insert_event('other', 't', 'd')");
        tx.exec("select pgq.force_tick('other')");
        tx.exec("select pgq.ticker('other')");
        tx.abort();
    }
    listener_conn.await_notification(0, 300000);
    EXPECT_EQ(listener.payloads.size(), 1u);
}

// --- search_path of SECURITY DEFINER functions ----------------------------------------

TEST(SecurityDefiner, EveryFunctionPinsItsSearchPath) {
    test_database db{template_kind::ours};
    pqxx::connection conn{db.conninfo()};
    const auto unpinned = query_value<std::string>(conn, R"(
        select coalesce(string_agg(p.oid::regprocedure::text, ', '), '')
          from pg_proc p
         where p.pronamespace = 'pgq'::regnamespace and p.prosecdef
           and not exists (select 1 from unnest(p.proconfig) c where c like 'search_path=%'))");
    EXPECT_EQ(unpinned, "");
    EXPECT_GT(query_value<int>(conn, "select count(*) from pg_proc where pronamespace = 'pgq'::regnamespace and prosecdef"), 15);
}

/// A pgq_writer puts its own now() before pg_catalog in search_path and inserts an event
/// through the SECURITY DEFINER insert_event. Returns whether the definer's code called it.
bool definer_code_used_callers_function(test_database& db) {
    pqxx::connection conn{db.conninfo()};
    execute(conn, "select pgq.create_queue('sq')");
    create_role_once(conn, "pgqpp_mallory");
    execute(conn, "grant pgq_writer to pgqpp_mallory");
    execute(conn, "create schema mallory authorization pgqpp_mallory");
    execute(conn, "set role pgqpp_mallory;"
                  "create function mallory.now() returns timestamptz language sql as"
                  " $$ select 'epoch'::timestamptz $$;"
                  "reset role");
    pqxx::work tx{conn};
    tx.exec("set local role pgqpp_mallory");
    tx.exec("set local search_path = mallory, pg_catalog, public");
    const auto id = tx.exec1("select pgq.insert_event('sq', 't', 'd')")[0].as<long>();
    tx.exec("reset role");
    tx.exec("reset search_path");
    const auto epoch = tx.exec_params1(
        "select ev_time = 'epoch'::timestamptz from pgq.event_template where ev_id = $1", id)[0].as<bool>();
    tx.abort();
    return epoch;
}

TEST(SecurityDefiner, OursIgnoresTheCallersSearchPath) {
    test_database db{template_kind::ours};
    EXPECT_FALSE(definer_code_used_callers_function(db));
}

TEST(SecurityDefiner, ControlRealPgqRunsTheCallersFunctionWithDefinerRights) {
    test_database db{template_kind::pgq};
    EXPECT_TRUE(definer_code_used_callers_function(db));
}

}  // namespace
