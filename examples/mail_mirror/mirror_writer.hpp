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
//
// New letters skip the stage there: while the changes are inserts of letters above the
// highest id the mirror may have (the usual case: new mail, a backlog being replayed), each
// row goes straight into a COPY into mail.letters as soon as it is converted, so the mirror
// inserts while the daemon reads on, and writes each row once instead of three times (stage,
// sort, insert). The first other change ends that COPY and takes the stage, in queue order.
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
    /// Whether the insert of letter @p id may go straight into mail.letters (apply_batch
    /// only): nothing is staged and @p id is above every id the mirror may have.
    bool may_insert_directly(pqxx::transaction_base& tx, std::int64_t id);
    void insert_directly(pqxx::transaction_base& tx, std::int64_t id);
    /// Ends the COPY into mail.letters, if one is open (the rows are in when it returns).
    void end_direct();
    void clear();
    pgqpp::consumer::outcome apply_folder(const pgqpp::consumer::event& ev,
                                          pqxx::transaction_base& tx);

    std::size_t flush_rows_;
    std::string lines_;  ///< COPY text, one change per line: op ('I', 'U', 'D'), n, the row
    std::size_t rows_ = 0;
    std::string row_;    ///< the letter being converted: its COPY fields, without op and n
    /// An upper bound of the mirror's letter ids in this batch's transaction (unknown: not
    /// asked yet): new ids are inserted directly only above it, so never twice.
    std::optional<std::int64_t> mirror_max_id_;
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
    /// During apply_batch(): the COPY into mail.letters, when open (local to it, like the
    /// pipeline; defined in the .cpp, which keeps libpqxx's deprecated tablewriter there).
    struct direct_copy;
    direct_copy* direct_ = nullptr;
};

}  // namespace mail
