// install / upgrade: run the install scripts compiled into pgqctl (embedded_sql.hpp), one
// statement at a time with progress, and show the versions before and after. The scripts
// are convergent (every part re-runnable), so upgrade is the same script over an older one.
#include "commands.hpp"
#include "embedded_sql.hpp"
#include "output.hpp"
#include "progress.hpp"
#include "sql.hpp"
#include "sql_script.hpp"

#include <pqxx/pqxx>

#include <algorithm>
#include <iostream>
#include <optional>
#include <sstream>
#include <vector>

namespace pgqctl {

namespace {

struct installed {
    std::optional<std::string> pgq_extension;  ///< CREATE EXTENSION pgq's version
    bool pgq_has_c = false;                    ///< the real PgQ (C functions in schema pgq)
    std::optional<std::string> pgq, ext, coop; ///< versions, nullopt when absent
};

installed read_installed(pqxx::connection& conn) {
    pqxx::read_transaction tx{conn};
    const auto r = tx.exec(sql::installed_state)[0];
    installed s;
    if (!r[0].is_null()) s.pgq_extension = r[0].as<std::string>();
    s.pgq_has_c = r[1].as<bool>();
    if (r[2].as<bool>()) s.pgq = tx.exec(sql::pgq_version)[0][0].as<std::string>();
    if (r[3].as<bool>()) s.ext = tx.exec(sql::pgq_ext_version)[0][0].as<std::string>();
    if (r[4].as<bool>()) s.coop = tx.exec(sql::pgq_coop_version)[0][0].as<std::string>();
    return s;
}

/// Refuses to touch an extension-managed pgq: the real PgQ (C) or ours as an extension.
void refuse_extension(const installed& s, const std::string& db) {
    if (s.pgq_has_c) {
        throw cli_error{exit_refused,
                        "database " + db + " has the real PgQ C extension (pgq " +
                            s.pgq_extension.value_or(s.pgq.value_or("?")) +
                            "): pgqctl does not install over it; its other commands work on it "
                            "as it is"};
    }
    if (s.pgq_extension) {
        throw cli_error{exit_refused,
                        "pgq is installed as an extension in database " + db + " (version " +
                            *s.pgq_extension +
                            "): upgrade it with ALTER EXTENSION pgq UPDATE after installing the "
                            "new extension files (cmake --install)"};
    }
}

/// The numbers of a dotted version: "3.6.0" gives {3, 6, 0}; a non-numeric part ends it.
std::vector<long> version_numbers(const std::string& v) {
    std::vector<long> parts;
    std::istringstream in{v};
    for (std::string part; std::getline(in, part, '.');) {
        try {
            parts.push_back(std::stol(part));
        } catch (const std::exception&) {
            break;
        }
    }
    return parts;
}

/// Numeric compare of dotted versions ("3.10" > "3.9"); missing parts count as 0.
int compare_versions(const std::string& a, const std::string& b) {
    auto x = version_numbers(a), y = version_numbers(b);
    const auto n = std::max(x.size(), y.size());
    x.resize(n, 0);
    y.resize(n, 0);
    return x < y ? -1 : (y < x ? 1 : 0);
}

struct script {
    std::string name;
    std::string_view sql;
};

/// Runs the scripts' statements in order on @p conn (each script has its own begin/commit,
/// so a failure leaves that script's part rolled back), with progress on a terminal.
void run_scripts(pqxx::connection& conn, const std::vector<script>& scripts) {
    std::vector<std::pair<std::string, std::vector<std::string>>> parts;
    std::int64_t total = 0;
    for (const auto& s : scripts) {
        parts.emplace_back(s.name, split_sql_script(s.sql));
        total += static_cast<std::int64_t>(parts.back().second.size());
    }
    progress bar{"installing", total};
    std::int64_t done = 0;
    pqxx::nontransaction tx{conn};
    for (const auto& [name, statements] : parts) {
        for (const auto& statement : statements) {
            try {
                tx.exec(statement);
            } catch (const pqxx::sql_error& e) {
                bar.finish();
                throw cli_error{exit_error, name + " install script failed (nothing of it was "
                                                   "committed): " +
                                                pgqpp::primary_message(e.what())};
            }
            bar.update(++done);
        }
    }
}

json version_json(const std::optional<std::string>& before, const std::optional<std::string>& after) {
    return json{{"before", before ? json(*before) : json(nullptr)},
                {"after", after ? json(*after) : json(nullptr)}};
}

void report(context& ctx, const installed& before, const installed& after) {
    struct row {
        const char* name;
        const std::optional<std::string>& b;
        const std::optional<std::string>& a;
    };
    const row rows[] = {{"pgq", before.pgq, after.pgq},
                        {"pgq_ext", before.ext, after.ext},
                        {"pgq_coop", before.coop, after.coop}};
    if (ctx.json()) {
        json j{{"database", ctx.conn().dbname()}};
        for (const auto& r : rows) j[r.name] = version_json(r.b, r.a);
        print_json(j);
        return;
    }
    table t{{"UNIT", "BEFORE", "AFTER"}};
    for (const auto& r : rows) {
        if (!r.b && !r.a) continue;
        t.add({r.name, r.b.value_or("-"), r.a.value_or("-")});
    }
    std::cout << "database " << ctx.conn().dbname() << ":\n";
    t.print(std::cout);
}

struct unit_flags {
    bool ext = false;
    bool coop = false;
};

bool parse_install(context& ctx, const std::string& usage, unit_flags& f) {
    po::options_description opts{"Options"};
    opts.add_options()
        ("with-ext", po::bool_switch(&f.ext), "also install pgq_ext (a remote consumer's "
                                              "batch tracking; needed in the target database)")
        ("with-coop", po::bool_switch(&f.coop), "also install pgq_coop (cooperative consumers)");
    po::variables_map vm;
    return ctx.parse(usage, opts, {}, vm);
}

}  // namespace

int cmd_install(context& ctx) {
    unit_flags f;
    if (!parse_install(ctx, "[--with-ext] [--with-coop]\n\n"
                            "Installs pgq " + std::string{embedded::pgq_version} +
                            " (the SQL is inside pgqctl) into a database without pgq.",
                       f))
        return exit_ok;
    auto& conn = ctx.conn();
    const auto before = read_installed(conn);
    const std::string db = conn.dbname();
    refuse_extension(before, db);
    if (before.pgq) {
        throw cli_error{exit_refused, "pgq " + *before.pgq + " is already installed in database " +
                                          db + ": use `pgqctl upgrade` instead"};
    }
    std::vector<script> scripts{{"pgq", embedded::pgq_install}};
    if (f.coop) scripts.push_back({"pgq_coop", embedded::pgq_coop_install});
    if (f.ext) scripts.push_back({"pgq_ext", embedded::pgq_ext_install});
    run_scripts(conn, scripts);
    report(ctx, before, read_installed(conn));
    return exit_ok;
}

int cmd_upgrade(context& ctx) {
    unit_flags f;
    if (!parse_install(ctx, "[--with-ext] [--with-coop]\n\n"
                            "Upgrades pgqpp's pgq (and the pgq_ext / pgq_coop installed, or asked "
                            "for) to " + std::string{embedded::pgq_version} + ".",
                       f))
        return exit_ok;
    auto& conn = ctx.conn();
    const auto before = read_installed(conn);
    const std::string db = conn.dbname();
    refuse_extension(before, db);
    if (!before.pgq) {
        throw cli_error{exit_unavailable,
                        "database " + db + " has no pgq to upgrade: use `pgqctl install`"};
    }
    auto refuse_newer = [&](const char* unit, const std::optional<std::string>& have,
                            std::string_view mine) {
        if (have && compare_versions(*have, std::string{mine}) > 0) {
            throw cli_error{exit_refused, std::string{unit} + " " + *have + " in database " + db +
                                              " is newer than this pgqctl's " +
                                              std::string{mine} + ": use a newer pgqctl"};
        }
    };
    refuse_newer("pgq", before.pgq, embedded::pgq_version);
    refuse_newer("pgq_ext", before.ext, embedded::pgq_ext_version);
    refuse_newer("pgq_coop", before.coop, embedded::pgq_coop_version);
    std::vector<script> scripts{{"pgq", embedded::pgq_install}};
    if (f.coop || before.coop) scripts.push_back({"pgq_coop", embedded::pgq_coop_install});
    if (f.ext || before.ext) scripts.push_back({"pgq_ext", embedded::pgq_ext_install});
    run_scripts(conn, scripts);
    report(ctx, before, read_installed(conn));
    return exit_ok;
}

}  // namespace pgqctl
