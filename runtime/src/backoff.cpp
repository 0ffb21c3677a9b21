#include "pgqpp/runtime/backoff.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>

namespace pgqpp::runtime {

backoff::backoff(backoff_options options, random_source random)
    : options_{options}, random_{std::move(random)} {
    if (options_.initial.count() <= 0) throw std::invalid_argument{"backoff: initial must be > 0"};
    if (options_.max < options_.initial) throw std::invalid_argument{"backoff: max < initial"};
    if (!(options_.multiplier >= 1.0)) throw std::invalid_argument{"backoff: multiplier < 1"};
    if (!(options_.jitter >= 0.0 && options_.jitter <= 1.0))
        throw std::invalid_argument{"backoff: jitter outside [0, 1]"};
    if (!random_) {
        auto engine = std::make_shared<std::mt19937_64>(std::random_device{}());
        random_ = [engine] { return std::uniform_real_distribution<double>{0.0, 1.0}(*engine); };
    }
}

duration backoff::next_delay() {
    const double initial = static_cast<double>(options_.initial.count());
    const double max = static_cast<double>(options_.max.count());
    // initial * multiplier^failures, without overflowing for many failures.
    double base = initial * std::pow(options_.multiplier, static_cast<double>(failures_));
    if (!std::isfinite(base) || base > max) base = max;
    const double u = std::clamp(random_(), 0.0, 1.0);
    double d = base * (1.0 - options_.jitter + 2.0 * options_.jitter * u);
    d = std::clamp(d, 1.0, max);
    if (failures_ < 1000) ++failures_;
    return duration{static_cast<duration::rep>(std::llround(d))};
}

}  // namespace pgqpp::runtime
