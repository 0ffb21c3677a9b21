// insert QUEUE [PAYLOAD...]: enqueue from the shell, every event in one transaction
// (pgqpp::insert_events: the fastest correct bulk path the database allows).
#include "commands.hpp"
#include "output.hpp"
#include "progress.hpp"

#include <pgqpp/producer.hpp>
#include <pgqpp/validate.hpp>

#include <pqxx/pqxx>

#include <iostream>

namespace pgqctl {

namespace {

/// Events are sent in chunks of this many, so that progress can be shown (one transaction).
constexpr std::size_t chunk_size = 5000;

std::optional<std::string> opt_arg(const po::variables_map& vm, const char* name) {
    if (!vm.count(name)) return std::nullopt;
    return vm[name].as<std::string>();
}

}  // namespace

int cmd_insert(context& ctx) {
    std::string queue;
    std::string type;
    po::options_description opts{"Options"};
    opts.add_options()
        ("queue", po::value<std::string>(&queue)->required(), "queue name")
        ("payload", po::value<std::vector<std::string>>(), "event data (ev_data)")
        ("type,t", po::value<std::string>(&type)->default_value(""), "ev_type of every event")
        ("extra1", po::value<std::string>(), "ev_extra1 of every event")
        ("extra2", po::value<std::string>(), "ev_extra2 of every event")
        ("extra3", po::value<std::string>(), "ev_extra3 of every event")
        ("extra4", po::value<std::string>(), "ev_extra4 of every event");
    po::positional_options_description pos;
    pos.add("queue", 1).add("payload", -1);
    po::variables_map vm;
    if (!ctx.parse("QUEUE [PAYLOAD...] [--type TYPE] [--extra1 X ...]\n\n"
                   "Inserts one event per PAYLOAD, or without PAYLOAD one per line of stdin, "
                   "all in one transaction\n(all or nothing).",
                   opts, pos, vm))
        return exit_ok;
    pgqpp::validate_queue_name(queue);
    std::vector<std::string> payloads;
    if (vm.count("payload")) {
        payloads = vm["payload"].as<std::vector<std::string>>();
    } else {
        for (std::string line; std::getline(std::cin, line);) {
            if (!line.empty() && line.back() == '\r') line.pop_back();
            payloads.push_back(std::move(line));
        }
    }
    std::vector<pgqpp::event> events;
    events.reserve(payloads.size());
    for (auto& p : payloads) {
        events.emplace_back(type, std::move(p), opt_arg(vm, "extra1"), opt_arg(vm, "extra2"),
                            opt_arg(vm, "extra3"), opt_arg(vm, "extra4"));
    }
    // Bad input is reported before anything is sent: the event's line number helps.
    for (std::size_t i = 0; i < events.size(); ++i) {
        try {
            pgqpp::validate_event(events[i]);
        } catch (const pgqpp::invalid_argument& e) {
            throw cli_error{exit_usage, "insert: event " + std::to_string(i + 1) + ": " + e.what() +
                                            " (nothing was inserted)"};
        }
    }
    auto& conn = ctx.conn();
    require_pgq(conn);
    require_queue(conn, queue);
    progress bar{"insert", static_cast<std::int64_t>(events.size())};
    pqxx::work tx{conn};
    std::size_t done = 0;
    while (done < events.size()) {
        const auto n = std::min(chunk_size, events.size() - done);
        const std::vector<pgqpp::event> chunk(events.begin() + static_cast<std::ptrdiff_t>(done),
                                              events.begin() + static_cast<std::ptrdiff_t>(done + n));
        pgqpp::insert_events(tx, queue, chunk);
        done += n;
        bar.update(static_cast<std::int64_t>(done));
    }
    pgqpp::commit(tx);
    bar.finish();
    if (ctx.json()) {
        print_json(json{{"queue", queue}, {"inserted", events.size()}});
    } else {
        std::cout << "inserted " << events.size() << " events into queue '" << queue << "'\n";
    }
    return exit_ok;
}

}  // namespace pgqctl
