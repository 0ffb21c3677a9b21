/// @file context.hpp
/// What every subcommand shares: the exit codes, the error that ends a command with one of
/// them, the options every command accepts (-d/--db, --json) and the connection.
#pragma once

#include <pgqpp/connection_config.hpp>
#include <pgqpp/error.hpp>

#include <boost/program_options.hpp>
#include <pqxx/connection>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace pgqctl {

/// Exit codes (documented in docs/pgqctl.md).
enum exit_code : int {
    exit_ok = 0,
    exit_error = 1,          ///< the database failed or could not be reached
    exit_usage = 2,          ///< bad command line: unknown option, missing argument
    exit_not_found = 3,      ///< the queue, consumer, tick or dead letter does not exist
    exit_refused = 4,        ///< refused as unsafe or impossible (nothing was changed)
    exit_unavailable = 5,    ///< pgq is not installed, or the feature needs pgqpp's SQL
};

/// Ends the command: main() prints "pgqctl: <what>" on stderr and exits with code().
class cli_error : public std::runtime_error {
public:
    cli_error(exit_code code, const std::string& what) : std::runtime_error{what}, code_{code} {}
    exit_code code() const noexcept { return code_; }

private:
    exit_code code_;
};

namespace po = boost::program_options;

/// One subcommand's invocation: its arguments and the options common to all.
class context {
public:
    /// @param args the words after the subcommand; @param db, json: given before it
    context(std::string command, std::vector<std::string> args, std::string db, bool json);

    const std::string& command() const noexcept { return command_; }

    /**
     * Parses the arguments with the command's @p options (plus -d/--db, --json, -h/--help)
     * and @p positional; on --help prints @p usage and the options and returns false.
     * @throws cli_error(exit_usage) on a bad command line
     */
    bool parse(const std::string& usage, po::options_description options,
               const po::positional_options_description& positional, po::variables_map& vm);

    /// The words after the subcommand, as given.
    const std::vector<std::string>& args() const noexcept { return args_; }
    /// -d/--db as given so far ("" when absent).
    const std::string& db_arg() const noexcept { return db_; }

    /// Whether --json was given (before or after the subcommand).
    bool json() const noexcept { return json_; }

    /// The connection, opened on first use (application_name=pgqctl).
    pqxx::connection& conn();

private:
    std::string command_;
    std::vector<std::string> args_;
    std::string db_;
    bool json_;
    std::unique_ptr<pqxx::connection> conn_;
};

/// -d/--db: a libpq connection string or URI when it contains '=' or "://", else a dbname.
pgqpp::connection_config connection_from_arg(const std::string& db);

/// The exit code a pgqpp::error deserves (no_such_queue: exit_not_found, ...).
exit_code exit_code_for(const std::exception& e);

/// Throws cli_error(exit_unavailable) when the database has no schema pgq.
void require_pgq(pqxx::connection& conn);

/// Throws cli_error(exit_not_found) naming @p queue when it does not exist.
void require_queue(pqxx::connection& conn, const std::string& queue);

}  // namespace pgqctl
