// status [QUEUE] [--watch]: queues and consumers, lag in time and events, the current
// batches, the rotation state of each queue and what blocks rotation (a consumer whose last
// tick keeps the oldest table alive, a transaction older than the rotation point, or a lock
// on the table to truncate). With
// --watch, also how fast each consumer catches up and when it will have (catch_up.hpp).
#include "catch_up.hpp"
#include "commands.hpp"
#include "interrupt.hpp"
#include "output.hpp"
#include "sql.hpp"

#include <pgqpp/admin.hpp>
#include <pgqpp/validate.hpp>

#include <pqxx/pqxx>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <thread>

namespace pgqctl {

namespace {

std::optional<std::int64_t> opt_i64(const pqxx::field& f) {
    if (f.is_null()) return std::nullopt;
    return f.as<std::int64_t>();
}

std::optional<pgqpp::duration> opt_us(const pqxx::field& f) {
    if (f.is_null()) return std::nullopt;
    return pgqpp::duration{f.as<std::int64_t>()};
}

struct old_tx {
    int pid = 0;
    std::string user, application, state, database, query;
    pgqpp::duration age{};
    std::optional<std::int64_t> xid;  ///< 64-bit, when the transaction has one
};

/// Everything status shows, read in one snapshot.
struct snapshot {
    std::vector<pgqpp::queue_info> queues;
    std::vector<pgqpp::consumer_info> consumers;
    json rotation = json::object();   ///< per queue name
    json problems = json::array();    ///< {queue, kind, message, ...}
    /// --watch only: per "queue/consumer", how fast it catches up (catch_up.hpp)
    std::map<std::string, catch_up_tracker::estimate> catch_up;
};

std::string consumer_key(const pgqpp::consumer_info& c) {
    return c.queue_name + "/" + c.consumer_name;
}

json tx_json(const old_tx& t) {
    return json{{"pid", t.pid},       {"user", t.user},   {"application", t.application},
                {"state", t.state},   {"database", t.database},
                {"age_seconds", json_seconds(t.age)}, {"xid", json_opt(t.xid)},
                {"query", t.query}};
}

/// A row of sql::old_transactions (or of sql::table_lockers, which starts alike).
old_tx old_tx_of(const pqxx::row& r) {
    old_tx t;
    t.pid = r[0].as<int>();
    t.user = r[1].as<std::string>();
    t.application = r[2].as<std::string>();
    t.state = r[3].as<std::string>();
    t.database = r[4].as<std::string>();
    t.age = pgqpp::duration{r[5].as<std::int64_t>()};
    t.xid = opt_i64(r[6]);
    t.query = r[7].as<std::string>();
    return t;
}

/// "pid N (user U, application, state[, database D])": a session in a problem's message.
std::string session_text(const old_tx& t, bool with_database) {
    return "pid " + std::to_string(t.pid) + " (user " + t.user +
           (t.application.empty() ? "" : ", " + t.application) + ", " + t.state +
           (with_database ? ", database " + t.database : "") + ")";
}

std::vector<old_tx> read_old_transactions(pqxx::transaction_base& tx) {
    std::vector<old_tx> txs;
    for (const auto& r : tx.exec(sql::old_transactions)) txs.push_back(old_tx_of(r));
    return txs;
}

/**
 * Why the due rotation of queue @p name cannot happen (one row of sql::rotation_state):
 * appends to @p rot's blocked_by and to @p problems. Rotation needs the slowest consumer's
 * last tick to have a snapshot xmin past step2 (the last rotation's point). If a newer tick
 * has one, that consumer is behind; if none has, a transaction older than step2 holds
 * every tick back, or nothing has been ticked since.
 */
void explain_blocked(const std::string& name, const pqxx::row& r, std::int64_t step2,
                     const std::vector<old_tx>& txs, json& rot, json& problems) {
    const auto newest_xmin = opt_i64(r[12]);
    if (newest_xmin && *newest_xmin > step2) {
        const auto consumer = r[8].as<std::string>();
        const auto last_tick = r[9].as<std::int64_t>();
        const auto age = opt_us(r[11]);
        rot["blocked_by"].push_back(json{{"kind", "consumer"},
                                         {"consumer", consumer},
                                         {"last_tick", last_tick},
                                         {"last_tick_age_seconds", json_seconds(age)}});
        problems.push_back(json{
            {"queue", name}, {"kind", "stuck_consumer"}, {"consumer", consumer},
            {"message", "rotation blocked by consumer " + quote_name(consumer) + ": its last tick " +
                            std::to_string(last_tick) + " is " + format_duration(age) +
                            " old; let it catch up, or unregister it if it is gone"}});
        return;
    }
    bool found = false;
    for (const auto& t : txs) {
        if (!t.xid || *t.xid > step2) continue;
        found = true;
        rot["blocked_by"].push_back(json{{"kind", "transaction"}, {"pid", t.pid}});
        problems.push_back(json{
            {"queue", name}, {"kind", "long_transaction"}, {"transaction", tx_json(t)},
            {"message", "rotation blocked by a transaction older than the last rotation: " +
                            session_text(t, true) + " open for " + format_duration(t.age) +
                            "; end it, e.g. select pg_terminate_backend(" + std::to_string(t.pid) +
                            ")"}});
    }
    if (found) return;
    rot["blocked_by"].push_back(json{{"kind", "ticker"}});
    problems.push_back(json{
        {"queue", name}, {"kind", "no_ticks"},
        {"message", "rotation waits for a tick newer than the last rotation: the newest tick is " +
                        format_duration(opt_us(r[13])) +
                        " old; is the ticker running (and the queue not paused)?"}});
}

/**
 * A due rotation that nothing else holds back truncates the next event table first: a
 * session holding any lock on it (pg_dump takes ACCESS SHARE on every table) makes
 * pgqpp's rotation skip its rounds, and PgQ's wait. Marks @p rot blocked and names them.
 */
void explain_locked(pqxx::transaction_base& tx, const std::string& name,
                    const std::string& table, json& rot, json& problems) {
    for (const auto& r : tx.exec_params(sql::table_lockers, table)) {
        const old_tx t = old_tx_of(r);
        const auto mode = r[8].as<std::string>();
        rot["state"] = "blocked";
        rot["blocked_by"].push_back(
            json{{"kind", "lock"}, {"pid", t.pid}, {"table", table}, {"mode", mode}});
        problems.push_back(json{
            {"queue", name}, {"kind", "table_lock"}, {"table", table}, {"mode", mode},
            {"transaction", tx_json(t)},
            {"message", "rotation waits for a lock: " + table + " (the table it truncates) is " +
                            "locked (" + mode + ") by " + session_text(t, false) +
                            " in a transaction open for " + format_duration(t.age) +
                            "; it rotates once that ends, or end it: select "
                            "pg_terminate_backend(" + std::to_string(t.pid) + ")"}});
    }
}

/**
 * pgqpp's step 2 of a rotation waits until no session holds a snapshot older than the
 * switch (pgq.maint_rotate_tables_step2): names them in @p rot and @p problems.
 */
void explain_step2_pending(pqxx::transaction_base& tx, const std::string& name,
                           std::int64_t step1, const std::vector<old_tx>& txs, json& rot,
                           json& problems) {
    if (!tx.exec(sql::can_list_old_snapshots)[0][0].as<bool>()) return;
    for (const auto& r : tx.exec_params(sql::old_snapshot_pids, step1)) {
        const int pid = r[0].as<int>();
        rot["blocked_by"].push_back(json{{"kind", "snapshot"}, {"pid", pid}});
        json problem{{"queue", name}, {"kind", "old_snapshot"}};
        std::string who = "pid " + std::to_string(pid);
        for (const auto& t : txs) {
            if (t.pid != pid) continue;
            problem["transaction"] = tx_json(t);
            who = session_text(t, false) + " in a transaction open for " + format_duration(t.age);
        }
        problem["message"] = "rotation step 2 waits for " + who +
                             ": its snapshot is older than the last rotation, so it may still "
                             "write into the previous event table; it completes once that "
                             "transaction ends";
        problems.push_back(std::move(problem));
    }
}

/**
 * The newest tick of a queue (one row of sql::rotation_state) has a snapshot newer than the
 * database's transaction ids: a restore into another cluster. Nothing is ticked or delivered
 * until the txids pass it (the ticker fails with "Invalid PgQ state").
 */
void check_txids_ahead(const std::string& name, const pqxx::row& r, json& problems) {
    const auto newest_xmin = opt_i64(r[12]);
    const auto next_txid = r[16].as<std::int64_t>();
    if (!newest_xmin || *newest_xmin <= next_txid) return;
    problems.push_back(json{
        {"queue", name}, {"kind", "txid_behind"}, {"newest_tick_xmin", *newest_xmin},
        {"next_txid", next_txid},
        {"message", "the database's transaction ids (next " + std::to_string(next_txid) +
                        ") are below the newest tick's (" + std::to_string(*newest_xmin) +
                        "): was it restored into another cluster? Nothing is ticked or "
                        "delivered until they pass it; raise the cluster's txid epoch with "
                        "pg_resetwal -e (docs/operations.md, \"Moving a database to another "
                        "cluster\")"}});
}

/// The rotation state of one row of sql::rotation_state (problems appended to @p problems).
json rotation_of(const pqxx::row& r, const std::vector<old_tx>& txs, json& problems) {
    const auto name = r[0].as<std::string>();
    const auto step2 = opt_i64(r[6]);
    const bool due = !r[7].is_null() && r[7].as<bool>();
    json rot{{"cur_table", r[1].as<int>()},
             {"ntables", r[2].as<int>()},
             {"period_seconds", json_seconds(opt_us(r[3]))},
             {"since_switch_seconds", json_seconds(opt_us(r[4]))},
             {"step1_txid", r[5].as<std::int64_t>()},
             {"step2_txid", json_opt(step2)},
             {"due", due},
             {"event_tables_bytes", r[14].as<std::int64_t>()},
             {"state", !step2 ? "step2 pending" : due ? "due" : "ok"},
             {"blocked_by", json::array()}};
    const auto slow_xmin = opt_i64(r[10]);
    if (step2 && due && slow_xmin && *slow_xmin <= *step2) {
        rot["state"] = "blocked";
        explain_blocked(name, r, *step2, txs, rot, problems);
    }
    return rot;
}

snapshot read_status(pqxx::connection& conn, const std::optional<std::string>& queue) {
    snapshot s;
    pqxx::work tx{conn};
    // One snapshot for everything, so the numbers agree with each other.
    tx.exec(sql::snapshot_transaction);
    pgqpp::admin admin{tx};
    if (queue) {
        auto q = admin.queue_info(*queue);
        if (!q) {
            throw cli_error{exit_not_found, "queue " + quote_name(*queue) +
                                                " does not exist in database " + conn.dbname()};
        }
        s.queues.push_back(*q);
        s.consumers = admin.consumers(*queue);
    } else {
        s.queues = admin.queues();
        s.consumers = admin.consumers();
    }
    const auto txs = read_old_transactions(tx);
    const std::string name = queue.value_or("");
    for (const auto& r : tx.exec_params(sql::rotation_state, queue ? name.c_str() : nullptr)) {
        check_txids_ahead(r[0].as<std::string>(), r, s.problems);
        json rot = rotation_of(r, txs, s.problems);
        if (rot["state"] == "due")
            explain_locked(tx, r[0].as<std::string>(), r[15].as<std::string>(), rot, s.problems);
        if (rot["state"] == "step2 pending")
            explain_step2_pending(tx, r[0].as<std::string>(), r[5].as<std::int64_t>(), txs, rot,
                                  s.problems);
        s.rotation[r[0].as<std::string>()] = std::move(rot);
    }
    tx.commit();
    return s;
}

std::string ticker_state(const pgqpp::queue_info& q) {
    if (q.queue_external_ticker) return "external";
    return q.queue_ticker_paused ? "paused" : "running";
}

json queue_json(const pgqpp::queue_info& q, const snapshot& s) {
    json consumers = json::array();
    for (const auto& c : s.consumers) {
        if (c.queue_name != q.queue_name) continue;
        json cj{{"consumer", c.consumer_name},
                {"lag_seconds", json_seconds(c.lag)},
                {"pending_events", json_opt(c.pending_events)},
                {"last_tick", json_opt(c.last_tick)},
                {"current_batch", json_opt(c.current_batch)},
                {"next_tick", json_opt(c.next_tick)},
                {"last_seen_seconds", json_seconds(c.last_seen)}};
        if (auto e = s.catch_up.find(consumer_key(c)); e != s.catch_up.end()) {
            cj["catch_up_events_per_second"] = e->second.events_per_second;
            cj["eta_seconds"] = e->second.eta_seconds ? json(*e->second.eta_seconds) : json(nullptr);
        }
        consumers.push_back(std::move(cj));
    }
    return json{{"queue", q.queue_name},
                {"ticker", ticker_state(q)},
                {"last_tick", json_opt(q.last_tick_id)},
                {"tick_age_seconds", json_seconds(q.ticker_lag)},
                {"events_per_second", q.ev_per_sec ? json(*q.ev_per_sec) : json(nullptr)},
                {"new_events", json_opt(q.ev_new)},
                {"rotation", s.rotation.value(q.queue_name, json::object())},
                {"consumers", consumers}};
}

json status_json(pqxx::connection& conn, const snapshot& s) {
    json queues = json::array();
    for (const auto& q : s.queues) queues.push_back(queue_json(q, s));
    return json{{"database", conn.dbname()}, {"queues", queues}, {"problems", s.problems}};
}

/// "1,200/s, ETA 4m 10s" / "falling behind" / "-" (first sample).
std::string catch_up_text(const snapshot& s, const pgqpp::consumer_info& c) {
    const auto e = s.catch_up.find(consumer_key(c));
    if (e == s.catch_up.end()) return "-";
    if (!e->second.eta_seconds) return e->second.events_per_second < 0 ? "falling behind" : "steady";
    char rate[32];
    std::snprintf(rate, sizeof rate, "%.0f/s", e->second.events_per_second);
    return std::string{rate} + ", ETA " +
           format_duration(pgqpp::duration{static_cast<std::int64_t>(*e->second.eta_seconds * 1e6)});
}

void print_human(const snapshot& s, bool watching) {
    table qt{{"QUEUE", "TICKER", "LAST TICK", "TICK AGE", "EV/S", "NEW", "TABLE", "SIZE",
              "ROTATED", "ROTATION"}};
    for (const auto& q : s.queues) {
        const auto rot = s.rotation.value(q.queue_name, json::object());
        char rate[32] = "-";
        if (q.ev_per_sec) std::snprintf(rate, sizeof rate, "%.1f", *q.ev_per_sec);
        std::string since = "-";
        if (rot.contains("since_switch_seconds") && rot["since_switch_seconds"].is_number())
            since = format_duration(pgqpp::duration{static_cast<std::int64_t>(
                        rot["since_switch_seconds"].get<double>() * 1e6)}) + " ago";
        qt.add({q.queue_name, ticker_state(q), format_opt(q.last_tick_id),
                format_duration(q.ticker_lag), rate, format_opt(q.ev_new),
                std::to_string(q.queue_cur_table) + "/" + std::to_string(q.queue_ntables),
                rot.contains("event_tables_bytes")
                    ? format_size(rot["event_tables_bytes"].get<std::int64_t>())
                    : "-",
                since,
                rot.value("state", "-")});
    }
    if (qt.empty()) {
        std::cout << "no queues\n";
        return;
    }
    qt.print(std::cout);
    std::vector<std::string> heads{"QUEUE", "CONSUMER", "LAG", "PENDING", "LAST TICK", "BATCH",
                                   "LAST SEEN"};
    if (watching) heads.push_back("CATCHING UP");
    table ct{heads};
    for (const auto& c : s.consumers) {
        std::vector<std::string> row{
            c.queue_name, c.consumer_name, format_duration(c.lag), format_opt(c.pending_events),
            format_opt(c.last_tick),
            c.current_batch ? std::to_string(*c.current_batch) + " (to tick " +
                                  format_opt(c.next_tick) + ")"
                            : "-",
            format_duration(c.last_seen) + (c.last_seen ? " ago" : "")};
        if (watching) row.push_back(catch_up_text(s, c));
        ct.add(row);
    }
    std::cout << '\n';
    if (ct.empty()) std::cout << "no consumers\n";
    else ct.print(std::cout);
    if (!s.problems.empty()) {
        std::cout << "\nProblems:\n";
        for (const auto& p : s.problems)
            std::cout << "  queue " << quote_name(p["queue"].get<std::string>()) << ": "
                      << p["message"].get<std::string>() << '\n';
    }
}


}  // namespace

int cmd_status(context& ctx) {
    std::string queue;
    double interval = 2.0;
    int iterations = 0;
    po::options_description opts{"Options"};
    opts.add_options()
        ("queue", po::value<std::string>(&queue), "only this queue")
        ("watch,w", po::bool_switch(), "refresh until interrupted (in place on a terminal; "
                                       "with --json one JSON document per line)")
        ("interval", po::value<double>(&interval)->default_value(2.0), "seconds between refreshes")
        ("iterations", po::value<int>(&iterations)->default_value(0),
         "with --watch: stop after this many refreshes (0: never)");
    po::positional_options_description pos;
    pos.add("queue", 1);
    po::variables_map vm;
    if (!ctx.parse("[QUEUE] [--watch [--interval SECONDS]]\n\n"
                   "Queues and consumers: lag in time and events, last tick, current batch, "
                   "rotation state,\nand what blocks rotation (a stuck consumer, a long "
                   "transaction, no ticks).",
                   opts, pos, vm))
        return exit_ok;
    if (interval <= 0) throw cli_error{exit_usage, "status: --interval must be positive"};
    std::optional<std::string> only;
    if (vm.count("queue")) {
        pgqpp::validate_queue_name(queue);
        only = queue;
    }
    auto& conn = ctx.conn();
    require_pgq(conn);
    const bool watch = vm["watch"].as<bool>();
    if (!watch) {
        const auto s = read_status(conn, only);
        if (ctx.json()) print_json(status_json(conn, s));
        else print_human(s, false);
        return exit_ok;
    }
    stop_on_signals();
    const bool tty = is_tty(1);
    catch_up_tracker catching_up;
    for (int n = 1; !stop_requested(); ++n) {
        auto s = read_status(conn, only);
        const auto now = catch_up_tracker::clock::now();
        for (const auto& c : s.consumers)
            if (c.pending_events)
                if (auto e = catching_up.sample(consumer_key(c), *c.pending_events, now))
                    s.catch_up[consumer_key(c)] = *e;
        if (ctx.json()) {
            print_json_line(status_json(conn, s));
        } else {
            if (tty) std::cout << "\x1b[H\x1b[2J";  // home + clear: refresh in place
            std::cout << "pgqctl status  " << conn.dbname() << "  "
                      << format_time(std::chrono::time_point_cast<pgqpp::duration>(
                             std::chrono::system_clock::now()))
                      << "  (every " << interval << " s, Ctrl-C to stop)\n\n";
            print_human(s, true);
            if (!tty) std::cout << '\n';
            std::cout << std::flush;
        }
        if (iterations > 0 && n >= iterations) break;
        sleep_unless_stopped(interval);
    }
    return exit_ok;
}

}  // namespace pgqctl
