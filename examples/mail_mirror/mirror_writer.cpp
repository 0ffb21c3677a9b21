// mirror_writer (mirror_writer.hpp): letter changes in bulk, folder events one by one.
#include "mirror_writer.hpp"

#include "folder_events.hpp"
#include "letter_row.hpp"

#include <pgqpp/json.hpp>

#include <pqxx/pqxx>
#include <pqxx/tablewriter>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <iterator>
#include <optional>

namespace mail {

namespace pc = pgqpp::consumer;

namespace {

// pgq.jsontriga's ev_type starts with {"op":"INSERT" (UPDATE, DELETE, TRUNCATE).
char trigger_op(const std::string& type) {
    static const std::string prefix = R"({"op":")";
    if (type.compare(0, prefix.size(), prefix) != 0 || type.size() <= prefix.size()) return 0;
    return type[prefix.size()];
}

/// The leading field of a letter's COPY fields: its id.
std::int64_t leading_id(const std::string& fields) {
    const std::string id = fields.substr(0, fields.find('\t'));
    std::size_t end = 0;
    try {
        const std::int64_t value = std::stoll(id, &end);
        if (end == id.size()) return value;
    } catch (const std::logic_error&) {  // not a number, or out of range
    }
    throw std::invalid_argument{"the id is not a number: '" + id + "'"};
}

}  // namespace

struct mirror_writer::direct_copy {
    // tablewriter is deprecated in libpqxx 6.4 for stream_to, which has no raw lines.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    std::optional<pqxx::tablewriter> copy;
#pragma GCC diagnostic pop
    std::size_t rows = 0;
};

void mirror_writer::clear() {
    lines_.clear();
    rows_ = 0;
}

void mirror_writer::begin(pqxx::transaction_base& tx, const pc::batch_info& batch) {
    clear();
    batch_events_ = 0;
    mirror_max_id_.reset();
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
    end_direct();
    flush(tx);
    wait_applied();
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
    row_.clear();
    std::int64_t id = 0;
    try {
        append_copy_fields(row_, ev.data);
        id = leading_id(row_);
    } catch (const std::exception& e) {  // not JSON, or no numeric id first
        return pc::outcome::dead_letter(std::string{"letter row: "} + e.what());
    }
    if (op == 'I' && may_insert_directly(tx, id)) {
        insert_directly(tx, id);
        return pc::outcome::done();
    }
    end_direct();  // what went in directly came first
    if (op != 'D' && mirror_max_id_) mirror_max_id_ = std::max(*mirror_max_id_, id);
    lines_ += op;
    lines_ += '\t';
    lines_ += std::to_string(rows_ + 1);  // the change's place: the last one wins
    lines_ += '\t';
    lines_ += row_;
    lines_ += '\n';
    if (++rows_ >= flush_rows_) flush(tx);
    return pc::outcome::done();
}

bool mirror_writer::may_insert_directly(pqxx::transaction_base& tx, std::int64_t id) {
    if (!direct_ || rows_ > 0) return false;
    if (!mirror_max_id_) {
        wait_applied();  // the transaction takes statements again
        mirror_max_id_ = tx.exec("select coalesce(max(id), 0) from mail.letters")[0][0]
                             .as<std::int64_t>();
    }
    return id > *mirror_max_id_;
}

void mirror_writer::insert_directly(pqxx::transaction_base& tx, std::int64_t id) {
    if (!direct_->copy) {
        wait_applied();
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
        direct_->copy.emplace(tx, "mail.letters", std::begin(letter_columns),
                              std::end(letter_columns));
#pragma GCC diagnostic pop
        direct_->rows = 0;
    }
    direct_->copy->write_raw_line(row_);  // libpq sends it on as its buffer fills
    mirror_max_id_ = id;
    if (++direct_->rows >= flush_rows_) end_direct();
}

void mirror_writer::end_direct() {
    if (!direct_ || !direct_->copy) return;
    direct_->copy->complete();
    direct_->copy.reset();
    ++statements_;
}

void mirror_writer::apply_batch(pc::event_stream& events, pc::batch_context& batch) {
    std::optional<pqxx::pipeline> applying;
    direct_copy direct;  // declared after the pipeline: ends first
    applying_ = &applying;
    direct_ = &direct;
    struct forget {  // both go with this call: never a dangling pointer to them
        mirror_writer& w;
        ~forget() {
            w.applying_ = nullptr;
            w.direct_ = nullptr;
        }
    } forget_on_exit{*this};
    begin(batch.tx(), batch.info());
    for (const pc::event& ev : events) events.apply(ev, apply(ev, batch.tx()));
    finish(batch.tx(), batch.info());
}

void mirror_writer::wait_applied() {
    if (!applying_ || !*applying_) return;
    (*applying_)->retrieve(apply_id_);  // throws the apply's error, if any
    applying_->reset();                 // detached: the transaction takes statements again
}

void mirror_writer::flush(pqxx::transaction_base& tx) {
    wait_applied();  // the stage is free again
    if (rows_ == 0) return;
    lines_.pop_back();  // the last '\n': write_raw_line adds one
    tx.exec("select mail.create_letters_stage()");  // mirror.sql
    {
        // tablewriter is deprecated in libpqxx 6.4 for stream_to, which has no raw lines.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
        pqxx::tablewriter copy{tx, "pg_temp.letters_stage"};
#pragma GCC diagnostic pop
        copy.write_raw_line(lines_);
        copy.complete();
    }
    if (applying_) {
        apply_id_ = applying_->emplace(tx, "mail_apply").insert("select mail.apply_letters_stage()");
    } else {
        tx.exec("select mail.apply_letters_stage()");
    }
    ++statements_;
    clear();
}

pc::outcome mirror_writer::apply_folder(const pc::event& ev, pqxx::transaction_base& tx) {
    end_direct();
    flush(tx);  // the letters before it first: a deleted folder's letters were moved away
    wait_applied();
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
