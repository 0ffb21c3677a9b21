// matview_refresh: a consumer daemon that refreshes materialized views when events say
// their tables changed (docs/example-matview-refresh.md).
//
// Events: any event whose ev_extra1 is a table (schema.table), as pgq.logutriga/jsontriga
// write it. Each batch marks the views of its tables dirty in the batch's own transaction
// (refresh_state); the refresher thread refreshes each dirty view at most once per round and
// no sooner than refresh_interval after its previous refresh, then clears the mark.
#include "refresh_state.hpp"
#include "refresher.hpp"
#include "view_map.hpp"

#include <pgqpp/consumer/daemon.hpp>
#include <pgqpp/runtime/runtime.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <spdlog/spdlog.h>

#include <memory>
#include <optional>
#include <set>
#include <stdexcept>

namespace pc = pgqpp::consumer;
namespace rt = pgqpp::runtime;
using namespace matview_refresh;

namespace {

rt::options_table options() {
    rt::options_table t{"matview_refresh",
                        "Refreshes materialized views when the events of a queue say their "
                        "tables changed."};
    pc::add_consumer_options(t);  // db, queue, consumer, poll_period, min_*, fetch_size...
    t.add(rt::opt::string("views_file", "",
                          "File with the [servers] and [views] sections (default: the "
                          "--config file itself)."));
    t.add(rt::opt::duration("refresh_interval", "1min",
                            "Refresh a view at most this often: its next refresh starts at "
                            "least this long after the previous one ended (0: after every "
                            "batch that touched it)."));
    t.add(rt::opt::duration("refresh_poll", "30s",
                            "Look at the dirty marks at least this often, even without a "
                            "batch.")
              .positive());
    t.add(rt::opt::duration("refresh_retry", "10s",
                            "After a failed refresh (server down, view missing), try that "
                            "view again after this long.")
              .positive());
    t.add(rt::opt::string("state_table", "matview_refresh_state",
                          "Table in the queue's database with the dirty marks (created if "
                          "missing)."));
    t.add(rt::standard_options());
    t.ignore_section("servers").ignore_section("views");  // read by load_view_map
    return t;
}

/// The [servers] and [views] of views_file, else of the --config file.
view_map read_view_map(const rt::config& cfg) {
    const auto& file =
        cfg.get_string("views_file").empty() ? cfg.config_file() : cfg.get_string("views_file");
    if (file.empty())
        throw std::invalid_argument{"no views: give --views-file FILE or --config FILE"};
    return load_view_map(file, cfg.get_connection("db"));
}

}  // namespace

int main(int argc, char** argv) {
    rt::config_loader loader{options()};
    std::optional<rt::config> cfg = loader.load_or_exit(argc, argv);
    if (!cfg) return loader.exit_code();
    rt::setup_logging(rt::logging_settings::from(*cfg));

    std::optional<current_view_map> maps;
    try {
        if (cfg->get_string("delivery") != "local")
            throw std::invalid_argument{
                "matview_refresh needs delivery = local (its marks commit with the batch)"};
        maps.emplace(read_view_map(*cfg));
    } catch (const std::exception& e) {
        spdlog::critical("{}", e.what());
        return rt::exit_usage;
    }
    const refresh_state state{cfg->get_string("state_table"), cfg->get_string("consumer")};
    refresher refresh{*maps, state,
                      {cfg->get_duration("refresh_interval"), cfg->get_duration("refresh_poll"),
                       cfg->get_duration("refresh_retry")}};

    boost::asio::io_context io;
    std::set<view_ref> touched;  // the views of the current batch's tables
    std::shared_ptr<const view_map> batch_map;  // one map for the whole batch
    pc::consumer consumer{
        cfg->get_string("queue"), cfg->get_string("consumer"), pc::delivery::local_exactly_once,
        [&](const pc::event& ev, pc::batch_context&) {
            if (ev.extra1)
                if (const auto* views = batch_map->views_for(*ev.extra1))
                    touched.insert(views->begin(), views->end());
            return pc::outcome::done();
        }};
    consumer.on_batch_start([&](pc::batch_context&) {
        touched.clear();
        batch_map = maps->get();
    });
    consumer.on_batch_end([&](pc::batch_context& batch) {
        if (touched.empty()) return;
        state.mark(batch.tx(), touched);  // commits with finish_batch, or not at all
        // Posted: runs after process_one() returned, i.e. after the batch committed.
        boost::asio::post(io, [&] { refresh.wake(); });
    });

    pc::consumer_daemon daemon{io, loader, std::move(*cfg), consumer};
    daemon.on_reload([&](const rt::config& next) {  // SIGHUP: the [servers] and [views] too
        try {
            maps->replace(read_view_map(next));
            spdlog::info("view map reloaded");
            refresh.wake();
        } catch (const std::exception& e) {
            spdlog::error("view map not reloaded, keeping the old one: {}", e.what());
        }
    });
    if (!daemon.start()) return rt::exit_failure;
    refresh.start();
    io.run();  // until SIGTERM/SIGINT, after the current batch
    refresh.stop();  // after the current refresh
    return daemon.exit_code();
}
