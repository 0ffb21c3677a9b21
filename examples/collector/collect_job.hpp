/// @file collect_job.hpp
/// What a collector worker does with one job: take a slot of the source, fetch the mailbox,
/// store its letters and a follow-up event in the batch's transaction, or say retry / dead
/// letter. Separate from the daemon plumbing (collector_worker.cpp) so it reads on its own.
#pragma once

#include "mail_client.hpp"
#include "source_limiter.hpp"

#include <pgqpp/consumer/consumer.hpp>

#include <chrono>
#include <string>

namespace collector {

struct job_settings {
    std::string host, port;                       ///< the mail server
    std::chrono::milliseconds fetch_timeout{10000};
    std::chrono::seconds retry_delay{10};         ///< after the first failure
    std::chrono::seconds retry_max_delay{600};    ///< doubling stops here
    std::string followup_queue = "collected";
    std::string worker;                           ///< recorded in collected_jobs
};

class collect_job {
public:
    collect_job(job_settings settings, source_limiter& limiter)
        : settings_{std::move(settings)}, limiter_{limiter} {}

    /// The handler: one job event.
    pgqpp::consumer::outcome operator()(const pgqpp::consumer::event& ev,
                                        pgqpp::consumer::batch_context& batch);

    /// The delay before attempt @p retry + 2: retry_delay × 2^retry, at most retry_max_delay.
    std::chrono::seconds backoff(int retry) const;

private:
    job_settings settings_;
    source_limiter& limiter_;
};

}  // namespace collector
