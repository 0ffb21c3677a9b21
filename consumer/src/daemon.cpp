// consumer_daemon (daemon.hpp): tick_watcher's structure (examples/runtime) with the batch loop.
#include "pgqpp/consumer/daemon.hpp"

#include <pgqpp/admin.hpp>
#include <pgqpp/error.hpp>

#include <boost/asio/post.hpp>
#include <pqxx/pqxx>

#include <chrono>
#include <utility>

namespace pgqpp::consumer {

namespace rt = pgqpp::runtime;

namespace {

void add_options(rt::options_table& t, std::optional<delivery> fixed) {
    t.add(rt::opt::connection("db", "", "Database with the queue.").required());
    t.add(rt::opt::string("queue", "", "Queue to consume.").required());
    t.add(rt::opt::string("consumer", "", "Consumer name (registered at start).").required());
    if (!fixed)
        t.add(rt::opt::string("delivery", "local",
                              "local: the handler writes in the batch's transaction (exactly "
                              "once); remote: into target_db, with pgq_ext there (exactly "
                              "once); at_least_once: effects outside the database, finish after "
                              "them."));
    t.add(rt::opt::duration("poll_period", "1s",
                            "Look for a batch at least this often without a NOTIFY (the real "
                            "PgQ sends none).")
              .positive());
    t.add(rt::opt::duration("min_lag", "0", "Only take ticks at least this old (0: any)."));
    t.add(rt::opt::integer("min_count", "0",
                           "Wait until a batch has this many events (0: any; see min_interval)."));
    t.add(rt::opt::duration("min_interval", "0",
                            "With min_count: take the batch anyway after this long (0: never)."));
    t.add(rt::opt::integer("fetch_size", "1000", "Events per FETCH from the batch's cursor."));
    t.add(rt::opt::integer("fetch_connections", "1",
                           "2: read big batches (>= 2 x fetch_size new events) in two parts at "
                           "once, the second through another connection to db and a thread of "
                           "its own (at_least_once and remote delivery; for a consumer catching "
                           "up on a machine with spare cores). 1: one cursor."));
    t.add(rt::opt::integer("max_retries", "0",
                           "A retry of an event retried this many times goes to the dead "
                           "letters instead (pgqpp's SQL only; 0: retry forever)."));
    t.add(rt::opt::string("subconsumer", "",
                          "Cooperative consumer (pgq_coop): this process's member name; the "
                          "members of one consumer share its batches (empty: not cooperative)."));
    t.add(rt::opt::duration("dead_interval", "0",
                            "Cooperative: take over the open batch of a member inactive this "
                            "long (a dead process); longer than any batch (0: never)."));
    if (!fixed) {
        t.add(rt::opt::string("target_db", "",
                              "remote delivery: connection string of the database (with schema "
                              "pgq_ext) that the handler writes to."));
    } else if (*fixed == delivery::remote_exactly_once) {
        t.add(rt::opt::string("target_db", "",
                              "Connection string of the database (with schema pgq_ext) that "
                              "the handler writes to.")
                  .required());
    }
}

}  // namespace

void add_consumer_options(rt::options_table& t) {
    add_options(t, std::nullopt);
}

void add_consumer_options(rt::options_table& t, delivery fixed) {
    add_options(t, fixed);
}

std::optional<coop_options> coop_options_from(const rt::config& cfg) {
    const auto dead =
        std::chrono::duration_cast<std::chrono::seconds>(cfg.get_duration("dead_interval"));
    if (cfg.get_string("subconsumer").empty()) {
        if (dead.count() > 0) throw std::invalid_argument{"dead_interval needs subconsumer"};
        return std::nullopt;
    }
    coop_options o{cfg.get_string("subconsumer"), std::nullopt};
    if (dead.count() > 0) o.dead_interval = dead;
    return o;
}

batch_options batch_options_from(const rt::config& cfg) {
    using std::chrono::duration_cast;
    using std::chrono::seconds;
    batch_options o;
    if (auto d = duration_cast<seconds>(cfg.get_duration("min_lag")); d.count() > 0) o.min_lag = d;
    if (auto n = cfg.get_int("min_count"); n > 0) o.min_count = n;
    if (auto d = duration_cast<seconds>(cfg.get_duration("min_interval")); d.count() > 0)
        o.min_interval = d;
    o.fetch_size = cfg.get_int("fetch_size");
    if (auto n = cfg.get_int("max_retries"); n > 0) o.max_retries = static_cast<std::int32_t>(n);
    if (o.fetch_size <= 0) throw std::invalid_argument{"fetch_size must be positive"};
    return o;
}

namespace {

/// fetch_connections = 2: big batches are read through a second connection too (not in
/// local delivery, whose handler writes through the cursor's connection).
bool helper_wanted(const rt::config& cfg, delivery mode) {
    const auto n = cfg.get_int("fetch_connections");
    if (n != 1 && n != 2) throw std::invalid_argument{"fetch_connections must be 1 or 2"};
    return n == 2 && mode != delivery::local_exactly_once;
}

}  // namespace

consumer_daemon::consumer_daemon(boost::asio::io_context& io, rt::config_loader& loader,
                                 rt::config cfg, consumer& c)
    : loader_{loader}, cfg_{std::move(cfg)}, db_{cfg_.get_connection("db")}, consumer_{c},
      log_{c.queue() + "/" + c.name()}, daemon_{io, rt::daemon_options::from(cfg_)},
      ticks_{io.get_executor(), db_, {}, log_}, startup_{io.get_executor(), {}, log_, "connect"},
      retry_timer_{io},
      stats_{io.get_executor(), log_, cfg_.get_duration("stats_period"),
             [this](rt::stats_line& line) {
                 const double secs =
                     std::chrono::duration<double>(cfg_.get_duration("stats_period")).count();
                 const auto ev = std::exchange(period_events_, 0);
                 line.add("events", ev)
                     .add("events_per_s", secs > 0 ? static_cast<double>(ev) / secs : 0.0)
                     .add("batches", std::exchange(period_batches_, 0))
                     .add("retries", std::exchange(period_retries_, 0))
                     .add("lag_s", last_lag_);
                 if (lag_events_ >= 0) line.add("lag_events", lag_events_);
             }},
      events_total_{metrics_.counter("pgqpp_consumer_events_total", "Events processed.", {})
                        .labels({})},
      batches_total_{metrics_.counter("pgqpp_consumer_batches_total", "Batches finished.", {})
                         .labels({})},
      retries_total_{metrics_.counter("pgqpp_consumer_retries_total",
                                      "Events scheduled for a retry.", {})
                         .labels({})},
      dead_total_{metrics_.counter("pgqpp_consumer_dead_letters_total",
                                   "Events sent to the dead letters.", {})
                      .labels({})},
      errors_total_{metrics_.counter("pgqpp_consumer_errors_total",
                                     "Failed batches and lost connections.", {})
                        .labels({})},
      lag_seconds_{metrics_.gauge("pgqpp_consumer_lag_seconds",
                                  "Age of the consumer's position: the end tick of the last "
                                  "batch (or pgq.get_consumer_info's lag, once per stats "
                                  "period).",
                                  {})
                       .labels({})},
      lag_events_gauge_{metrics_.gauge("pgqpp_consumer_lag_events",
                                       "Events not yet consumed (pgq.get_consumer_info's "
                                       "pending_events, once per stats period).",
                                       {})
                            .labels({})},
      io_{io} {
    consumer_.set_options(batch_options_from(cfg_));
}

consumer_daemon::~consumer_daemon() {
    worker_.join();  // a batch still running finishes first (it owns conn_ and consumer_)
}

bool consumer_daemon::start() {
    try {
        consumer_.set_coop(coop_options_from(cfg_));
        if (consumer_.mode() == delivery::remote_exactly_once) {
            if (cfg_.get_string("target_db").empty())
                throw std::invalid_argument{"remote delivery needs target_db"};
            target_db_.emplace(cfg_.get_string("target_db"));
        }
        with_helper_ = helper_wanted(cfg_, consumer_.mode());
    } catch (const std::exception& e) {
        log_.critical("{}", e.what());
        return false;
    }
    daemon_.on_stop([this](int) { stop(); });
    daemon_.on_reload([this] { reload(); });
    try {
        daemon_.start();
        if (auto o = rt::metrics_server_options::from(cfg_))
            http_ = std::make_unique<rt::metrics_server>(metrics_, *o);
    } catch (const std::exception& e) {
        log_.critical("{}", e.what());
        return false;
    }
    log_.info("consuming ({} delivery{})",
              consumer_.mode() == delivery::local_exactly_once    ? "local exactly-once"
              : consumer_.mode() == delivery::remote_exactly_once ? "remote exactly-once"
                                                                  : "at-least-once",
              consumer_.coop() ? ", cooperative member " + consumer_.coop()->subconsumer : "");
    stats_.start();
    ticks_.start();
    connect();
    return true;
}

void consumer_daemon::connect() {
    startup_.async_run(
        [this] {
            conn_.reset();
            conn_ = db_.connect();
            if (!connected_once_) {
                // Checked once: a queue dropped later is an error of a batch, retried.
                if (!pgqpp::admin{*conn_}.queue_info(consumer_.queue()))
                    throw pgqpp::no_such_queue{"queue '" + consumer_.queue() +
                                               "' does not exist"};
            }
            consumer_.register_consumer(*conn_);
            helper_.reset();  // connected anew before the next batch (work), if wanted
            if (target_db_) {
                target_.reset();
                target_ = target_db_->connect();
                pqxx::nontransaction tx{*target_};
                if (tx.exec("select to_regprocedure('pgq_ext.set_batch_done(text,bigint)')")[0][0]
                        .is_null())
                    throw pgqpp::feature_not_available{
                        "target_db has no pgq_ext (install pgq_ext there for remote delivery)"};
            }
            if (!consumer_.has_bulk_retry(*conn_))
                log_.info("pgq.event_retry_bulk not installed (the real PgQ?): retries go "
                          "back one pgq.event_retry per event");
            if (!consumer_.has_dead_letters(*conn_))
                log_.info("pgq.dead_letter_add not installed (the real PgQ?): a handler's "
                          "dead_letter outcome or max_retries will stop the daemon");
        },
        [this](std::exception_ptr e) {
            if (!e) {
                connected_once_ = true;
                return work();
            }
            if (stopping_) return;
            log_.critical("cannot start: {}", rt::describe_failure(e));
            exit_code_ = rt::exit_failure;
            daemon_.request_stop();
        });
}

void consumer_daemon::work() {
    if (stopping_) return;
    // pending_events once per stats period (a cheap query, but not one per batch).
    const auto now = std::chrono::steady_clock::now();
    const bool query_lag = now - last_lag_query_ >= cfg_.get_duration("stats_period");
    if (query_lag) last_lag_query_ = now;
    busy_ = true;
    busy_guard_.emplace(io_.get_executor());
    boost::asio::post(worker_, [this, query_lag] {
        // Before the batch: during a long one, the gauge shows the backlog.
        if (query_lag) {
            if (auto lag = read_lag()) boost::asio::post(io_, [this, l = *lag] { set_lag(l); });
        }
        batch_outcome out;
        try {
            if (with_helper_ && !helper_) helper_ = db_.connect();  // fetch_connections 2
            out.result = consumer_.process_one(*conn_, target_.get(), helper_.get());
        } catch (...) {
            out.error = std::current_exception();
        }
        boost::asio::post(io_, [this, out = std::move(out)]() mutable { batch_done(std::move(out)); });
    });
}

std::optional<std::pair<std::int64_t, double>> consumer_daemon::read_lag() {
    try {
        pqxx::nontransaction tx{*conn_, "pgqpp_lag"};
        const auto r = tx.exec_params("select pending_events, extract(epoch from lag)::float8 "
                                      "from pgq.get_consumer_info($1, $2)",
                                      consumer_.queue(), consumer_.name());
        if (r.empty() || r[0][0].is_null()) return std::nullopt;
        return std::pair{r[0][0].as<std::int64_t>(), r[0][1].is_null() ? 0.0 : r[0][1].as<double>()};
    } catch (const std::exception&) {
        return std::nullopt;  // only statistics: a broken connection shows in the batch
    }
}

void consumer_daemon::set_lag(std::pair<std::int64_t, double> lag) {
    lag_events_ = lag.first;
    lag_events_gauge_.set(static_cast<double>(lag_events_));
    last_lag_ = lag.second;
    lag_seconds_.set(last_lag_);
}

void consumer_daemon::batch_done(batch_outcome out) {
    busy_ = false;
    busy_guard_.reset();
    if (pending_) apply(*std::exchange(pending_, std::nullopt));
    const batch_result& r = out.result;
    if (!out.error && r.got_batch) {
        period_events_ += r.events;
        period_retries_ += r.retried;
        ++period_batches_;
        last_lag_ = r.info.lag_seconds;
        events_total_.inc(static_cast<double>(r.events));
        retries_total_.inc(static_cast<double>(r.retried));
        dead_total_.inc(static_cast<double>(r.dead));
        batches_total_.inc();
        lag_seconds_.set(r.info.lag_seconds);
    }
    if (stopping_) {
        if (out.error) errors_total_.inc();
        return finish_stop();
    }
    if (out.error) return batch_failed(out.error);
    batch_backoff_.reset();
    if (!r.got_batch) return wait_for_tick();
    // Next batch at once (through the io_context, so that signals get a turn).
    boost::asio::post(io_, [this] { work(); });
}

void consumer_daemon::wait_for_tick() {
    ticks_.async_wait_for_tick(consumer_.queue(), cfg_.get_duration("poll_period"),
                               [this](boost::system::error_code ec, rt::wake_reason) {
                                   if (ec == boost::asio::error::operation_aborted) return;
                                   work();
                               });
}

void consumer_daemon::batch_failed(std::exception_ptr e) {
    errors_total_.inc();
    if (stopping_) return;
    const bool broken = !conn_ || !conn_->is_open() || (target_db_ && (!target_ || !target_->is_open())) ||
                        (with_helper_ && (!helper_ || !helper_->is_open())) ||
                        pgqpp::code_of(e) == pgqpp::errc::connection_lost ||
                        pgqpp::code_of(e) == pgqpp::errc::commit_outcome_unknown;
    const auto code = pgqpp::code_of(e);
    if (code == pgqpp::errc::no_such_queue || code == pgqpp::errc::not_registered ||
        code == pgqpp::errc::pgq_not_installed || code == pgqpp::errc::feature_not_available) {
        // Someone dropped the queue or unregistered us, or the handler needs what this pgq
        // lacks (dead letters on the real PgQ): retrying cannot help.
        log_.critical("stopping: {}", rt::describe_failure(e));
        exit_code_ = rt::exit_failure;
        return daemon_.request_stop();
    }
    if (broken) {
        // commit_outcome_unknown is harmless here: finish_batch either committed (the next
        // next_batch gives the next batch) or not (it gives the same one again).
        log_.warn("lost the database: {}", rt::describe_failure(e));
        return connect();
    }
    const auto d = rt::async_backoff_wait(retry_timer_, batch_backoff_,
                                          [this](boost::system::error_code ec) {
                                              if (!ec) work();
                                          });
    log_.error("batch failed, rolled back; retrying the same batch in {}: {}",
               rt::format_duration(d), rt::describe_failure(e));
}

void consumer_daemon::reload() {
    try {
        rt::config next = loader_.reload();
        pending_settings settings{batch_options_from(next), coop_options_from(next),
                                  helper_wanted(next, consumer_.mode())};
        rt::setup_logging(rt::logging_settings::from(next));
        stats_.set_period(next.get_duration("stats_period"));
        for (const auto& key : cfg_.changed_keys(next)) {
            if (key == "db" || key == "queue" || key == "consumer" || key == "delivery" ||
                key == "subconsumer" || key == "target_db" || key.rfind("metrics_", 0) == 0)
                log_.warn("{} changed: takes effect after a restart", key);
        }
        cfg_ = std::move(next);
        // The consumer belongs to the worker while a batch runs: apply after it.
        if (busy_)
            pending_ = std::move(settings);
        else
            apply(settings);
        log_.info("configuration reloaded");
        if (on_reload_) {
            try {
                on_reload_(cfg_);
            } catch (const std::exception& e) {
                log_.error("reload of the program's own settings failed: {}", e.what());
            }
        }
    } catch (const std::exception& e) {
        log_.error("reload failed, keeping the old configuration: {}", e.what());
    }
}

void consumer_daemon::apply(const pending_settings& s) {
    consumer_.set_options(s.options);
    with_helper_ = s.with_helper;  // connected before the next batch, if need be
    if (!with_helper_) helper_.reset();
    if (s.coop && consumer_.coop() && s.coop->subconsumer == consumer_.coop()->subconsumer)
        consumer_.set_coop(s.coop);  // a new dead_interval; a new member name needs a restart
}

void consumer_daemon::stop() {
    stopping_ = true;
    startup_.cancel();
    ticks_.stop();
    retry_timer_.cancel();
    if (busy_) {
        // The batch on the worker is finished (or rolled back) first; batch_done comes back.
        log_.info("stopping after the current batch");
        return;
    }
    finish_stop();
}

void consumer_daemon::finish_stop() {
    stats_.report_now();
    stats_.stop();
    http_.reset();
}

}  // namespace pgqpp::consumer
