// Every error case, produced by a real server (ours and the real PgQ), arrives as the
// pgqpp::error subclass a caller would catch, with the server's SQLSTATE and message.
#include "sql_helpers.hpp"
#include "test_database.hpp"

#include <pgqpp/admin.hpp>
#include <pgqpp/connection_config.hpp>
#include <pgqpp/error.hpp>
#include <pgqpp/producer.hpp>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include <string>
#include <thread>

namespace {

using pgqpp::test::execute;
using pgqpp::test::query_value;
using pgqpp::test::template_kind;
using pgqpp::test::test_database;

class ErrorMapping : public ::testing::TestWithParam<template_kind> {
protected:
    test_database db_{GetParam()};
    pqxx::connection conn_{db_.conninfo()};

    void SetUp() override { pgqpp::admin{conn_}.create_queue("q"); }

    /// Runs raw SQL in its own transaction; returns the translated error's code (or throws
    /// if there was none).
    pgqpp::errc sql_error_code(const std::string& sql, std::string* sqlstate = nullptr) {
        try {
            pqxx::work tx{conn_};
            tx.exec(sql);
            tx.commit();
        } catch (...) {
            const auto e = pgqpp::translate(std::current_exception(), sql);
            try {
                std::rethrow_exception(e);
            } catch (const pgqpp::error& x) {
                if (sqlstate != nullptr) *sqlstate = x.sqlstate();
                return x.code();
            }
        }
        ADD_FAILURE() << "no error from: " << sql;
        return pgqpp::errc::server_error;
    }
};

std::string name_of(const ::testing::TestParamInfo<template_kind>& info) {
    return std::string{pgqpp::test::to_string(info.param)};
}

INSTANTIATE_TEST_SUITE_P(Both, ErrorMapping,
                         ::testing::Values(template_kind::ours, template_kind::pgq), name_of);

TEST_P(ErrorMapping, NoSuchQueue) {
    pqxx::work tx{conn_};
    try {
        pgqpp::insert_event(tx, "nope", {"t", "d"});
        FAIL() << "no error";
    } catch (const pgqpp::no_such_queue& e) {
        EXPECT_EQ(e.server_message(), "No such queue");
        EXPECT_EQ(e.operation(), "pgq.insert_event");
        EXPECT_FALSE(e.sqlstate().empty());
        EXPECT_FALSE(e.is_retryable());
    }
}

TEST_P(ErrorMapping, NoSuchQueueOnEveryBulkPath) {
    for (auto m : {pgqpp::bulk_method::automatic, pgqpp::bulk_method::copy,
                   pgqpp::bulk_method::rows}) {
        pqxx::work tx{conn_};
        pgqpp::producer_options o;
        o.method = m;
        EXPECT_THROW(pgqpp::insert_events(tx, "nope", {{"t", "d"}}, o), pgqpp::no_such_queue)
            << pgqpp::to_string(m);
    }
}

TEST_P(ErrorMapping, InsertDisallowed) {
    execute(conn_, "update pgq.queue set queue_disable_insert = true where queue_name = 'q'");
    {
        pqxx::work tx{conn_};
        EXPECT_THROW(pgqpp::insert_event(tx, "q", {"t", "d"}), pgqpp::insert_disallowed);
    }
    for (auto m : {pgqpp::bulk_method::automatic, pgqpp::bulk_method::copy,
                   pgqpp::bulk_method::rows}) {
        pqxx::work tx{conn_};
        pgqpp::producer_options o;
        o.method = m;
        EXPECT_THROW(pgqpp::insert_events(tx, "q", {{"t", "d"}}, o), pgqpp::insert_disallowed)
            << pgqpp::to_string(m);
    }
}

TEST_P(ErrorMapping, PerTransactionLimitExceeded) {
    execute(conn_, "update pgq.queue set queue_per_tx_limit = 2 where queue_name = 'q'");
    pqxx::work tx{conn_};
    pgqpp::insert_event(tx, "q", {"t", "1"});
    pgqpp::insert_event(tx, "q", {"t", "2"});
    try {
        pgqpp::insert_event(tx, "q", {"t", "3"});
        FAIL() << "no error";
    } catch (const pgqpp::per_tx_limit_exceeded& e) {
        EXPECT_EQ(e.server_message(), "Queue 'q' allows max 2 events from one TX");
    }
}

TEST_P(ErrorMapping, PermissionDenied) {
    pgqpp::test::create_role_once(conn_, "pgqpp_test_nobody", "login");
    pqxx::connection nobody{db_.conninfo() + " user=pgqpp_test_nobody"};
    pqxx::work tx{nobody};
    try {
        pgqpp::insert_event(tx, "q", {"t", "d"});
        FAIL() << "no error";
    } catch (const pgqpp::permission_denied& e) {
        EXPECT_EQ(e.sqlstate(), "42501");
        EXPECT_NE(e.server_message().find("permission denied"), std::string::npos);
    }
}

TEST_P(ErrorMapping, NotRegisteredAndBatchNotFound) {
    EXPECT_EQ(sql_error_code("select pgq.next_batch('q', 'nobody')"),
              pgqpp::errc::not_registered);
    EXPECT_EQ(sql_error_code("select * from pgq.get_batch_events(123456)"),
              pgqpp::errc::batch_not_found);
    EXPECT_EQ(sql_error_code("select pgq.batch_retry(123456, 10)"), pgqpp::errc::batch_not_found);
}

TEST_P(ErrorMapping, FeatureNotAvailableOnlyOnTheRealPgq) {
    pqxx::work tx{conn_};
    pgqpp::producer_options o;
    o.method = pgqpp::bulk_method::function;
    if (GetParam() == template_kind::pgq) {
        try {
            pgqpp::insert_events(tx, "q", {{"t", "d"}}, o);
            FAIL() << "no error";
        } catch (const pgqpp::feature_not_available& e) {
            EXPECT_EQ(e.sqlstate(), "42883");
            EXPECT_EQ(e.operation(), "pgq.insert_event_bulk");
        }
    } else {
        EXPECT_EQ(pgqpp::insert_events(tx, "q", {{"t", "d"}}, o), 1u);
    }
}

TEST_P(ErrorMapping, PgqNotInstalled) {
    execute(conn_, GetParam() == template_kind::pgq ? "drop extension pgq cascade"
                                                    : "drop schema pgq cascade");
    pqxx::work tx{conn_};
    EXPECT_THROW(pgqpp::insert_event(tx, "q", {"t", "d"}), pgqpp::pgq_not_installed);
}

TEST_P(ErrorMapping, ConnectionLostIsRetryable) {
    pqxx::connection victim{db_.conninfo()};
    const int pid = victim.backendpid();
    execute(conn_, "select pg_terminate_backend(" + std::to_string(pid) + ")");
    try {
        try {
            pqxx::work tx{victim};
            pgqpp::insert_event(tx, "q", {"t", "d"});
        } catch (const pgqpp::error&) {
            throw;
        } catch (...) {
            pgqpp::rethrow_translated("begin");  // BEGIN itself may fail first
        }
        FAIL() << "no error";
    } catch (const pgqpp::connection_lost& e) {
        EXPECT_TRUE(e.is_retryable());
    } catch (const pgqpp::error& e) {
        // Some libpq versions report the termination message (57P01) first.
        EXPECT_EQ(e.code(), pgqpp::errc::connection_lost) << e.what();
    }
}

TEST_P(ErrorMapping, ConnectionLostDuringCommitIsInDoubtAndNotRetryable) {
    pqxx::connection victim{db_.conninfo()};
    pqxx::work tx{victim};
    pgqpp::insert_event(tx, "q", {"t", "d"});
    execute(conn_, "select pg_terminate_backend(" + std::to_string(victim.backendpid()) + ")");
    try {
        tx.commit();
        FAIL() << "commit succeeded on a terminated backend";
    } catch (...) {
        const auto e = pgqpp::translate(std::current_exception(), "commit");
        EXPECT_EQ(pgqpp::code_of(e), pgqpp::errc::commit_outcome_unknown);
        try {
            std::rethrow_exception(e);
        } catch (const pgqpp::commit_in_doubt& x) {
            EXPECT_FALSE(x.is_retryable());
        }
    }
}

TEST_P(ErrorMapping, CommitHelperReportsALostConnectionAsInDoubt) {
    pqxx::connection victim{db_.conninfo()};
    pqxx::work tx{victim};
    pgqpp::insert_event(tx, "q", {"t", "d"});
    execute(conn_, "select pg_terminate_backend(" + std::to_string(victim.backendpid()) +
                       ", 10000)");
    EXPECT_THROW(pgqpp::commit(tx), pgqpp::commit_in_doubt);
}

TEST_P(ErrorMapping, CommitHelperPassesOnTheServersRejection) {
    // A deferred constraint fails at COMMIT: the server answers, nothing is in doubt.
    execute(conn_, "create table u (id int unique deferrable initially deferred)");
    pqxx::work tx{conn_};
    tx.exec("insert into u values (1), (1)");
    pgqpp::insert_event(tx, "q", {"t", "d"});
    try {
        pgqpp::commit(tx);
        FAIL() << "committed";
    } catch (const pgqpp::commit_in_doubt& e) {
        FAIL() << "reported as in doubt: " << e.what();
    } catch (const pgqpp::error& e) {
        EXPECT_EQ(e.sqlstate(), "23505") << e.what();
        EXPECT_EQ(e.operation(), "COMMIT");
    }
}

TEST_P(ErrorMapping, SerializationFailureIsRetryable) {
    execute(conn_, "create table t (id int primary key, v int); insert into t values (1, 0)");
    pqxx::connection other{db_.conninfo()};
    pqxx::transaction<pqxx::isolation_level::repeatable_read> a{conn_};
    a.exec("select v from t where id = 1");
    {
        pqxx::work b{other};
        b.exec("update t set v = 2 where id = 1");
        b.commit();
    }
    try {
        a.exec("update t set v = 1 where id = 1");
        FAIL() << "no serialization failure";
    } catch (...) {
        const auto e = pgqpp::translate(std::current_exception(), "update");
        try {
            std::rethrow_exception(e);
        } catch (const pgqpp::transaction_rollback& x) {
            EXPECT_TRUE(x.is_retryable());
            EXPECT_EQ(x.sqlstate(), "40001");
        }
    }
}

TEST(ConnectionConfigDb, ConnectFailureIsConnectionLostWithoutPassword) {
    pgqpp::connection_config bad{"host=/nonexistent-socket-dir port=1 password=hunter2"};
    try {
        bad.connect();
        FAIL() << "connected";
    } catch (const pgqpp::connection_lost& e) {
        EXPECT_EQ(std::string{e.what()}.find("hunter2"), std::string::npos) << e.what();
        EXPECT_NE(std::string{e.what()}.find("connect"), std::string::npos) << e.what();
    }
}

}  // namespace
