#include "pgqpp/quote.hpp"

namespace pgqpp {

std::string quote_identifier(pqxx::connection_base& conn, std::string_view name) {
    return conn.quote_name(std::string{name});
}

std::string quote_qualified_name(pqxx::connection_base& conn, std::string_view name) {
    const auto dot = name.find('.');
    if (dot == std::string_view::npos) return quote_identifier(conn, name);
    return quote_identifier(conn, name.substr(0, dot)) + "." +
           quote_identifier(conn, name.substr(dot + 1));
}

std::string quote_literal(pqxx::connection_base& conn, std::string_view value) {
    return conn.quote(std::string{value});
}

std::string quote_identifier(std::string_view name) {
    std::string out;
    out.reserve(name.size() + 2);
    out += '"';
    for (char c : name) {
        if (c == '"') out += '"';
        out += c;
    }
    out += '"';
    return out;
}

}  // namespace pgqpp
