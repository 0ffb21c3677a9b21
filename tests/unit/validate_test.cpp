// Client-side validation: UTF-8 as PostgreSQL's UTF8 encoding defines it, names, events.
// Bad input must be rejected with a message that names the field and the byte offset.
#include <pgqpp/error.hpp>
#include <pgqpp/producer.hpp>
#include <pgqpp/validate.hpp>

#include <gtest/gtest.h>

#include <string>

namespace {

using namespace std::string_literals;

TEST(FindInvalidUtf8, AcceptsValidText) {
    for (const std::string& s : {""s, "plain ascii, long enough for the 8-byte fast path"s,
                                "Grüße"s, "日本語"s, "emoji \xF0\x9F\x98\x80"s,
                                "\xEF\xBF\xBF"s /* U+FFFF */, "\xF4\x8F\xBF\xBF"s /* U+10FFFF */}) {
        EXPECT_FALSE(pgqpp::find_invalid_utf8(s).has_value()) << s;
    }
}

TEST(FindInvalidUtf8, ReportsTheFirstBadByte) {
    struct bad {
        std::string text;
        std::size_t offset;
    };
    for (const auto& b : {
             bad{"abc\xFF"s, 3},                       // never valid
             bad{"\x80"s, 0},                          // lone continuation byte
             bad{"ab\xC0\xAF"s, 2},                    // overlong '/'
             bad{"\xE0\x80\xAF"s, 0},                  // overlong 3-byte
             bad{"x\xED\xA0\x80"s, 1},                 // surrogate U+D800
             bad{"\xF4\x90\x80\x80"s, 0},              // above U+10FFFF
             bad{"0123456789\xC3"s, 10},               // truncated at the end
             bad{"01234567\xE2\x82x"s, 8},             // bad continuation after fast path
             bad{"\xF5\x80\x80\x80"s, 0},
         }) {
        const auto at = pgqpp::find_invalid_utf8(b.text);
        ASSERT_TRUE(at.has_value()) << "accepted: " << b.text;
        EXPECT_EQ(*at, b.offset);
    }
}

TEST(ValidateText, NamesTheFieldAndOffset) {
    try {
        pgqpp::validate_text("ev_data", "ok so far \xFE");
        FAIL();
    } catch (const pgqpp::invalid_argument& e) {
        EXPECT_EQ(std::string{e.what()}, "ev_data: invalid UTF-8 at byte 10 (0xfe)");
        EXPECT_EQ(e.code(), pgqpp::errc::invalid_argument);
        EXPECT_TRUE(e.sqlstate().empty());
    }
    try {
        pgqpp::validate_text("ev_extra2", "a\0b"s);
        FAIL();
    } catch (const pgqpp::invalid_argument& e) {
        EXPECT_NE(std::string{e.what()}.find("ev_extra2: NUL byte at byte 1"), std::string::npos)
            << e.what();
    }
}

TEST(ValidateName, RejectsEmptyLongBinaryAndControlCharacters) {
    EXPECT_NO_THROW(pgqpp::validate_queue_name("mail"));
    EXPECT_NO_THROW(pgqpp::validate_queue_name("queue with spaces, 'quotes' and \"more\""));
    EXPECT_NO_THROW(pgqpp::validate_queue_name("очередь"));
    EXPECT_NO_THROW(pgqpp::validate_queue_name(std::string(pgqpp::max_name_bytes, 'q')));

    auto message = [](const std::string& name) {
        try {
            pgqpp::validate_queue_name(name);
        } catch (const pgqpp::invalid_argument& e) {
            return std::string{e.what()};
        }
        return std::string{"(accepted)"};
    };
    EXPECT_EQ(message(""), "queue name must not be empty");
    EXPECT_NE(message(std::string(pgqpp::max_name_bytes + 1, 'q')).find("257 bytes long"),
              std::string::npos);
    EXPECT_NE(message("bad\xFFname").find("not valid UTF-8 (at byte 3)"), std::string::npos);
    EXPECT_NE(message("two\nlines").find("control character (0x0a at byte 3)"), std::string::npos);
    EXPECT_NE(message("nul\0x"s).find("control character (0x00 at byte 3)"), std::string::npos);
    EXPECT_THROW(pgqpp::validate_consumer_name(""), pgqpp::invalid_argument);
}

TEST(ValidateEvent, ChecksEveryFieldAndTheSize) {
    pgqpp::event ok{"type", "data", "x1", std::nullopt, "x3"};
    EXPECT_NO_THROW(pgqpp::validate_event(ok));
    EXPECT_EQ(ok.size_bytes(), 4u + 4u + 2u + 2u);

    pgqpp::event bad_extra{"t", "d", std::nullopt, std::nullopt, std::nullopt, "ok\xC3("};
    try {
        pgqpp::validate_event(bad_extra);
        FAIL();
    } catch (const pgqpp::invalid_argument& e) {
        EXPECT_EQ(std::string{e.what()}, "ev_extra4: invalid UTF-8 at byte 2 (0xc3)");
    }

    pgqpp::producer_options small;
    small.max_event_bytes = 10;
    EXPECT_NO_THROW(pgqpp::validate_event({"t", "123456789"}, small));
    try {
        pgqpp::validate_event({"t", "1234567890"}, small);
        FAIL();
    } catch (const pgqpp::invalid_argument& e) {
        EXPECT_NE(std::string{e.what()}.find("event is 11 bytes; at most 10"), std::string::npos);
    }

    // Without the UTF-8 check (another client_encoding), only NUL is refused.
    EXPECT_NO_THROW(pgqpp::validate_event({"t", "latin1 \xE9"}, {}, false));
    EXPECT_THROW(pgqpp::validate_event({"t", "a\0"s}, {}, false), pgqpp::invalid_argument);
}

}  // namespace
