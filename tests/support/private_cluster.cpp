#include "private_cluster.hpp"

#include "pg_test_env.hpp"

#include <pqxx/pqxx>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <stdexcept>
#include <vector>

namespace pgqpp::test {

namespace {

std::string env_or_throw(const char* name) {
    const char* v = std::getenv(name);
    if (v == nullptr || *v == '\0')
        throw std::runtime_error{std::string{name} + " is not set; run the test through ctest"};
    return v;
}

/// Runs a command (no shell), returns its exit status; output goes to ours.
int run(const std::vector<std::string>& argv) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error{"fork failed"};
    if (pid == 0) {
        ::execvp(args[0], args.data());
        ::_exit(127);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

void run_or_throw(const std::vector<std::string>& argv) {
    if (const int rc = run(argv); rc != 0) {
        std::string cmd;
        for (const auto& a : argv) cmd += a + " ";
        throw std::runtime_error{"command failed (" + std::to_string(rc) + "): " + cmd};
    }
}

}  // namespace

private_cluster::private_cluster() {
    const std::string source = env_or_throw("PGQPP_SOURCE_DIR");
    std::string tmpl = "/tmp/pgqpp-private.XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error{"mkdtemp failed"};
    top_ = tmpl;
    ::chmod(top_.c_str(), 0755);
    dir_ = top_ + "/pg";
    // The watcher stops it should this process die without running the destructor.
    run_or_throw({"env", "PGQPP_CLUSTER_OWNER=" + std::to_string(::getpid()), "bash",
                  source + "/tests/harness/pg_cluster.sh", "start", dir_});
    const auto env = pg_test_env::load(dir_);
    host_ = env.host;
    port_ = env.port;
}

private_cluster::~private_cluster() {
    try {
        const std::string source = env_or_throw("PGQPP_SOURCE_DIR");
        run({"bash", source + "/tests/harness/pg_cluster.sh", "stop", dir_});
        ::rmdir(top_.c_str());
    } catch (const std::exception& e) {
        std::cerr << "warning: could not stop the private cluster " << dir_ << ": " << e.what()
                  << '\n';
    }
}

std::string private_cluster::conninfo(std::string_view dbname) const {
    return "host=" + quote_conninfo_value(host_) + " port=" + quote_conninfo_value(port_) +
           " user=postgres dbname=" + quote_conninfo_value(dbname);
}

std::string private_cluster::create_database(const std::string& name, template_kind kind) {
    {
        pqxx::connection conn{conninfo("postgres")};
        pqxx::nontransaction tx{conn};
        tx.exec0("create database " + conn.quote_name(name));
    }
    if (kind == template_kind::pgq) {
        pqxx::connection conn{conninfo(name)};
        pqxx::nontransaction tx{conn};
        tx.exec0("create extension pgq");
    } else {
        const std::string install = env_or_throw("PGQPP_BUILD_DIR") + "/pgq_sql/pgq_install.sql";
        const char* pg_bin = std::getenv("PGQPP_PG_BIN");
        const std::string psql =
            std::string{pg_bin != nullptr ? pg_bin : "/usr/lib/postgresql/15/bin"} + "/psql";
        run_or_throw({psql, "-X", "-q", "-o", "/dev/null", "-v", "ON_ERROR_STOP=1", "-d",
                      conninfo(name), "-f", install});
    }
    return conninfo(name);
}

void private_cluster::restart_immediate() {
    run_or_throw({"bash", env_or_throw("PGQPP_SOURCE_DIR") + "/tests/support/pg_restart.sh", dir_});
}

}  // namespace pgqpp::test
