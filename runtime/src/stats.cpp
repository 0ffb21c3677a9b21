#include "pgqpp/runtime/stats.hpp"

#include <cmath>
#include <cstdio>

namespace pgqpp::runtime {

void stats_line::key(std::string_view k) {
    if (fields_++ > 0) body_ += ", ";
    body_ += k;
    body_ += ": ";
}

stats_line& stats_line::add(std::string_view k, std::int64_t value) {
    key(k);
    body_ += std::to_string(value);
    return *this;
}

stats_line& stats_line::add(std::string_view k, double value) {
    key(k);
    if (!std::isfinite(value)) {
        body_ += std::isnan(value) ? "nan" : (value > 0 ? "inf" : "-inf");
        return *this;
    }
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.3f", value);
    std::string s{buf};
    // 0.500 -> 0.5, 3.000 -> 3
    while (!s.empty() && s.back() == '0') s.pop_back();
    if (!s.empty() && s.back() == '.') s.pop_back();
    if (s == "-0") s = "0";
    body_ += s;
    return *this;
}

stats_line& stats_line::add(std::string_view k, duration value) {
    return add(k, static_cast<double>(value.count()) / 1e6);
}

std::string stats_line::str() const { return "{" + body_ + "}"; }

/// Shared with the timer's handler, so that a handler running after the reporter is gone
/// does nothing.
struct stats_reporter::state {
    boost::asio::steady_timer timer;
    log_context log;
    duration period;
    collect_fn collect;
    bool running = false;
    std::uint64_t generation = 0;

    state(boost::asio::any_io_executor ex, log_context l, duration p, collect_fn c)
        : timer{std::move(ex)}, log{std::move(l)}, period{p}, collect{std::move(c)} {}
};

stats_reporter::stats_reporter(boost::asio::any_io_executor ex, log_context log, duration period,
                               collect_fn collect)
    : state_{std::make_shared<state>(std::move(ex), std::move(log), period, std::move(collect))} {}

stats_reporter::~stats_reporter() { stop(); }

void stats_reporter::start() {
    if (state_->running || state_->period.count() <= 0) return;
    state_->running = true;
    arm();
}

void stats_reporter::stop() {
    state_->running = false;
    ++state_->generation;
    state_->timer.cancel();
}

void stats_reporter::set_period(duration period) {
    const bool was_running = state_->running;
    stop();
    state_->period = period;
    if (was_running) start();
}

void stats_reporter::report_now() {
    stats_line line;
    if (state_->collect) state_->collect(line);
    if (line.empty() && skip_empty_) return;
    state_->log.info("{}", line.str());
}

void stats_reporter::arm() {
    state_->timer.expires_after(state_->period);
    std::weak_ptr<state> weak = state_;
    const std::uint64_t generation = state_->generation;
    state_->timer.async_wait([this, weak, generation](boost::system::error_code ec) {
        const auto s = weak.lock();
        if (!s || ec || !s->running || s->generation != generation) return;
        report_now();
        arm();
    });
}

}  // namespace pgqpp::runtime
