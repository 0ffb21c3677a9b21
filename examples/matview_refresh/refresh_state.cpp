// refresh_state.hpp: the SQL of the state table.
#include "refresh_state.hpp"

#include <pgqpp/quote.hpp>

#include <pqxx/pqxx>

namespace matview_refresh {
namespace {

/// "s.t" -> "s"."t", "t" -> "t" (split at the first dot, as pgqpp::quote_qualified_name).
std::string quote_name(const std::string& name) {
    const auto dot = name.find('.');
    if (dot == std::string::npos) return pgqpp::quote_identifier(name);
    return pgqpp::quote_identifier(name.substr(0, dot)) + "." +
           pgqpp::quote_identifier(name.substr(dot + 1));
}

}  // namespace

refresh_state::refresh_state(std::string table, std::string consumer)
    : table_{quote_name(table)}, consumer_{std::move(consumer)} {}

void refresh_state::create(pqxx::connection_base& conn) const {
    pqxx::work tx{conn};
    ensure(tx);
    tx.commit();
}

void refresh_state::ensure(pqxx::transaction_base& tx) const {
    // Looked up first: "create table if not exists" would send a NOTICE every time.
    if (!tx.exec_params("select to_regclass($1)", table_)[0][0].is_null()) return;
    tx.exec("create table " + table_ + R"( (
        consumer     text not null,
        server       text not null,
        view_name    text not null,
        dirty_since  timestamptz,                 -- null: up to date
        generation   bigint not null default 0,   -- +1 per batch that marked it
        last_refresh timestamptz,                 -- end of the last refresh
        refreshes    bigint not null default 0,
        primary key (consumer, server, view_name)))");
}

void refresh_state::mark(pqxx::transaction_base& tx, const std::set<view_ref>& views) const {
    ensure(tx);
    // In key order (std::set), so two writers never lock rows in opposite orders.
    for (const auto& v : views)
        tx.exec_params("insert into " + table_ +
                           " as s (consumer, server, view_name, dirty_since, generation)"
                           " values ($1, $2, $3, now(), 1)"
                           " on conflict (consumer, server, view_name) do update"
                           " set dirty_since = coalesce(s.dirty_since, now()),"
                           "     generation = s.generation + 1",
                       consumer_, v.server, v.view);
}

std::vector<dirty_view> refresh_state::dirty(pqxx::connection_base& conn,
                                             std::chrono::microseconds interval) const {
    pqxx::work tx{conn};
    const auto rows = tx.exec_params(
        "select server, view_name, generation,"
        "  coalesce(greatest(0, extract(epoch from last_refresh"
        "     + $2::float8 * interval '1 second' - now())), 0)::float8,"
        "  extract(epoch from now() - dirty_since)::float8"
        " from " + table_ + " where consumer = $1 and dirty_since is not null"
        " order by dirty_since, server, view_name",
        consumer_, std::chrono::duration<double>(interval).count());
    tx.commit();
    std::vector<dirty_view> out;
    for (const auto& r : rows)
        out.push_back({{r[0].as<std::string>(), r[1].as<std::string>()},
                       r[2].as<std::int64_t>(), r[3].as<double>(), r[4].as<double>()});
    return out;
}

void refresh_state::refreshed(pqxx::connection_base& conn, const dirty_view& v) const {
    pqxx::work tx{conn};
    tx.exec_params("update " + table_ +
                       " set last_refresh = now(), refreshes = refreshes + 1,"
                       "     dirty_since = case when generation = $4 then null"
                       "                        else dirty_since end"
                       " where consumer = $1 and server = $2 and view_name = $3",
                   consumer_, v.ref.server, v.ref.view, v.generation);
    tx.commit();
}

}  // namespace matview_refresh
