/// @file catch_up.hpp
/// How fast a consumer is catching up, across the samples of `status --watch`: the fall of
/// its pending events since the first sample (net of the events produced meanwhile), and
/// from that an ETA. What an operator watching a replay after an outage wants to know.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace pgqctl {

class catch_up_tracker {
public:
    using clock = std::chrono::steady_clock;

    struct estimate {
        double events_per_second = 0;      ///< pending events gone per second (< 0: falling behind)
        std::optional<double> eta_seconds;  ///< until pending is 0, while the rate is > 0
    };

    /// Records @p pending for consumer @p key at @p now; the estimate since its first sample,
    /// or nothing at the first sample.
    std::optional<estimate> sample(const std::string& key, std::int64_t pending,
                                   clock::time_point now);

private:
    struct first_sample {
        std::int64_t pending;
        clock::time_point at;
    };
    std::map<std::string, first_sample> first_;
};

}  // namespace pgqctl
