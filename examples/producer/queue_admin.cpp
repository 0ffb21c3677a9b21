// Queues and consumers through pgqpp::admin, the typed C++ view of pgq's admin functions.
//
//   queue_admin ["<libpq connection string>"]
#include <pgqpp/admin.hpp>
#include <pgqpp/producer.hpp>

#include <pqxx/pqxx>

#include <chrono>
#include <iostream>

int main(int argc, char** argv) try {
    using namespace std::chrono_literals;
    const pgqpp::connection_config db{argc > 1 ? argv[1] : ""};
    auto conn = db.connect();

    // [admin]
    pgqpp::admin admin{*conn};  // each call in its own committed transaction
    std::cout << "pgq " << admin.version()
              << (admin.has_pgqpp_additions() ? " (pgqpp)" : " (PgQ)") << '\n';
    admin.create_queue("mail");
    admin.set_ticker_max_count("mail", 1000);
    admin.set_ticker_max_lag("mail", 500ms);
    admin.set_ticker_idle_period("mail", 30s);
    admin.register_consumer("mail", "mirror");
    // [admin]

    {
        pqxx::work tx{*conn};
        pgqpp::insert_events(tx, "mail", {{"letter.stored", "{}"}, {"letter.stored", "{}"}});
        pgqpp::commit(tx);
    }
    admin.force_tick("mail");
    admin.ticker("mail");  // normally the ticker daemon does this

    // [info]
    for (const auto& q : admin.queues()) {
        std::cout << "queue " << q.queue_name << ": last tick " << q.last_tick_id.value_or(0)
                  << ", max lag "
                  << std::chrono::duration_cast<std::chrono::milliseconds>(q.queue_ticker_max_lag)
                         .count()
                  << " ms\n";
    }
    for (const auto& c : admin.consumers("mail")) {
        std::cout << "consumer " << c.consumer_name << ": "
                  << c.pending_events.value_or(0) << " events pending, lag "
                  << std::chrono::duration_cast<std::chrono::milliseconds>(
                         c.lag.value_or(pgqpp::duration{}))
                         .count()
                  << " ms\n";
    }
    // [info]

    // [in-transaction]
    pqxx::work tx{*conn};
    pgqpp::admin in_tx{tx};  // calls run inside tx
    in_tx.create_queue("mail_archive");
    in_tx.register_consumer("mail_archive", "archiver");
    pgqpp::commit(tx);       // both, or neither
    // [in-transaction]

    admin.unregister_consumer("mail_archive", "archiver");
    admin.drop_queue("mail_archive");
    return admin.queues().size() == 1 ? 0 : 1;
} catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << '\n';
    return 1;
}
