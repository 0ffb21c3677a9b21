#include "test_database.hpp"

#include "pg_test_env.hpp"

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cstdlib>
#include <iostream>
#include <random>
#include <sstream>

namespace pgqpp::test {

std::string_view to_string(template_kind kind) {
    return kind == template_kind::ours ? "ours" : "pgq";
}

std::string_view template_name(template_kind kind) {
    if (kind == template_kind::pgq) return "tmpl_pgq";
    // the same tests on another flavour of ours (tmpl_ours_light: light batches)
    static const std::string ours = [] {
        const char* name = std::getenv("PGQPP_TEST_TEMPLATE_OURS");
        return std::string{name != nullptr && *name != '\0' ? name : "tmpl_ours"};
    }();
    return ours;
}

std::string current_test_name() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    if (info == nullptr) return "no_test";
    return std::string{info->test_suite_name()} + "_" + info->name();
}

std::string make_database_name(std::string_view hint) {
    // Unique across processes (pid), within one (counter) and across pid reuse (random).
    static std::atomic<unsigned> counter{0};
    std::ostringstream suffix;
    suffix << '_' << ::getpid() << '_' << counter++ << '_' << std::hex
           << (std::random_device{}() & 0xffffu);

    std::string base = "t_";
    for (char c : hint) {
        const auto u = static_cast<unsigned char>(c);
        const char mapped = std::isalnum(u) ? static_cast<char>(std::tolower(u)) : '_';
        if (mapped == '_' && base.back() == '_') continue;  // no runs of '_'
        base += mapped;
    }
    constexpr std::size_t max_identifier = 63;  // NAMEDATALEN - 1
    const std::string tail = suffix.str();
    if (base.size() + tail.size() > max_identifier) base.resize(max_identifier - tail.size());
    while (base.size() > 2 && base.back() == '_') base.pop_back();
    return base + tail;
}

test_database::test_database(template_kind kind)
    : test_database(kind, current_test_name() + "_" + std::string{to_string(kind)}) {}

test_database::test_database(template_kind kind, std::string_view name_hint)
    : kind_{kind}, name_{make_database_name(name_hint)} {
    pqxx::connection conn{pg_test_env::get().admin_conninfo()};
    pqxx::nontransaction tx{conn};  // CREATE DATABASE cannot run inside a transaction
    tx.exec0("CREATE DATABASE " + conn.quote_name(name_) + " TEMPLATE " +
             conn.quote_name(std::string{template_name(kind)}));
}

test_database::~test_database() {
    try {
        pqxx::connection conn{pg_test_env::get().admin_conninfo()};
        pqxx::nontransaction tx{conn};
        tx.exec0("DROP DATABASE IF EXISTS " + conn.quote_name(name_) + " WITH (FORCE)");
    } catch (const std::exception& e) {
        // A destructor must not throw; the cluster is thrown away at the end anyway.
        std::cerr << "warning: could not drop test database " << name_ << ": " << e.what()
                  << '\n';
    }
}

std::string test_database::conninfo() const { return pg_test_env::get().conninfo(name_); }

}  // namespace pgqpp::test
