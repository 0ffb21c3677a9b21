#include "sql_script.hpp"

#include <cctype>

namespace pgqctl {

namespace {

bool is_ident_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' ||
           (static_cast<unsigned char>(c) & 0x80);
}

/// Whether @p piece holds anything but blanks and comments.
bool has_code(std::string_view piece) {
    for (std::size_t i = 0; i < piece.size(); ++i) {
        const char c = piece[i];
        if (std::isspace(static_cast<unsigned char>(c))) continue;
        if (c == '-' && i + 1 < piece.size() && piece[i + 1] == '-') {
            while (i < piece.size() && piece[i] != '\n') ++i;
            continue;
        }
        if (c == '/' && i + 1 < piece.size() && piece[i + 1] == '*') {
            const auto end = piece.find("*/", i + 2);
            if (end == std::string_view::npos) return false;
            i = end + 1;
            continue;
        }
        return true;
    }
    return false;
}

}  // namespace

std::vector<std::string> split_sql_script(std::string_view s) {
    std::vector<std::string> out;
    std::size_t start = 0;
    std::size_t i = 0;
    bool line_start = true;
    auto emit = [&](std::size_t end) {
        const auto piece = s.substr(start, end - start);
        if (has_code(piece)) out.emplace_back(piece);
    };
    while (i < s.size()) {
        const char c = s[i];
        if (line_start && c == '\\') {  // psql meta-command: the whole line
            emit(i);
            while (i < s.size() && s[i] != '\n') ++i;
            start = i;
            continue;
        }
        line_start = false;
        if (c == '\n') {
            line_start = true;
            ++i;
        } else if (c == '-' && i + 1 < s.size() && s[i + 1] == '-') {
            while (i < s.size() && s[i] != '\n') ++i;
        } else if (c == '/' && i + 1 < s.size() && s[i + 1] == '*') {
            int depth = 1;
            i += 2;
            while (i < s.size() && depth > 0) {
                if (s.compare(i, 2, "/*") == 0) {
                    ++depth;
                    i += 2;
                } else if (s.compare(i, 2, "*/") == 0) {
                    --depth;
                    i += 2;
                } else {
                    ++i;
                }
            }
        } else if (c == '\'') {
            // E'...' allows backslash escapes; '' is a quote in both kinds.
            const bool escapes = i > 0 && (s[i - 1] == 'E' || s[i - 1] == 'e') &&
                                 (i < 2 || !is_ident_char(s[i - 2]));
            ++i;
            while (i < s.size()) {
                if (escapes && s[i] == '\\') {
                    i += 2;
                } else if (s[i] == '\'') {
                    if (i + 1 < s.size() && s[i + 1] == '\'') {
                        i += 2;
                    } else {
                        ++i;
                        break;
                    }
                } else {
                    ++i;
                }
            }
        } else if (c == '"') {
            const auto end = s.find('"', i + 1);
            i = end == std::string_view::npos ? s.size() : end + 1;
        } else if (c == '$' && (i == 0 || !is_ident_char(s[i - 1]))) {
            // $tag$ ... $tag$ (tag empty or an identifier); $1 is a parameter, not a quote.
            std::size_t j = i + 1;
            while (j < s.size() && is_ident_char(s[j]) && !std::isdigit(static_cast<unsigned char>(s[i + 1])))
                ++j;
            if (j < s.size() && s[j] == '$') {
                const auto tag = s.substr(i, j - i + 1);
                const auto end = s.find(tag, j + 1);
                i = end == std::string_view::npos ? s.size() : end + tag.size();
            } else {
                ++i;
            }
        } else if (c == ';') {
            emit(i);
            start = ++i;
        } else {
            ++i;
        }
    }
    emit(s.size());
    return out;
}

}  // namespace pgqctl
