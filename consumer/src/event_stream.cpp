// The events of a batch through a server-side cursor (event_stream.hpp).
#include "pgqpp/consumer/event_stream.hpp"

#include <pqxx/pqxx>

#include <endian.h>

#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>

namespace pgqpp::consumer {

namespace {

// The batch's cursors are BINARY: the server sends each value as stored (int8, int4 and
// timestamptz as big-endian integers, text as its bytes in the client encoding) instead of
// formatting it (text output was a quarter of the server's FETCH, ev_time most of it).

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

/// A binary int8 or int4 value (network byte order).
template <typename Int>
Int binary_int(const pqxx::field& f) {
    using Bits = std::conditional_t<sizeof(Int) == 8, std::uint64_t, std::uint32_t>;
    if (f.size() != sizeof(Bits))
        throw std::runtime_error{std::string{"the batch query's column "} + f.name() + " sent " +
                                 std::to_string(f.size()) + " bytes for a " +
                                 std::to_string(sizeof(Bits)) + "-byte integer"};
    Bits bits;
    std::memcpy(&bits, f.c_str(), sizeof bits);
    if constexpr (sizeof(Bits) == 8)
        return static_cast<Int>(be64toh(bits));
    else
        return static_cast<Int>(be32toh(bits));
}

/// A binary timestamptz: microseconds since 2000-01-01 UTC, infinities at the int64 limits.
event_time binary_time(const pqxx::field& f) {
    constexpr std::int64_t unix_to_pg_epoch_us = 946684800LL * 1000000;
    const auto pg_us = binary_int<std::int64_t>(f);
    if (pg_us == std::numeric_limits<std::int64_t>::max() ||
        pg_us > std::numeric_limits<std::int64_t>::max() - unix_to_pg_epoch_us)
        return event_time::max();
    if (pg_us == std::numeric_limits<std::int64_t>::min()) return event_time::min();
    return event_time{std::chrono::microseconds{pg_us + unix_to_pg_epoch_us}};
}

/// Rows of the batch query into events (see event_stream::convert).
void convert_rows(const pqxx::result& rows, std::vector<event>& out);

}  // namespace

/// The second part of a split batch: a thread with its own read-only transaction and cursor
/// on the helper connection FETCHes and converts chunks into a buffer of at most
/// max_chunks, while the stream hands out the first part. Its backend works in parallel
/// with the first part's; the buffer bounds the memory.
class part_reader {
public:
    part_reader(pqxx::connection_base& conn, std::string query, std::int64_t fetch_size)
        : conn_{conn}, query_{std::move(query)},
          fetch_sql_{"fetch " + std::to_string(fetch_size) + " from pgqpp_part"},
          fetch_size_{fetch_size}, thread_{[this] { run(); }} {}
    ~part_reader() {
        {
            std::lock_guard<std::mutex> lock{m_};
            stop_ = true;
        }
        changed_.notify_all();
        // after the FETCH in progress, if any; its transaction rolls back
        if (thread_.joinable()) thread_.join();
    }

    /// The next chunk; empty when the part is done. Rethrows the reader's failure.
    std::vector<event> pop() {
        std::unique_lock<std::mutex> lock{m_};
        changed_.wait(lock, [this] { return !chunks_.empty() || done_; });
        if (error_) std::rethrow_exception(error_);
        if (chunks_.empty()) return {};
        std::vector<event> chunk = std::move(chunks_.front());
        chunks_.pop_front();
        lock.unlock();
        changed_.notify_all();
        return chunk;
    }

    /// Waits for the thread (its transaction committed) and rethrows its failure.
    void finish() {
        if (thread_.joinable()) thread_.join();
        if (error_) std::rethrow_exception(error_);
    }

private:
    static constexpr std::size_t max_chunks = 4;

    void run() {
        try {
            pqxx::work tx{conn_, "pgqpp_batch_part"};
            tx.exec("declare pgqpp_part binary no scroll cursor for " + query_);
            for (bool last = false; !last;) {
                const pqxx::result rows = tx.exec(fetch_sql_);
                last = static_cast<std::int64_t>(rows.size()) < fetch_size_;
                std::vector<event> chunk;
                convert_rows(rows, chunk);
                std::unique_lock<std::mutex> lock{m_};
                changed_.wait(lock, [this] { return stop_ || chunks_.size() < max_chunks; });
                if (stop_) return;
                if (!chunk.empty()) chunks_.push_back(std::move(chunk));
                lock.unlock();
                changed_.notify_all();
            }
            tx.commit();  // read only: ends the cursor and the snapshot
        } catch (...) {
            std::lock_guard<std::mutex> lock{m_};
            error_ = std::current_exception();
        }
        {
            std::lock_guard<std::mutex> lock{m_};
            done_ = true;
        }
        changed_.notify_all();
    }

    pqxx::connection_base& conn_;
    const std::string query_;
    const std::string fetch_sql_;
    const std::int64_t fetch_size_;
    std::mutex m_;
    std::condition_variable changed_;
    std::deque<std::vector<event>> chunks_;
    bool stop_ = false, done_ = false;
    std::exception_ptr error_;
    std::thread thread_;  ///< last: starts when everything above is ready
};

event_stream::event_stream(pqxx::transaction_base& tx, std::int64_t batch_id,
                           std::int64_t fetch_size, std::optional<std::int32_t> max_retries,
                           bool prefetch, pqxx::connection_base* helper,
                           std::optional<std::int64_t> split_after)
    : tx_{tx}, fetch_sql_{"fetch " + std::to_string(fetch_size) + " from pgqpp_events"},
      fetch_size_{fetch_size}, max_retries_{max_retries}, prefetch_{prefetch} {
    // pgq.batch_event_sql is PgQ's own query of the batch, ordered by ev_id.
    const std::string sql =
        tx_.exec_params("select pgq.batch_event_sql($1)", batch_id)[0][0].as<std::string>();
    static const std::string order_suffix = " order by 1";  // get_batch_cursor relies on it too
    if (helper && prefetch && split_after && sql.size() > order_suffix.size() &&
        sql.compare(sql.size() - order_suffix.size(), std::string::npos, order_suffix) == 0) {
        // Two parts in ev_id order, one after the other: no merge needed.
        const std::string events = "select * from (" +
                                   sql.substr(0, sql.size() - order_suffix.size()) +
                                   ") e where e.ev_id ";
        const std::string at = std::to_string(*split_after);
        second_ = std::make_unique<part_reader>(*helper, events + "> " + at + " order by 1",
                                                fetch_size);
        tx_.exec("declare pgqpp_events binary no scroll cursor for " + events + "<= " + at +
                 " order by 1");
    } else {
        tx_.exec("declare pgqpp_events binary no scroll cursor for " + sql);
    }
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
    if (in_second_) {
        chunk_ = second_->pop();
        fresh_ = true;
        at_end_ = chunk_.empty();
        return;
    }
    pqxx::result rows;
    if (ahead_) {
        rows = ahead_->retrieve(ahead_id_);
        ahead_.reset();  // detached: the transaction takes statements again
    } else {
        rows = tx_.exec(fetch_sql_);
    }
    const bool part_done = static_cast<std::int64_t>(rows.size()) < fetch_size_;
    if (prefetch_ && !part_done) {
        ahead_.emplace(tx_, "pgqpp_fetch_ahead");
        ahead_id_ = ahead_->insert(fetch_sql_);  // sent now, read by the next fetch()
    }
    if (part_done && second_) {
        in_second_ = true;  // the events after split_after come next
        if (rows.empty()) return fetch();
    } else {
        at_end_ = part_done;
    }
    convert(rows);
}

void event_stream::convert(const pqxx::result& rows) {
    convert_rows(rows, chunk_);  // the events' strings keep their capacity between chunks
    fresh_ = true;
}

namespace {

void convert_rows(const pqxx::result& rows, std::vector<event>& out) {
    out.resize(rows.size());
    if (rows.empty()) return;
    // Where each column goes, by name (the batch query's select list).  The rows and their
    // fields are then walked with iterators: each pqxx::field made by row[c] copies the
    // result's shared pointer, and that was a third of the consumer's time.
    enum class column { id, time, txid, retry, type, data, extra1, extra2, extra3, extra4, other };
    // Binary values are only read as the type they were decoded for: check the types once.
    constexpr unsigned int8_oid = 20, int4_oid = 23, text_oid = 25, timestamptz_oid = 1184;
    struct expected {
        const char* name;
        column col;
        unsigned type_oid;
    };
    static constexpr expected names[] = {
        {"ev_id", column::id, int8_oid},         {"ev_time", column::time, timestamptz_oid},
        {"ev_txid", column::txid, int8_oid},     {"ev_retry", column::retry, int4_oid},
        {"ev_type", column::type, text_oid},     {"ev_data", column::data, text_oid},
        {"ev_extra1", column::extra1, text_oid}, {"ev_extra2", column::extra2, text_oid},
        {"ev_extra3", column::extra3, text_oid}, {"ev_extra4", column::extra4, text_oid}};
    const auto columns = rows.columns();
    std::vector<column> layout(columns, column::other);
    for (const auto& [name, col, type_oid] : names) {
        bool found = false;
        for (pqxx::row::size_type c = 0; c < columns; ++c) {
            if (std::string_view{rows.column_name(c)} != name) continue;
            if (rows.column_type(c) != type_oid)
                throw std::runtime_error{std::string{"the batch query's column "} + name +
                                         " has type oid " +
                                         std::to_string(rows.column_type(c)) + ", expected " +
                                         std::to_string(type_oid)};
            layout[c] = col;
            found = true;
        }
        if (!found)
            throw std::runtime_error{std::string{"the batch query returned no column "} + name};
    }

    // (pqxx's row iterator is itself the field: its operator* would return a copy, and
    // each copy of a field counts references to the result atomically.)
    auto row = rows.begin();
    for (std::size_t i = 0; i < out.size(); ++i, ++row) {
        event& ev = out[i];
        auto it = row->begin();
        for (pqxx::row::size_type c = 0; c < columns; ++c, ++it) {
            const pqxx::field& f = it;
            switch (layout[c]) {
            case column::id: ev.id = binary_int<std::int64_t>(f); break;
            case column::time: ev.time = f.is_null() ? event_time{} : binary_time(f); break;
            case column::txid: ev.txid = f.is_null() ? 0 : binary_int<std::int64_t>(f); break;
            case column::retry:
                ev.retry = f.is_null() ? std::nullopt
                                       : std::optional<std::int32_t>{binary_int<std::int32_t>(f)};
                break;
            case column::type: assign_text(ev.type, f); break;
            case column::data: assign_text(ev.data, f); break;
            case column::extra1: assign_text(ev.extra1, f); break;
            case column::extra2: assign_text(ev.extra2, f); break;
            case column::extra3: assign_text(ev.extra3, f); break;
            case column::extra4: assign_text(ev.extra4, f); break;
            case column::other: break;
            }
        }
    }
}

}  // namespace

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
    outcomes_.retries[delay.count()].push_back(ev.id);
}

void event_stream::dead_letter(const event& ev, std::string reason) {
    outcomes_.dead[std::move(reason)].push_back(ev.id);
}

void event_stream::apply(const event& ev, const outcome& o) {
    if (o.what == outcome::kind::retry) retry(ev, o.delay);
    if (o.what == outcome::kind::dead_letter) dead_letter(ev, o.reason);
}

void event_stream::close() {
    finish_prefetch();
    tx_.exec("close pgqpp_events");
    if (second_) second_->finish();
}

}  // namespace pgqpp::consumer
