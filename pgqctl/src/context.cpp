#include "context.hpp"

#include "sql.hpp"

#include <pqxx/pqxx>

#include <iostream>
#include <set>
#include <utility>

namespace pgqctl {

namespace {

/// @p options without the positional arguments (the usage line shows those).
po::options_description without_positional(const po::options_description& options,
                                           const po::positional_options_description& positional) {
    std::set<std::string> names;
    for (unsigned i = 0; i < positional.max_total_count() && i < 16; ++i)
        names.insert(positional.name_for_position(i));
    po::options_description visible{"Options"};
    for (const auto& o : options.options())
        if (!names.count(o->long_name())) visible.add(o);
    return visible;
}

}  // namespace

context::context(std::string command, std::vector<std::string> args, std::string db, bool json)
    : command_{std::move(command)}, args_{std::move(args)}, db_{std::move(db)}, json_{json} {}

bool context::parse(const std::string& usage, po::options_description options,
                    const po::positional_options_description& positional,
                    po::variables_map& vm) {
    po::options_description common{"Common options"};
    common.add_options()
        ("db,d", po::value<std::string>(), "connection string, URI or database name "
                                           "(default: libpq's PG* environment variables)")
        ("json", po::bool_switch(), "machine-readable JSON output")
        ("help,h", po::bool_switch(), "show this help");
    po::options_description all;
    all.add(options).add(common);
    try {
        po::store(po::command_line_parser(args_).options(all).positional(positional).run(), vm);
        // --help before notify(): a command's required arguments are not required for it.
        if (vm["help"].as<bool>()) {
            std::cout << "Usage: pgqctl " << command_ << ' ' << usage << "\n\n"
                      << without_positional(options, positional) << '\n' << common;
            return false;
        }
        po::notify(vm);
    } catch (const po::error& e) {
        throw cli_error{exit_usage, command_ + ": " + e.what() + " (see pgqctl " + command_ +
                                        " --help)"};
    }
    if (vm.count("db")) db_ = vm["db"].as<std::string>();
    if (vm["json"].as<bool>()) json_ = true;
    return true;
}

pqxx::connection& context::conn() {
    if (!conn_) conn_ = connection_from_arg(db_).with_default("application_name", "pgqctl").connect();
    return *conn_;
}

pgqpp::connection_config connection_from_arg(const std::string& db) {
    if (db.empty() || db.find('=') != std::string::npos || db.find("://") != std::string::npos) {
        return pgqpp::connection_config{db};
    }
    return pgqpp::connection_config{"dbname=" + pgqpp::quote_conninfo_value(db)};
}

exit_code exit_code_for(const std::exception& e) {
    if (const auto* c = dynamic_cast<const cli_error*>(&e)) return c->code();
    const auto* pe = dynamic_cast<const pgqpp::error*>(&e);
    if (pe == nullptr) return exit_error;
    switch (pe->code()) {
    case pgqpp::errc::no_such_queue:
    case pgqpp::errc::not_registered:
    case pgqpp::errc::batch_not_found:
        return exit_not_found;
    case pgqpp::errc::invalid_argument:
        return exit_usage;
    case pgqpp::errc::pgq_not_installed:
    case pgqpp::errc::feature_not_available:
        return exit_unavailable;
    case pgqpp::errc::insert_disallowed:
    case pgqpp::errc::per_tx_limit_exceeded:
        return exit_refused;
    default:
        return exit_error;
    }
}

void require_pgq(pqxx::connection& conn) {
    pqxx::read_transaction tx{conn};
    if (tx.exec(sql::has_pgq_schema)[0][0].as<bool>()) return;
    throw cli_error{exit_unavailable, "database " + std::string{conn.dbname()} +
                                          " has no pgq schema: run `pgqctl install` first"};
}

void require_queue(pqxx::connection& conn, const std::string& queue) {
    pqxx::read_transaction tx{conn};
    if (!tx.exec_params(sql::queue_row, queue).empty()) return;
    throw cli_error{exit_not_found, "queue '" + queue + "' does not exist in database " +
                                        conn.dbname() + " (see pgqctl status)"};
}

}  // namespace pgqctl
