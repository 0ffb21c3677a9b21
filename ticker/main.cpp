// pgqpp-ticker: pgqd's job on pgqpp's runtime (docs/ticker.md). One process serves every
// database of a cluster (or a fixed list): it ticks (pgq.ticker()), runs the maintenance
// operations (pgq.maint_operations(), one statement and transaction per operation) and
// moves due retry events (pgq.maint_retry_events()). It reads pgqd's [pgqd] section, so a
// pgqd user switches by changing the binary name.
//
// Low latency: instead of calling pgq.ticker() once per ticker_period, each database's
// ticker polls adaptively: every tick_min_interval while pgq.ticker() makes ticks (backing
// off while the consumers have not taken the previous ticks), then an interval that doubles
// up to ticker_period while nothing happens (see docs/ticker.md).
//
// Threads: the main thread runs the io_context (signals, reload, stats line, database
// discovery every check_period); each database has a ticker thread and a maintenance
// thread, each with its own connection, doing plain synchronous libpqxx calls.
#include <pgqpp/connection_config.hpp>
#include <pgqpp/quote.hpp>
#include <pgqpp/runtime/runtime.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <pqxx/pqxx>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace rt = pgqpp::runtime;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

/// The session advisory lock (one bigint key) that elects the ticking process of a
/// database when several pgqpp-tickers serve it; the others wait as hot standbys.
constexpr std::int64_t leader_lock_key = 0x7067717070746b72;  // "pgqpptkr"

rt::options_table options() {
    rt::options_table t{"pgqpp-ticker",
                        "Ticks, maintains and flushes the retry queues of PgQ queues in every "
                        "database of a cluster (a low-latency pgqd)."};
    t.set_section("pgqd").allow_positional_config();
    t.add(rt::opt::connection("base_connstr", "",
                              "libpq connection string without dbname; ` dbname=<db>` is appended "
                              "for each database."));
    t.add(rt::opt::string("initial_database", "template1",
                          "Database where the list of databases is read when database_list is "
                          "empty."));
    t.add(rt::opt::list("database_list", "",
                        "Databases to serve (comma/space separated); empty: every database that "
                        "allows connections and is not a template."));
    t.add(rt::opt::duration("check_period", "60",
                            "How often the list of databases is read again, and databases "
                            "without pgq are checked again.")
              .positive());
    t.add(rt::opt::duration("maint_period", "120", "How often pgq.maint_operations() runs.")
              .positive());
    t.add(rt::opt::duration("retry_period", "30",
                            "How often pgq.maint_retry_events() moves due retry events.")
              .positive());
    t.add(rt::opt::duration("ticker_period", "1",
                            "Longest interval between pgq.ticker() calls (the idle interval).")
              .positive());
    t.add(rt::opt::duration("connection_lifetime", "3600",
                            "Connections are closed and opened again after this long.")
              .positive());
    t.add(rt::opt::duration("tick_min_interval", "2ms",
                            "pgqpp: shortest interval between pgq.ticker() calls of a database, "
                            "used while queues are active (0: fixed ticker_period, like pgqd)."));
    t.add(rt::opt::duration("tick_hot_period", "200ms",
                            "pgqpp: after the last tick made, keep calling pgq.ticker() every "
                            "tick_min_interval this long before backing off towards "
                            "ticker_period."));
    t.add(rt::opt::boolean("leader_lock", "1",
                           "pgqpp: only the process holding a session advisory lock per database "
                           "ticks it; a second ticker waits as a hot standby."));
    t.add(rt::standard_options());
    // pgqd's defaults.
    t.set_default("syslog", "1");
    t.set_default("syslog_ident", "pgqd");
    return t;
}

/// After a round that ticked: the sum of the queues' newest tick_event_seq (a change means
/// new events: activity), and whether every queue that has consumers has two or more ticks
/// that none of them has taken yet (position: the end of the open batch, else the last
/// finished tick; false when no queue has consumers). One round trip for both.
struct tick_activity {
    std::string event_seq;
    bool consumers_behind = false;
};

tick_activity read_tick_activity(pqxx::transaction_base& tx) {
    const auto r = tx.exec1(
        "select coalesce(sum(t.newest_seq), 0)::text, "
        "       coalesce(bool_and(c.pos < t.newest - 1) filter (where c.pos is not null), false) "
        "from pgq.queue q "
        "cross join lateral (select tick_id as newest, tick_event_seq as newest_seq "
        "from pgq.tick where tick_queue = q.queue_id order by tick_id desc limit 1) t "
        "cross join lateral (select max(coalesce(sub_next_tick, sub_last_tick)) as pos "
        "from pgq.subscription where sub_queue = q.queue_id) c");
    return {r[0].c_str(), r[1].as<bool>()};
}

/// Settings the database threads read (replaced on reload).
struct settings {
    rt::duration check_period, maint_period, retry_period, ticker_period, lifetime, min_interval,
        hot_period;
    bool leader_lock = true;

    static settings from(const rt::config& c) {
        return {c.get_duration("check_period"),  c.get_duration("maint_period"),
                c.get_duration("retry_period"),  c.get_duration("ticker_period"),
                c.get_duration("connection_lifetime"), c.get_duration("tick_min_interval"),
                c.get_duration("tick_hot_period"), c.get_bool("leader_lock")};
    }
};

/// Counters of all databases for the stats line and /metrics.
struct counters {
    rt::metric_registry registry;
    rt::counter_family& calls = registry.counter(
        "pgqpp_ticker_ticker_calls_total", "pgq.ticker() calls.", {"database"});
    rt::counter_family& ticks = registry.counter(
        "pgqpp_ticker_ticks_total", "Ticks made (queues ticked by pgq.ticker()).", {"database"});
    rt::counter_family& maint = registry.counter(
        "pgqpp_ticker_maint_operations_total", "Maintenance operations run.", {"database"});
    rt::counter_family& retry = registry.counter(
        "pgqpp_ticker_retry_events_total", "Retry events moved back into their queue.",
        {"database"});
    rt::counter_family& errors = registry.counter(
        "pgqpp_ticker_errors_total", "Database errors (each followed by a reconnect).",
        {"database"});
    rt::gauge_family& up = registry.gauge(
        "pgqpp_ticker_database_up",
        "1 while the database is ticked by this process, 0 otherwise.", {"database"});
    rt::gauge_family& standby = registry.gauge(
        "pgqpp_ticker_database_standby",
        "1 while another ticker holds the database's leader lock.", {"database"});
    rt::gauge_family& skipped = registry.gauge(
        "pgqpp_ticker_database_skipped",
        "1 while the database is not served: no pgq schema or not pgq 3.x.", {"database"});
    rt::gauge& databases = registry.gauge("pgqpp_ticker_databases", "Databases served.").get();

    std::atomic<std::int64_t> period_ticks{0}, period_maint{0}, period_retry{0},
        period_errors{0};
};

std::string db_connstr(const std::string& base, const std::string& db) {
    std::string s = base;
    if (!s.empty()) s += ' ';
    return s + "dbname=" + pgqpp::quote_conninfo_value(db);
}

/// Runs the ticker and the maintenance loop of one database, each on a thread.
class database {
public:
    database(std::string name, std::string connstr, settings s, counters& c)
        : name_{std::move(name)}, conn_{pgqpp::connection_config{std::move(connstr)}
                                             .with_default("connect_timeout", "10")
                                             .with_default("application_name", "pgqpp-ticker")},
          log_{name_}, settings_{s}, c_{c} {
        c_.up.labels({name_}).set(0);
        c_.standby.labels({name_}).set(0);
        c_.skipped.labels({name_}).set(0);
        ticker_ = std::thread{[this] { ticker_loop(); }};
        maint_ = std::thread{[this] { maint_loop(); }};
    }
    ~database() {
        {
            std::lock_guard<std::mutex> lk{mu_};
            stop_ = true;
            // A statement may wait on a lock (a vacuum, PgQ's truncate): cancel it.
            for (auto* c : active_) {
                try {
                    c->cancel_query();
                } catch (const std::exception&) {
                }
            }
        }
        cv_.notify_all();
        ticker_.join();
        maint_.join();
        for (auto* f : {&c_.calls, &c_.ticks, &c_.maint, &c_.retry, &c_.errors}) f->remove({name_});
        c_.up.remove({name_});
        c_.standby.remove({name_});
        c_.skipped.remove({name_});
    }
    void update(settings s) {
        {
            std::lock_guard<std::mutex> lk{mu_};
            settings_ = s;
        }
        cv_.notify_all();
    }

private:
    settings current() {
        std::lock_guard<std::mutex> lk{mu_};
        return settings_;
    }
    /// Sleeps until @p until or stop; returns false when stopping.
    bool sleep_until(clock_type::time_point until) {
        std::unique_lock<std::mutex> lk{mu_};
        cv_.wait_until(lk, until, [this] { return stop_; });
        return !stop_;
    }
    bool sleep_for(rt::duration d) { return sleep_until(clock_type::now() + d); }
    /// Registers a connection for cancel_query() on stop, for as long as it lives.
    class active_guard {
    public:
        active_guard(database& d, pqxx::connection& c) : d_{d}, c_{&c} {
            std::lock_guard<std::mutex> lk{d_.mu_};
            d_.active_.push_back(c_);
        }
        ~active_guard() {
            std::lock_guard<std::mutex> lk{d_.mu_};
            d_.active_.erase(std::find(d_.active_.begin(), d_.active_.end(), c_));
        }
        active_guard(const active_guard&) = delete;
        active_guard& operator=(const active_guard&) = delete;

    private:
        database& d_;
        pqxx::connection* c_;
    };

    bool stopping() {
        std::lock_guard<std::mutex> lk{mu_};
        return stop_;
    }

    /// "" if the database has a usable pgq, else why not.
    static std::string check_pgq(pqxx::connection& conn) {
        pqxx::nontransaction tx{conn};
        if (tx.exec("select 1 from pg_catalog.pg_namespace where nspname = 'pgq'").empty())
            return "no pgq schema";
        auto r = tx.exec("select pgq.version()");
        if (r.size() != 1 || r[0][0].is_null()) return "pgq.version() returned nothing";
        const std::string v = r[0][0].c_str();
        if (v.empty() || v[0] < '3') return "bad pgq version " + v;
        return {};
    }

    void note_skip(const std::string& why) {
        std::lock_guard<std::mutex> lk{skip_mu_};
        c_.skipped.labels({name_}).set(why.empty() ? 0 : 1);
        if (why != skip_reason_) {
            if (!why.empty()) log_.info("{}: not served, checked again every check_period", why);
            skip_reason_ = why;
        }
    }

    void on_error(const std::exception& e, rt::backoff& b, const char* what) {
        if (stopping()) return;  // e.g. the statement cancelled by ~database()
        c_.errors.labels({name_}).inc();
        c_.period_errors++;
        const auto d = b.next_delay();
        log_.warn("{}: {} (again in {})", what, e.what(), rt::format_duration(d));
        sleep_for(d);
    }

    void ticker_loop() {
        rt::backoff b{{100ms, 10s, 2.0, 0.2}};
        auto& calls = c_.calls.labels({name_});
        auto& ticks = c_.ticks.labels({name_});
        auto& up = c_.up.labels({name_});
        auto& standby = c_.standby.labels({name_});
        while (!stopping()) {
            try {
                auto s = current();
                std::string why;
                {
                    auto probe = conn_.connect();
                    active_guard guard{*this, *probe};
                    why = check_pgq(*probe);
                }
                if (!why.empty()) {
                    note_skip(why);
                    sleep_for(s.check_period);  // disconnected meanwhile, as pgqd
                    continue;
                }
                note_skip("");
                auto conn = conn_.connect();
                active_guard guard{*this, *conn};
                const auto opened = clock_type::now();
                if (s.leader_lock) {
                    bool logged = false;
                    for (;;) {
                        pqxx::nontransaction tx{*conn};
                        if (tx.exec_params1("select pg_try_advisory_lock($1)", leader_lock_key)[0]
                                .as<bool>())
                            break;
                        if (!logged) log_.info("another ticker holds the leader lock: standing by");
                        logged = true;
                        standby.set(1);
                        if (!sleep_for(current().ticker_period)) return;
                    }
                    standby.set(0);
                    if (logged) log_.info("took over the leader lock");
                }
                log_.info("ticking ({})", conn_.describe());
                up.set(1);
                leader_ = true;
                cv_.notify_all();
                auto interval = s.min_interval;
                auto last_activity = clock_type::now();
                std::string last_seq;
                bool succeeded = false;
                while (!stopping()) {
                    s = current();
                    if (clock_type::now() - opened >= s.lifetime) {
                        log_.debug("connection_lifetime reached: reconnecting");
                        break;
                    }
                    pqxx::nontransaction tx{*conn};
                    const auto n = tx.exec1("select pgq.ticker()")[0].as<std::int64_t>(0);
                    calls.inc();
                    c_.period_ticks += n;
                    if (!succeeded) {
                        b.reset();
                        succeeded = true;
                    }
                    bool active = false, behind = false;
                    if (n > 0) {
                        ticks.inc(static_cast<double>(n));
                        // A tick with new events is activity; PgQ's idle ticks (an idle
                        // queue ticks at doubling intervals) are not.
                        auto now_ticked = read_tick_activity(tx);
                        active = now_ticked.event_seq != last_seq;
                        behind = now_ticked.consumers_behind;
                        last_seq = std::move(now_ticked.event_seq);
                    }
                    // Consumers behind: pgq.next_batch hands out one tick at a time, so a
                    // tick every min_interval while every queue's most advanced consumer
                    // has still two ticks to take would only split its backlog into more
                    // small batches than it can take, and it would fall further behind
                    // (bench latency_e2e, docs/benchmarks.md). Back off instead (doubling,
                    // at most 16 min_intervals): its next batch then ends at a tick that
                    // holds everything that came meanwhile.
                    if (active && s.min_interval > rt::duration::zero() && behind) {
                        last_activity = clock_type::now();
                        interval = std::min({s.ticker_period, s.min_interval * 16,
                                             std::max(s.min_interval * 2, interval * 2)});
                    } else if (active) {
                        interval = s.min_interval;
                        last_activity = clock_type::now();
                    } else if (clock_type::now() - last_activity < s.hot_period) {
                        interval = s.min_interval;  // events may still commit: stay hot
                    } else {
                        interval = std::min(s.ticker_period,
                                            std::max(s.min_interval * 2, interval * 2));
                    }
                    if (s.min_interval <= rt::duration::zero()) interval = s.ticker_period;
                    if (!sleep_for(interval)) break;
                }
                leader_ = false;
                up.set(0);
            } catch (const std::exception& e) {
                leader_ = false;
                up.set(0);
                on_error(e, b, "ticker");
            }
        }
    }

    /// Maintenance and retry, pgqd's contract: one statement (= transaction) per operation,
    /// an operation repeated while it returns non-zero. Only while this process ticks.
    void maint_loop() {
        rt::backoff b{{1s, 20s, 2.0, 0.2}};
        auto next_maint = clock_type::now();
        auto next_retry = clock_type::now();
        while (!stopping()) {
            if (!leader_) {
                std::unique_lock<std::mutex> lk{mu_};
                cv_.wait_for(lk, 1s, [this] { return stop_ || leader_.load(); });
                continue;
            }
            auto s = current();
            try {
                const auto now = clock_type::now();
                if (now >= next_maint || now >= next_retry) {
                    auto conn = conn_.connect();
                    active_guard guard{*this, *conn};
                    if (now >= next_maint) {
                        run_maint(*conn);
                        next_maint = clock_type::now() + s.maint_period;
                    }
                    if (now >= next_retry) {
                        run_retry(*conn);
                        next_retry = clock_type::now() + s.retry_period;
                    }
                    b.reset();
                }
                sleep_until(std::min(next_maint, next_retry));
            } catch (const std::exception& e) {
                on_error(e, b, "maintenance");
            }
        }
    }

    void run_maint(pqxx::connection& conn) {
        auto& maint = c_.maint.labels({name_});
        std::vector<std::pair<std::string, std::optional<std::string>>> ops;
        {
            pqxx::nontransaction tx{conn};
            for (const auto& row : tx.exec("select func_name, func_arg from pgq.maint_operations()"))
                ops.emplace_back(row[0].c_str(), row[1].is_null()
                                                     ? std::nullopt
                                                     : std::optional<std::string>{row[1].c_str()});
        }
        for (const auto& [fn, arg] : ops) {
            std::string lower = fn;
            std::transform(lower.begin(), lower.end(), lower.begin(),
                           [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
            if (lower == "vacuum" || lower == "vacuum analyze") {
                if (!arg) continue;
                pqxx::nontransaction tx{conn};
                tx.exec(lower + " " + pgqpp::quote_qualified_name(conn, *arg));
                maint.inc();
                c_.period_maint++;
                continue;
            }
            const std::string sql = "select " + pgqpp::quote_qualified_name(conn, fn) +
                                    (arg ? "($1)" : "()");
            for (int round = 0; round < 100000 && !stopping(); ++round) {
                pqxx::nontransaction tx{conn};
                auto r = arg ? tx.exec_params(sql, *arg) : tx.exec(sql);
                maint.inc();
                c_.period_maint++;
                if (r.empty() || r[0][0].is_null()) break;
                // pgqd: repeated while the first column is a non-zero integer (atoi).
                if (std::strtoll(r[0][0].c_str(), nullptr, 10) == 0) break;
            }
        }
    }

    void run_retry(pqxx::connection& conn) {
        auto& retry = c_.retry.labels({name_});
        for (;;) {
            pqxx::nontransaction tx{conn};
            const auto n = tx.exec1("select pgq.maint_retry_events()")[0].as<std::int64_t>(0);
            if (n <= 0) break;
            retry.inc(static_cast<double>(n));
            c_.period_retry += n;
            if (stopping()) break;
        }
    }

    std::string name_;
    pgqpp::connection_config conn_;
    rt::log_context log_;
    std::mutex mu_;
    std::condition_variable cv_;
    bool stop_ = false;
    std::vector<pqxx::connection*> active_;
    settings settings_;
    counters& c_;
    std::atomic<bool> leader_{false};
    std::mutex skip_mu_;
    std::string skip_reason_ = "?";
    std::thread ticker_;
    std::thread maint_;
};

class ticker_daemon {
public:
    ticker_daemon(boost::asio::io_context& io, rt::config_loader& loader, rt::config cfg)
        : io_{io}, loader_{loader}, cfg_{std::move(cfg)}, daemon_{io, rt::daemon_options::from(cfg_)},
          check_timer_{io},
          stats_{io.get_executor(), log_, cfg_.get_duration("stats_period"),
                 [this](rt::stats_line& line) {
                     line.add("ticks", c_.period_ticks.exchange(0))
                         .add("maint", c_.period_maint.exchange(0))
                         .add("retry", c_.period_retry.exchange(0))
                         .add("errors", c_.period_errors.exchange(0))
                         .add("databases", static_cast<std::int64_t>(dbs_.size()));
                 }} {}

    bool start() {
        daemon_.on_stop([this](int) { stop(); });
        daemon_.on_reload([this] { reload(); });
        try {
            // A bad base_connstr is a configuration error: found now, not in a retry loop.
            (void)pgqpp::connection_config{db_connstr(cfg_.get_string("base_connstr"), "x")};
            daemon_.start();
            if (auto o = rt::metrics_server_options::from(cfg_))
                http_ = std::make_unique<rt::metrics_server>(c_.registry, *o);
        } catch (const std::exception& e) {
            log_.critical("{}", e.what());
            return false;
        }
        log_.info("starting (ticker_period {}, tick_min_interval {})",
                  rt::format_duration(cfg_.get_duration("ticker_period")),
                  rt::format_duration(cfg_.get_duration("tick_min_interval")));
        stats_.start();
        check();
        return true;
    }

private:
    std::vector<std::string> wanted() {
        const auto& list = cfg_.get_list("database_list");
        if (!list.empty()) return list;
        const auto cs = db_connstr(cfg_.get_string("base_connstr"),
                                   cfg_.get_string("initial_database"));
        auto conn = pgqpp::connection_config{cs}.with_default("connect_timeout", "10").connect();
        pqxx::nontransaction tx{*conn};
        std::vector<std::string> out;
        for (const auto& row : tx.exec("select datname from pg_catalog.pg_database "
                                       "where not datistemplate and datallowconn order by 1"))
            out.emplace_back(row[0].c_str());
        return out;
    }

    void check() {
        if (stopping_) return;
        try {
            auto names = wanted();
            std::set<std::string> want(names.begin(), names.end());
            for (auto it = dbs_.begin(); it != dbs_.end();) {
                if (!want.count(it->first)) {
                    log_.info("database {} is gone: no longer served", it->first);
                    it = dbs_.erase(it);
                } else {
                    ++it;
                }
            }
            const auto s = settings::from(cfg_);
            const auto& base = cfg_.get_string("base_connstr");
            for (const auto& n : want) {
                if (dbs_.count(n)) continue;
                log_.info("serving database {}", n);
                dbs_.emplace(n, std::make_unique<database>(n, db_connstr(base, n), s, c_));
            }
            c_.databases.set(static_cast<double>(dbs_.size()));
            check_failed_ = false;
        } catch (const std::exception& e) {
            c_.period_errors++;
            log_.error("cannot read the list of databases: {}", e.what());
            check_failed_ = true;
        }
        // After a failure (the server is down) look again soon, not a check_period later.
        auto next = cfg_.get_duration("check_period");
        if (check_failed_) next = std::min<rt::duration>(next, std::chrono::seconds{5});
        check_timer_.expires_after(next);
        check_timer_.async_wait([this](boost::system::error_code ec) {
            if (!ec) check();
        });
    }

    void reload() {
        try {
            rt::config next = loader_.reload();
            (void)pgqpp::connection_config{db_connstr(next.get_string("base_connstr"), "x")};
            rt::setup_logging(rt::logging_settings::from(next));
            stats_.set_period(next.get_duration("stats_period"));
            for (const auto& key : cfg_.changed_keys(next)) {
                if (key == "pidfile" || key.rfind("metrics_", 0) == 0)
                    log_.warn("{} changed: takes effect after a restart", key);
            }
            const bool conn_changed = cfg_.text("base_connstr") != next.text("base_connstr");
            cfg_ = std::move(next);
            if (conn_changed) dbs_.clear();  // reconnect everything with the new string
            const auto s = settings::from(cfg_);
            for (auto& [n, db] : dbs_) db->update(s);
            log_.info("configuration reloaded");
            check_timer_.cancel();
            check();
        } catch (const std::exception& e) {
            log_.error("reload failed, keeping the old configuration: {}", e.what());
        }
    }

    void stop() {
        stopping_ = true;
        log_.info("stopping");
        check_timer_.cancel();
        dbs_.clear();
        stats_.report_now();
        stats_.stop();
        http_.reset();
    }

    boost::asio::io_context& io_;
    rt::config_loader& loader_;
    rt::config cfg_;
    rt::log_context log_;
    counters c_;
    rt::daemon daemon_;
    boost::asio::steady_timer check_timer_;
    std::unique_ptr<rt::metrics_server> http_;
    std::map<std::string, std::unique_ptr<database>> dbs_;
    bool stopping_ = false;
    bool check_failed_ = false;
    rt::stats_reporter stats_;
};

}  // namespace

int main(int argc, char** argv) {
    rt::config_loader loader{options()};
    std::optional<rt::config> cfg = loader.load_or_exit(argc, argv);
    if (!cfg) return loader.exit_code();
    try {
        rt::setup_logging(rt::logging_settings::from(*cfg));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "pgqpp-ticker: %s\n", e.what());
        return rt::exit_failure;
    }
    boost::asio::io_context io;
    ticker_daemon t{io, loader, std::move(*cfg)};
    if (!t.start()) return rt::exit_failure;
    io.run();
    return 0;
}
