/// @file backoff.hpp
/// Exponential backoff with jitter, for reconnecting and retrying after failures.
#pragma once

#include "pgqpp/runtime/values.hpp"

#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <utility>

namespace pgqpp::runtime {

/// How the delays grow.
struct backoff_options {
    /// Delay after the first failure.
    duration initial = std::chrono::milliseconds{100};
    /// Longest delay.
    duration max = std::chrono::seconds{30};
    /// Each further failure multiplies the delay by this (>= 1).
    double multiplier = 2.0;
    /// Each delay is scaled by a random factor in [1 - jitter, 1 + jitter] (then capped at
    /// max), so that many clients that failed together do not retry together. 0..1.
    double jitter = 0.2;
};

/**
 * A backoff policy: next_delay() after each failure, reset() after a success.
 *
 * Delay n (counting from 0) is min(max, initial * multiplier^n) times a random factor in
 * [1 - jitter, 1 + jitter], capped at max. It never goes below initial * (1 - jitter) or
 * above max.
 *
 * What "success" means is the caller's choice; resetting only after some real work
 * succeeded (not merely after connecting) keeps a server that accepts connections and
 * then fails at once from being hammered at the initial delay.
 *
 * @code
 * pgqpp::runtime::backoff b{{std::chrono::milliseconds{100}, std::chrono::seconds{30}}};
 * b.next_delay();   // ~100ms
 * b.next_delay();   // ~200ms ... up to 30s
 * b.reset();
 * @endcode
 */
class backoff {
public:
    /// A source of uniformly distributed numbers in [0, 1).
    using random_source = std::function<double()>;

    /// @param random default: a std::mt19937_64 seeded from std::random_device
    /// @throws std::invalid_argument on options out of range
    explicit backoff(backoff_options options = {}, random_source random = {});

    /// The delay before the next attempt; counts a failure.
    duration next_delay();
    /// Back to the initial delay (after a success).
    void reset() noexcept { failures_ = 0; }
    /// Failures since the last reset().
    unsigned failures() const noexcept { return failures_; }
    const backoff_options& options() const noexcept { return options_; }

private:
    backoff_options options_;
    random_source random_;
    unsigned failures_ = 0;
};

/**
 * Waits next_delay() of @p policy on @p timer, then calls @p handler(error_code) (the
 * timer's: operation_aborted if the timer was cancelled).
 * @return the delay waited
 */
template <class Handler>
duration async_backoff_wait(boost::asio::steady_timer& timer, backoff& policy,
                            Handler&& handler) {
    const duration d = policy.next_delay();
    timer.expires_after(d);
    timer.async_wait(std::forward<Handler>(handler));
    return d;
}

}  // namespace pgqpp::runtime
