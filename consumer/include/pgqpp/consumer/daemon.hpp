/// @file daemon.hpp
/// consumer_daemon: a pgqpp::consumer::consumer run as a Unix daemon on pgqpp::runtime
/// (docs/consumer.md): options from the command line / INI file, register, then batches
/// until none is left, then wait for the tick NOTIFY (polling as the fallback); SIGTERM and
/// SIGINT stop after the current batch (exit 0), SIGHUP reloads; lost connections and failed
/// batches are retried with backoff (same batch, never skipped); bad settings or a missing
/// queue exit 1 at once; a stats line and /metrics.
///
/// Batches run on a worker thread of the daemon's (one at a time; the database connections
/// belong to the worker while a batch runs), so the io_context stays free for signals, the
/// stats line and reloads however long a batch takes. The handler runs on that thread.
#pragma once

#include <pgqpp/consumer/consumer.hpp>
#include <pgqpp/runtime/runtime.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/steady_timer.hpp>

#include <pqxx/connection>

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <utility>

namespace pgqpp::consumer {

/// Adds the consumer's options to @p table: db, queue, consumer, delivery, poll_period,
/// min_lag, min_count, min_interval, fetch_size, max_retries, subconsumer, dead_interval,
/// target_db (and none of the standard ones).
void add_consumer_options(runtime::options_table& table);
/// The same for a program whose consumer has one delivery mode, @p fixed: no `delivery`
/// option, and `target_db` (required) only for remote_exactly_once.
void add_consumer_options(runtime::options_table& table, delivery fixed);

/// Reads batch_options from a config made with add_consumer_options.
batch_options batch_options_from(const runtime::config& cfg);
/// Reads coop_options (subconsumer, dead_interval) from such a config; nullopt without a
/// subconsumer. Throws std::invalid_argument for dead_interval without subconsumer.
std::optional<coop_options> coop_options_from(const runtime::config& cfg);

class consumer_daemon {
public:
    /// @p c must outlive the daemon; its queue/name/mode come from @p cfg via make_consumer.
    consumer_daemon(boost::asio::io_context& io, runtime::config_loader& loader,
                    runtime::config cfg, consumer& c);
    ~consumer_daemon();

    /// Starts; false (after logging why) if the process must exit 1.
    bool start();
    int exit_code() const { return exit_code_; }
    /// Also run @p fn with the new configuration after each SIGHUP that reloaded it (on the
    /// io_context's thread, maybe while a batch runs): for the program's own settings.
    void on_reload(std::function<void(const runtime::config&)> fn) { on_reload_ = std::move(fn); }

private:
    /// What a batch run on the worker brings back to the io_context.
    struct batch_outcome {
        batch_result result;
        std::exception_ptr error;
    };
    /// Settings a SIGHUP brought while a batch ran: applied when it is back.
    struct pending_settings {
        batch_options options;
        std::optional<coop_options> coop;
        bool with_helper = false;  ///< fetch_connections = 2
    };

    void connect();
    void work();
    void batch_done(batch_outcome out);
    /// On the worker: pgq.get_consumer_info's pending_events and lag (seconds).
    std::optional<std::pair<std::int64_t, double>> read_lag();
    void set_lag(std::pair<std::int64_t, double> lag);
    void apply(const pending_settings& s);
    void finish_stop();
    void wait_for_tick();
    void batch_failed(std::exception_ptr e);
    void reload();
    void stop();

    runtime::config_loader& loader_;
    runtime::config cfg_;
    pgqpp::connection_config db_;
    consumer& consumer_;
    runtime::log_context log_;
    runtime::daemon daemon_;
    runtime::tick_waiter ticks_;
    runtime::retrier startup_;
    runtime::backoff batch_backoff_;
    boost::asio::steady_timer retry_timer_;
    runtime::metric_registry metrics_;
    std::unique_ptr<runtime::metrics_server> http_;
    std::unique_ptr<pqxx::connection> conn_;
    std::optional<pgqpp::connection_config> target_db_;  ///< remote delivery
    std::unique_ptr<pqxx::connection> target_;
    bool with_helper_ = false;                   ///< fetch_connections = 2
    std::unique_ptr<pqxx::connection> helper_;   ///< the second part's connection to db
    bool stopping_ = false;
    bool busy_ = false;  ///< a batch runs on the worker: conn_/target_/consumer_ are its own
    std::optional<pending_settings> pending_;
    std::function<void(const runtime::config&)> on_reload_;
    std::chrono::steady_clock::time_point last_lag_query_{};
    std::int64_t lag_events_ = -1;  ///< pgq.get_consumer_info's pending_events (-1: unknown)
    bool connected_once_ = false;
    int exit_code_ = 0;
    std::int64_t period_events_ = 0, period_batches_ = 0, period_retries_ = 0;
    double last_lag_ = 0;
    runtime::stats_reporter stats_;
    runtime::counter& events_total_;
    runtime::counter& batches_total_;
    runtime::counter& retries_total_;
    runtime::counter& dead_total_;
    runtime::counter& errors_total_;
    runtime::gauge& lag_seconds_;
    runtime::gauge& lag_events_gauge_;
    boost::asio::io_context& io_;
    std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>>
        busy_guard_;  ///< keeps io.run() going while a batch runs
    boost::asio::thread_pool worker_{1};  ///< last: joined first
};

}  // namespace pgqpp::consumer
