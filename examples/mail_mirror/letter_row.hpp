// letter_row: one letter's JSON (pgq.jsontriga's ev_data, or row_to_json) as a line of
// PostgreSQL's COPY text format, so that the mirror parses each value once with its type's
// input function instead of parsing JSON first (the mirror's bottleneck: about 20 us per
// row through json_populate_record, docs/example-mail-mirror.md).
#pragma once

#include <string>
#include <string_view>

namespace mail {

/// The columns of mail.letters, in the order of the COPY lines (mail_schema.sql).
inline constexpr const char* letter_columns[] = {
    "id",          "folder_id", "subject", "sender",   "recipients", "sent_at",
    "received_at", "seen",      "flagged", "answered", "labels",     "size"};

/**
 * Appends to @p out the COPY text fields of the row in @p json, tab-separated, in
 * letter_columns order (a missing key or JSON null is \N). Values: strings as they are (a
 * jsontriga array is the string "{a,b}", already an array literal), numbers as written,
 * booleans t/f, JSON arrays as array literals. Throws std::invalid_argument if @p json is
 * not a JSON object.
 */
void append_copy_fields(std::string& out, std::string_view json);

}  // namespace mail
