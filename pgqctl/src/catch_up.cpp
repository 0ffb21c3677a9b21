// catch_up.hpp: the rate is measured from the first sample, not the previous one, so that
// it steadies as the watch goes on instead of jumping with every batch.
#include "catch_up.hpp"

namespace pgqctl {

std::optional<catch_up_tracker::estimate> catch_up_tracker::sample(const std::string& key,
                                                                   std::int64_t pending,
                                                                   clock::time_point now) {
    const auto [it, inserted] = first_.try_emplace(key, first_sample{pending, now});
    if (inserted) return std::nullopt;
    const double seconds = std::chrono::duration<double>(now - it->second.at).count();
    if (seconds <= 0) return std::nullopt;
    estimate e;
    e.events_per_second = static_cast<double>(it->second.pending - pending) / seconds;
    if (pending == 0) e.eta_seconds = 0;
    else if (e.events_per_second > 0) e.eta_seconds = static_cast<double>(pending) / e.events_per_second;
    return e;
}

}  // namespace pgqctl
