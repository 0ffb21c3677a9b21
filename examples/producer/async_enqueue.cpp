// Enqueue from a Boost.Asio program without blocking its event loop: the handler runs on the
// io_context once the event is committed (requests share transactions: group commit).
//
//   async_enqueue ["<libpq connection string>"]
#include <pgqpp/admin.hpp>
#include <pgqpp/async_producer.hpp>
#include <pgqpp/json.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_future.hpp>

#include <iostream>
#include <string>

int main(int argc, char** argv) try {
    const pgqpp::connection_config db{argc > 1 ? argv[1] : ""};
    {
        auto conn = db.connect();
        pgqpp::admin{*conn}.create_queue("mail");
    }

    // [producer]
    boost::asio::io_context io;
    pgqpp::async_producer_options options;
    options.max_pending = 50000;                           // then errc::queue_full
    options.request_timeout = std::chrono::seconds{10};    // then errc::database_unavailable
    pgqpp::async_producer producer{io, db, options};
    // [producer]

    // [callback]
    int committed = 0, failed = 0;
    for (int i = 0; i < 1000; ++i) {
        producer.async_insert(
            "mail", pgqpp::json_event("letter.stored", {{"id", i}}),
            [&](boost::system::error_code ec, std::int64_t ev_id) {
                if (ec == pgqpp::errc::commit_outcome_unknown) {
                    // Committed or not: check before enqueueing again (never blindly).
                    ++failed;
                } else if (ec) {
                    ++failed;  // not committed: queue_full, database_unavailable, ...
                    std::cerr << "not enqueued: " << ec.message() << '\n';
                } else {
                    ++committed;  // ev_id is the event's id; the letter is safely queued
                    (void)ev_id;
                }
            });
    }
    io.run();  // returns when every handler has run
    std::cout << committed << " committed, " << failed << " failed\n";
    // [callback]

    // [future]
    // use_future: the future's handler has an executor of its own, no io.run() needed.
    std::future<std::int64_t> f =
        producer.async_insert("mail", {"letter.stored", R"({"id": -1})"}, boost::asio::use_future);
    std::cout << "event " << f.get() << " committed\n";  // throws system_error on failure

    auto bad = producer.async_insert("no_such_queue", {"t", "{}"}, boost::asio::use_future);
    try {
        bad.get();
    } catch (const boost::system::system_error& e) {
        std::cout << "as expected: " << e.code().message() << '\n';  // errc::no_such_queue
    }
    // [future]

    const auto stats = producer.stats();
    std::cout << stats.committed << " events in " << stats.transactions << " transactions\n";
    producer.stop();  // also done by the destructor: waits for accepted requests
    return committed == 1000 ? 0 : 1;
} catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << '\n';
    return 1;
}
