// order_totals: local exactly-once (docs/consumer.md). Each event of the queue is an order
// (ev_type "order", ev_data the customer, ev_extra1 the amount); the handler adds it to the
// customer's row of a totals table in the queue's own database, in the batch's transaction.
// An increment is not idempotent, so it must happen exactly once: it commits together with
// finish_batch, or not at all. An order whose amount is not a number goes to the dead letters.
//
//   create table order_totals (customer text primary key, orders bigint, total numeric);
//   order_totals --db "dbname=shop" --queue orders --consumer totals
// [all]
#include <pgqpp/consumer/daemon.hpp>

#include <pqxx/pqxx>

#include <optional>
#include <regex>

namespace rt = pgqpp::runtime;
namespace pc = pgqpp::consumer;

int main(int argc, char** argv) {
    rt::options_table options{"order_totals", "Adds each order event to its customer's totals."};
    pc::add_consumer_options(options, pc::delivery::local_exactly_once);  // db, queue, ...
    options.add(rt::standard_options());
    rt::config_loader loader{options};
    std::optional<rt::config> cfg = loader.load_or_exit(argc, argv);
    if (!cfg) return loader.exit_code();
    rt::setup_logging(rt::logging_settings::from(*cfg));

    const std::regex amount{R"(\d{1,12}(\.\d{1,2})?)"};
    pc::consumer consumer{
        cfg->get_string("queue"), cfg->get_string("consumer"), pc::delivery::local_exactly_once,
        [&](const pc::event& ev, pc::batch_context& batch) {
            if (!ev.extra1 || !std::regex_match(*ev.extra1, amount))
                return pc::outcome::dead_letter("bad amount");
            // batch.tx(): the batch's own transaction on the queue's database.
            batch.tx().exec_params(
                "insert into order_totals as t (customer, orders, total) "
                "values ($1, 1, $2::numeric) on conflict (customer) do update "
                "set orders = t.orders + 1, total = t.total + excluded.total",
                ev.data, *ev.extra1);
            return pc::outcome::done();
        }};

    boost::asio::io_context io;
    pc::consumer_daemon daemon{io, loader, std::move(*cfg), consumer};
    if (!daemon.start()) return rt::exit_failure;
    io.run();  // until SIGTERM/SIGINT, after the current batch
    return daemon.exit_code();
}
// [all]
