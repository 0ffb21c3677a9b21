// tail QUEUE: prints the queue's events as ticks make them visible, without registering a
// consumer. It reads the event tables itself between two tick snapshots, exactly the events
// a batch between those ticks holds, so no consumer's position or rotation is affected
// (a read-only transaction per poll, never held open).
#include "commands.hpp"
#include "interrupt.hpp"
#include "output.hpp"
#include "sql.hpp"

#include <pgqpp/quote.hpp>
#include <pgqpp/validate.hpp>

#include <pqxx/pqxx>

#include <chrono>
#include <iostream>
#include <thread>

namespace pgqctl {

namespace {


json opt_text(const pqxx::field& f) {
    if (f.is_null()) return nullptr;
    return f.as<std::string>();
}

void print_event(const pqxx::row& r, std::int64_t tick, bool as_json) {
    const pgqpp::time_point t{pgqpp::duration{r[1].as<std::int64_t>()}};
    if (as_json) {
        json j{{"tick", tick},
               {"ev_id", r[0].as<std::int64_t>()},
               {"ev_time", json_time(t)},
               {"ev_txid", r[2].as<std::int64_t>()},
               {"ev_retry", r[3].is_null() ? json(nullptr) : json(r[3].as<int>())},
               {"ev_type", opt_text(r[4])},
               {"ev_data", opt_text(r[5])},
               {"ev_extra1", opt_text(r[6])},
               {"ev_extra2", opt_text(r[7])},
               {"ev_extra3", opt_text(r[8])},
               {"ev_extra4", opt_text(r[9])}};
        print_json_line(j);
        return;
    }
    std::cout << format_time(t) << "  #" << r[0].as<std::string>() << "  "
              << (r[4].is_null() ? "-" : r[4].as<std::string>()) << "  "
              << (r[5].is_null() ? "-" : r[5].as<std::string>());
    for (int i = 6; i <= 9; ++i)
        if (!r[i].is_null()) std::cout << "  extra" << (i - 5) << '=' << r[i].as<std::string>();
    std::cout << '\n';
}

}  // namespace

int cmd_tail(context& ctx) {
    std::string queue;
    double interval = 0.2;
    std::int64_t count = 0;
    po::options_description opts{"Options"};
    opts.add_options()
        ("queue", po::value<std::string>(&queue)->required(), "queue name")
        ("from-tick", po::value<std::int64_t>(), "start after this tick (default: the newest)")
        ("count,n", po::value<std::int64_t>(&count)->default_value(0),
         "stop after this many events (0: never)")
        ("no-follow", po::bool_switch(), "stop when the newest tick is reached")
        ("interval", po::value<double>(&interval)->default_value(0.2),
         "seconds between polls for new ticks");
    po::positional_options_description pos;
    pos.add("queue", 1);
    po::variables_map vm;
    if (!ctx.parse("QUEUE [--from-tick ID] [--count N] [--no-follow]\n\n"
                   "Prints QUEUE's events as ticks make them visible (one line each; with "
                   "--json one JSON object\nper line), without registering a consumer: nobody's "
                   "position changes.",
                   opts, pos, vm))
        return exit_ok;
    pgqpp::validate_queue_name(queue);
    if (interval <= 0) throw cli_error{exit_usage, "tail: --interval must be positive"};
    auto& conn = ctx.conn();
    require_pgq(conn);

    int queue_id = 0;
    std::string events_query;
    std::int64_t last_tick = 0;
    {
        pqxx::read_transaction tx{conn};
        const auto r = tx.exec_params(sql::queue_event_parent, queue);
        if (r.empty()) {
            throw cli_error{exit_not_found, "queue '" + queue + "' does not exist in database " +
                                                conn.dbname()};
        }
        queue_id = r[0][0].as<int>();
        std::string q = sql::events_between;
        q.replace(q.find("%s"), 2, pgqpp::quote_qualified_name(conn, r[0][1].as<std::string>()));
        events_query = q;
        const auto newest = tx.exec_params(sql::newest_tick, queue_id)[0][0];
        if (vm.count("from-tick")) {
            last_tick = vm["from-tick"].as<std::int64_t>();
            if (tx.exec_params(sql::tick_by_id, queue, last_tick).empty()) {
                throw cli_error{exit_not_found, "queue '" + queue + "' has no kept tick " +
                                                    std::to_string(last_tick) +
                                                    " (see pgqctl status)"};
            }
        } else if (!newest.is_null()) {
            last_tick = newest.as<std::int64_t>();
        }
    }
    stop_on_signals();
    std::int64_t printed = 0;
    while (!stop_requested()) {
        std::vector<std::int64_t> ticks;
        {
            pqxx::read_transaction tx{conn};
            for (const auto& r : tx.exec_params(sql::ticks_after, queue_id, last_tick))
                ticks.push_back(r[0].as<std::int64_t>());
            // Fallen behind a rotation (the tick we stand on is deleted): say what was lost.
            if (!ticks.empty() && last_tick > 0 &&
                tx.exec_params(sql::tick_by_id, queue, last_tick).empty()) {
                std::cerr << "pgqctl: tail fell behind: tick " << last_tick
                          << " was rotated away; events up to tick " << ticks.front()
                          << " are skipped\n";
            }
            // The events of each tick interval, oldest first; ticks from before tail started
            // with no predecessor (last_tick 0) only mark the starting point.
            for (const auto tick : ticks) {
                if (last_tick > 0) {
                    for (const auto& ev : tx.exec_params(events_query, queue_id, last_tick, tick)) {
                        print_event(ev, tick, ctx.json());
                        if (count > 0 && ++printed >= count) {
                            std::cout << std::flush;
                            return exit_ok;
                        }
                    }
                }
                last_tick = tick;
            }
        }
        std::cout << std::flush;
        if (ticks.empty() && vm["no-follow"].as<bool>()) break;
        if (ticks.size() < 100) {
            sleep_unless_stopped(interval);
        }
    }
    return exit_ok;
}

}  // namespace pgqctl
