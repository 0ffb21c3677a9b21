// Light batches (the queue option light_batches) under a held xmin horizon.
//
// While a transaction holds the horizon back (a long transaction, a replication slot,
// hot_standby_feedback), no old version of a consumer's pgq.subscription row can be removed.
// PgQ's next_batch/finish_batch set and clear sub_batch, which is indexed (the unique
// constraint subscription_batch_idx): no update can be HOT, each one adds index entries, and
// each later update's unique check on subscription_pkey visits every version so far, so a
// finish_batch costs more buffers with every batch.  On a light queue the batch goes to
// pgq.batch and the subscription's updates change only unindexed columns: they are HOT, and
// the buffers a finish_batch touches stay nearly flat.
//
// Measured, no timing: the HOT share of pgq.subscription's updates (pg_stat_user_tables,
// read after pg_stat_force_next_flush() in the session that did the work) and the shared
// buffers of one finish_batch (EXPLAIN (ANALYZE, BUFFERS)) before and after 2,000 batches.
// The same run with the option off, and on the real PgQ, is the control: it grows.  Those of
// the next_batch that opened the batch are printed, not checked: it still reads the
// subscription row by key (passing a page per ~60 batches of HOT versions) and pgq.tick.
#include "sql_helpers.hpp"
#include "test_database.hpp"

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include <iostream>
#include <string>

namespace {

using pgqpp::test::execute;
using pgqpp::test::query_value;
using pgqpp::test::template_kind;
using pgqpp::test::test_database;

constexpr int batches = 2000;

struct held_xmin_run {
    long finish_buffers_before = 0;  ///< shared buffers (hit + read) of one finish_batch
    long finish_buffers_after = 0;   ///< the same after `batches` batches
    long next_buffers_before = 0;    ///< shared buffers of a next_batch that opens a batch
    long next_buffers_after = 0;     ///< the same after `batches` batches
    long updates = 0;                ///< n_tup_upd of pgq.subscription during the batches
    long hot_updates = 0;            ///< n_tup_hot_upd of the same
    bool held = false;               ///< the holder still had its xid at the end

    double hot_share() const { return updates > 0 ? double(hot_updates) / double(updates) : 0; }
};

/// One consumer works through `batches` batches (an event, a tick and a batch each, every
/// step its own transaction) while another session keeps a transaction with an xid open.
held_xmin_run run_under_held_xmin(template_kind kind, bool light) {
    test_database db{kind};
    pqxx::connection conn{db.conninfo()};
    execute(conn, "select pgq.create_queue('hq')");
    // tick on every call
    execute(conn, "select pgq.set_queue_config('hq', 'ticker_max_lag', '0')");
    execute(conn, "select pgq.set_queue_config('hq', 'ticker_idle_period', '0')");
    // explicit either way (the .light run of the test suite turns it on for new queues)
    if (kind == template_kind::ours)
        execute(conn, std::string{"select pgq.set_queue_config('hq', 'light_batches', '"} +
                          (light ? "true" : "false") + "')");
    execute(conn, "select pgq.register_consumer('hq', 'c')");

    // EXPLAIN (ANALYZE, BUFFERS) of a next_batch that opens a batch and of its finish_batch:
    // the top node's shared buffers include those of every statement inside the function
    execute(conn, R"(
        create function pg_temp.buffers(sql text) returns bigint language plpgsql as $$
        declare
            plan json;
        begin
            execute 'explain (analyze, buffers, format json) ' || sql into plan;
            return (plan -> 0 -> 'Plan' ->> 'Shared Hit Blocks')::bigint
                 + (plan -> 0 -> 'Plan' ->> 'Shared Read Blocks')::bigint;
        end $$;
        create function pg_temp.batch_buffers(out next_batch bigint, out finish_batch bigint)
        language plpgsql as $$
        begin
            perform pgq.insert_event('hq', 't', 'measured');
            perform pgq.ticker('hq');
            next_batch := pg_temp.buffers('select pgq.next_batch(''hq'', ''c'')');
            finish_batch := pg_temp.buffers('select pgq.finish_batch(' || pgq.next_batch('hq', 'c') || ')');
        end $$)");
    const auto batch_buffers = [&](long& next, long& finish) {
        pqxx::work tx{conn};
        const auto row = tx.exec1("select * from pg_temp.batch_buffers()");
        next = row[0].as<long>();
        finish = row[1].as<long>();
        tx.commit();
    };

    const auto work = [&](int n) {
        pqxx::nontransaction tx{conn};  // the DO block commits: outside a transaction block
        tx.exec("do $$ begin for i in 1 .. " + std::to_string(n) + R"( loop
                perform pgq.insert_event('hq', 't', 'd' || i);
                commit;
                perform pgq.ticker('hq');
                commit;
                perform pgq.finish_batch(pgq.next_batch('hq', 'c'));
                commit;
            end loop; end $$)");
    };
    const auto subscription_updates = [&](long& upd, long& hot) {
        execute(conn, "select pg_stat_force_next_flush()");
        pqxx::work tx{conn};
        const auto row = tx.exec1(
            "select n_tup_upd, n_tup_hot_upd from pg_stat_user_tables"
            " where relid = 'pgq.subscription'::regclass");
        upd = row[0].as<long>();
        hot = row[1].as<long>();
        tx.commit();
    };

    // warm up this session's caches before the first measurement
    work(5);
    pqxx::nontransaction{conn}.exec("vacuum pgq.subscription");

    pqxx::connection holder_conn{db.conninfo()};
    pqxx::work holder{holder_conn};
    holder.exec1("select txid_current()");

    held_xmin_run r;
    batch_buffers(r.next_buffers_before, r.finish_buffers_before);
    long upd0 = 0, hot0 = 0, upd1 = 0, hot1 = 0;
    subscription_updates(upd0, hot0);
    work(batches);
    subscription_updates(upd1, hot1);
    r.updates = upd1 - upd0;
    r.hot_updates = hot1 - hot0;
    batch_buffers(r.next_buffers_after, r.finish_buffers_after);
    r.held = query_value<bool>(conn,
                               "select backend_xid is not null and state = 'idle in transaction'"
                               "  from pg_stat_activity where pid = $1",
                               holder_conn.backendpid());
    holder.abort();

    std::cout << (kind == template_kind::pgq ? "real PgQ" : light ? "ours, light" : "ours")
              << ": " << r.updates << " updates of pgq.subscription, " << r.hot_updates
              << " HOT; buffers at the start and after " << batches << " batches: next_batch "
              << r.next_buffers_before << " -> " << r.next_buffers_after << ", finish_batch "
              << r.finish_buffers_before << " -> " << r.finish_buffers_after << "\n";
    return r;
}

TEST(LightBatchesUnderHeldXmin, SubscriptionUpdatesAreHotAndFinishBatchStaysFlat) {
    const auto r = run_under_held_xmin(template_kind::ours, /*light=*/true);
    ASSERT_TRUE(r.held) << "the holder lost its transaction: nothing was measured";
    EXPECT_GE(r.updates, 2 * batches);  // next_batch and finish_batch each update once
    EXPECT_GT(r.hot_share(), 0.95) << r.hot_updates << " of " << r.updates << " HOT";
    // A HOT chain ends when its page is full (nothing can be pruned while the xmin is held),
    // so a few index entries are still added (one per page of row versions): allow less
    // than one more buffer per 20 batches.
    EXPECT_LT(r.finish_buffers_after, r.finish_buffers_before + batches / 20)
        << "before " << r.finish_buffers_before << ", after " << r.finish_buffers_after;
}

/// The option off: PgQ's behaviour, with every update adding index entries.
void expect_growth(const held_xmin_run& r) {
    ASSERT_TRUE(r.held) << "the holder lost its transaction: nothing was measured";
    EXPECT_GE(r.updates, 2 * batches);
    EXPECT_LT(r.hot_share(), 0.05) << r.hot_updates << " of " << r.updates << " HOT";
    // the unique check visits every version: at least one more buffer per two batches
    EXPECT_GT(r.finish_buffers_after, r.finish_buffers_before + batches / 2)
        << "before " << r.finish_buffers_before << ", after " << r.finish_buffers_after;
}

TEST(LightBatchesUnderHeldXmin, ControlOptionOffGrowsLikePgq) {
    expect_growth(run_under_held_xmin(template_kind::ours, /*light=*/false));
}

TEST(LightBatchesUnderHeldXmin, ControlRealPgqGrows) {
    expect_growth(run_under_held_xmin(template_kind::pgq, /*light=*/false));
}

}  // namespace
