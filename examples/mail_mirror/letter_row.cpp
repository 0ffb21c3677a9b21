// letter_row (letter_row.hpp): JSON row -> COPY text fields.
#include "letter_row.hpp"

#include <nlohmann/json.hpp>

#include <stdexcept>

namespace mail {

namespace {

// COPY text format: backslash, tab, newline and carriage return are escaped.
void append_escaped(std::string& out, std::string_view s) {
    for (char c : s) {
        switch (c) {
        case '\\': out += "\\\\"; break;
        case '\t': out += "\\t"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        default: out += c;
        }
    }
}

// A JSON value as the text PostgreSQL's input function reads.
std::string as_text(const nlohmann::json& v) {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_boolean()) return v.get<bool>() ? "t" : "f";
    if (!v.is_array()) return v.dump();
    std::string literal = "{";  // an array literal: every element quoted
    for (const auto& e : v) {
        if (literal.size() > 1) literal += ',';
        if (e.is_null()) {
            literal += "NULL";
            continue;
        }
        literal += '"';
        for (char c : as_text(e)) {
            if (c == '"' || c == '\\') literal += '\\';
            literal += c;
        }
        literal += '"';
    }
    return literal + "}";
}

}  // namespace

void append_copy_fields(std::string& out, std::string_view json) {
    const auto row = nlohmann::json::parse(json.begin(), json.end(), nullptr, false);
    if (!row.is_object()) throw std::invalid_argument{"not a JSON object"};
    bool first = true;
    for (const char* column : letter_columns) {
        if (!first) out += '\t';
        first = false;
        const auto it = row.find(column);
        if (it == row.end() || it->is_null())
            out += "\\N";
        else
            append_escaped(out, as_text(*it));
    }
}

}  // namespace mail
