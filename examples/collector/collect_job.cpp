// collect_job.hpp
#include "collect_job.hpp"

#include <pgqpp/producer.hpp>

#include <pqxx/pqxx>

#include <spdlog/spdlog.h>

namespace collector {

namespace pc = pgqpp::consumer;

std::chrono::seconds collect_job::backoff(int retry) const {
    auto d = settings_.retry_delay;
    for (int i = 0; i < retry && d < settings_.retry_max_delay; ++i) d *= 2;
    return std::min(d, settings_.retry_max_delay);
}

pc::outcome collect_job::operator()(const pc::event& ev, pc::batch_context& batch) {
    if (ev.type != "collect" || !ev.extra1 || ev.extra1->empty() || ev.data.empty())
        return pc::outcome::dead_letter("not a job: expected type 'collect', data = mailbox, "
                                        "extra1 = source");
    const std::string& source = *ev.extra1;
    const std::string& mailbox = ev.data;
    const int attempt = 1 + ev.retry.value_or(0);

    fetch_result got;
    {
        const auto slot = limiter_.acquire(source);  // at most N fetches per source
        got = fetch_mailbox(settings_.host, settings_.port, source, mailbox,
                            settings_.fetch_timeout);
    }  // slot released before the letters are written
    if (got.what == fetch_result::kind::permanent) {
        spdlog::warn("job {} ({}/{}): {}: dead letter", ev.id, source, mailbox, got.error);
        return pc::outcome::dead_letter(source + ": " + got.error);
    }
    if (got.what == fetch_result::kind::transient) {
        const auto delay = backoff(ev.retry.value_or(0));
        spdlog::info("job {} ({}/{}) attempt {} failed: {}; retry in {} s", ev.id, source,
                     mailbox, attempt, got.error, delay.count());
        return pc::outcome::retry_after(delay);  // max_retries turns it into a dead letter
    }

    auto& tx = batch.tx();
    for (const auto& l : got.letters)
        tx.exec_params("insert into collected_letters"
                       " (source, mailbox, uid, sender, subject, body, job_id)"
                       " values ($1, $2, $3, $4, $5, $6, $7)",
                       source, mailbox, l.uid, l.sender, l.subject, l.body, ev.id);
    tx.exec_params("insert into collected_jobs (job_id, source, mailbox, letters, attempts, worker)"
                   " values ($1, $2, $3, $4, $5, $6)",
                   ev.id, source, mailbox, static_cast<int>(got.letters.size()), attempt,
                   settings_.worker);
    pgqpp::event followup{"mailbox.collected", mailbox};
    followup.extra1 = source;
    followup.extra2 = std::to_string(got.letters.size());
    pgqpp::insert_event(tx, settings_.followup_queue, followup);
    spdlog::debug("job {} ({}/{}): {} letters", ev.id, source, mailbox, got.letters.size());
    return pc::outcome::done();
}

}  // namespace collector
