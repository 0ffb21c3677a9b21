// Enqueue many events in one transaction (imports, replays, backfills): insert_events()
// takes the fastest path the database and the role allow (COPY into the queue's current
// event table, pgqpp's pgq.insert_event_bulk, or one pgq.insert_event per event).
//
//   bulk_enqueue ["<libpq connection string>"] [events]
#include <pgqpp/admin.hpp>
#include <pgqpp/json.hpp>
#include <pgqpp/producer.hpp>

#include <pqxx/pqxx>

#include <chrono>
#include <iostream>
#include <string>
#include <vector>

int main(int argc, char** argv) try {
    const pgqpp::connection_config db{argc > 1 ? argv[1] : ""};
    const int count = argc > 2 ? std::stoi(argv[2]) : 100000;
    auto conn = db.connect();
    pgqpp::admin{*conn}.create_queue("replay");

    // [bulk]
    std::vector<pgqpp::event> events;
    events.reserve(static_cast<std::size_t>(count));
    for (int i = 0; i < count; ++i)
        events.push_back(pgqpp::json_event("letter.replayed", {{"id", i}}));

    const auto t0 = std::chrono::steady_clock::now();
    pqxx::work tx{*conn};
    const pgqpp::bulk_method method = pgqpp::choose_bulk_method(tx, "replay");
    const std::size_t n = pgqpp::insert_events(tx, "replay", events);  // all or nothing
    pgqpp::commit(tx);
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - t0;
    std::cout << n << " events via " << pgqpp::to_string(method) << " in " << took.count()
              << " s (" << static_cast<double>(n) / took.count() << " events/s)\n";
    // [bulk]

    // [bulk-options]
    // A pgq_writer role cannot COPY into event tables; a queue with a per-transaction limit
    // must not be bypassed. The method can also be chosen explicitly:
    pgqpp::producer_options options;
    options.method = pgqpp::bulk_method::rows;  // pgq.insert_event per event: works anywhere
    pqxx::work tx2{*conn};
    pgqpp::insert_events(tx2, "replay", {{"letter.replayed", "{}"}, {"letter.replayed", "{}"}},
                         options);
    pgqpp::commit(tx2);
    // [bulk-options]
    return n == events.size() ? 0 : 1;
} catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << '\n';
    return 1;
}
