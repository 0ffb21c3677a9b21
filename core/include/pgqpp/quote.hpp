/// @file quote.hpp
/// Quoting for SQL text that has to be built dynamically (COPY targets, identifiers from
/// pgq.queue, literals in DDL), so that a name can never become SQL.
///
/// Prefer parameters ($1) wherever PostgreSQL accepts them; these helpers are for the places
/// it does not (table names, COPY, utility statements).
#pragma once

#include <pqxx/connection_base>

#include <string>
#include <string_view>

namespace pgqpp {

/// "name" with embedded double quotes doubled, through libpq (PQescapeIdentifier).
std::string quote_identifier(pqxx::connection_base& conn, std::string_view name);

/// A possibly schema-qualified name ("pgq.event_1_0" or "event_1_0"), each part quoted:
/// "pgq"."event_1_0". The name is split at the first dot, as pgq.quote_fqname() does.
std::string quote_qualified_name(pqxx::connection_base& conn, std::string_view name);

/// 'value' as an SQL string literal, escaped by libpq for the connection's encoding and
/// standard_conforming_strings (PQescapeStringConn).
std::string quote_literal(pqxx::connection_base& conn, std::string_view value);

/// quote_identifier() without a connection: double quotes around, embedded ones doubled.
/// Correct for any valid UTF-8 name (identifier quoting does not depend on settings).
std::string quote_identifier(std::string_view name);

}  // namespace pgqpp
