// The events of a batch through a server-side cursor (event_stream.hpp).
#include "pgqpp/consumer/event_stream.hpp"

#include <pqxx/pqxx>

#include <stdexcept>
#include <string_view>
#include <utility>

namespace pgqpp::consumer {

namespace {

/// Assigns into the existing string, keeping its capacity from the previous chunk.
void assign_text(std::string& to, const pqxx::field& f) {
    if (f.is_null())
        to.clear();
    else
        to.assign(f.c_str(), f.size());
}

void assign_text(std::optional<std::string>& to, const pqxx::field& f) {
    if (f.is_null())
        to.reset();
    else if (to)
        to->assign(f.c_str(), f.size());
    else
        to.emplace(f.c_str(), f.size());
}

}  // namespace

event_stream::event_stream(pqxx::transaction_base& tx, std::int64_t batch_id,
                           std::int64_t fetch_size, std::optional<std::int32_t> max_retries,
                           bool prefetch)
    : tx_{tx}, fetch_sql_{"fetch " + std::to_string(fetch_size) + " from pgqpp_events"},
      fetch_size_{fetch_size}, max_retries_{max_retries}, prefetch_{prefetch} {
    // pgq.batch_event_sql is PgQ's own query of the batch, ordered by ev_id.
    const std::string sql =
        tx_.exec_params("select pgq.batch_event_sql($1)", batch_id)[0][0].as<std::string>();
    tx_.exec("declare pgqpp_events no scroll cursor for " + sql);
    fetch();
}

event_stream::~event_stream() {
    // A handler that threw left a FETCH in flight: let it end rather than have the
    // pipeline cancel it (the transaction is rolled back either way).
    try {
        finish_prefetch();
    } catch (...) {
    }
}

void event_stream::finish_prefetch() {
    if (!ahead_) return;
    ahead_->complete();  // reads the result; detaches it from the transaction
    ahead_.reset();
}

void event_stream::fetch() {
    pqxx::result rows;
    if (ahead_) {
        rows = ahead_->retrieve(ahead_id_);
        ahead_.reset();  // detached: the transaction takes statements again
    } else {
        rows = tx_.exec(fetch_sql_);
    }
    if (static_cast<std::int64_t>(rows.size()) < fetch_size_) at_end_ = true;
    if (prefetch_ && !at_end_) {
        ahead_.emplace(tx_, "pgqpp_fetch_ahead");
        ahead_id_ = ahead_->insert(fetch_sql_);  // sent now, read by the next fetch()
    }
    convert(rows);
}

void event_stream::convert(const pqxx::result& rows) {
    chunk_.resize(rows.size());  // the events' strings keep their capacity between chunks
    fresh_ = true;
    if (rows.empty()) return;
    // Where each column goes, by name (the batch query's select list).  The rows and their
    // fields are then walked with iterators: each pqxx::field made by row[c] copies the
    // result's shared pointer, and that was a third of the consumer's time.
    enum class column { id, time, txid, retry, type, data, extra1, extra2, extra3, extra4, other };
    static constexpr std::pair<const char*, column> names[] = {
        {"ev_id", column::id},         {"ev_time", column::time},
        {"ev_txid", column::txid},     {"ev_retry", column::retry},
        {"ev_type", column::type},     {"ev_data", column::data},
        {"ev_extra1", column::extra1}, {"ev_extra2", column::extra2},
        {"ev_extra3", column::extra3}, {"ev_extra4", column::extra4}};
    const auto columns = rows.columns();
    std::vector<column> layout(columns, column::other);
    for (const auto& [name, col] : names) {
        bool found = false;
        for (pqxx::row::size_type c = 0; c < columns; ++c)
            if (std::string_view{rows.column_name(c)} == name) layout[c] = col, found = true;
        if (!found)
            throw std::runtime_error{std::string{"the batch query returned no column "} + name};
    }

    auto row = rows.begin();
    for (std::size_t i = 0; i < chunk_.size(); ++i, ++row) {
        event& ev = chunk_[i];
        auto f = row->begin();
        for (pqxx::row::size_type c = 0; c < columns; ++c, ++f) {
            switch (layout[c]) {
            case column::id: ev.id = f->as<std::int64_t>(); break;
            case column::time: assign_text(ev.time, *f); break;
            case column::txid: ev.txid = f->is_null() ? 0 : f->as<std::int64_t>(); break;
            case column::retry:
                ev.retry = f->is_null() ? std::nullopt
                                        : std::optional<std::int32_t>{f->as<std::int32_t>()};
                break;
            case column::type: assign_text(ev.type, *f); break;
            case column::data: assign_text(ev.data, *f); break;
            case column::extra1: assign_text(ev.extra1, *f); break;
            case column::extra2: assign_text(ev.extra2, *f); break;
            case column::extra3: assign_text(ev.extra3, *f); break;
            case column::extra4: assign_text(ev.extra4, *f); break;
            case column::other: break;
            }
        }
    }
}

const std::vector<event>& event_stream::next_chunk() {
    if (!fresh_) {
        if (at_end_)
            chunk_.clear();
        else
            fetch();
    }
    fresh_ = false;
    handed_out_ += static_cast<std::int64_t>(chunk_.size());
    return chunk_;
}

event_stream::iterator event_stream::begin() {
    return next_chunk().empty() ? end() : iterator{this, 0};
}

event_stream::iterator& event_stream::iterator::operator++() {
    if (++index_ == stream_->chunk_.size()) {
        index_ = 0;
        if (stream_->next_chunk().empty()) stream_ = nullptr;
    }
    return *this;
}

void event_stream::retry(const event& ev, std::chrono::seconds delay) {
    if (max_retries_ && ev.retry.value_or(0) >= *max_retries_)
        return dead_letter(ev, "too many retries (" + std::to_string(ev.retry.value_or(0)) + ")");
    retries_[delay.count()].push_back(ev.id);
    ++retried_;
}

void event_stream::dead_letter(const event& ev, std::string reason) {
    dead_[std::move(reason)].push_back(ev.id);
    ++dead_count_;
}

void event_stream::apply(const event& ev, const outcome& o) {
    if (o.what == outcome::kind::retry) retry(ev, o.delay);
    if (o.what == outcome::kind::dead_letter) dead_letter(ev, o.reason);
}

void event_stream::close() {
    finish_prefetch();
    tx_.exec("close pgqpp_events");
}

}  // namespace pgqpp::consumer
