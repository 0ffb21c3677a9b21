// A program outside the pgqpp tree, built against an installed pgqpp (find_package or
// pkg-config). It needs no database: the async producer points at a server that does not
// exist and must fail the request with errc::database_unavailable.
#include <pgqpp/admin.hpp>
#include <pgqpp/async_producer.hpp>
#include <pgqpp/json.hpp>
#include <pgqpp/producer.hpp>

#include <boost/asio/io_context.hpp>

#include <iostream>

int main() {
    pgqpp::validate_queue_name("mail");
    const auto ev = pgqpp::json_event("letter.stored", {{"id", 1}});
    pgqpp::validate_event(ev);

    boost::asio::io_context io;
    pgqpp::async_producer_options options;
    options.request_timeout = std::chrono::milliseconds{200};
    pgqpp::async_producer producer{
        io, pgqpp::connection_config{"host=/nonexistent-pgqpp-outside port=1"}, options};
    boost::system::error_code result;
    producer.async_insert("mail", ev, [&](boost::system::error_code ec, std::int64_t) {
        result = ec;
    });
    io.run();
    std::cout << "outside: " << result.message() << '\n';
    return result == pgqpp::errc::database_unavailable ? 0 : 1;
}
