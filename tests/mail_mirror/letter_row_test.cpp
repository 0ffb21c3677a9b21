// The mail mirror's JSON row -> COPY text conversion (examples/mail_mirror/letter_row.hpp):
// escaping, NULLs, booleans, jsontriga's array strings and JSON arrays. The end-to-end test
// (mail_mirror_test.sh) checks the rows that arrive; this pins the awkward values down.
#include "letter_row.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace {

std::string fields(const std::string& json) {
    std::string out;
    mail::append_copy_fields(out, json);
    return out;
}

TEST(LetterRow, JsontrigaRowInColumnOrder) {
    // Keys in another order than the table's: the columns' order counts.
    EXPECT_EQ(fields(R"({"size":1024,"id":7,"folder_id":2,"subject":"Hi & bye","sender":"a@b",)"
                     R"("recipients":"{x@y,\"z w\"}","sent_at":"2009-09-19T11:59:48.599+00:00",)"
                     R"("received_at":"2009-09-19T11:59:49+00:00","seen":true,"flagged":false,)"
                     R"("answered":false,"labels":"{}"})"),
              "7\t2\tHi & bye\ta@b\t{x@y,\"z w\"}\t2009-09-19T11:59:48.599+00:00\t"
              "2009-09-19T11:59:49+00:00\tt\tf\tf\t{}\t1024");
}

TEST(LetterRow, CopyEscapesAndNulls) {
    // Backslash, tab, newline, carriage return escaped; null and missing keys are \N.
    EXPECT_EQ(fields(R"({"id":1,"subject":"a\\b\tc\nd\re \"q\" ü ✉","sender":null})"),
              "1\t\\N\ta\\\\b\\tc\\nd\\re \"q\" ü ✉\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N");
}

TEST(LetterRow, JsonArraysBecomeArrayLiterals) {
    // row_to_json writes arrays as JSON arrays: every element quoted, " and \ escaped.
    EXPECT_EQ(fields(R"({"id":1,"labels":["a,b","q\"d","back\\s",null,"x"]})"),
              "1\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t"
              R"({"a,b","q\\"d","back\\\\s",NULL,"x"})"
              "\t\\N");
}

TEST(LetterRow, NotAnObjectIsRejected) {
    EXPECT_THROW(fields("[1,2]"), std::invalid_argument);
    EXPECT_THROW(fields("{\"id\":"), std::invalid_argument);
    EXPECT_THROW(fields(""), std::invalid_argument);
}

}  // namespace
