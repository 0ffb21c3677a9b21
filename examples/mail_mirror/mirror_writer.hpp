// mirror_writer: applies the events of queue 'mail' to the mirror's tables (mail_schema.sql),
// inside the transaction the consumer runtime gives the handler (the target database's, in
// remote exactly-once delivery: pgq_ext marks the batch done in the same commit).
//
// Letter changes (pgq.jsontriga events: the whole row as JSON) are not written one by one:
// they are collected as lines of COPY text (letter_row.hpp) and, every `flush_rows` changes
// and at the end of the batch, copied into a temporary staging table of the mirror and
// applied by one call of mail.apply_stage() (mirror.sql), which keeps only the last change of
// each letter (every event carries the complete row, so the last one is the letter's state)
// and deletes or upserts in one go. Folder events (folder_events.hpp) first write the letters
// collected so far, so everything is applied in queue order.
//
// apply_batch() runs a whole batch with the mirror's apply in the background: each call of
// mail.apply_letters_stage() is sent through a pqxx::pipeline and only waited for before the
// next COPY (or a folder event, or the end of the batch), so the mirror applies one chunk
// while the daemon reads and converts the next from the primary.
#pragma once

#include <pgqpp/consumer/consumer.hpp>
#include <pgqpp/consumer/event_stream.hpp>

#include <pqxx/pipeline>
#include <pqxx/transaction_base>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace mail {

class mirror_writer {
public:
    explicit mirror_writer(std::size_t flush_rows) : flush_rows_{flush_rows} {}

    /// A batch begins: forget what a failed (rolled back) attempt collected, and find out
    /// whether this tick range was applied already (see already_applied_).
    void begin(pqxx::transaction_base& tx, const pgqpp::consumer::batch_info& batch);
    /// One event, in queue order.
    pgqpp::consumer::outcome apply(const pgqpp::consumer::event& ev, pqxx::transaction_base& tx);
    /// The batch's last event was applied: writes the letter changes still collected and
    /// logs the batch in mail.applied_batches (mirror.sql).
    void finish(pqxx::transaction_base& tx, const pgqpp::consumer::batch_info& batch);
    /// begin(), apply() for every event, finish(), with the applies in the background (a
    /// consumer's batch_handler; the pipeline ends within the call, before the batch's
    /// transaction, also when something fails).
    void apply_batch(pgqpp::consumer::event_stream& events, pgqpp::consumer::batch_context& batch);

    std::int64_t statements() const { return statements_; }

private:
    void flush(pqxx::transaction_base& tx);
    /// Waits for the apply sent in the background, if any (its errors are thrown here).
    void wait_applied();
    void clear();
    pgqpp::consumer::outcome apply_folder(const pgqpp::consumer::event& ev,
                                          pqxx::transaction_base& tx);

    std::size_t flush_rows_;
    std::string lines_;  ///< COPY text, one change per line: op ('I', 'U', 'D'), n, the row
    std::size_t rows_ = 0;
    std::int64_t batch_events_ = 0;
    /// The batch's ticks are in mail.applied_batches: its events were applied and committed
    /// under an earlier batch id. A second line of defence behind pgq_ext.is_batch_done,
    /// which only knows batch ids: a consumer that does not commit next_batch on its own
    /// (pgqpp's before it did) gets the same ticks under a new id after a crash between the
    /// mirror's commit and finish_batch. Its events are passed over.
    bool already_applied_ = false;
    std::int64_t statements_ = 0;
    /// During apply_batch(): where the apply in the background is (a pipeline local to it).
    std::optional<pqxx::pipeline>* applying_ = nullptr;
    pqxx::pipeline::query_id apply_id_ = 0;
};

}  // namespace mail
