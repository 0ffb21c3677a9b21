/// @file event_stream.hpp
/// The events of one batch as a stream of chunks, for a batch_handler (consumer.hpp) that
/// takes the whole batch at once, e.g. to COPY it into a target table chunk by chunk.
#pragma once

#include <pgqpp/consumer/event.hpp>

#include <pqxx/pipeline>
#include <pqxx/transaction_base>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace pgqpp::consumer {

class consumer;

namespace detail {
/// What the handler decided for events of a batch besides applying them: retries by delay
/// in seconds and dead letters by reason, each a list of event ids.
struct batch_outcomes {
    std::map<std::int64_t, std::vector<std::int64_t>> retries;
    std::map<std::string, std::vector<std::int64_t>> dead;
    bool empty() const noexcept { return retries.empty() && dead.empty(); }
    std::int64_t retried() const noexcept { return count(retries); }
    std::int64_t dead_letters() const noexcept { return count(dead); }

private:
    template <typename Map>
    static std::int64_t count(const Map& m) noexcept {
        std::int64_t n = 0;
        for (const auto& kv : m) n += static_cast<std::int64_t>(kv.second.size());
        return n;
    }
};
}  // namespace detail

/**
 * The events of one batch, read from a server-side cursor over pgq.batch_event_sql one
 * chunk (FETCH fetch_size) at a time, in ev_id order: memory holds one chunk, however big
 * the batch. When the handler does not use the queue's connection (at_least_once, remote),
 * the next FETCH is sent before a chunk is handed out, so the server produces it while the
 * handler works; its rows wait on the connection until the handler asks for them. Read it
 * either chunk by chunk with next_chunk() or event by event with a range-for (which
 * continues from the chunks not handed out yet). Every event is done unless retry() or
 * dead_letter() says otherwise.
 *
 * A batch_handler must read the stream to its end: one that returns earlier fails the
 * batch (std::logic_error, rolled back), so no event is finished unseen.
 *
 * @code
 * pgqpp::consumer::consumer c{"letters", "copier", delivery::local_exactly_once,
 *     [](event_stream& events, batch_context& batch) {
 *         for (const auto* chunk = &events.next_chunk(); !chunk->empty();
 *              chunk = &events.next_chunk()) {
 *             pqxx::stream_to copy{batch.tx(), "copied", std::vector<std::string>{"id", "data"}};
 *             for (const event& ev : *chunk) copy << std::make_tuple(ev.id, ev.data);
 *             copy.complete();  // before the next FETCH on the same connection
 *         }
 *     }};
 * @endcode
 */
class event_stream {
public:
    event_stream(const event_stream&) = delete;
    event_stream& operator=(const event_stream&) = delete;
    ~event_stream();

    /// The next chunk: at most fetch_size events; empty at the end of the batch. The
    /// events stay valid until the next call (or the next step of an iterator).
    const std::vector<event>& next_chunk();
    /// Whether every event has been handed out.
    bool at_end() const noexcept { return at_end_ && !fresh_; }
    /// Events handed out so far.
    std::int64_t events() const noexcept { return handed_out_; }

    /// Delivers @p ev again after @p delay (PgQ's event_retry; flushed in bulk with the
    /// batch). With batch_options::max_retries, a dead letter once the event was retried
    /// that many times.
    void retry(const event& ev, std::chrono::seconds delay);
    /// Sends @p ev to the dead letters (pgqpp's SQL only; on the real PgQ the batch fails
    /// with feature_not_available).
    void dead_letter(const event& ev, std::string reason);
    /// retry(), dead_letter() or nothing, as @p o says (what a per-event handler returns).
    void apply(const event& ev, const outcome& o);

    /// Input iterator over single events, across chunks.
    class iterator {
    public:
        using iterator_category = std::input_iterator_tag;
        using value_type = event;
        using difference_type = std::ptrdiff_t;
        using pointer = const event*;
        using reference = const event&;

        iterator() = default;
        reference operator*() const { return stream_->chunk_[index_]; }
        pointer operator->() const { return &stream_->chunk_[index_]; }
        iterator& operator++();
        void operator++(int) { ++*this; }
        bool operator==(const iterator& o) const {
            return stream_ == o.stream_ && (!stream_ || index_ == o.index_);
        }
        bool operator!=(const iterator& o) const { return !(*this == o); }

    private:
        friend class event_stream;
        iterator(event_stream* s, std::size_t i) : stream_{s}, index_{i} {}
        event_stream* stream_ = nullptr;
        std::size_t index_ = 0;
    };
    /// Takes the next chunk (see next_chunk()) and iterates from there to the end.
    iterator begin();
    iterator end() { return {}; }

private:
    friend class consumer;
    /// Declares the cursor and fetches the first chunk (so the consumer knows whether the
    /// batch is empty before it calls hooks and handlers). @p prefetch: send each next FETCH
    /// ahead (only if nothing else runs on @p tx while the handler works). With @p helper
    /// (another connection to the queue's database), @p split_after (an ev_id) and
    /// @p prefetch, the events after split_after are read at the same time by a part_reader
    /// (a thread with its own cursor on @p helper) and handed out after the others.
    event_stream(pqxx::transaction_base& tx, std::int64_t batch_id, std::int64_t fetch_size,
                 std::optional<std::int32_t> max_retries, bool prefetch,
                 pqxx::connection_base* helper = nullptr,
                 std::optional<std::int64_t> split_after = std::nullopt);
    void fetch();
    void convert(const pqxx::result& rows);
    /// Waits for a FETCH sent ahead, if any, so that @p tx takes statements again.
    void finish_prefetch();
    void close();
    bool empty_batch() const noexcept { return fresh_ && chunk_.empty(); }

    pqxx::transaction_base& tx_;
    std::string fetch_sql_;
    std::int64_t fetch_size_;
    std::optional<std::int32_t> max_retries_;
    bool prefetch_;
    std::optional<pqxx::pipeline> ahead_;  ///< holds the FETCH sent ahead, while in flight
    pqxx::pipeline::query_id ahead_id_ = 0;
    std::unique_ptr<class part_reader> second_;  ///< the events after split_after
    bool in_second_ = false;                     ///< the first part is handed out
    std::vector<event> chunk_;
    bool fresh_ = false;   ///< chunk_ fetched, not handed out yet
    bool at_end_ = false;  ///< the cursor has no more rows
    std::int64_t handed_out_ = 0;
    detail::batch_outcomes outcomes_;
};

}  // namespace pgqpp::consumer
