// register, unregister, rewind: a consumer's subscription and position. rewind moves the
// position with pgq.register_consumer_at to a kept tick chosen by id or by time.
#include "commands.hpp"
#include "output.hpp"
#include "progress.hpp"
#include "sql.hpp"

#include <pgqpp/admin.hpp>
#include <pgqpp/validate.hpp>

#include <pqxx/pqxx>

#include <chrono>
#include <iostream>
#include <thread>

namespace pgqctl {

namespace {


struct names {
    std::string queue, consumer;
};

/// Parses QUEUE CONSUMER (and @p opts); false after --help.
bool parse_pair(context& ctx, const std::string& usage, po::options_description opts, names& n,
                po::variables_map& vm) {
    opts.add_options()
        ("queue", po::value<std::string>(&n.queue)->required(), "queue name")
        ("consumer", po::value<std::string>(&n.consumer)->required(), "consumer name");
    po::positional_options_description pos;
    pos.add("queue", 1).add("consumer", 1);
    if (!ctx.parse(usage, opts, pos, vm)) return false;
    pgqpp::validate_queue_name(n.queue);
    pgqpp::validate_consumer_name(n.consumer);
    return true;
}

pgqpp::consumer_info require_consumer(pgqpp::admin& admin, const names& n) {
    auto info = admin.consumer_info(n.queue, n.consumer);
    if (!info) {
        throw cli_error{exit_not_found, "consumer " + quote_name(n.consumer) +
                                            " is not registered on queue " + quote_name(n.queue) +
                                            " (see pgqctl status " + n.queue + ")"};
    }
    return *info;
}

struct tick {
    std::int64_t id = 0;
    pgqpp::time_point time{};
};

struct tick_range {
    tick oldest, newest;
    std::optional<std::int64_t> events_after;  ///< events between the asked tick and newest
};

tick_range read_range(pqxx::transaction_base& tx, const std::string& queue,
                      std::optional<std::int64_t> from) {
    const std::string from_text = from ? std::to_string(*from) : std::string{};
    const auto r = tx.exec_params(sql::tick_range, queue, from ? from_text.c_str() : nullptr)[0];
    if (r[0].is_null()) {
        throw cli_error{exit_refused, "queue " + quote_name(queue) +
                                          " has no ticks yet: is a ticker running on it?"};
    }
    tick_range t;
    t.oldest = {r[0].as<std::int64_t>(), pgqpp::time_point{pgqpp::duration{r[1].as<std::int64_t>()}}};
    t.newest = {r[2].as<std::int64_t>(), pgqpp::time_point{pgqpp::duration{r[3].as<std::int64_t>()}}};
    if (!r[4].is_null()) t.events_after = r[4].as<std::int64_t>();
    return t;
}

std::optional<tick> one_tick(const pqxx::result& r) {
    if (r.empty()) return std::nullopt;
    return tick{r[0][0].as<std::int64_t>(),
                pgqpp::time_point{pgqpp::duration{r[0][1].as<std::int64_t>()}}};
}

/// Whether --to is relative to now: "-1 day", "+2 hours", "3 hours ago".
bool is_relative(const std::string& to) {
    const auto first = to.find_first_not_of(' ');
    if (first != std::string::npos && (to[first] == '-' || to[first] == '+')) return true;
    const auto last = to.find_last_not_of(' ');
    return last != std::string::npos && last >= 2 && to.compare(last - 2, 3, "ago") == 0;
}

/// --to as a time, read by PostgreSQL (so every format it accepts works).
pgqpp::time_point resolve_time(pqxx::connection& conn, const std::string& to) {
    try {
        pqxx::read_transaction tx{conn};
        const auto r = tx.exec_params(is_relative(to) ? sql::resolve_time_rel : sql::resolve_time_abs, to);
        return pgqpp::time_point{pgqpp::duration{r[0][0].as<std::int64_t>()}};
    } catch (const pqxx::data_exception& e) {
        throw cli_error{exit_usage, "--to '" + to + "' is not a time PostgreSQL understands (" +
                                        pgqpp::primary_message(e.what()) +
                                        "); e.g. '2026-11-21 03:00', '-1 day', '3 hours ago'"};
    }
}

/// Polls the consumer until it has processed every tick up to @p until, with progress.
void follow_catch_up(pqxx::connection& conn, const names& n, std::int64_t until,
                     std::int64_t events) {
    progress bar{"replay of " + n.consumer, events};
    pgqpp::admin admin{conn};
    for (;;) {
        const auto info = admin.consumer_info(n.queue, n.consumer);
        if (!info) throw cli_error{exit_not_found, "consumer " + quote_name(n.consumer) + " was unregistered"};
        const auto pending = info->pending_events.value_or(0);
        if (info->last_tick && *info->last_tick >= until) break;
        bar.update(std::max<std::int64_t>(0, events - pending));
        std::this_thread::sleep_for(std::chrono::milliseconds{300});
    }
    bar.finish();
}

}  // namespace

int cmd_register(context& ctx) {
    names n;
    po::variables_map vm;
    if (!parse_pair(ctx, "QUEUE CONSUMER\n\nRegisters CONSUMER on QUEUE: it gets the events "
                         "ticked from now on.",
                    po::options_description{"Options"}, n, vm))
        return exit_ok;
    auto& conn = ctx.conn();
    require_pgq(conn);
    pgqpp::admin admin{conn};
    require_queue(conn, n.queue);
    const bool created = admin.register_consumer(n.queue, n.consumer);
    if (ctx.json()) {
        print_json(json{{"queue", n.queue}, {"consumer", n.consumer}, {"registered", created}});
    } else {
        std::cout << "consumer " << quote_name(n.consumer) << (created ? " registered" : " was registered already")
                  << " on queue " << quote_name(n.queue) << '\n';
    }
    return exit_ok;
}

int cmd_unregister(context& ctx) {
    names n;
    po::variables_map vm;
    if (!parse_pair(ctx, "QUEUE CONSUMER\n\nUnregisters CONSUMER from QUEUE: its position, "
                         "open batch and retry events are dropped.",
                    po::options_description{"Options"}, n, vm))
        return exit_ok;
    auto& conn = ctx.conn();
    require_pgq(conn);
    pgqpp::admin admin{conn};
    require_queue(conn, n.queue);
    require_consumer(admin, n);
    admin.unregister_consumer(n.queue, n.consumer);
    if (ctx.json()) {
        print_json(json{{"queue", n.queue}, {"consumer", n.consumer}, {"unregistered", true}});
    } else {
        std::cout << "consumer " << quote_name(n.consumer) << " unregistered from queue "
                  << quote_name(n.queue) << '\n';
    }
    return exit_ok;
}

int cmd_rewind(context& ctx) {
    names n;
    po::options_description opts{"Options"};
    opts.add_options()
        ("tick", po::value<std::int64_t>(), "the tick id to restart after")
        ("to", po::value<std::string>(),
         "a time: the newest tick at or before it, e.g. '2026-11-21 03:00', "
         "'yesterday 03:00', '-1 day', '3 hours ago'")
        ("follow", po::bool_switch(), "then wait until the consumer has caught up again, "
                                      "showing progress");
    po::variables_map vm;
    if (!parse_pair(ctx, "QUEUE CONSUMER (--tick ID | --to TIME) [--follow]\n\n"
                         "Moves CONSUMER back (or forward) so that its next batch starts right "
                         "after the chosen tick:\nthe events after it are delivered again. "
                         "Stop the consumer first: its open batch is dropped.",
                    opts, n, vm))
        return exit_ok;
    if (vm.count("tick") == vm.count("to")) {
        throw cli_error{exit_usage, "rewind: give exactly one of --tick ID or --to TIME"};
    }
    auto& conn = ctx.conn();
    require_pgq(conn);
    pgqpp::admin admin{conn};
    require_queue(conn, n.queue);
    const auto before = require_consumer(admin, n);

    std::optional<tick> target;
    std::string asked;
    {
        std::optional<pgqpp::time_point> at;
        if (vm.count("to")) at = resolve_time(conn, vm["to"].as<std::string>());
        pqxx::read_transaction tx{conn};
        if (at) {
            asked = "at or before " + format_time(*at);
            target = one_tick(tx.exec_params(sql::tick_at_or_before, n.queue,
                                             at->time_since_epoch().count()));
        } else {
            asked = "with id " + std::to_string(vm["tick"].as<std::int64_t>());
            target = one_tick(tx.exec_params(sql::tick_by_id, n.queue, vm["tick"].as<std::int64_t>()));
        }
        if (!target) {
            const auto range = read_range(tx, n.queue, std::nullopt);
            const bool too_new = vm.count("tick") && vm["tick"].as<std::int64_t>() > range.newest.id;
            throw cli_error{too_new ? exit_not_found : exit_refused,
                            "queue " + quote_name(n.queue) + " has no kept tick " + asked +
                                ": the oldest kept tick is " + std::to_string(range.oldest.id) +
                                " at " + format_time(range.oldest.time) + ", the newest " +
                                std::to_string(range.newest.id) + " at " +
                                format_time(range.newest.time)};
        }
    }
    admin.register_consumer_at(n.queue, n.consumer, target->id);
    tick_range range;
    {
        pqxx::read_transaction tx{conn};
        range = read_range(tx, n.queue, target->id);
    }
    const auto events = range.events_after.value_or(0);
    if (ctx.json()) {
        print_json(json{{"queue", n.queue},
                        {"consumer", n.consumer},
                        {"previous_tick", json_opt(before.last_tick)},
                        {"tick_id", target->id},
                        {"tick_time", json_time(target->time)},
                        {"newest_tick", range.newest.id},
                        {"events_to_replay", events}});
    } else {
        std::cout << "consumer " << quote_name(n.consumer) << " on queue " << quote_name(n.queue)
                  << " moved from tick " << format_opt(before.last_tick) << " to tick "
                  << target->id << " (" << format_time(target->time) << "): about " << events
                  << " events to process up to tick " << range.newest.id << '\n';
    }
    if (vm["follow"].as<bool>()) follow_catch_up(conn, n, range.newest.id, events);
    return exit_ok;
}

}  // namespace pgqctl
