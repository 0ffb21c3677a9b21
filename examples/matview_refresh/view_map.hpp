/// @file view_map.hpp
/// Which materialized views depend on which tables, and on which servers they live: the
/// [servers] and [views] sections of an INI file (docs/example-matview-refresh.md).
///
///     [servers]
///     ; name = libpq connection string
///     reports = host=reports dbname=shop
///
///     [views]
///     ; table (schema.table, as pgq's triggers write it in ev_extra1) = views
///     public.orders = public.daily_sales, reports:public.daily_sales
///
/// Comments are whole lines starting with ';' or '#'. A view without "server:" lives on the
/// queue's database (server "queue"). Names without a schema are in "public".
#pragma once

#include <pgqpp/connection_config.hpp>

#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace matview_refresh {

/// One materialized view on one server.
struct view_ref {
    std::string server;  ///< a key of view_map::servers
    std::string view;    ///< schema.name, unquoted
    bool operator<(const view_ref& o) const {
        return std::tie(server, view) < std::tie(o.server, o.view);
    }
    bool operator==(const view_ref& o) const { return server == o.server && view == o.view; }
    std::string to_string() const { return server + ":" + view; }
};

struct view_map {
    /// Server name -> connection; always has "queue" (the queue's database).
    std::map<std::string, pgqpp::connection_config> servers;
    /// Table (schema.table) -> the views to refresh when it changes.
    std::map<std::string, std::vector<view_ref>> views_of_table;

    /// The views of @p table (schema.table), or null if none depends on it.
    const std::vector<view_ref>* views_for(const std::string& table) const;
    /// Whether @p view is one of the views of some table.
    bool has_view(const view_ref& view) const;
};

/// The view map in use: read by the consumer's handler and the refresher's thread, replaced
/// as a whole on SIGHUP (each reader keeps the map it took until it is done with it).
class current_view_map {
public:
    explicit current_view_map(view_map map)
        : map_{std::make_shared<const view_map>(std::move(map))} {}
    std::shared_ptr<const view_map> get() const { return std::atomic_load(&map_); }
    void replace(view_map map) {
        std::atomic_store(&map_, std::make_shared<const view_map>(std::move(map)));
    }

private:
    std::shared_ptr<const view_map> map_;
};

/// The server name of the queue's own database.
inline const std::string queue_server = "queue";

/**
 * Reads the [servers] and [views] sections of @p path (other sections are skipped, so the
 * daemon's own config file can hold them).
 * @throws std::invalid_argument "file:line: what is wrong" (unknown server, bad line, no views)
 */
view_map load_view_map(const std::string& path, const pgqpp::connection_config& queue_db);

}  // namespace matview_refresh
