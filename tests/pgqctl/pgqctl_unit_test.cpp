// pgqctl's pure parts: splitting install scripts into statements, how durations and sizes
// are written for people, and the catch-up estimates of status --watch.
#include "catch_up.hpp"
#include "output.hpp"
#include "sql_script.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace {

using pgqctl::format_duration;
using pgqctl::split_sql_script;
using namespace std::chrono_literals;

/// format_duration of any std::chrono duration, as pgqctl's values (microseconds).
template <class D>
std::string fmt(D d) {
    return format_duration(std::chrono::duration_cast<pgqpp::duration>(d));
}

TEST(SplitSqlScript, SplitsAtSemicolonsOutsideQuotesAndBodies) {
    const auto s = split_sql_script(
        "\\set ON_ERROR_STOP 1\n"
        "begin;\n"
        "-- a comment; with a semicolon\n"
        "create function f() returns text as $$ select ';'; $$ language sql;\n"
        "create function g() returns int as $body$ begin return 1; end; $body$ language plpgsql;\n"
        "select 'it''s; quoted', E'back\\'slash;', \"odd;name\" from t /* c; /* nested; */ */;\n"
        "select $1::int;\n"
        "commit;\n");
    ASSERT_EQ(s.size(), 6u);
    EXPECT_EQ(s[0], "\nbegin");
    EXPECT_NE(s[1].find("$$ select ';'; $$"), std::string::npos);
    EXPECT_NE(s[2].find("end; $body$ language plpgsql"), std::string::npos);
    EXPECT_NE(s[3].find("/* c; /* nested; */ */"), std::string::npos);
    EXPECT_NE(s[4].find("select $1::int"), std::string::npos);
    EXPECT_NE(s[5].find("commit"), std::string::npos);
}

TEST(SplitSqlScript, DropsMetaCommandsCommentsAndBlanks) {
    EXPECT_TRUE(split_sql_script("\\set x 1\n-- only a comment\n/* and this */ ;\n  \n").empty());
    const auto s = split_sql_script("select 1");
    ASSERT_EQ(s.size(), 1u);
    EXPECT_EQ(s[0], "select 1");
}

TEST(FormatDuration, AsPeopleWriteThem) {
    EXPECT_EQ(format_duration(pgqpp::duration{250}), "250 us");
    EXPECT_EQ(fmt(850ms), "850 ms");
    EXPECT_EQ(fmt(4200ms), "4.2 s");
    EXPECT_EQ(fmt(42s), "42 s");
    EXPECT_EQ(fmt(200s), "3m 20s");
    EXPECT_EQ(fmt(3h + 12min + 5s), "3h 12m");
    EXPECT_EQ(fmt(2h), "2h");
    EXPECT_EQ(fmt(52h), "2d 4h");
    EXPECT_EQ(fmt(-42s), "-42 s");
    EXPECT_EQ(format_duration(std::optional<pgqpp::duration>{}), "-");
}

TEST(FormatSize, Units) {
    EXPECT_EQ(pgqctl::format_size(512), "512 B");
    EXPECT_EQ(pgqctl::format_size(12 * 1024), "12 kB");
    EXPECT_EQ(pgqctl::format_size(3565158), "3.4 MB");
}

TEST(Table, AlignsColumns) {
    pgqctl::table t{{"QUEUE", "LAG"}};
    t.add({"mail", "850 ms"});
    t.add({"billing-long", "3h 12m"});
    std::ostringstream out;
    t.print(out);
    EXPECT_EQ(out.str(),
              "QUEUE         LAG\n"
              "mail          850 ms\n"
              "billing-long  3h 12m\n");
}

TEST(JsonTime, IsoUtcWithMicroseconds) {
    const pgqpp::time_point t{pgqpp::duration{1'763'780'412'123'456}};
    EXPECT_EQ(pgqctl::json_time(t), "2025-11-22T03:00:12.123456Z");
    EXPECT_TRUE(pgqctl::json_time(std::nullopt).is_null());
}

}  // namespace

TEST(CatchUpTracker, RateSinceTheFirstSampleAndTheEta) {
    pgqctl::catch_up_tracker t;
    const auto t0 = pgqctl::catch_up_tracker::clock::now();
    EXPECT_FALSE(t.sample("q/c", 10000, t0));  // one sample: nothing to say yet
    auto e = t.sample("q/c", 8000, t0 + 2s);    // 2,000 gone in 2 s
    ASSERT_TRUE(e);
    EXPECT_DOUBLE_EQ(e->events_per_second, 1000.0);
    ASSERT_TRUE(e->eta_seconds);
    EXPECT_DOUBLE_EQ(*e->eta_seconds, 8.0);
    e = t.sample("q/c", 4000, t0 + 4s);         // from the first sample: 6,000 in 4 s
    ASSERT_TRUE(e);
    EXPECT_DOUBLE_EQ(e->events_per_second, 1500.0);
    EXPECT_NEAR(*e->eta_seconds, 4000.0 / 1500.0, 1e-9);
    e = t.sample("q/c", 0, t0 + 5s);
    ASSERT_TRUE(e && e->eta_seconds);
    EXPECT_EQ(*e->eta_seconds, 0.0);
}

TEST(CatchUpTracker, NoEtaWhileFallingBehindOrSteady) {
    pgqctl::catch_up_tracker t;
    const auto t0 = pgqctl::catch_up_tracker::clock::now();
    t.sample("q/behind", 100, t0);
    t.sample("q/steady", 100, t0);
    const auto behind = t.sample("q/behind", 300, t0 + 1s);
    ASSERT_TRUE(behind);
    EXPECT_DOUBLE_EQ(behind->events_per_second, -200.0);
    EXPECT_FALSE(behind->eta_seconds);
    const auto steady = t.sample("q/steady", 100, t0 + 1s);
    ASSERT_TRUE(steady);
    EXPECT_FALSE(steady->eta_seconds);
    EXPECT_FALSE(t.sample("q/new", 5, t0 + 1s));  // consumers are tracked apart
}
