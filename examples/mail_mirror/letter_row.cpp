// letter_row (letter_row.hpp): JSON row -> COPY text fields, with nlohmann's SAX parser: no
// JSON document is built, each value goes straight into its column's text (the daemon spends
// a good part of its time here, and it runs in series with the two database backends).
#include "letter_row.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <stdexcept>

namespace mail {

namespace {

constexpr std::size_t column_count = std::size(letter_columns);

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

// Collects the values of one flat JSON object by column, as the text PostgreSQL's input
// functions read: strings as they are, numbers as written, booleans t/f, null unset, an
// array as an array literal (each element quoted). Nested objects are refused.
class row_reader : public nlohmann::json_sax<nlohmann::json> {
public:
    std::array<std::string, column_count> text;
    std::array<bool, column_count> set{};

    void reset() { set.fill(false); depth_ = 0; column_ = -1; }

    bool null() override {
        if (in_array()) element("NULL", false);
        return true;
    }
    bool boolean(bool v) override { return value(v ? "t" : "f"); }
    bool number_integer(number_integer_t v) override { return value(std::to_string(v)); }
    bool number_unsigned(number_unsigned_t v) override { return value(std::to_string(v)); }
    bool number_float(number_float_t, const string_t& s) override { return value(s); }
    bool string(string_t& s) override { return value(s, true); }
    bool binary(binary_t&) override { return false; }
    bool start_object(std::size_t) override { return ++depth_ == 1; }
    bool end_object() override { --depth_; return true; }
    bool key(string_t& k) override {
        // Keys come in the table's column order (jsontriga, row_to_json): try the next first.
        const std::string_view name{k};
        const std::size_t next = static_cast<std::size_t>(column_ + 1);
        if (next < column_count && name == names()[next]) {
            column_ = static_cast<int>(next);
            return true;
        }
        column_ = -1;
        for (std::size_t i = 0; i < column_count; ++i)
            if (name == names()[i]) column_ = static_cast<int>(i);
        return true;
    }
    bool start_array(std::size_t) override {
        if (++depth_ != 2) return false;  // only arrays of scalars, as values
        if (column_ >= 0) {
            text[static_cast<std::size_t>(column_)] = "{";
            set[static_cast<std::size_t>(column_)] = true;
        }
        return true;
    }
    bool end_array() override {
        if (column_ >= 0) text[static_cast<std::size_t>(column_)] += '}';
        --depth_;
        return true;
    }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
        return false;
    }

private:
    static const std::array<std::string_view, column_count>& names() {
        static const auto views = [] {
            std::array<std::string_view, column_count> v;
            for (std::size_t i = 0; i < column_count; ++i) v[i] = letter_columns[i];
            return v;
        }();
        return views;
    }
    bool in_array() const { return depth_ == 2; }
    bool value(std::string_view v, bool quoted = false) {
        if (in_array()) return element(v, quoted), true;
        if (depth_ != 1) return false;  // a bare value, not an object
        if (column_ >= 0) {
            text[static_cast<std::size_t>(column_)].assign(v);
            set[static_cast<std::size_t>(column_)] = true;
        }
        return true;
    }
    void element(std::string_view v, bool quoted) {
        if (column_ < 0) return;
        std::string& literal = text[static_cast<std::size_t>(column_)];
        if (literal.size() > 1) literal += ',';
        if (!quoted && v == "NULL") {
            literal += "NULL";
            return;
        }
        literal += '"';
        for (char c : v) {
            if (c == '"' || c == '\\') literal += '\\';
            literal += c;
        }
        literal += '"';
    }

    int depth_ = 0;
    int column_ = -1;  ///< the column of the current key, -1: not one of ours
};

}  // namespace

void append_copy_fields(std::string& out, std::string_view json) {
    thread_local row_reader reader;  // its buffers are reused from row to row
    reader.reset();
    if (json.empty() || json.front() != '{' ||
        !nlohmann::json::sax_parse(json.begin(), json.end(), &reader))
        throw std::invalid_argument{"not a JSON object"};
    for (std::size_t i = 0; i < column_count; ++i) {
        if (i > 0) out += '\t';
        if (reader.set[i])
            append_escaped(out, reader.text[i]);
        else
            out += "\\N";
    }
}

}  // namespace mail
