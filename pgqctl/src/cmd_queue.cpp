// create-queue, drop-queue, config, pause, resume: a queue's life and settings, through
// core's admin API (pgq.create_queue, pgq.drop_queue, pgq.set_queue_config).
#include "commands.hpp"
#include "output.hpp"
#include "sql.hpp"

#include <pgqpp/admin.hpp>
#include <pgqpp/validate.hpp>

#include <pqxx/pqxx>

#include <algorithm>
#include <iostream>
#include <map>
#include <set>

namespace pgqctl {

namespace {

/// Parses `<usage>` with one positional QUEUE (and @p opts); false after --help.
bool parse_queue_args(context& ctx, const std::string& usage, po::options_description opts,
                      std::string& queue) {
    opts.add_options()("queue", po::value<std::string>(&queue)->required(), "queue name");
    po::positional_options_description pos;
    pos.add("queue", 1);
    po::variables_map vm;
    return ctx.parse(usage, opts, pos, vm);
}


/// The queue's pgq.queue row as JSON; throws not found.
json queue_row(pqxx::connection& conn, const std::string& queue) {
    require_queue(conn, queue);
    pqxx::read_transaction tx{conn};
    return json::parse(tx.exec_params(sql::queue_row, queue)[0][0].as<std::string>());
}

/// Columns of pgq.queue that are state, not settings.
const std::set<std::string> state_columns{
    "queue_id", "queue_name", "queue_cur_table", "queue_data_pfx", "queue_event_seq",
    "queue_tick_seq", "queue_switch_step1", "queue_switch_step2", "queue_switch_time"};

std::string setting_key(std::string key) {
    if (key.rfind("queue_", 0) != 0) key = "queue_" + key;
    return key;
}

std::string show_value(const json& v) {
    if (v.is_null()) return "-";
    if (v.is_string()) return v.get<std::string>();
    return v.dump();
}

int set_paused(context& ctx, bool paused) {
    std::string queue;
    const std::string what = paused ? "Stops the ticker of QUEUE (queue_ticker_paused = true): no "
                                      "new batches until `pgqctl resume`."
                                    : "Lets the ticker tick QUEUE again.";
    if (!parse_queue_args(ctx, "QUEUE\n\n" + what, po::options_description{"Options"}, queue))
        return exit_ok;
    pgqpp::validate_queue_name(queue);
    auto& conn = ctx.conn();
    require_pgq(conn);
    require_queue(conn, queue);
    pgqpp::admin{conn}.set_ticker_paused(queue, paused);
    if (ctx.json()) {
        print_json(json{{"queue", queue}, {"ticker_paused", paused}});
    } else {
        std::cout << "queue " << quote_name(queue) << ": ticker " << (paused ? "paused" : "resumed")
                  << '\n';
    }
    return exit_ok;
}

}  // namespace

int cmd_create_queue(context& ctx) {
    std::string queue;
    if (!parse_queue_args(ctx, "QUEUE\n\nCreates QUEUE (nothing happens if it exists).",
                          po::options_description{"Options"}, queue))
        return exit_ok;
    pgqpp::validate_queue_name(queue);
    auto& conn = ctx.conn();
    require_pgq(conn);
    const bool created = pgqpp::admin{conn}.create_queue(queue);
    if (ctx.json()) {
        print_json(json{{"queue", queue}, {"created", created}});
    } else {
        std::cout << "queue " << quote_name(queue) << (created ? " created" : " exists already")
                  << '\n';
    }
    return exit_ok;
}

int cmd_drop_queue(context& ctx) {
    std::string queue;
    bool force = false;
    po::options_description opts{"Options"};
    opts.add_options()("force", po::bool_switch(&force),
                       "also unregister its consumers (their unread events are lost)");
    if (!parse_queue_args(ctx, "QUEUE [--force]\n\nDrops QUEUE with its events and dead "
                               "letters. Refused while consumers are registered, unless --force.",
                          opts, queue))
        return exit_ok;
    pgqpp::validate_queue_name(queue);
    auto& conn = ctx.conn();
    require_pgq(conn);
    require_queue(conn, queue);
    std::vector<std::string> consumers;
    {
        pqxx::read_transaction tx{conn};
        for (const auto& r : tx.exec_params(sql::queue_consumers, queue))
            consumers.push_back(r[0].as<std::string>());
    }
    if (!consumers.empty() && !force) {
        std::string names;
        for (const auto& c : consumers) names += (names.empty() ? "" : ", ") + quote_name(c);
        throw cli_error{exit_refused, "queue " + quote_name(queue) + " still has consumers (" + names +
                                          "): unregister them first, or use --force"};
    }
    pgqpp::admin{conn}.drop_queue(queue, force);
    if (ctx.json()) {
        print_json(json{{"queue", queue}, {"dropped", true}, {"unregistered", consumers}});
    } else {
        std::cout << "queue " << quote_name(queue) << " dropped";
        if (!consumers.empty()) std::cout << " (" << consumers.size() << " consumers unregistered)";
        std::cout << '\n';
    }
    return exit_ok;
}

int cmd_config(context& ctx) {
    std::string queue, key, value;
    po::options_description opts{"Options"};
    opts.add_options()
        ("queue", po::value<std::string>(&queue)->required(), "queue name")
        ("key", po::value<std::string>(&key), "setting (with or without the queue_ prefix)")
        ("value", po::value<std::string>(&value), "new value");
    po::positional_options_description pos;
    pos.add("queue", 1).add("key", 1).add("value", 1);
    po::variables_map vm;
    if (!ctx.parse("QUEUE [KEY [VALUE]]\n\n"
                   "Without KEY: every setting of QUEUE. With KEY: that one. With VALUE: sets it "
                   "(pgq.set_queue_config),\ne.g. `pgqctl config mail ticker_max_lag '500 ms'`.",
                   opts, pos, vm))
        return exit_ok;
    pgqpp::validate_queue_name(queue);
    auto& conn = ctx.conn();
    require_pgq(conn);
    auto row = queue_row(conn, queue);
    // By name: pgq.queue's columns without the "queue_" prefix, state columns left out.
    std::map<std::string, json> sorted;
    for (const auto& [k, v] : row.items())
        if (!state_columns.count(k)) sorted[k.substr(6)] = v;
    json settings = json::object();
    for (const auto& [k, v] : sorted) settings[k] = v;

    if (!vm.count("key")) {
        if (ctx.json()) {
            print_json(json{{"queue", queue}, {"settings", settings}});
        } else {
            table t{{"SETTING", "VALUE"}};
            for (const auto& [k, v] : settings.items()) t.add({k, show_value(v)});
            t.print(std::cout);
        }
        return exit_ok;
    }
    const std::string column = setting_key(key);
    const std::string name = column.substr(6);
    if (!settings.contains(name)) {
        std::string known;
        for (const auto& [k, v] : settings.items()) known += (known.empty() ? "" : ", ") + k;
        throw cli_error{exit_usage, "queue " + quote_name(queue) + " has no setting '" + key +
                                        "'; settings: " + known};
    }
    if (vm.count("value")) {
        pgqpp::admin{conn}.set_queue_config(queue, name, value);
        settings[name] = queue_row(conn, queue)[column];
    }
    if (ctx.json()) {
        print_json(json{{"queue", queue}, {"setting", name}, {"value", settings[name]}});
    } else {
        std::cout << name << " = " << show_value(settings[name]) << '\n';
    }
    return exit_ok;
}

int cmd_pause(context& ctx) { return set_paused(ctx, true); }
int cmd_resume(context& ctx) { return set_paused(ctx, false); }

}  // namespace pgqctl
