/// @file admin.hpp
/// A typed C++ view of pgq's administrative SQL functions: queues, their configuration,
/// consumers, the ticker and the info functions. pgqctl is built on it.
#pragma once

#include "pgqpp/types.hpp"

#include <pqxx/connection_base>
#include <pqxx/transaction_base>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgqpp {

/**
 * Administrative operations on the pgq schema of one database.
 *
 * Made from a transaction, every call runs inside it (and is committed or rolled back with
 * it); made from a connection, every call runs in a transaction of its own that is committed
 * before the call returns.
 *
 * @code
 * pqxx::connection conn{...};
 * pgqpp::admin admin{conn};
 * admin.create_queue("mail");
 * admin.set_ticker_max_lag("mail", std::chrono::milliseconds{500});
 * admin.register_consumer("mail", "mirror");
 * for (const auto& q : admin.queues()) std::cout << q.queue_name << '\n';
 * @endcode
 *
 * Names are validated (validate_name()) before anything is sent; server errors are
 * translated into pgqpp::error subclasses (no_such_queue, not_registered, ...).
 */
class admin {
public:
    /// Every call in a committed transaction of its own on @p conn.
    explicit admin(pqxx::connection_base& conn) : conn_{&conn} {}
    /// Every call inside @p tx (READ COMMITTED for ticker()/ticker_all()).
    explicit admin(pqxx::transaction_base& tx) : tx_{&tx} {}

    /// pgq.version(), e.g. "3.6.0" (ours) or "3.5" (Debian's PgQ).
    /// @throws pgqpp::pgq_not_installed if the database has no schema pgq
    std::string version();
    /// Whether the database has pgqpp's SQL additions (pgq.insert_event_bulk), i.e. is not
    /// the real PgQ.
    bool has_pgqpp_additions();

    /// pgq.create_queue: true if created, false if it existed already.
    bool create_queue(std::string_view queue);
    /**
     * pgq.drop_queue.
     * @param force also unregister the consumers; without it a queue with consumers is an
     *              error ("cannot drop queue, consumers still attached")
     */
    void drop_queue(std::string_view queue, bool force = false);

    /// pgq.set_queue_config with a raw parameter name (without the "queue_" prefix) and value.
    void set_queue_config(std::string_view queue, std::string_view param, std::string_view value);
    /// Tick when this many events have arrived since the last tick (queue_ticker_max_count).
    void set_ticker_max_count(std::string_view queue, int count);
    /// Tick when the last tick is this old and events are waiting (queue_ticker_max_lag).
    void set_ticker_max_lag(std::string_view queue, duration lag);
    /// Tick at least this often when idle (queue_ticker_idle_period).
    void set_ticker_idle_period(std::string_view queue, duration period);
    /// Rotate the event tables at most this often (queue_rotation_period).
    void set_rotation_period(std::string_view queue, duration period);
    /// Pause or resume ticking (queue_ticker_paused).
    void set_ticker_paused(std::string_view queue, bool paused);
    /// Whether ticks come from outside (cascading) instead of pgq.ticker() (queue_external_ticker).
    void set_external_ticker(std::string_view queue, bool external);

    /// pgq.register_consumer: true if newly registered, false if it was already.
    bool register_consumer(std::string_view queue, std::string_view consumer);
    /// pgq.register_consumer_at: (re)positions the consumer at tick @p tick_id (rewind or
    /// skip ahead); true if it was newly registered.
    bool register_consumer_at(std::string_view queue, std::string_view consumer,
                              std::int64_t tick_id);
    /// pgq.unregister_consumer: true if the consumer was registered.
    bool unregister_consumer(std::string_view queue, std::string_view consumer);

    /// pgq.get_queue_info(queue): nullopt if there is no such queue.
    std::optional<pgqpp::queue_info> queue_info(std::string_view queue);
    /// pgq.get_queue_info(): all queues, ordered by name.
    std::vector<pgqpp::queue_info> queues();
    /// pgq.get_consumer_info(queue, consumer): nullopt if not registered.
    std::optional<pgqpp::consumer_info> consumer_info(std::string_view queue,
                                                      std::string_view consumer);
    /// pgq.get_consumer_info(queue): the queue's consumers, ordered by name.
    std::vector<pgqpp::consumer_info> consumers(std::string_view queue);
    /// pgq.get_consumer_info(): every consumer of every queue.
    std::vector<pgqpp::consumer_info> consumers();
    /// pgq.get_batch_info(batch_id): nullopt if the batch does not exist.
    std::optional<pgqpp::batch_info> batch_info(std::int64_t batch_id);

    /// pgq.ticker(queue): the new tick's id, or nullopt if no tick was needed.
    std::optional<std::int64_t> ticker(std::string_view queue);
    /// pgq.ticker(): ticks every queue that needs it; returns how many ticked.
    std::int64_t ticker_all();
    /// pgq.force_tick(queue): makes the next ticker() call tick; returns the last tick id.
    std::int64_t force_tick(std::string_view queue);

private:
    template <class F>
    auto run(const char* operation, F&& body);

    pqxx::connection_base* conn_ = nullptr;
    pqxx::transaction_base* tx_ = nullptr;
};

}  // namespace pgqpp
