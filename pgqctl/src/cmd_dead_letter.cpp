// dead-letter list|show|requeue|purge: pgqpp's dead-letter store (pgq.dead_letter_*,
// docs/queue-sql.md). The real PgQ has none: there it says so and exits 5.
#include "commands.hpp"
#include "output.hpp"
#include "progress.hpp"
#include "sql.hpp"

#include <pgqpp/validate.hpp>

#include <pqxx/pqxx>

#include <iostream>

namespace pgqctl {

namespace {

/// Requeue/purge send this many ids per statement (one transaction: all or none).
constexpr std::size_t chunk_size = 1000;

const char* const usage =
    "list|show|requeue|purge ...\n\n"
    "  dead-letter list [--queue Q] [--consumer C] [--limit N] [--before ID]\n"
    "  dead-letter show ID\n"
    "  dead-letter requeue (ID... | --all [--queue Q] [--consumer C]) [--retry-after TIME]\n"
    "  dead-letter purge (ID... | --older-than INTERVAL [--queue Q])\n\n"
    "Dead letters are events a consumer gave up on (pgqpp's SQL only). requeue sends them back\n"
    "to the consumer that gave up on them (through its retry queue); purge deletes them.";

void require_dead_letters(pqxx::connection& conn) {
    require_pgq(conn);
    pqxx::read_transaction tx{conn};
    if (tx.exec(sql::dead_letters_available)[0][0].as<bool>()) return;
    throw cli_error{exit_unavailable,
                    "dead letters need pgqpp's SQL (pgq.dead_letter_*), but database " +
                        std::string{conn.dbname()} +
                        " runs the real PgQ, which has no dead-letter store"};
}

/// Runs @p body; the functions' own errors become cli_errors with the right exit code.
template <class F>
auto translated(F&& body) {
    try {
        return body();
    } catch (const pqxx::sql_error& e) {
        const auto msg = pgqpp::primary_message(e.what());
        if (msg.find("not found") != std::string::npos ||
            msg.find("no such") != std::string::npos)
            throw cli_error{exit_not_found, msg};
        if (msg.find("is not registered") != std::string::npos)
            throw cli_error{exit_refused, msg + "; register it again first, or purge these"};
        if (std::string{e.sqlstate()}.rfind("22", 0) == 0) throw cli_error{exit_usage, msg};
        throw;
    }
}

json opt_text(const pqxx::field& f) { return f.is_null() ? json(nullptr) : json(f.as<std::string>()); }

pgqpp::time_point at(const pqxx::field& f) { return pgqpp::time_point{pgqpp::duration{f.as<std::int64_t>()}}; }

std::string ids_array(const std::vector<std::int64_t>& ids, std::size_t from, std::size_t n) {
    std::string s = "{";
    for (std::size_t i = from; i < from + n; ++i) s += (i > from ? "," : "") + std::to_string(ids[i]);
    return s + "}";
}

std::vector<std::int64_t> parse_ids(const std::vector<std::string>& words) {
    std::vector<std::int64_t> ids;
    for (const auto& w : words) {
        try {
            std::size_t end = 0;
            ids.push_back(std::stoll(w, &end));
            if (end != w.size()) throw std::invalid_argument{w};
        } catch (const std::exception&) {
            throw cli_error{exit_usage, "dead-letter: '" + w + "' is not a dead letter id"};
        }
    }
    return ids;
}

int list(context& ctx) {
    po::options_description opts{"Options"};
    opts.add_options()
        ("queue", po::value<std::string>(), "only this queue's")
        ("consumer", po::value<std::string>(), "only this consumer's")
        ("limit", po::value<int>()->default_value(100), "at most this many (newest first)")
        ("before", po::value<std::int64_t>(), "the next page: ids below this one");
    po::variables_map vm;
    if (!ctx.parse("[--queue Q] [--consumer C] [--limit N] [--before ID]", opts, {}, vm)) return exit_ok;
    auto& conn = ctx.conn();
    require_dead_letters(conn);
    const auto queue = vm.count("queue") ? vm["queue"].as<std::string>() : std::string{};
    const auto consumer = vm.count("consumer") ? vm["consumer"].as<std::string>() : std::string{};
    const auto before = vm.count("before") ? std::to_string(vm["before"].as<std::int64_t>()) : std::string{};
    const auto rows = translated([&] {
        pqxx::read_transaction tx{conn};
        return tx.exec_params(sql::dead_letter_list, vm.count("queue") ? queue.c_str() : nullptr,
                              vm.count("consumer") ? consumer.c_str() : nullptr,
                              vm["limit"].as<int>(), vm.count("before") ? before.c_str() : nullptr);
    });
    if (ctx.json()) {
        json out = json::array();
        for (const auto& r : rows) {
            out.push_back(json{{"dl_id", r[0].as<std::int64_t>()}, {"queue", r[1].as<std::string>()},
                               {"consumer", r[2].as<std::string>()}, {"dl_time", json_time(at(r[3]))},
                               {"reason", opt_text(r[4])}, {"batch_id", r[5].as<std::int64_t>()},
                               {"ev_id", r[6].as<std::int64_t>()}, {"ev_time", json_time(at(r[7]))},
                               {"ev_retry", r[8].is_null() ? json(nullptr) : json(r[8].as<int>())},
                               {"ev_type", opt_text(r[9])}, {"ev_data", opt_text(r[10])}});
        }
        print_json(out);
        return exit_ok;
    }
    if (rows.empty()) {
        std::cout << "no dead letters\n";
        return exit_ok;
    }
    table t{{"ID", "QUEUE", "CONSUMER", "DIED", "EV_ID", "TYPE", "REASON", "DATA"}};
    for (const auto& r : rows) {
        auto data = r[10].is_null() ? std::string{"-"} : r[10].as<std::string>();
        if (data.size() > 40) data = data.substr(0, 37) + "...";
        t.add({r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<std::string>(),
               format_time(at(r[3])), r[6].as<std::string>(),
               r[9].is_null() ? "-" : r[9].as<std::string>(),
               r[4].is_null() ? "-" : r[4].as<std::string>(), data});
    }
    t.print(std::cout);
    return exit_ok;
}

int show(context& ctx) {
    po::options_description opts{"Options"};
    opts.add_options()("id", po::value<std::int64_t>()->required(), "dead letter id");
    po::positional_options_description pos;
    pos.add("id", 1);
    po::variables_map vm;
    if (!ctx.parse("ID", opts, pos, vm)) return exit_ok;
    auto& conn = ctx.conn();
    require_dead_letters(conn);
    const auto rows = translated([&] {
        pqxx::read_transaction tx{conn};
        return tx.exec_params(sql::dead_letter_show, vm["id"].as<std::int64_t>());
    });
    const auto r = rows[0];
    const json j{{"dl_id", r[0].as<std::int64_t>()}, {"queue", r[1].as<std::string>()},
                 {"consumer", r[2].as<std::string>()}, {"dl_time", json_time(at(r[3]))},
                 {"reason", opt_text(r[4])}, {"batch_id", r[5].as<std::int64_t>()},
                 {"ev_id", r[6].as<std::int64_t>()}, {"ev_time", json_time(at(r[7]))},
                 {"ev_txid", r[8].is_null() ? json(nullptr) : json(r[8].as<std::int64_t>())},
                 {"ev_retry", r[9].is_null() ? json(nullptr) : json(r[9].as<int>())},
                 {"ev_type", opt_text(r[10])}, {"ev_data", opt_text(r[11])},
                 {"ev_extra1", opt_text(r[12])}, {"ev_extra2", opt_text(r[13])},
                 {"ev_extra3", opt_text(r[14])}, {"ev_extra4", opt_text(r[15])}};
    if (ctx.json()) {
        print_json(j);
        return exit_ok;
    }
    table t{{"FIELD", "VALUE"}};
    for (const auto& [k, v] : j.items())
        t.add({k, v.is_null() ? "-" : v.is_string() ? v.get<std::string>() : v.dump()});
    t.print(std::cout);
    return exit_ok;
}

/// Calls @p call(tx, "{id,...}") for chunks of @p ids inside one transaction (all or
/// none), with progress; returns the sum of the results.
template <class Call>
std::int64_t in_chunks(pqxx::connection& conn, const char* what,
                       const std::vector<std::int64_t>& ids, Call&& call) {
    progress bar{what, static_cast<std::int64_t>(ids.size())};
    return translated([&] {
        pqxx::work tx{conn};
        std::int64_t total = 0;
        for (std::size_t done = 0; done < ids.size();) {
            const auto n = std::min(chunk_size, ids.size() - done);
            total += call(tx, ids_array(ids, done, n))[0][0].template as<std::int64_t>();
            done += n;
            bar.update(static_cast<std::int64_t>(done));
        }
        pgqpp::commit(tx);
        bar.finish();
        return total;
    });
}

std::vector<std::int64_t> select_ids(pqxx::connection& conn, const po::variables_map& vm) {
    const auto queue = vm.count("queue") ? vm["queue"].as<std::string>() : std::string{};
    const auto consumer = vm.count("consumer") ? vm["consumer"].as<std::string>() : std::string{};
    return translated([&] {
        pqxx::read_transaction tx{conn};
        std::vector<std::int64_t> ids;
        for (const auto& r : tx.exec_params(sql::dead_letter_ids, vm.count("queue") ? queue.c_str() : nullptr,
                                             vm.count("consumer") ? consumer.c_str() : nullptr))
            ids.push_back(r[0].as<std::int64_t>());
        return ids;
    });
}

void report(context& ctx, const char* action, std::int64_t n) {
    if (ctx.json()) print_json(json{{action, n}});
    else std::cout << action << ' ' << n << " dead letters\n";
}

int requeue(context& ctx) {
    po::options_description opts{"Options"};
    opts.add_options()
        ("ids", po::value<std::vector<std::string>>(), "dead letter ids")
        ("all", po::bool_switch(), "every dead letter (of --queue / --consumer)")
        ("queue", po::value<std::string>(), "with --all: only this queue's")
        ("consumer", po::value<std::string>(), "with --all: only this consumer's")
        ("retry-after", po::value<std::string>(), "when they are due (a timestamp; default: now)");
    po::positional_options_description pos;
    pos.add("ids", -1);
    po::variables_map vm;
    if (!ctx.parse("(ID... | --all [--queue Q] [--consumer C]) [--retry-after TIME]\n\n"
                   "Sends the events back to the consumer that gave up on them, all or none.",
                   opts, pos, vm))
        return exit_ok;
    if (vm["all"].as<bool>() == (vm.count("ids") > 0))
        throw cli_error{exit_usage, "dead-letter requeue: give dead letter ids or --all"};
    if (!vm["all"].as<bool>() && (vm.count("queue") || vm.count("consumer")))
        throw cli_error{exit_usage, "dead-letter requeue: --queue and --consumer go with --all"};
    auto& conn = ctx.conn();
    require_dead_letters(conn);
    const auto ids = vm["all"].as<bool>() ? select_ids(conn, vm) : parse_ids(vm["ids"].as<std::vector<std::string>>());
    const auto retry_after = vm.count("retry-after") ? vm["retry-after"].as<std::string>() : std::string{};
    const char* due = vm.count("retry-after") ? retry_after.c_str() : nullptr;
    const auto n = in_chunks(conn, "requeue", ids, [&](pqxx::work& tx, const std::string& arr) {
        return tx.exec_params(sql::dead_letter_requeue, arr, due);
    });
    report(ctx, "requeued", n);
    return exit_ok;
}

int purge(context& ctx) {
    po::options_description opts{"Options"};
    opts.add_options()
        ("ids", po::value<std::vector<std::string>>(), "dead letter ids")
        ("older-than", po::value<std::string>(), "every dead letter older than this interval, "
                                                 "e.g. '30 days'")
        ("queue", po::value<std::string>(), "with --older-than: only this queue's");
    po::positional_options_description pos;
    pos.add("ids", -1);
    po::variables_map vm;
    if (!ctx.parse("(ID... | --older-than INTERVAL [--queue Q])\n\nDeletes dead letters for good.",
                   opts, pos, vm))
        return exit_ok;
    if (vm.count("older-than") == vm.count("ids"))
        throw cli_error{exit_usage, "dead-letter purge: give dead letter ids or --older-than"};
    auto& conn = ctx.conn();
    require_dead_letters(conn);
    std::int64_t n = 0;
    if (vm.count("ids")) {
        n = in_chunks(conn, "purge", parse_ids(vm["ids"].as<std::vector<std::string>>()),
                      [](pqxx::work& tx, const std::string& arr) {
                          return tx.exec_params(sql::dead_letter_purge_ids, arr);
                      });
    } else {
        const auto queue = vm.count("queue") ? vm["queue"].as<std::string>() : std::string{};
        n = translated([&] {
            pqxx::work tx{conn};
            const auto r = tx.exec_params(sql::dead_letter_purge_older,
                                          vm.count("queue") ? queue.c_str() : nullptr,
                                          vm["older-than"].as<std::string>());
            pgqpp::commit(tx);
            return r[0][0].as<std::int64_t>();
        });
    }
    report(ctx, "purged", n);
    return exit_ok;
}

}  // namespace

int cmd_dead_letter(context& ctx) {
    const auto& args = ctx.args();
    if (args.empty() || args[0] == "--help" || args[0] == "-h") {
        std::cout << "Usage: pgqctl dead-letter " << usage << '\n';
        return args.empty() ? exit_usage : exit_ok;
    }
    const std::string action = args[0];
    context sub{"dead-letter " + action, {args.begin() + 1, args.end()}, ctx.db_arg(), ctx.json()};
    if (action == "list") return list(sub);
    if (action == "show") return show(sub);
    if (action == "requeue") return requeue(sub);
    if (action == "purge") return purge(sub);
    throw cli_error{exit_usage, "dead-letter: unknown action '" + action +
                                    "' (list, show, requeue or purge)"};
}

}  // namespace pgqctl
