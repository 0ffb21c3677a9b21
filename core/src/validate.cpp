#include "pgqpp/validate.hpp"

#include "pgqpp/error.hpp"

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

namespace pgqpp {

namespace {

std::string hex_byte(unsigned char c) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "0x%02x", c);
    return buf;
}

/// Quotes a name for a message, cut to a readable length (it may be invalid UTF-8 or long).
std::string show(std::string_view name) {
    constexpr std::size_t max_shown = 64;
    std::string out = "'";
    const auto bad = find_invalid_utf8(name);
    std::size_t n = std::min(name.size(), max_shown);
    if (bad && *bad < n) n = *bad;
    // Do not cut inside a UTF-8 sequence.
    while (n > 0 && n < name.size() && (static_cast<unsigned char>(name[n]) & 0xC0) == 0x80) --n;
    for (std::size_t i = 0; i < n; ++i) {
        const auto c = static_cast<unsigned char>(name[i]);
        if (c < 0x20 || c == 0x7f)
            out += "\\x" + hex_byte(c).substr(2);
        else
            out += name[i];
    }
    out += n < name.size() ? "'..." : "'";
    return out;
}

}  // namespace

std::optional<std::size_t> find_invalid_utf8(std::string_view text) noexcept {
    const auto* s = reinterpret_cast<const unsigned char*>(text.data());
    const std::size_t n = text.size();
    std::size_t i = 0;
    while (i < n) {
        // Fast path: 8 ASCII bytes at a time.
        if (i + 8 <= n) {
            std::uint64_t chunk;
            std::memcpy(&chunk, s + i, 8);
            if ((chunk & 0x8080808080808080ULL) == 0) {
                i += 8;
                continue;
            }
        }
        const unsigned char c = s[i];
        if (c < 0x80) {
            ++i;
            continue;
        }
        std::size_t len;
        unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
        } else if (c == 0xE0) {
            len = 3;
            lo = 0xA0;  // no overlong 3-byte forms
        } else if (c >= 0xE1 && c <= 0xEC) {
            len = 3;
        } else if (c == 0xED) {
            len = 3;
            hi = 0x9F;  // no surrogates U+D800..U+DFFF
        } else if (c >= 0xEE && c <= 0xEF) {
            len = 3;
        } else if (c == 0xF0) {
            len = 4;
            lo = 0x90;  // no overlong 4-byte forms
        } else if (c >= 0xF1 && c <= 0xF3) {
            len = 4;
        } else if (c == 0xF4) {
            len = 4;
            hi = 0x8F;  // nothing above U+10FFFF
        } else {
            return i;  // 0x80..0xC1 (continuation or overlong lead), 0xF5..0xFF
        }
        if (i + len > n) return i;
        if (s[i + 1] < lo || s[i + 1] > hi) return i;
        for (std::size_t k = 2; k < len; ++k) {
            if ((s[i + k] & 0xC0) != 0x80) return i;
        }
        i += len;
    }
    return std::nullopt;
}

void validate_text(std::string_view field, std::string_view text) {
    if (const auto bad = find_invalid_utf8(text)) {
        throw invalid_argument{std::string{field} + ": invalid UTF-8 at byte " +
                               std::to_string(*bad) + " (" +
                               hex_byte(static_cast<unsigned char>(text[*bad])) + ")"};
    }
    if (const auto nul = text.find('\0'); nul != std::string_view::npos) {
        throw invalid_argument{std::string{field} + ": NUL byte at byte " + std::to_string(nul) +
                               " (PostgreSQL text cannot contain NUL)"};
    }
}

void validate_name(std::string_view kind, std::string_view name) {
    if (name.empty()) throw invalid_argument{std::string{kind} + " must not be empty"};
    if (name.size() > max_name_bytes) {
        throw invalid_argument{std::string{kind} + " " + show(name) + " is " +
                               std::to_string(name.size()) + " bytes long; at most " +
                               std::to_string(max_name_bytes) + " are allowed"};
    }
    if (const auto bad = find_invalid_utf8(name)) {
        throw invalid_argument{std::string{kind} + " " + show(name) +
                               " is not valid UTF-8 (at byte " + std::to_string(*bad) + ")"};
    }
    for (std::size_t i = 0; i < name.size(); ++i) {
        const auto c = static_cast<unsigned char>(name[i]);
        if (c < 0x20 || c == 0x7f) {
            throw invalid_argument{std::string{kind} + " " + show(name) +
                                   " contains a control character (" + hex_byte(c) +
                                   " at byte " + std::to_string(i) + ")"};
        }
    }
}

}  // namespace pgqpp
