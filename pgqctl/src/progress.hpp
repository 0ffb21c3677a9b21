/// @file progress.hpp
/// A one-line progress report on stderr for long operations ("requeue 1200/5000 24%
/// 830/s ETA 4.6 s"), shown only when stderr is a terminal, so scripts see nothing of it.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace pgqctl {

class progress {
public:
    /// @param what names the operation; @param total the units expected, if known
    progress(std::string what, std::optional<std::int64_t> total);
    progress(const progress&) = delete;
    progress& operator=(const progress&) = delete;
    ~progress();

    /// @p done units so far; redraws at most ten times a second.
    void update(std::int64_t done);
    /// Erases the line (the caller prints its own result).
    void finish();

private:
    void draw(std::int64_t done);

    std::string what_;
    std::optional<std::int64_t> total_;
    bool enabled_;
    bool drawn_ = false;
    std::chrono::steady_clock::time_point start_;
    std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace pgqctl
