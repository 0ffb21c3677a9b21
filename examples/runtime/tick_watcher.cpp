// tick_watcher: a complete daemon on pgqpp's runtime (docs/runtime.md). It waits for the
// ticks of one queue (LISTEN/NOTIFY, polling as the fallback), logs them, counts them in
// /metrics and in a stats line, reloads on SIGHUP and stops on SIGTERM.
//
//   tick_watcher --db "dbname=mail" --queue letters --metrics-port 9187
//   tick_watcher --config tick_watcher.ini          (tick_watcher --print-config > ...)
#include <pgqpp/admin.hpp>
#include <pgqpp/runtime/runtime.hpp>

#include <boost/asio/io_context.hpp>

#include <memory>
#include <optional>
#include <string>

namespace rt = pgqpp::runtime;

namespace {

// [options]
rt::options_table options() {
    rt::options_table t{"tick_watcher", "Logs the ticks of a queue and counts them in /metrics."};
    t.add(rt::opt::connection("db", "", "Database with the queue.").required().env("TICK_WATCHER_DB"));
    t.add(rt::opt::string("queue", "", "Queue to watch.").required());
    t.add(rt::opt::duration("poll_period", "1s",
                            "Look for a new tick at least this often, even without a NOTIFY "
                            "(the real PgQ sends none).")
              .positive());
    t.add(rt::standard_options());  // logfile, log_level, pidfile, stats_period, metrics_port...
    return t;
}
// [options]

/// The program: everything runs on one io_context.
class watcher {
public:
    watcher(boost::asio::io_context& io, rt::config_loader& loader, rt::config cfg)
        : loader_{loader}, cfg_{std::move(cfg)}, db_{cfg_.get_connection("db")},
          queue_{cfg_.get_string("queue")}, log_{queue_},
          daemon_{io, rt::daemon_options::from(cfg_)},
          ticks_{io.get_executor(), db_, {}, log_},
          startup_{io.get_executor(), {}, log_, "startup"},
          stats_{io.get_executor(), log_, cfg_.get_duration("stats_period"),
                 [this](rt::stats_line& line) {
                     line.add("notified", std::exchange(period_notified_, 0))
                         .add("polls", std::exchange(period_polls_, 0))
                         .add("last_tick", last_tick_);
                 }},
          wakeups_{metrics_.counter("tick_watcher_wakeups_total", "Wake-ups, by reason.",
                                    {"reason"})},
          last_tick_id_{metrics_.gauge("tick_watcher_last_tick_id", "Newest tick of the queue.")
                            .get()} {}

    /// Starts everything; returns false (after logging why) if the process must exit 1.
    bool start() {
        // [daemon]
        daemon_.on_stop([this](int) { stop(); });
        daemon_.on_reload([this] { reload(); });
        try {
            daemon_.start();  // pidfile and signals
            if (auto o = rt::metrics_server_options::from(cfg_))
                http_ = std::make_unique<rt::metrics_server>(metrics_, *o);
        } catch (const std::exception& e) {  // pidfile held, port taken
            log_.critical("{}", e.what());
            return false;
        }
        // [daemon]
        log_.info("watching the queue (poll period {})",
                  rt::format_duration(cfg_.get_duration("poll_period")));
        stats_.start();
        ticks_.start();
        connect();
        return true;
    }

    int exit_code() const { return exit_code_; }

private:
    // [retry]
    /// Connects and checks the queue: a server that is down is retried with backoff, a
    /// queue that does not exist is not (the process exits with a clear message).
    void connect() {
        startup_.async_run(
            [this] {
                conn_ = db_.connect();
                if (!pgqpp::admin{*conn_}.queue_info(queue_))
                    throw pgqpp::no_such_queue{"queue '" + queue_ + "' does not exist"};
            },
            [this](std::exception_ptr e) {
                if (!e) return look();
                if (stopping_) return;
                log_.critical("cannot start: {}", rt::describe_failure(e));
                exit_code_ = rt::exit_failure;
                daemon_.request_stop();
            });
    }
    // [retry]

    // [wait]
    /// Looks at the queue, then waits for its next tick (or the poll period).
    void look() {
        try {
            const auto info = pgqpp::admin{*conn_}.queue_info(queue_);
            const auto tick = info && info->last_tick_id ? *info->last_tick_id : 0;
            if (tick != last_tick_) log_.info("tick {}", tick);
            last_tick_ = tick;
            last_tick_id_.set(static_cast<double>(tick));
        } catch (const std::exception& e) {
            log_.warn("lost the database: {}", e.what());
            return connect();  // with backoff
        }
        ticks_.async_wait_for_tick(
            queue_, cfg_.get_duration("poll_period"),
            [this](boost::system::error_code ec, rt::wake_reason why) {
                if (ec == boost::asio::error::operation_aborted) return;  // stopping
                wakeups_.labels({std::string{rt::to_string(why)}}).inc();
                (why == rt::wake_reason::notified ? period_notified_ : period_polls_)++;
                look();
            });
    }
    // [wait]

    // [reload]
    void reload() {
        try {
            rt::config next = loader_.reload();
            rt::setup_logging(rt::logging_settings::from(next));  // level, reopened logfile
            stats_.set_period(next.get_duration("stats_period"));
            for (const auto& key : cfg_.changed_keys(next)) {
                if (key == "db" || key == "queue" || key.rfind("metrics_", 0) == 0)
                    log_.warn("{} changed: takes effect after a restart", key);
            }
            cfg_ = std::move(next);  // poll_period is read at every wait: applied from now on
            log_.info("configuration reloaded");
        } catch (const std::exception& e) {
            log_.error("reload failed, keeping the old configuration: {}", e.what());
        }
    }
    // [reload]

    void stop() {
        stopping_ = true;
        stats_.report_now();
        stats_.stop();
        startup_.cancel();
        ticks_.stop();  // the pending wait ends with operation_aborted
        http_.reset();
        // Nothing is left on the io_context now: io.run() returns and main() exits.
    }

    rt::config_loader& loader_;
    rt::config cfg_;
    pgqpp::connection_config db_;
    std::string queue_;
    rt::log_context log_;
    rt::daemon daemon_;
    rt::tick_waiter ticks_;
    rt::retrier startup_;
    rt::metric_registry metrics_;
    std::unique_ptr<rt::metrics_server> http_;
    std::unique_ptr<pqxx::connection> conn_;
    std::int64_t last_tick_ = 0;
    std::int64_t period_notified_ = 0;
    std::int64_t period_polls_ = 0;
    bool stopping_ = false;
    int exit_code_ = 0;
    rt::stats_reporter stats_;
    rt::counter_family& wakeups_;
    rt::gauge& last_tick_id_;
};

}  // namespace

// [main]
int main(int argc, char** argv) {
    rt::config_loader loader{options()};
    std::optional<rt::config> cfg = loader.load_or_exit(argc, argv);
    if (!cfg) return loader.exit_code();  // --help, --print-config, or a one-line error (2)
    rt::setup_logging(rt::logging_settings::from(*cfg));

    boost::asio::io_context io;
    watcher w{io, loader, std::move(*cfg)};
    if (!w.start()) return rt::exit_failure;
    io.run();  // until SIGTERM/SIGINT (a second one exits at once)
    return w.exit_code();
}
// [main]
