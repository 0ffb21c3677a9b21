#include "pg_test_env.hpp"

#include <cstdlib>
#include <fstream>
#include <stdexcept>

#include <unistd.h>

namespace pgqpp::test {

namespace {

// Accepts `KEY=value`, `KEY='value'` and an optional leading `export `.
void parse_line(const std::string& line, pg_test_env& env) {
    std::string_view rest = line;
    if (rest.substr(0, 7) == "export ") rest.remove_prefix(7);
    const auto eq = rest.find('=');
    if (eq == std::string_view::npos) return;
    const auto key = rest.substr(0, eq);
    auto value = rest.substr(eq + 1);
    if (value.size() >= 2 && value.front() == '\'' && value.back() == '\'') {
        value = value.substr(1, value.size() - 2);
    }
    if (key == "PGHOST") env.host = value;
    else if (key == "PGPORT") env.port = value;
    else if (key == "PGUSER") env.user = value;
}

}  // namespace

pg_test_env pg_test_env::load(const std::string& cluster_dir) {
    const std::string path = cluster_dir + "/env";
    std::ifstream in{path};
    if (!in) {
        throw std::runtime_error{"no test cluster: cannot read " + path +
                                 " (is the pg_cluster fixture running?)"};
    }
    pg_test_env env;
    for (std::string line; std::getline(in, line);) parse_line(line, env);
    if (env.host.empty() || env.port.empty() || env.user.empty()) {
        throw std::runtime_error{path + " lacks PGHOST, PGPORT or PGUSER"};
    }
    return env;
}

const pg_test_env& pg_test_env::get() {
    static const pg_test_env env = [] {
        const char* dir = std::getenv("PGQPP_TEST_CLUSTER");
        if (dir == nullptr || *dir == '\0') {
            throw std::runtime_error{"PGQPP_TEST_CLUSTER is not set; run database tests via ctest"};
        }
        // Either the cluster itself, or the base under which each ctest run has its own
        // cluster, named after the ctest process (our parent).
        const std::string base{dir};
        const std::string own_run = base + "/run-" + std::to_string(getppid());
        if (!std::ifstream{base + "/env"} && std::ifstream{own_run + "/env"}) return load(own_run);
        return load(base);
    }();
    return env;
}

std::string pg_test_env::conninfo(std::string_view dbname) const {
    return "host=" + quote_conninfo_value(host) + " port=" + quote_conninfo_value(port) +
           " user=" + quote_conninfo_value(user) + " dbname=" + quote_conninfo_value(dbname);
}

}  // namespace pgqpp::test
