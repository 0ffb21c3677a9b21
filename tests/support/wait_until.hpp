/// @file wait_until.hpp
/// Polling with a deadline, for tests that wait on other processes (never a fixed sleep).
#pragma once

#include <algorithm>
#include <chrono>
#include <thread>
#include <utility>

namespace pgqpp::test {

/**
 * Calls @p predicate until it returns true or @p deadline passes.
 * @return true if the predicate became true, false on timeout (it is checked once more at
 *         the deadline, so a slow machine does not lose the last chance).
 * @code
 * using namespace std::chrono_literals;
 * EXPECT_TRUE(wait_until(std::chrono::steady_clock::now() + 10s, [&] { return ticks() > 2; }));
 * @endcode
 */
template <class Predicate>
bool wait_until(std::chrono::steady_clock::time_point deadline, Predicate&& predicate,
                std::chrono::milliseconds poll_interval = std::chrono::milliseconds{10}) {
    for (;;) {
        if (predicate()) return true;
        const auto now = std::chrono::steady_clock::now();
        if (now >= deadline) return false;
        std::this_thread::sleep_for(
            std::min<std::chrono::steady_clock::duration>(poll_interval, deadline - now));
    }
}

/// wait_until() with a deadline @p timeout from now.
template <class Predicate>
bool wait_for(std::chrono::steady_clock::duration timeout, Predicate&& predicate,
              std::chrono::milliseconds poll_interval = std::chrono::milliseconds{10}) {
    return wait_until(std::chrono::steady_clock::now() + timeout,
                      std::forward<Predicate>(predicate), poll_interval);
}

}  // namespace pgqpp::test
