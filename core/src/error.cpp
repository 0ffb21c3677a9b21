#include "pgqpp/error.hpp"

#include <pqxx/except>
#include <pqxx/transaction_base>

#include <cstring>

namespace pgqpp {

namespace {

// boost::system::error_category has a protected non-virtual destructor by design; the one
// instance is a function-local static that is never deleted through a base pointer.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class category final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "pgqpp"; }

    std::string message(int value) const override {
        switch (static_cast<errc>(value)) {
        case errc::no_such_queue: return "no such queue";
        case errc::not_registered: return "consumer not registered on the queue";
        case errc::insert_disallowed: return "inserts into the queue are disallowed";
        case errc::per_tx_limit_exceeded: return "too many events in one transaction for the queue";
        case errc::permission_denied: return "permission denied";
        case errc::connection_lost: return "connection to the database lost (nothing committed)";
        case errc::commit_outcome_unknown:
            return "commit outcome unknown: the connection broke during COMMIT";
        case errc::invalid_argument: return "invalid argument";
        case errc::batch_not_found: return "batch not found";
        case errc::pgq_not_installed: return "pgq is not installed in the database";
        case errc::feature_not_available:
            return "feature not available in this pgq installation (real PgQ?)";
        case errc::transaction_rollback:
            return "transaction rolled back (serialization failure or deadlock)";
        case errc::server_error: return "database server error";
        case errc::queue_full: return "too many pending requests (producer queue full)";
        case errc::database_unavailable: return "database unavailable within the request timeout";
        case errc::shutting_down: return "producer shutting down";
        }
        return "unknown pgqpp error " + std::to_string(value);
    }
};
#pragma GCC diagnostic pop

bool starts_with(std::string_view s, std::string_view prefix) {
    return s.substr(0, prefix.size()) == prefix;
}

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

/// "Queue '<q>' allows max <n> events from one TX"
bool is_per_tx_limit_message(std::string_view m) {
    return starts_with(m, "Queue '") && ends_with(m, " events from one TX") &&
           m.find("' allows max ") != std::string_view::npos;
}

/// PgQ raises its errors with plain `raise exception`: SQLSTATE P0001 and a fixed text
/// (reference §2.1). These texts are a compatibility surface, so matching them is stable.
errc classify_raise_exception(std::string_view m) {
    if (m == "No such queue" || m == "no such queue" || m == "No such event queue" ||
        m == "Event queue not found" || m == "Queue not found" ||
        m == "Event queue not created yet")
        return errc::no_such_queue;
    if (starts_with(m, "Not subscriber to queue: ") || m == "consumer not registered")
        return errc::not_registered;
    if (m == "Insert into queue disallowed" || m == "Writing to queue disabled")
        return errc::insert_disallowed;
    if (is_per_tx_limit_message(m)) return errc::per_tx_limit_exceeded;
    if (m == "batch not found" || starts_with(m, "Cannot find data for batch ") ||
        starts_with(m, "could not construct sql for batch ") ||
        (starts_with(m, "batch_retry: batch ") && ends_with(m, " not found")) ||
        (starts_with(m, "event_retry_bulk: batch ") && ends_with(m, " not found")))
        return errc::batch_not_found;
    if (m == "Invalid NULL value" || m == "Queue name must not be NULL" ||
        starts_with(m, "cannot change parameter ") || starts_with(m, "invalid value for parameter ") ||
        starts_with(m, "insert_event_bulk: ") || starts_with(m, "event_retry_bulk: "))
        return errc::invalid_argument;
    return errc::server_error;
}

/// Functions pgqpp added to PgQ's SQL API: missing ones mean "real PgQ", not "no pgq".
bool names_pgqpp_addition(std::string_view m) {
    return m.find("insert_event_bulk") != std::string_view::npos ||
           m.find("event_retry_bulk") != std::string_view::npos;
}

errc classify_sqlstate(std::string_view state, std::string_view primary) {
    // PL/pgSQL `raise exception` gives P0001; PgQ's C code (insert_event_raw) raises the
    // same texts with elog(ERROR), which gives XX000.
    if (state == "P0001" || state == "XX000") return classify_raise_exception(primary);
    if (state == "42501") return errc::permission_denied;
    if (state == "3F000") {  // invalid_schema_name
        return primary.find("\"pgq\"") != std::string_view::npos ? errc::pgq_not_installed
                                                                  : errc::server_error;
    }
    if (state == "42883") {  // undefined_function
        if (names_pgqpp_addition(primary)) return errc::feature_not_available;
        if (primary.find("pgq.") != std::string_view::npos) return errc::pgq_not_installed;
        return errc::server_error;
    }
    if (state == "42P01") {  // undefined_table
        return primary.find("\"pgq.") != std::string_view::npos ? errc::pgq_not_installed
                                                                 : errc::server_error;
    }
    // Connection exceptions, and the server going away under us (admin_shutdown,
    // crash_shutdown, cannot_connect_now).
    if (starts_with(state, "08") || state == "57P01" || state == "57P02" || state == "57P03")
        return errc::connection_lost;
    if (starts_with(state, "40")) {
        // 40003 statement_completion_unknown: whether the statement ran is unknown; its
        // transaction is gone either way, so it is not "in doubt" the way COMMIT is.
        return errc::transaction_rollback;
    }
    if (starts_with(state, "22")) return errc::invalid_argument;  // data exceptions
    return errc::server_error;
}

std::string describe(std::string_view operation, std::string_view message,
                      std::string_view sqlstate) {
    std::string out;
    if (!operation.empty()) {
        out.append(operation);
        out.append(": ");
    }
    out.append(message);
    if (!sqlstate.empty()) {
        out.append(" (SQLSTATE ");
        out.append(sqlstate);
        out.append(")");
    }
    return out;
}

template <class E>
std::exception_ptr make(const std::string& what, std::string sqlstate, std::string primary,
                        std::string operation) {
    return std::make_exception_ptr(
        E{what, std::move(sqlstate), std::move(primary), std::move(operation)});
}

std::exception_ptr make_error(errc code, std::string sqlstate, std::string primary,
                              std::string operation, const std::string& what) {
    switch (code) {
    case errc::no_such_queue: return make<no_such_queue>(what, sqlstate, primary, operation);
    case errc::not_registered: return make<not_registered>(what, sqlstate, primary, operation);
    case errc::insert_disallowed:
        return make<insert_disallowed>(what, sqlstate, primary, operation);
    case errc::per_tx_limit_exceeded:
        return make<per_tx_limit_exceeded>(what, sqlstate, primary, operation);
    case errc::permission_denied:
        return make<permission_denied>(what, sqlstate, primary, operation);
    case errc::connection_lost: return make<connection_lost>(what, sqlstate, primary, operation);
    case errc::commit_outcome_unknown:
        return make<commit_in_doubt>(what, sqlstate, primary, operation);
    case errc::invalid_argument:
        return make<invalid_argument>(what, sqlstate, primary, operation);
    case errc::batch_not_found: return make<batch_not_found>(what, sqlstate, primary, operation);
    case errc::pgq_not_installed:
        return make<pgq_not_installed>(what, sqlstate, primary, operation);
    case errc::feature_not_available:
        return make<feature_not_available>(what, sqlstate, primary, operation);
    case errc::transaction_rollback:
        return make<transaction_rollback>(what, sqlstate, primary, operation);
    default:
        return std::make_exception_ptr(
            error{code, what, std::move(sqlstate), std::move(primary), std::move(operation)});
    }
}

}  // namespace

const boost::system::error_category& error_category() noexcept {
    static const category instance;
    return instance;
}

std::string_view to_string(errc e) noexcept {
    switch (e) {
    case errc::no_such_queue: return "no_such_queue";
    case errc::not_registered: return "not_registered";
    case errc::insert_disallowed: return "insert_disallowed";
    case errc::per_tx_limit_exceeded: return "per_tx_limit_exceeded";
    case errc::permission_denied: return "permission_denied";
    case errc::connection_lost: return "connection_lost";
    case errc::commit_outcome_unknown: return "commit_outcome_unknown";
    case errc::invalid_argument: return "invalid_argument";
    case errc::batch_not_found: return "batch_not_found";
    case errc::pgq_not_installed: return "pgq_not_installed";
    case errc::feature_not_available: return "feature_not_available";
    case errc::transaction_rollback: return "transaction_rollback";
    case errc::server_error: return "server_error";
    case errc::queue_full: return "queue_full";
    case errc::database_unavailable: return "database_unavailable";
    case errc::shutting_down: return "shutting_down";
    }
    return "unknown";
}

error::error(errc code, const std::string& what, std::string sqlstate, std::string server_message,
             std::string operation)
    : std::runtime_error(what),
      code_{code},
      sqlstate_{std::move(sqlstate)},
      server_message_{std::move(server_message)},
      operation_{std::move(operation)} {}

bool error::is_retryable() const noexcept {
    return code_ == errc::connection_lost || code_ == errc::transaction_rollback;
}

std::string primary_message(std::string_view text) {
    // libpq: "<SEVERITY>:  <primary>\n[DETAIL:  ...\n][CONTEXT:  ...\n]". The severity is
    // localized, but it is always followed by ":  " (two spaces).
    const auto sep = text.find(":  ");
    const auto first_line_end = text.find('\n');
    if (sep != std::string_view::npos && sep < first_line_end) text.remove_prefix(sep + 3);
    const auto end = text.find('\n');
    if (end != std::string_view::npos) text = text.substr(0, end);
    while (!text.empty() && (text.back() == '\r' || text.back() == ' ')) text.remove_suffix(1);
    return std::string{text};
}

std::exception_ptr make_server_error(std::string_view sqlstate, std::string_view message,
                                     std::string_view operation) {
    std::string primary = primary_message(message);
    const errc code = classify_sqlstate(sqlstate, primary);
    const std::string what = describe(operation, primary, sqlstate);
    return make_error(code, std::string{sqlstate}, std::move(primary), std::string{operation},
                      what);
}

std::exception_ptr translate(std::exception_ptr e, std::string_view operation) {
    if (!e) return e;
    try {
        std::rethrow_exception(e);
    } catch (const error&) {
        return e;
    } catch (const pqxx::insufficient_privilege& x) {
        // libpqxx 6.4 throws this one without its SQLSTATE.
        return make_server_error(x.sqlstate().empty() ? "42501" : x.sqlstate(), x.what(),
                                 operation);
    } catch (const pqxx::sql_error& x) {
        if (x.sqlstate().empty()) {
            // No SQLSTATE: not the server's answer but libpq's own failure, e.g. "server
            // closed the connection unexpectedly" (libpqxx 6.4 reports some lost
            // connections this way instead of as broken_connection).
            std::string primary = primary_message(x.what());
            return make_error(errc::connection_lost, "", primary, std::string{operation},
                              describe(operation, primary, ""));
        }
        return make_server_error(x.sqlstate(), x.what(), operation);
    } catch (const pqxx::in_doubt_error& x) {
        const std::string what = describe(operation, primary_message(x.what()), "");
        return make_error(errc::commit_outcome_unknown, "", primary_message(x.what()),
                          std::string{operation}, what);
    } catch (const pqxx::broken_connection& x) {
        std::string primary = primary_message(x.what());
        if (primary.empty()) primary = "connection to the database lost";
        return make_error(errc::connection_lost, "", primary, std::string{operation},
                          describe(operation, primary, ""));
    } catch (const pqxx::deadlock_detected& x) {
        const std::string primary = primary_message(x.what());
        return make_error(errc::transaction_rollback, "40P01", primary, std::string{operation},
                          describe(operation, primary, "40P01"));
    } catch (const pqxx::serialization_failure& x) {
        const std::string primary = primary_message(x.what());
        return make_error(errc::transaction_rollback, "40001", primary, std::string{operation},
                          describe(operation, primary, "40001"));
    } catch (const pqxx::statement_completion_unknown& x) {
        const std::string primary = primary_message(x.what());
        return make_error(errc::transaction_rollback, "40003", primary, std::string{operation},
                          describe(operation, primary, "40003"));
    } catch (const pqxx::transaction_rollback& x) {
        const std::string primary = primary_message(x.what());
        return make_error(errc::transaction_rollback, "40000", primary, std::string{operation},
                          describe(operation, primary, "40000"));
    } catch (...) {
        return e;
    }
}

void rethrow_translated(std::string_view operation) {
    std::rethrow_exception(translate(std::current_exception(), operation));
}

void commit(pqxx::transaction_base& tx) {
    try {
        tx.commit();
    } catch (...) {
        const auto e = translate(std::current_exception(), "COMMIT");
        try {
            std::rethrow_exception(e);
        } catch (const error& x) {
            // The server answered COMMIT with an error (serialization failure, deferred
            // constraint, ...): it rolled back, the error stands as it is.
            if (!x.sqlstate().empty() && x.code() != errc::connection_lost) throw;
            throw commit_in_doubt{"COMMIT: outcome unknown, the connection failed (" +
                                      x.server_message() +
                                      "); the transaction may or may not have committed",
                                  x.sqlstate(), x.server_message(), "COMMIT"};
        } catch (const std::exception& x) {
            throw commit_in_doubt{std::string{"COMMIT: outcome unknown ("} + x.what() + ")", "",
                                  x.what(), "COMMIT"};
        }
    }
}

errc code_of(std::exception_ptr e) noexcept {
    if (!e) return errc::server_error;
    try {
        std::rethrow_exception(translate(std::move(e), {}));
    } catch (const error& x) {
        return x.code();
    } catch (...) {
        return errc::server_error;
    }
}

}  // namespace pgqpp
