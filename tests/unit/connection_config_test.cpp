// connection_config: libpq's parser validates early; messages never show a password.
#include <pgqpp/connection_config.hpp>
#include <pgqpp/error.hpp>

#include <gtest/gtest.h>

#include <string>

namespace {

std::string error_of(const std::string& conninfo) {
    try {
        pgqpp::connection_config c{conninfo};
    } catch (const pgqpp::invalid_argument& e) {
        return e.what();
    }
    return "(accepted)";
}

TEST(ConnectionConfig, AcceptsKeywordStringsUrisAndEmpty) {
    EXPECT_NO_THROW(pgqpp::connection_config{});
    EXPECT_NO_THROW(pgqpp::connection_config{""});
    EXPECT_NO_THROW(pgqpp::connection_config{"host=/run/postgresql dbname=mail user=app"});
    EXPECT_NO_THROW(pgqpp::connection_config{"postgresql://app@db1:5433/mail?connect_timeout=5"});
    EXPECT_NO_THROW(pgqpp::connection_config{"dbname='with space' password='it\\'s'"});
}

TEST(ConnectionConfig, RejectsMalformedStringsNamingTheProblem) {
    EXPECT_NE(error_of("dbname=mail nosuchoption=1").find("invalid connection option \"nosuchoption\""),
              std::string::npos)
        << error_of("dbname=mail nosuchoption=1");
    EXPECT_NE(error_of("dbname").find("missing \"=\" after \"dbname\""), std::string::npos)
        << error_of("dbname");
    EXPECT_NE(error_of("dbname='unterminated").find("unterminated quoted string"),
              std::string::npos);
    EXPECT_NE(error_of("postgresql://[::1").find("invalid connection string"), std::string::npos);
}

TEST(ConnectionConfig, NeverShowsAPassword) {
    // libpq would quote the token after the space: part of the password.
    const std::string m = error_of("dbname=mail password=hunter2 secretpart");
    EXPECT_EQ(m.find("secretpart"), std::string::npos) << m;
    EXPECT_EQ(m.find("hunter2"), std::string::npos) << m;
    EXPECT_NE(m.find("password"), std::string::npos) << m;  // says why it is hidden

    const std::string u = error_of("postgresql://app:s3cret@db1:5432/mail?bogus=1");
    EXPECT_EQ(u.find("s3cret"), std::string::npos) << u;

    pgqpp::connection_config ok{"host=db1 port=5433 dbname=mail user=app password=hunter2"};
    EXPECT_EQ(ok.describe(), "host=db1 port=5433 dbname=mail user=app");
    EXPECT_EQ(pgqpp::connection_config{}.describe(), "(from environment)");
}

TEST(ConnectionConfig, WithDefaultKeepsExplicitSettings) {
    pgqpp::connection_config c{"dbname=mail connect_timeout=3"};
    EXPECT_TRUE(c.has("connect_timeout"));
    EXPECT_FALSE(c.has("application_name"));
    const auto d = c.with_default("connect_timeout", "10").with_default("application_name", "x y");
    EXPECT_TRUE(d.has("application_name"));
    EXPECT_NE(d.conninfo().find("connect_timeout='3'"), std::string::npos) << d.conninfo();
    EXPECT_NE(d.conninfo().find("application_name='x y'"), std::string::npos) << d.conninfo();
    EXPECT_THROW(c.with_default("no_such_key", "1"), pgqpp::invalid_argument);

    // URIs are rewritten as keyword strings, so they can be extended too.
    const auto u = pgqpp::connection_config{"postgresql://db1/mail"}.with_default("port", "6000");
    EXPECT_EQ(u.describe(), "host=db1 port=6000 dbname=mail");
}

TEST(QuoteConninfoValue, EscapesQuotesAndBackslashes) {
    EXPECT_EQ(pgqpp::quote_conninfo_value("it's a\\b"), "'it\\'s a\\\\b'");
}

}  // namespace
