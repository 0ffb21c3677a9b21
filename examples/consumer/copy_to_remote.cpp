// copy_to_remote: remote exactly-once with a batch handler (docs/consumer.md). Every batch
// is copied into a table of another database (--target-db, with schema pgq_ext) with one
// COPY, streamed chunk by chunk from the queue's cursor: memory holds one chunk however big
// the batch. The COPY and pgq_ext.set_batch_done commit together on the target; a batch
// the target already has (the consumer died before finish_batch) is skipped.
//
//   create table events_copy (ev_id bigint, ev_type text, ev_data text);   -- on the target
//   copy_to_remote --db "dbname=mail" --queue letters --consumer archive
//       --target-db "dbname=archive" --table events_copy
// [all]
#include <pgqpp/consumer/daemon.hpp>
#include <pgqpp/quote.hpp>

#include <pqxx/pqxx>

#include <optional>
#include <string>
#include <tuple>
#include <vector>

namespace rt = pgqpp::runtime;
namespace pc = pgqpp::consumer;

int main(int argc, char** argv) {
    rt::options_table options{"copy_to_remote", "Copies each batch into a table of another database."};
    pc::add_consumer_options(options, pc::delivery::remote_exactly_once);  // with target_db
    options.add(rt::opt::string("table", "", "Target table (ev_id bigint, ev_type text, ev_data text).")
                    .required());
    options.add(rt::standard_options());
    rt::config_loader loader{options};
    std::optional<rt::config> cfg = loader.load_or_exit(argc, argv);
    if (!cfg) return loader.exit_code();
    rt::setup_logging(rt::logging_settings::from(*cfg));

    const std::string table = pgqpp::quote_identifier(cfg->get_string("table"));
    pc::consumer consumer{
        cfg->get_string("queue"), cfg->get_string("consumer"), pc::delivery::remote_exactly_once,
        [&](pc::event_stream& events, pc::batch_context& batch) {
            // batch.tx() is the target's transaction: the cursor is on the queue's
            // connection, so one COPY can stay open across all chunks.
            pqxx::stream_to copy{batch.tx(), table,
                                 std::vector<std::string>{"ev_id", "ev_type", "ev_data"}};
            for (const pc::event& ev : events)
                copy << std::make_tuple(ev.id, ev.type, ev.data);
            copy.complete();
        }};

    boost::asio::io_context io;
    pc::consumer_daemon daemon{io, loader, std::move(*cfg), consumer};
    if (!daemon.start()) return rt::exit_failure;
    io.run();
    return daemon.exit_code();
}
// [all]
