/// @file connection_config.hpp
/// Where the database is: a libpq connection string, checked before anything connects.
#pragma once

#include <pqxx/connection>

#include <memory>
#include <string>
#include <string_view>

namespace pgqpp {

/**
 * A libpq connection string (`key=value ...` or a `postgresql://` URI), validated when the
 * object is made.
 *
 * Whatever the string leaves out comes from libpq's usual sources: the PG* environment
 * variables (PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD, ...), ~/.pgpass and the
 * service file. An empty string therefore means "all from the environment", like `psql`
 * without arguments.
 *
 * @code
 * pgqpp::connection_config db{"host=/run/postgresql dbname=mail"};
 * auto conn = db.connect();             // std::unique_ptr<pqxx::connection>
 * @endcode
 *
 * Validation uses libpq's own parser (PQconninfoParse): an unknown keyword or broken
 * quoting is a pgqpp::invalid_argument naming the problem. Messages never contain a
 * password: if the string holds one, the quoted parts of libpq's message are hidden.
 */
class connection_config {
public:
    /// All settings from the environment (an empty connection string).
    connection_config() = default;

    /**
     * @param conninfo a libpq connection string or URI
     * @throws pgqpp::invalid_argument if libpq cannot parse it
     */
    explicit connection_config(std::string conninfo);

    /// The connection string as given (may contain a password: do not log it; see describe()).
    const std::string& conninfo() const noexcept { return conninfo_; }

    /**
     * A description safe for logs: the host, port, database and user this string sets
     * (or "from environment"), never the password. Example: "host=db1 port=5432 dbname=mail".
     */
    std::string describe() const;

    /**
     * Opens a new connection.
     * @throws pgqpp::connection_lost if the server cannot be reached or refuses the login
     *         (the message is libpq's, which never includes the password)
     */
    std::unique_ptr<pqxx::connection> connect() const;

    /**
     * A copy with @p key set to @p value unless the string already sets it (e.g. a default
     * `connect_timeout` or `application_name`).
     * @throws pgqpp::invalid_argument if @p key is not a libpq keyword
     */
    connection_config with_default(std::string_view key, std::string_view value) const;

    /// Whether the string sets @p key explicitly (environment variables do not count).
    bool has(std::string_view key) const;

private:
    std::string conninfo_;
};

/// Quotes @p value for a `key=value` connection string: 'it''s' becomes 'it\'s'.
std::string quote_conninfo_value(std::string_view value);

}  // namespace pgqpp
