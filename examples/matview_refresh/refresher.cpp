// refresher.hpp: one round = read the marks, refresh what is due, schedule the next round.
#include "refresher.hpp"

#include <pgqpp/quote.hpp>

#include <boost/asio/post.hpp>

#include <pqxx/pqxx>

#include <algorithm>

namespace matview_refresh {

using clock = std::chrono::steady_clock;
using std::chrono::duration_cast;
using std::chrono::microseconds;

refresher::refresher(const current_view_map& maps, const refresh_state& state,
                     refresher_settings settings)
    : maps_{maps}, state_{state}, settings_{settings}, guard_{io_.get_executor()}, timer_{io_} {}

refresher::~refresher() { stop(); }

void refresher::start() {
    boost::asio::post(io_, [this] { round(); });
    thread_ = std::thread{[this] { io_.run(); }};
}

void refresher::wake() {
    if (wake_queued_.exchange(true)) return;
    boost::asio::post(io_, [this] {
        wake_queued_ = false;
        round();
    });
}

void refresher::stop() {
    if (!thread_.joinable()) return;
    stopping_ = true;
    boost::asio::post(io_, [this] {
        timer_.cancel();
        guard_.reset();
    });
    thread_.join();
}

void refresher::schedule(microseconds after) {
    timer_.expires_after(after);  // cancels the wait of an earlier schedule
    timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec) round();
    });
}

void refresher::round() {
    if (stopping_) return;
    microseconds next = settings_.poll;
    bool refreshed_any = false;
    if (auto now_map = maps_.get(); now_map != map_) {
        if (map_) servers_.clear();  // a server's connection string may have changed
        map_ = std::move(now_map);
    }
    try {
        if (!state_conn_) {
            state_conn_ = map_->servers.at(queue_server).connect();
            state_.create(*state_conn_);
        }
        for (const auto& v : state_.dirty(*state_conn_, settings_.interval)) {
            if (stopping_) return;
            if (!map_->has_view(v.ref)) {  // marked, then removed from the configuration
                log_.debug("{} is marked but no longer configured: left alone",
                           v.ref.to_string());
                continue;
            }
            const auto now = clock::now();
            if (auto nb = not_before_.find(v.ref); nb != not_before_.end() && nb->second > now) {
                next = std::min(next, duration_cast<microseconds>(nb->second - now));
                continue;
            }
            if (v.wait_seconds > 0) {  // refreshed less than `interval` ago
                next = std::min(next, microseconds{static_cast<std::int64_t>(
                                          v.wait_seconds * 1e6) + 1000});
                continue;
            }
            if (!refresh(v)) {
                not_before_[v.ref] = clock::now() + settings_.retry;
                next = std::min(next, settings_.retry);
                continue;
            }
            not_before_.erase(v.ref);
            state_.refreshed(*state_conn_, v);  // a crash before this: one refresh too many
            refreshed_any = true;
        }
    } catch (const std::exception& e) {
        log_.warn("cannot read the marks in the queue's database: {}; retrying in {}",
                  e.what(), pgqpp::runtime::format_duration(settings_.retry));
        state_conn_.reset();
        next = settings_.retry;
    }
    // A view marked again while it was being refreshed is still dirty, now with a wait.
    if (refreshed_any) next = microseconds{0};
    schedule(next);
}

pqxx::connection& refresher::server(const std::string& name) {
    auto& conn = servers_[name];
    if (!conn || !conn->is_open()) conn = map_->servers.at(name).connect();
    return *conn;
}

bool refresher::refresh(const dirty_view& v) {
    const auto started = clock::now();
    try {
        auto& conn = server(v.ref.server);
        pqxx::nontransaction tx{conn};
        const auto dot = v.ref.view.find('.');
        const auto rows = tx.exec_params(
            "select ispopulated from pg_matviews where schemaname = $1 and matviewname = $2",
            v.ref.view.substr(0, dot), v.ref.view.substr(dot + 1));
        if (rows.empty())
            throw std::invalid_argument{"no materialized view " + v.ref.view + " there"};
        // CONCURRENTLY needs a populated view (and a unique index); the first refresh of a
        // view created WITH NO DATA is a plain one.
        const bool populated = rows[0][0].as<bool>();
        tx.exec(std::string{"refresh materialized view "} + (populated ? "concurrently " : "") +
                pgqpp::quote_qualified_name(conn, v.ref.view));
    } catch (const std::exception& e) {
        if (auto it = servers_.find(v.ref.server); it != servers_.end() && it->second &&
                                                   !it->second->is_open())
            it->second.reset();
        log_.error("refresh of {} failed: {}; retrying in {}", v.ref.to_string(), e.what(),
                   pgqpp::runtime::format_duration(settings_.retry));
        return false;
    }
    log_.info("refreshed {} in {} (dirty for {:.1f} s)", v.ref.to_string(),
              pgqpp::runtime::format_duration(duration_cast<microseconds>(clock::now() - started)),
              v.dirty_seconds);
    return true;
}

}  // namespace matview_refresh
