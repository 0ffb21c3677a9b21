// pgqpp::translate(): libpqxx exceptions become the pgqpp::error subclass a caller can catch,
// keeping SQLSTATE, the server's primary message and the operation. No database needed: the
// exceptions are built the way libpqxx 6.4 builds them from a failed result.
#include <pgqpp/error.hpp>

#include <gtest/gtest.h>
#include <pqxx/except>

#include <string>

namespace {

/// libpq's text of a server error, as pqxx::sql_error::what() carries it.
std::string libpq_text(const std::string& primary) {
    return "ERROR:  " + primary + "\nCONTEXT:  PL/pgSQL function pgq.insert_event_raw(text)\n";
}

std::exception_ptr sql_error(const std::string& sqlstate, const std::string& primary) {
    return std::make_exception_ptr(
        pqxx::sql_error{libpq_text(primary), "select pgq.x()", sqlstate.c_str()});
}

template <class Expected>
void expect_translated(std::exception_ptr in, pgqpp::errc code, const std::string& sqlstate,
                       const std::string& primary) {
    const auto out = pgqpp::translate(in, "pgq.some_function");
    try {
        std::rethrow_exception(out);
    } catch (const Expected& e) {
        EXPECT_EQ(e.code(), code);
        EXPECT_EQ(e.sqlstate(), sqlstate);
        EXPECT_EQ(e.server_message(), primary);
        EXPECT_EQ(e.operation(), "pgq.some_function");
        EXPECT_NE(std::string{e.what()}.find(primary), std::string::npos) << e.what();
        EXPECT_EQ(e.error_code(), pgqpp::make_error_code(code));
    } catch (const std::exception& e) {
        ADD_FAILURE() << "wrong exception type for '" << primary << "': " << e.what();
    }
}

struct raise_case {
    const char* message;
    pgqpp::errc code;
};

class RaisedByPgq : public ::testing::TestWithParam<raise_case> {};

TEST_P(RaisedByPgq, MapsTheFixedTextToItsCode) {
    const auto& c = GetParam();
    const auto out = pgqpp::translate(sql_error("P0001", c.message), "op");
    EXPECT_EQ(pgqpp::code_of(out), c.code) << c.message;
}

INSTANTIATE_TEST_SUITE_P(
    Texts, RaisedByPgq,
    ::testing::Values(
        raise_case{"No such queue", pgqpp::errc::no_such_queue},
        raise_case{"no such queue", pgqpp::errc::no_such_queue},
        raise_case{"No such event queue", pgqpp::errc::no_such_queue},
        raise_case{"Event queue not found", pgqpp::errc::no_such_queue},
        raise_case{"Queue not found", pgqpp::errc::no_such_queue},
        raise_case{"Event queue not created yet", pgqpp::errc::no_such_queue},
        raise_case{"Not subscriber to queue: mail/mirror", pgqpp::errc::not_registered},
        raise_case{"consumer not registered", pgqpp::errc::not_registered},
        raise_case{"Insert into queue disallowed", pgqpp::errc::insert_disallowed},
        raise_case{"Writing to queue disabled", pgqpp::errc::insert_disallowed},
        raise_case{"Queue 'mail' allows max 3 events from one TX",
                   pgqpp::errc::per_tx_limit_exceeded},
        raise_case{"batch not found", pgqpp::errc::batch_not_found},
        raise_case{"Cannot find data for batch 17", pgqpp::errc::batch_not_found},
        raise_case{"batch_retry: batch 17 not found", pgqpp::errc::batch_not_found},
        raise_case{"event_retry_bulk: batch 17 not found", pgqpp::errc::batch_not_found},
        raise_case{"Invalid NULL value", pgqpp::errc::invalid_argument},
        raise_case{"cannot change parameter \"%s\"", pgqpp::errc::invalid_argument},
        raise_case{"insert_event_bulk: ev_type has 2 elements, ev_data has 3",
                   pgqpp::errc::invalid_argument},
        raise_case{"cannot drop queue, consumers still attached", pgqpp::errc::server_error}));

TEST(Translate, KeepsSqlstateMessageAndOperation) {
    expect_translated<pgqpp::no_such_queue>(sql_error("P0001", "No such queue"),
                                            pgqpp::errc::no_such_queue, "P0001", "No such queue");
    expect_translated<pgqpp::permission_denied>(
        sql_error("42501", "permission denied for function insert_event"),
        pgqpp::errc::permission_denied, "42501", "permission denied for function insert_event");
}

TEST(Translate, PgqsCErrorsCarryTheSameTextsWithXX000) {
    // PgQ's C insert_event_raw uses elog(ERROR): SQLSTATE XX000, same texts.
    expect_translated<pgqpp::no_such_queue>(sql_error("XX000", "No such queue"),
                                            pgqpp::errc::no_such_queue, "XX000", "No such queue");
    expect_translated<pgqpp::per_tx_limit_exceeded>(
        sql_error("XX000", "Queue 'q' allows max 2 events from one TX"),
        pgqpp::errc::per_tx_limit_exceeded, "XX000", "Queue 'q' allows max 2 events from one TX");
}

TEST(Translate, InsufficientPrivilegeWithoutSqlstateIs42501) {
    // libpqxx 6.4 throws insufficient_privilege without its SQLSTATE.
    expect_translated<pgqpp::permission_denied>(
        std::make_exception_ptr(
            pqxx::insufficient_privilege{libpq_text("permission denied for function x"), "q"}),
        pgqpp::errc::permission_denied, "42501", "permission denied for function x");
}

TEST(Translate, UndefinedFunctionOfAnAdditionIsFeatureNotAvailable) {
    expect_translated<pgqpp::feature_not_available>(
        sql_error("42883", "function pgq.insert_event_bulk(unknown, text[]) does not exist"),
        pgqpp::errc::feature_not_available, "42883",
        "function pgq.insert_event_bulk(unknown, text[]) does not exist");
}

TEST(Translate, MissingPgqSchemaOrFunctionIsPgqNotInstalled) {
    expect_translated<pgqpp::pgq_not_installed>(sql_error("3F000", "schema \"pgq\" does not exist"),
                                                pgqpp::errc::pgq_not_installed, "3F000",
                                                "schema \"pgq\" does not exist");
    expect_translated<pgqpp::pgq_not_installed>(
        sql_error("42883", "function pgq.insert_event(text, text, text) does not exist"),
        pgqpp::errc::pgq_not_installed, "42883",
        "function pgq.insert_event(text, text, text) does not exist");
    expect_translated<pgqpp::pgq_not_installed>(
        sql_error("42P01", "relation \"pgq.queue\" does not exist"), pgqpp::errc::pgq_not_installed,
        "42P01", "relation \"pgq.queue\" does not exist");
}

TEST(Translate, ConnectionFailuresAreRetryableButInDoubtIsNot) {
    const auto lost = pgqpp::translate(
        std::make_exception_ptr(pqxx::broken_connection{"server closed the connection unexpectedly"}),
        "pgq.insert_event");
    EXPECT_EQ(pgqpp::code_of(lost), pgqpp::errc::connection_lost);
    try {
        std::rethrow_exception(lost);
    } catch (const pgqpp::connection_lost& e) {
        EXPECT_TRUE(e.is_retryable());
    }

    const auto admin_shutdown =
        pgqpp::translate(sql_error("57P01", "terminating connection due to administrator command"), "x");
    EXPECT_EQ(pgqpp::code_of(admin_shutdown), pgqpp::errc::connection_lost);

    const auto doubt = pgqpp::translate(
        std::make_exception_ptr(pqxx::in_doubt_error{"WARNING: Connection lost while committing"}),
        "commit");
    try {
        std::rethrow_exception(doubt);
    } catch (const pgqpp::connection_lost&) {
        ADD_FAILURE() << "an in-doubt commit must not be catchable as connection_lost";
    } catch (const pgqpp::commit_in_doubt& e) {
        EXPECT_FALSE(e.is_retryable());
        EXPECT_EQ(e.code(), pgqpp::errc::commit_outcome_unknown);
    }
}

TEST(Translate, AnSqlErrorWithoutSqlstateIsLibpqsOwnConnectionFailure) {
    // libpqxx 6.4 reports some lost connections as sql_error without a SQLSTATE.
    const auto out = pgqpp::translate(
        std::make_exception_ptr(pqxx::sql_error{"server closed the connection unexpectedly\n"
                                                "\tThis probably means the server terminated",
                                                "COMMIT"}),
        "x");
    EXPECT_EQ(pgqpp::code_of(out), pgqpp::errc::connection_lost);
}

TEST(Translate, SerializationFailureAndDeadlockAreRetryable) {
    for (auto e : {std::make_exception_ptr(pqxx::serialization_failure{"could not serialize"}),
                   std::make_exception_ptr(pqxx::deadlock_detected{"deadlock detected"}),
                   sql_error("40001", "could not serialize access")}) {
        const auto out = pgqpp::translate(e, "x");
        EXPECT_EQ(pgqpp::code_of(out), pgqpp::errc::transaction_rollback);
        try {
            std::rethrow_exception(out);
        } catch (const pgqpp::transaction_rollback& x) {
            EXPECT_TRUE(x.is_retryable());
            EXPECT_EQ(x.sqlstate().substr(0, 2), "40");
        }
    }
}

TEST(Translate, LeavesOtherExceptionsAlone) {
    const auto e = std::make_exception_ptr(std::logic_error{"mine"});
    EXPECT_EQ(pgqpp::translate(e, "x"), e);
    const auto p = std::make_exception_ptr(pgqpp::invalid_argument{"bad"});
    EXPECT_EQ(pgqpp::translate(p, "x"), p);
    EXPECT_EQ(pgqpp::translate(nullptr, "x"), nullptr);
}

TEST(Translate, RethrowTranslatedInsideACatchBlock) {
    try {
        try {
            throw pqxx::sql_error{libpq_text("Insert into queue disallowed"), "q", "P0001"};
        } catch (...) {
            pgqpp::rethrow_translated("pgq.insert_event");
        }
    } catch (const pgqpp::insert_disallowed& e) {
        EXPECT_EQ(e.server_message(), "Insert into queue disallowed");
        return;
    }
    FAIL() << "not translated";
}

TEST(PrimaryMessage, StripsSeverityAndDetailLines) {
    EXPECT_EQ(pgqpp::primary_message("ERROR:  No such queue\nCONTEXT:  x\n"), "No such queue");
    EXPECT_EQ(pgqpp::primary_message("FEHLER:  Zugriff verweigert\n"), "Zugriff verweigert");
    EXPECT_EQ(pgqpp::primary_message("plain text"), "plain text");
    EXPECT_EQ(pgqpp::primary_message("a: b\nsecond line"), "a: b");
}

TEST(ErrorCode, HasACategoryAndReadableMessages) {
    const boost::system::error_code ec = pgqpp::errc::queue_full;
    EXPECT_EQ(std::string{ec.category().name()}, "pgqpp");
    EXPECT_NE(ec.message().find("pending"), std::string::npos);
    EXPECT_EQ(pgqpp::to_string(pgqpp::errc::commit_outcome_unknown), "commit_outcome_unknown");
    EXPECT_TRUE(static_cast<bool>(ec));
}

}  // namespace
