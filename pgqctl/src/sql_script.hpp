/// @file sql_script.hpp
/// Splits an install script into its statements, so that pgqctl can run it through libpq
/// one statement at a time (with progress) instead of through psql.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pgqctl {

/**
 * The statements of @p script, in order, each without its terminating ';'.
 *
 * Understands what install scripts contain: -- and nested block comments, '...' strings
 * (also E'...' with backslash escapes), "..." identifiers and $tag$...$tag$ bodies. psql
 * meta-command lines (starting with a backslash, e.g. `\set ON_ERROR_STOP 1`) are dropped:
 * pgqctl stops at the first error anyway. Blank and comment-only pieces are dropped too.
 */
std::vector<std::string> split_sql_script(std::string_view script);

}  // namespace pgqctl
