/// @file refresher.hpp
/// The thread that refreshes dirty views: it reads the marks (refresh_state), runs
/// REFRESH MATERIALIZED VIEW CONCURRENTLY on each view whose interval has passed, then
/// clears the mark. It wakes up after a batch marked something, when the interval of a
/// waiting view ends, after a failure's retry delay, and every `poll` at the latest. It runs
/// on its own thread so that a long refresh never holds up the batches (they keep marking;
/// marks coalesce).
#pragma once

#include "refresh_state.hpp"
#include "view_map.hpp"

#include <pgqpp/runtime/logging.hpp>
#include <pgqpp/runtime/values.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <pqxx/connection>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>

namespace matview_refresh {

struct refresher_settings {
    /// A view's next refresh starts at least this long after its previous one ended.
    std::chrono::microseconds interval{std::chrono::minutes{1}};
    /// Look at the marks at least this often (marks written by someone else, missed wakes).
    std::chrono::microseconds poll{std::chrono::seconds{30}};
    /// After a failed refresh or a lost server, try that view again after this long.
    std::chrono::microseconds retry{std::chrono::seconds{10}};
};

class refresher {
public:
    refresher(const current_view_map& maps, const refresh_state& state,
              refresher_settings settings);
    ~refresher();

    void start();
    /// "A batch marked views": look now. Any thread; wakes queued meanwhile count once.
    void wake();
    /// Stops after the refresh under way (if any) and joins the thread.
    void stop();

private:
    void round();
    void schedule(std::chrono::microseconds after);
    /// Refreshes one view on its server; false (logged) if it failed.
    bool refresh(const dirty_view& v);
    pqxx::connection& server(const std::string& name);

    const current_view_map& maps_;
    /// The map of this round (taken from maps_ at its start): when SIGHUP replaced it, the
    /// servers are connected anew.
    std::shared_ptr<const view_map> map_;
    const refresh_state& state_;
    refresher_settings settings_;
    pgqpp::runtime::log_context log_{"refresher"};
    boost::asio::io_context io_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
    boost::asio::steady_timer timer_;
    std::thread thread_;
    std::atomic<bool> stopping_{false};
    std::atomic<bool> wake_queued_{false};
    std::unique_ptr<pqxx::connection> state_conn_;  ///< the marks, on the queue's database
    std::map<std::string, std::unique_ptr<pqxx::connection>> servers_;  ///< by server name
    /// Views whose last refresh failed: not before this time.
    std::map<view_ref, std::chrono::steady_clock::time_point> not_before_;
};

}  // namespace matview_refresh
