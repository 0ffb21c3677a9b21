// The events of a batch through a server-side cursor (event_stream.hpp).
#include "pgqpp/consumer/event_stream.hpp"

#include <pqxx/pqxx>

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
    const auto c_id = rows.column_number("ev_id"), c_time = rows.column_number("ev_time"),
               c_txid = rows.column_number("ev_txid"), c_retry = rows.column_number("ev_retry"),
               c_type = rows.column_number("ev_type"), c_data = rows.column_number("ev_data"),
               c_e1 = rows.column_number("ev_extra1"), c_e2 = rows.column_number("ev_extra2"),
               c_e3 = rows.column_number("ev_extra3"), c_e4 = rows.column_number("ev_extra4");
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const auto row = rows[static_cast<pqxx::result::size_type>(i)];
        event& ev = chunk_[i];
        ev.id = row[c_id].as<std::int64_t>();
        assign_text(ev.time, row[c_time]);
        ev.txid = row[c_txid].is_null() ? 0 : row[c_txid].as<std::int64_t>();
        ev.retry = row[c_retry].is_null()
                       ? std::nullopt
                       : std::optional<std::int32_t>{row[c_retry].as<std::int32_t>()};
        assign_text(ev.type, row[c_type]);
        assign_text(ev.data, row[c_data]);
        assign_text(ev.extra1, row[c_e1]);
        assign_text(ev.extra2, row[c_e2]);
        assign_text(ev.extra3, row[c_e3]);
        assign_text(ev.extra4, row[c_e4]);
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
