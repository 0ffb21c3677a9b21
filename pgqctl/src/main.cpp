// pgqctl: the operator's tool for pgq queues (docs/pgqctl.md).
//
//   pgqctl [-d DB] [--json] <command> [options] [arguments]
//
// main() parses the options given before the command, finds the command in the table
// below and hands it the rest; every failure ends here as one line and an exit code.
#include "commands.hpp"
#include "context.hpp"

#include <boost/program_options.hpp>

#include <pgqpp/error.hpp>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

namespace {

using pgqctl::context;

struct command {
    const char* name;
    int (*run)(context&);
    const char* summary;
};

const command commands[] = {
    {"install", pgqctl::cmd_install, "install pgq (and pgq_ext, pgq_coop) from the SQL in this binary"},
    {"upgrade", pgqctl::cmd_upgrade, "upgrade an installed pgqpp pgq to this binary's version"},
    {"create-queue", pgqctl::cmd_create_queue, "create a queue"},
    {"drop-queue", pgqctl::cmd_drop_queue, "drop a queue (refused while consumers are registered, unless --force)"},
    {"config", pgqctl::cmd_config, "show or change a queue's settings"},
    {"pause", pgqctl::cmd_pause, "stop ticking a queue (queue_ticker_paused)"},
    {"resume", pgqctl::cmd_resume, "tick a paused queue again"},
    {"register", pgqctl::cmd_register, "register a consumer on a queue"},
    {"unregister", pgqctl::cmd_unregister, "unregister a consumer (its position and retries are dropped)"},
    {"rewind", pgqctl::cmd_rewind, "move a consumer back (or forward) to a tick or a point in time"},
    {"status", pgqctl::cmd_status, "queues and consumers: lag, batches, rotation and what blocks it"},
    {"tail", pgqctl::cmd_tail, "print a queue's events as they are ticked, without a consumer"},
    {"insert", pgqctl::cmd_insert, "enqueue events from arguments or stdin (one per line)"},
    {"dead-letter", pgqctl::cmd_dead_letter, "list, show, requeue or purge dead letters"},
};

/// The first line of @p what without libpq's "ERROR:  " prefix.
std::string one_line(const std::string& what) {
    std::string s = what.rfind("ERROR:", 0) == 0 ? pgqpp::primary_message(what) : what;
    s = s.substr(0, s.find('\n'));
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
    return s;
}

void print_usage(std::ostream& out, const boost::program_options::options_description& global) {
    out << "Usage: pgqctl [options] <command> [command options] [arguments]\n\n"
           "Commands:\n";
    for (const auto& c : commands) {
        std::string name = c.name;
        name.resize(14, ' ');
        out << "  " << name << c.summary << '\n';
    }
    out << "\n" << global
        << "\n`pgqctl <command> --help` shows a command's options.\n"
           "Exit codes: 0 ok, 1 error, 2 usage, 3 not found, 4 refused, 5 not available "
           "(no pgq / needs pgqpp's SQL).\n";
}

}  // namespace

int main(int argc, char** argv) {
    namespace po = boost::program_options;
    po::options_description global{"Options (also accepted after the command)"};
    global.add_options()
        ("db,d", po::value<std::string>()->default_value(""),
         "connection string, URI or database name (default: libpq's PG* environment)")
        ("json", po::bool_switch(), "machine-readable JSON output")
        ("help,h", po::bool_switch(), "show this help");
    try {
        // The command is the first word that is neither a global option nor its value; the
        // global options before it are parsed here, everything after it by the command.
        int at = 1;
        while (at < argc) {
            const std::string a = argv[at];
            if (a == "-d" || a == "--db") at += 2;
            else if (!a.empty() && a[0] == '-') ++at;
            else break;
        }
        po::variables_map vm;
        po::store(po::command_line_parser(std::vector<std::string>(argv + 1, argv + std::min(at, argc)))
                      .options(global)
                      .run(),
                  vm);
        if (at >= argc) {
            print_usage(vm["help"].as<bool>() ? std::cout : std::cerr, global);
            return vm["help"].as<bool>() ? pgqctl::exit_ok : pgqctl::exit_usage;
        }
        const std::string name = argv[at];
        std::vector<std::string> rest(argv + at + 1, argv + argc);
        if (vm["help"].as<bool>()) rest.emplace_back("--help");

        for (const auto& c : commands) {
            if (name != c.name) continue;
            context ctx{name, rest, vm["db"].as<std::string>(), vm["json"].as<bool>()};
            return c.run(ctx);
        }
        std::cerr << "pgqctl: unknown command '" << name << "' (see pgqctl --help)\n";
        return pgqctl::exit_usage;
    } catch (const po::error& e) {
        std::cerr << "pgqctl: " << e.what() << " (see pgqctl --help)\n";
        return pgqctl::exit_usage;
    } catch (...) {
        // libpqxx's own exceptions become pgqpp::errors (with their exit code); the message
        // is the server's primary message, one line.
        try {
            std::rethrow_exception(pgqpp::translate(std::current_exception(), ""));
        } catch (const std::exception& e) {
            std::cerr << "pgqctl: " << one_line(e.what()) << '\n';
            return pgqctl::exit_code_for(e);
        }
    }
}
