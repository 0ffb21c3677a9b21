// Enqueue inside the application's own transaction: the letter is stored and its
// mirroring queued atomically: the event exists if and only if the transaction commits.
//
//   enqueue_in_transaction ["<libpq connection string>"]   (default: PG* environment)
#include <pgqpp/admin.hpp>
#include <pgqpp/json.hpp>
#include <pgqpp/producer.hpp>

#include <pqxx/pqxx>

#include <iostream>

int main(int argc, char** argv) try {
    // [connect]
    // A libpq connection string; what it leaves out comes from PGHOST, PGDATABASE, ...
    const pgqpp::connection_config db{argc > 1 ? argv[1] : ""};
    auto conn = db.connect();  // std::unique_ptr<pqxx::connection>
    // [connect]

    pgqpp::admin{*conn}.create_queue("mail");  // usually done once, by the operator
    {
        pqxx::work setup{*conn};
        setup.exec("create table if not exists letters (id bigint primary key, body text)");
        setup.commit();
    }

    // [enqueue]
    pqxx::work tx{*conn};
    tx.exec_params("insert into letters (id, body) values ($1, $2)", 42, "Hello!");
    const std::int64_t ev_id = pgqpp::insert_event(
        tx, "mail", pgqpp::json_event("letter.stored", {{"id", 42}, {"mailbox", "inbox"}}));
    pgqpp::commit(tx);  // like tx.commit(), but a lost COMMIT is pgqpp::commit_in_doubt
    std::cout << "letter 42 stored; event " << ev_id << " queued\n";
    // [enqueue]

    // [rollback]
    {
        pqxx::work tx2{*conn};
        tx2.exec_params("insert into letters (id, body) values ($1, $2)", 43, "Draft");
        pgqpp::insert_event(tx2, "mail", {"letter.stored", R"({"id": 43})"});
        // No commit: destroying tx2 rolls back the letter and the event together.
    }
    // [rollback]

    // [savepoint]
    pqxx::work tx3{*conn};
    pgqpp::insert_event(tx3, "mail", {"letter.read", R"({"id": 42})", "inbox"});
    {
        pqxx::subtransaction attempt{tx3, "attempt"};
        pgqpp::insert_event(attempt, "mail", {"letter.deleted", R"({"id": 42})"});
        attempt.abort();  // only the savepoint's event is taken back
    }
    pgqpp::commit(tx3);
    // [savepoint]

    // Two events committed: letter.stored (42) and letter.read.
    const auto info = pgqpp::admin{*conn}.queue_info("mail");
    std::cout << "queue " << info->queue_name << " has its events in table "
              << info->queue_cur_table << " of " << info->queue_ntables << '\n';
    pqxx::work check{*conn};
    const auto n = check.exec1("select count(*) from pgq.event_template t"
                               " join pgq.queue q on t.tableoid::regclass::text like"
                               " q.queue_data_pfx || '%' where q.queue_name = 'mail'")[0]
                       .as<int>();
    std::cout << n << " events in the queue\n";
    return n == 2 ? 0 : 1;
}
// [errors]
catch (const pgqpp::no_such_queue& e) {
    std::cerr << "no such queue: " << e.what() << '\n';
    return 1;
} catch (const pgqpp::error& e) {
    // e.code(), e.sqlstate(), e.server_message(), e.operation(), e.is_retryable()
    std::cerr << "pgqpp error (" << pgqpp::to_string(e.code()) << "): " << e.what() << '\n';
    return 1;
}
// [errors]
catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << '\n';
    return 1;
}
