#include "progress.hpp"

#include "output.hpp"

#include <cstdio>
#include <iostream>

namespace pgqctl {

progress::progress(std::string what, std::optional<std::int64_t> total)
    : what_{std::move(what)},
      total_{total},
      enabled_{is_tty(2)},
      start_{std::chrono::steady_clock::now()} {}

progress::~progress() { finish(); }

void progress::update(std::int64_t done) {
    if (!enabled_) return;
    const auto now = std::chrono::steady_clock::now();
    if (drawn_ && now - last_draw_ < std::chrono::milliseconds{100}) return;
    last_draw_ = now;
    draw(done);
}

void progress::draw(std::int64_t done) {
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const double rate = secs > 0 ? static_cast<double>(done) / secs : 0.0;
    std::string line = what_ + ": " + std::to_string(done);
    if (total_ && *total_ > 0) {
        line += '/' + std::to_string(*total_) + ' ' + std::to_string(done * 100 / *total_) + '%';
    }
    char buf[64];
    std::snprintf(buf, sizeof buf, "  %.0f/s", rate);
    line += buf;
    if (total_ && rate > 0 && done < *total_) {
        const auto eta = static_cast<std::int64_t>(static_cast<double>(*total_ - done) / rate * 1e6);
        line += "  ETA " + format_duration(pgqpp::duration{eta});
    }
    std::cerr << "\r\x1b[K" << line << std::flush;
    drawn_ = true;
}

void progress::finish() {
    if (enabled_ && drawn_) std::cerr << "\r\x1b[K" << std::flush;
    drawn_ = false;
    enabled_ = false;
}

}  // namespace pgqctl
