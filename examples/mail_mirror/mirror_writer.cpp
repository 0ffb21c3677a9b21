// mirror_writer (mirror_writer.hpp): letter changes in bulk, folder events one by one.
#include "mirror_writer.hpp"

#include "folder_events.hpp"

#include <pgqpp/json.hpp>

#include <pqxx/pqxx>
#include <spdlog/spdlog.h>

namespace mail {

namespace pc = pgqpp::consumer;

namespace {

// pgq.jsontriga's ev_type starts with {"op":"INSERT" (UPDATE, DELETE, TRUNCATE).
char trigger_op(const std::string& type) {
    static const std::string prefix = R"({"op":")";
    if (type.compare(0, prefix.size(), prefix) != 0 || type.size() <= prefix.size()) return 0;
    return type[prefix.size()];
}

}  // namespace

void mirror_writer::clear() {
    lines_.clear();
    rows_ = 0;
}

void mirror_writer::begin(pqxx::transaction_base& tx, const pc::batch_info& batch) {
    clear();
    batch_events_ = 0;
    already_applied_ =
        !tx.exec_params("select 1 from mail.applied_batches where prev_tick_id = $1 and "
                        "tick_id = $2",
                        batch.prev_tick_id, batch.tick_id)
             .empty();
    if (already_applied_)
        spdlog::warn("batch {} (ticks {}..{}) was applied before under another batch id: "
                     "passed over",
                     batch.batch_id, batch.prev_tick_id, batch.tick_id);
}

void mirror_writer::finish(pqxx::transaction_base& tx, const pc::batch_info& batch) {
    if (already_applied_) return;
    flush(tx);
    tx.exec_params("insert into mail.applied_batches (batch_id, prev_tick_id, tick_id, events) "
                   "values ($1, $2, $3, $4)",
                   batch.batch_id, batch.prev_tick_id, batch.tick_id, batch_events_);
}

pc::outcome mirror_writer::apply(const pc::event& ev, pqxx::transaction_base& tx) {
    if (already_applied_) return pc::outcome::done();
    ++batch_events_;
    if (ev.type.rfind("folder.", 0) == 0) return apply_folder(ev, tx);
    const char op = trigger_op(ev.type);
    if (op != 'I' && op != 'U' && op != 'D')
        return pc::outcome::dead_letter("not a letter change or folder event: " + ev.type);
    if (ev.extra1 != "mail.letters")
        return pc::outcome::dead_letter("change of another table: " + ev.extra1.value_or(""));
    // jsontriga escapes control characters, so a row is one line.
    if (ev.data.find('\n') != std::string::npos)
        return pc::outcome::dead_letter("row JSON with a raw newline");
    lines_ += op;
    lines_ += ev.data;
    lines_ += '\n';
    if (++rows_ >= flush_rows_) flush(tx);
    return pc::outcome::done();
}

void mirror_writer::flush(pqxx::transaction_base& tx) {
    if (rows_ == 0) return;
    lines_.pop_back();  // the last '\n'
    tx.exec_params("select mail.apply_letter_changes($1)", lines_);  // mirror.sql
    ++statements_;
    clear();
}

pc::outcome mirror_writer::apply_folder(const pc::event& ev, pqxx::transaction_base& tx) {
    flush(tx);  // the letters before it first: a deleted folder's letters were moved away
    int id = 0;
    std::string name;
    try {
        const nlohmann::json data = pgqpp::parse_json(ev.data);
        id = data.at("id").get<int>();
        if (ev.type != folder_event::remove) name = data.at("name").get<std::string>();
    } catch (const std::exception& e) {  // a malformed event: kept for the operator
        return pc::outcome::dead_letter(std::string{"bad folder event: "} + e.what());
    }
    if (ev.type == folder_event::create)
        tx.exec_params("insert into mail.folders (id, name) values ($1, $2)", id, name);
    else if (ev.type == folder_event::rename)
        tx.exec_params("update mail.folders set name = $2 where id = $1", id, name);
    else if (ev.type == folder_event::remove)
        tx.exec_params("delete from mail.folders where id = $1", id);
    else
        return pc::outcome::dead_letter("unknown folder event: " + ev.type);
    ++statements_;
    return pc::outcome::done();
}

}  // namespace mail
