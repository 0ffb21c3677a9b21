// Parsing and printing of configuration values (runtime/values.hpp).
#include <pgqpp/runtime/values.hpp>

#include <gtest/gtest.h>

#include <limits>

namespace rt = pgqpp::runtime;
using namespace std::chrono_literals;

TEST(ParseDuration, AcceptsUnitsAndPlainSeconds) {
    EXPECT_EQ(rt::parse_duration("2s"), 2s);
    EXPECT_EQ(rt::parse_duration("100ms"), 100ms);
    EXPECT_EQ(rt::parse_duration("1.5"), 1500ms);  // pgqd: float seconds
    EXPECT_EQ(rt::parse_duration("0.001"), 1ms);
    EXPECT_EQ(rt::parse_duration("1min"), 60s);
    EXPECT_EQ(rt::parse_duration("2 min"), 120s);
    EXPECT_EQ(rt::parse_duration(" 3h "), 3h);
    EXPECT_EQ(rt::parse_duration("1d"), 24h);
    EXPECT_EQ(rt::parse_duration("250us"), 250us);
    EXPECT_EQ(rt::parse_duration("0"), 0s);
    EXPECT_EQ(rt::parse_duration("60"), 60s);
    EXPECT_EQ(rt::parse_duration(".5s"), 500ms);
    EXPECT_EQ(rt::parse_duration("1.5min"), 90s);
    EXPECT_EQ(rt::parse_duration("10 seconds"), 10s);
    EXPECT_EQ(rt::parse_duration("2 hours"), 2h);
    EXPECT_EQ(rt::parse_duration("1MS"), 1ms);  // units are case-insensitive
}

TEST(ParseDuration, RejectsEverythingElseWithAReason) {
    for (const char* bad : {"", " ", "abc", "-1", "-1s", "1x", "1 parsec", "s", "1.2.3", "1e3",
                            "0.0000001", "1ns", "2s3", "+1", "1,5", "999999999d"}) {
        EXPECT_THROW(rt::parse_duration(bad), rt::value_error) << "'" << bad << "'";
    }
    try {
        rt::parse_duration("5 fortnights");
        FAIL();
    } catch (const rt::value_error& e) {
        EXPECT_STREQ(e.what(),
                     "invalid duration '5 fortnights': unknown unit 'fortnights' (examples: "
                     "500ms, 2s, 1.5, 1min)");
    }
    try {
        rt::parse_duration("-2s");
        FAIL();
    } catch (const rt::value_error& e) {
        EXPECT_NE(std::string{e.what()}.find("must not be negative"), std::string::npos);
    }
}

TEST(FormatDuration, RoundTripsThroughParse) {
    EXPECT_EQ(rt::format_duration(0s), "0");
    EXPECT_EQ(rt::format_duration(2s), "2s");
    EXPECT_EQ(rt::format_duration(1500ms), "1500ms");
    EXPECT_EQ(rt::format_duration(60s), "1min");
    EXPECT_EQ(rt::format_duration(90s), "90s");
    EXPECT_EQ(rt::format_duration(48h), "2d");
    EXPECT_EQ(rt::format_duration(250us), "250us");
    for (auto d : {rt::duration{1}, rt::duration{999}, rt::duration{1001000},
                   rt::duration{std::chrono::hours{25}}, rt::duration{123456789}}) {
        EXPECT_EQ(rt::parse_duration(rt::format_duration(d)), d);
    }
}

TEST(ParseSize, AcceptsBinaryUnits) {
    EXPECT_EQ(rt::parse_size("0"), 0u);
    EXPECT_EQ(rt::parse_size("8192"), 8192u);
    EXPECT_EQ(rt::parse_size("64kB"), 64u * 1024);
    EXPECT_EQ(rt::parse_size("64 KiB"), 64u * 1024);
    EXPECT_EQ(rt::parse_size("16MB"), 16u << 20);
    EXPECT_EQ(rt::parse_size("1g"), 1ull << 30);
    EXPECT_EQ(rt::parse_size("2TB"), 2ull << 40);
    EXPECT_EQ(rt::parse_size("100B"), 100u);
    for (const char* bad : {"", "-1", "1.5MB", "MB", "12 parsecs", "99999999999999999999",
                            "20000000TB"}) {
        EXPECT_THROW(rt::parse_size(bad), rt::value_error) << "'" << bad << "'";
    }
    EXPECT_EQ(rt::format_size(16u << 20), "16MB");
    EXPECT_EQ(rt::format_size(1000), "1000");
    EXPECT_EQ(rt::parse_size(rt::format_size(3u << 10)), 3u << 10);
}

TEST(ParseBool, AcceptsTheUsualWords) {
    for (const char* t : {"1", "true", "TRUE", "yes", "on", " On "}) EXPECT_TRUE(rt::parse_bool(t)) << t;
    for (const char* f : {"0", "false", "no", "off", "OFF"}) EXPECT_FALSE(rt::parse_bool(f)) << f;
    for (const char* bad : {"", "2", "y", "enable", "truee"}) {
        EXPECT_THROW(rt::parse_bool(bad), rt::value_error) << "'" << bad << "'";
    }
}

TEST(ParseInteger, AcceptsSignedDecimalsOnly) {
    EXPECT_EQ(rt::parse_integer("42"), 42);
    EXPECT_EQ(rt::parse_integer("-7"), -7);
    EXPECT_EQ(rt::parse_integer("+7"), 7);
    EXPECT_EQ(rt::parse_integer("9223372036854775807"), std::numeric_limits<std::int64_t>::max());
    for (const char* bad : {"", "x", "1.0", "0x10", "12abc", "9223372036854775808", "+-1", "--1"}) {
        EXPECT_THROW(rt::parse_integer(bad), rt::value_error) << "'" << bad << "'";
    }
}

TEST(ParseList, SplitsAtCommasAndSpaces) {
    EXPECT_EQ(rt::parse_list("a, b c,,d"), (std::vector<std::string>{"a", "b", "c", "d"}));
    EXPECT_TRUE(rt::parse_list("  ,  ").empty());
    EXPECT_TRUE(rt::parse_list("").empty());
}
