#include "pgqpp/admin.hpp"

#include "pgqpp/detail/pqxx_compat.hpp"
#include "pgqpp/error.hpp"
#include "pgqpp/validate.hpp"
#include "sql.hpp"

#include <pqxx/pqxx>

#include <string>

namespace pgqpp {

namespace {

duration usec(const pqxx::field& f) { return duration{f.as<std::int64_t>()}; }

std::optional<duration> opt_usec(const pqxx::field& f) {
    if (f.is_null()) return std::nullopt;
    return duration{f.as<std::int64_t>()};
}

time_point at_usec(const pqxx::field& f) { return time_point{duration{f.as<std::int64_t>()}}; }

template <class T>
std::optional<T> opt(const pqxx::field& f) {
    if (f.is_null()) return std::nullopt;
    return f.as<T>();
}

pgqpp::queue_info to_queue_info(const pqxx::row& r) {
    pgqpp::queue_info q;
    q.queue_name = r[0].as<std::string>();
    q.queue_ntables = r[1].as<int>();
    q.queue_cur_table = r[2].as<int>();
    q.queue_rotation_period = usec(r[3]);
    q.queue_switch_time = at_usec(r[4]);
    q.queue_external_ticker = r[5].as<bool>();
    q.queue_ticker_paused = r[6].as<bool>();
    q.queue_ticker_max_count = r[7].as<int>();
    q.queue_ticker_max_lag = usec(r[8]);
    q.queue_ticker_idle_period = usec(r[9]);
    q.ticker_lag = opt_usec(r[10]);
    q.ev_per_sec = opt<double>(r[11]);
    q.ev_new = opt<std::int64_t>(r[12]);
    q.last_tick_id = opt<std::int64_t>(r[13]);
    return q;
}

pgqpp::consumer_info to_consumer_info(const pqxx::row& r) {
    pgqpp::consumer_info c;
    c.queue_name = r[0].as<std::string>();
    c.consumer_name = r[1].as<std::string>();
    c.lag = opt_usec(r[2]);
    c.last_seen = opt_usec(r[3]);
    c.last_tick = opt<std::int64_t>(r[4]);
    c.current_batch = opt<std::int64_t>(r[5]);
    c.next_tick = opt<std::int64_t>(r[6]);
    c.pending_events = opt<std::int64_t>(r[7]);
    return c;
}

std::string interval_text(duration d, const char* what) {
    if (d.count() < 0) {
        throw invalid_argument{std::string{what} + " must not be negative (got " +
                               std::to_string(d.count()) + " microseconds)"};
    }
    return std::to_string(d.count()) + " microseconds";
}

/// Runs @p q with @p args inside @p tx, translating errors; returns the result.
template <class... Args>
pqxx::result exec_in(pqxx::transaction_base& tx, const sql::query& q, Args&&... args) {
    try {
        return tx.exec_params(q.text, std::forward<Args>(args)...);
    } catch (...) {
        rethrow_translated(q.name);
    }
}

}  // namespace

// Runs one call: in the caller's transaction, or in a transaction of its own that is
// committed here (so that a COMMIT failure is reported by this call, not lost).
template <class F>
auto admin::run(const char* operation, F&& body) {
    if (tx_ != nullptr) {
        detail::ensure_begun(*tx_);
        return body(*tx_);
    }
    try {
        pqxx::work tx{*conn_};
        auto value = body(tx);
        tx.commit();
        return value;
    } catch (const error&) {
        throw;
    } catch (...) {
        rethrow_translated(operation);
    }
}

std::string admin::version() {
    return run(sql::version.name, [](pqxx::transaction_base& tx) {
        const auto r = exec_in(tx, sql::version);
        return r[0][0].is_null() ? std::string{} : r[0][0].as<std::string>();
    });
}

bool admin::has_pgqpp_additions() {
    return run(sql::has_additions.name, [](pqxx::transaction_base& tx) {
        return exec_in(tx, sql::has_additions)[0][0].as<bool>();
    });
}

bool admin::create_queue(std::string_view queue) {
    validate_queue_name(queue);
    return run(sql::create_queue.name, [&](pqxx::transaction_base& tx) {
        return exec_in(tx, sql::create_queue, std::string{queue})[0][0].as<int>() == 1;
    });
}

void admin::drop_queue(std::string_view queue, bool force) {
    validate_queue_name(queue);
    run(sql::drop_queue.name, [&](pqxx::transaction_base& tx) {
        return exec_in(tx, sql::drop_queue, std::string{queue}, force).size();
    });
}

void admin::set_queue_config(std::string_view queue, std::string_view param,
                             std::string_view value) {
    validate_queue_name(queue);
    validate_text("parameter name", param);
    validate_text("parameter value", value);
    run(sql::set_queue_config.name, [&](pqxx::transaction_base& tx) {
        return exec_in(tx, sql::set_queue_config, std::string{queue}, std::string{param},
                       std::string{value})
            .size();
    });
}

void admin::set_ticker_max_count(std::string_view queue, int count) {
    if (count < 0) {
        throw invalid_argument{"ticker_max_count must not be negative (got " +
                               std::to_string(count) + ")"};
    }
    set_queue_config(queue, "ticker_max_count", std::to_string(count));
}

void admin::set_ticker_max_lag(std::string_view queue, duration lag) {
    set_queue_config(queue, "ticker_max_lag", interval_text(lag, "ticker_max_lag"));
}

void admin::set_ticker_idle_period(std::string_view queue, duration period) {
    set_queue_config(queue, "ticker_idle_period", interval_text(period, "ticker_idle_period"));
}

void admin::set_rotation_period(std::string_view queue, duration period) {
    set_queue_config(queue, "rotation_period", interval_text(period, "rotation_period"));
}

void admin::set_ticker_paused(std::string_view queue, bool paused) {
    set_queue_config(queue, "ticker_paused", paused ? "true" : "false");
}

void admin::set_external_ticker(std::string_view queue, bool external) {
    set_queue_config(queue, "external_ticker", external ? "true" : "false");
}

bool admin::register_consumer(std::string_view queue, std::string_view consumer) {
    validate_queue_name(queue);
    validate_consumer_name(consumer);
    return run(sql::register_consumer.name, [&](pqxx::transaction_base& tx) {
        return exec_in(tx, sql::register_consumer, std::string{queue}, std::string{consumer})[0][0]
                   .as<int>() == 1;
    });
}

bool admin::register_consumer_at(std::string_view queue, std::string_view consumer,
                                 std::int64_t tick_id) {
    validate_queue_name(queue);
    validate_consumer_name(consumer);
    return run(sql::register_consumer_at.name, [&](pqxx::transaction_base& tx) {
        return exec_in(tx, sql::register_consumer_at, std::string{queue}, std::string{consumer},
                       tick_id)[0][0]
                   .as<int>() == 1;
    });
}

bool admin::unregister_consumer(std::string_view queue, std::string_view consumer) {
    validate_queue_name(queue);
    validate_consumer_name(consumer);
    return run(sql::unregister_consumer.name, [&](pqxx::transaction_base& tx) {
        return exec_in(tx, sql::unregister_consumer, std::string{queue},
                       std::string{consumer})[0][0]
                   .as<int>() > 0;
    });
}

std::optional<pgqpp::queue_info> admin::queue_info(std::string_view queue) {
    validate_queue_name(queue);
    return run(sql::queue_info.name, [&](pqxx::transaction_base& tx) {
        const auto r = exec_in(tx, sql::queue_info, std::string{queue});
        std::optional<pgqpp::queue_info> out;
        if (!r.empty()) out = to_queue_info(r[0]);
        return out;
    });
}

std::vector<pgqpp::queue_info> admin::queues() {
    return run(sql::queues.name, [&](pqxx::transaction_base& tx) {
        std::vector<pgqpp::queue_info> out;
        for (const auto& row : exec_in(tx, sql::queues)) out.push_back(to_queue_info(row));
        return out;
    });
}

std::optional<pgqpp::consumer_info> admin::consumer_info(std::string_view queue,
                                                         std::string_view consumer) {
    validate_queue_name(queue);
    validate_consumer_name(consumer);
    return run(sql::consumer_info.name, [&](pqxx::transaction_base& tx) {
        const auto r = exec_in(tx, sql::consumer_info, std::string{queue}, std::string{consumer});
        std::optional<pgqpp::consumer_info> out;
        if (!r.empty()) out = to_consumer_info(r[0]);
        return out;
    });
}

std::vector<pgqpp::consumer_info> admin::consumers(std::string_view queue) {
    validate_queue_name(queue);
    return run(sql::consumers_of.name, [&](pqxx::transaction_base& tx) {
        std::vector<pgqpp::consumer_info> out;
        for (const auto& row : exec_in(tx, sql::consumers_of, std::string{queue}))
            out.push_back(to_consumer_info(row));
        return out;
    });
}

std::vector<pgqpp::consumer_info> admin::consumers() {
    return run(sql::consumers.name, [&](pqxx::transaction_base& tx) {
        std::vector<pgqpp::consumer_info> out;
        for (const auto& row : exec_in(tx, sql::consumers)) out.push_back(to_consumer_info(row));
        return out;
    });
}

std::optional<pgqpp::batch_info> admin::batch_info(std::int64_t batch_id) {
    return run(sql::batch_info.name, [&](pqxx::transaction_base& tx) {
        const auto r = exec_in(tx, sql::batch_info, batch_id);
        std::optional<pgqpp::batch_info> out;
        if (r.empty() || r[0][0].is_null()) return out;  // all NULL: no such batch
        const auto& row = r[0];
        pgqpp::batch_info b;
        b.queue_name = row[0].as<std::string>();
        b.consumer_name = row[1].as<std::string>();
        b.batch_start = at_usec(row[2]);
        b.batch_end = at_usec(row[3]);
        b.prev_tick_id = row[4].as<std::int64_t>();
        b.tick_id = row[5].as<std::int64_t>();
        b.lag = usec(row[6]);
        b.seq_start = row[7].as<std::int64_t>();
        b.seq_end = row[8].as<std::int64_t>();
        out = std::move(b);
        return out;
    });
}

std::optional<std::int64_t> admin::ticker(std::string_view queue) {
    validate_queue_name(queue);
    return run(sql::ticker.name, [&](pqxx::transaction_base& tx) {
        return opt<std::int64_t>(exec_in(tx, sql::ticker, std::string{queue})[0][0]);
    });
}

std::int64_t admin::ticker_all() {
    return run(sql::ticker_all.name, [&](pqxx::transaction_base& tx) {
        return opt<std::int64_t>(exec_in(tx, sql::ticker_all)[0][0]).value_or(0);
    });
}

std::int64_t admin::force_tick(std::string_view queue) {
    validate_queue_name(queue);
    return run(sql::force_tick.name, [&](pqxx::transaction_base& tx) {
        return exec_in(tx, sql::force_tick, std::string{queue})[0][0].as<std::int64_t>();
    });
}

}  // namespace pgqpp
