#include "pgqpp/producer.hpp"

#include "insert_impl.hpp"
#include "params.hpp"
#include "pgqpp/detail/pqxx_compat.hpp"
#include "pgqpp/error.hpp"
#include "pgqpp/quote.hpp"
#include "pgqpp/validate.hpp"
#include "sql.hpp"

#include <pqxx/pqxx>

#include <iterator>
#include <tuple>

namespace pgqpp {

namespace detail {

void append_array_element(std::string& out, std::string_view s) {
    out += '"';
    std::size_t start = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '"' || s[i] == '\\') {
            out.append(s, start, i - start);
            out += '\\';
            start = i;
        }
    }
    out.append(s, start, std::string_view::npos);
    out += '"';
}

event_arrays::event_arrays(std::size_t n, const std::function<const event&(std::size_t)>& at) {
    std::size_t type_bytes = 0, data_bytes = 0, extra_bytes[4] = {0, 0, 0, 0};
    bool any_extra[4] = {false, false, false, false};
    const std::optional<std::string> event::*extra_of[4] = {&event::extra1, &event::extra2,
                                                             &event::extra3, &event::extra4};
    for (std::size_t i = 0; i < n; ++i) {
        const event* e = &at(i);
        type_bytes += e->type.size() + 3;
        data_bytes += e->data.size() + 3;
        for (int k = 0; k < 4; ++k) {
            if (const auto& x = e->*extra_of[k]) {
                any_extra[k] = true;
                extra_bytes[k] += x->size() + 3;
            } else {
                extra_bytes[k] += 5;
            }
        }
    }
    // Reserve a little more than the text: escapes are rare in typical payloads.
    type.reserve(type_bytes + type_bytes / 16 + 2);
    data.reserve(data_bytes + data_bytes / 16 + 2);
    type += '{';
    data += '{';
    for (int k = 0; k < 4; ++k) {
        if (!any_extra[k]) continue;
        extra[k].emplace();
        extra[k]->reserve(extra_bytes[k] + 2);
        *extra[k] += '{';
    }
    for (std::size_t i = 0; i < n; ++i) {
        const event* e = &at(i);
        if (i != 0) {
            type += ',';
            data += ',';
            for (auto& x : extra) {
                if (x) *x += ',';
            }
        }
        append_array_element(type, e->type);
        append_array_element(data, e->data);
        for (int k = 0; k < 4; ++k) {
            if (!extra[k]) continue;
            if (const auto& x = e->*extra_of[k])
                append_array_element(*extra[k], *x);
            else
                *extra[k] += "NULL";
        }
    }
    type += '}';
    data += '}';
    for (auto& x : extra) {
        if (x) *x += '}';
    }
}

bool client_encoding_is_utf8(pqxx::transaction_base& tx) {
    const std::string enc = tx.conn().get_client_encoding();
    return enc == "UTF8";
}

rows_result insert_rows_with_ids(pqxx::transaction_base& tx, std::string_view queue,
                                 std::size_t n,
                                 const std::function<const event&(std::size_t)>& at) {
    const event_arrays a{n, at};
    rows_result out;
    try {
        const auto r = tx.exec_params(
            sql::insert_event_rows_ids.text, std::string{queue}, a.type, a.data,
            text_ref::of(a.extra[0]), text_ref::of(a.extra[1]), text_ref::of(a.extra[2]),
            text_ref::of(a.extra[3]));
        out.ids.reserve(r.size());
        for (const auto& row : r) {
            out.txid = row[0].as<std::int64_t>();
            out.ids.push_back(row[1].as<std::int64_t>());
        }
    } catch (...) {
        rethrow_translated(sql::insert_event_rows_ids.name);
    }
    if (out.ids.size() != n) {
        throw error{errc::server_error, "pgq.insert_event: " + std::to_string(out.ids.size()) +
                                            " ids for " + std::to_string(n) + " events"};
    }
    return out;
}

}  // namespace detail

namespace {

using detail::text_ref;

/// Runs @p q in @p tx, translating any error into pgqpp::error.
template <class... Args>
pqxx::result exec(pqxx::transaction_base& tx, const sql::query& q, Args&&... args) {
    try {
        return tx.exec_params(q.text, std::forward<Args>(args)...);
    } catch (...) {
        rethrow_translated(q.name);
    }
}

/// Splits [0, n) into runs of at most max_bytes of event text (at least one event each).
template <class F>
void for_each_chunk(const std::vector<event>& events, std::size_t max_bytes, F&& f) {
    std::size_t begin = 0, bytes = 0;
    for (std::size_t i = 0; i < events.size(); ++i) {
        const std::size_t b = events[i].size_bytes();
        if (i > begin && bytes + b > max_bytes) {
            f(events.data() + begin, events.data() + i);
            begin = i;
            bytes = 0;
        }
        bytes += b;
    }
    if (begin < events.size()) f(events.data() + begin, events.data() + events.size());
}

std::size_t insert_with_function(pqxx::transaction_base& tx, const std::string& queue,
                                 const std::vector<event>& events,
                                 const producer_options& options) {
    std::size_t total = 0;
    for_each_chunk(events, options.max_statement_bytes, [&](const event* first, const event* last) {
        const detail::event_arrays a{first, last};
        const auto r = exec(tx, sql::insert_event_bulk, queue, a.type, a.data,
                            text_ref::of(a.extra[0]), text_ref::of(a.extra[1]),
                            text_ref::of(a.extra[2]), text_ref::of(a.extra[3]));
        total += r[0][0].as<std::size_t>();
    });
    return total;
}

std::size_t insert_with_rows(pqxx::transaction_base& tx, const std::string& queue,
                             const std::vector<event>& events, const producer_options& options) {
    std::size_t total = 0;
    for_each_chunk(events, options.max_statement_bytes, [&](const event* first, const event* last) {
        const detail::event_arrays a{first, last};
        const auto r = exec(tx, sql::insert_event_rows, queue, a.type, a.data,
                            text_ref::of(a.extra[0]), text_ref::of(a.extra[1]),
                            text_ref::of(a.extra[2]), text_ref::of(a.extra[3]));
        total += r[0][0].as<std::size_t>();
    });
    return total;
}

/// What the bulk paths need to know about the queue (sql::bulk_target).
struct bulk_target {
    std::string table;      ///< pgq.event_<id>_<n>
    std::string ev_time;    ///< now() as text
    bool may_copy = false;  ///< INSERT privilege on the table
    std::optional<int> per_tx_limit;
    bool has_bulk_function = false;

    /// bulk_method::automatic, resolved (docs/producer.md, "Which bulk path").
    bulk_method automatic() const {
        if (may_copy && !per_tx_limit) return bulk_method::copy;
        return has_bulk_function ? bulk_method::function : bulk_method::rows;
    }
};

bulk_target get_bulk_target(pqxx::transaction_base& tx, const std::string& queue) {
    const auto r = exec(tx, sql::bulk_target, queue);
    bulk_target t;
    t.table = r[0][0].as<std::string>();
    t.ev_time = r[0][1].as<std::string>();
    t.may_copy = r[0][2].as<bool>();
    if (!r[0][3].is_null()) t.per_tx_limit = r[0][3].as<int>();
    t.has_bulk_function = r[0][4].as<bool>();
    return t;
}

std::size_t insert_with_copy(pqxx::transaction_base& tx, const std::string& queue,
                             const std::vector<event>& events, const bulk_target& target) {
    if (target.per_tx_limit) {
        throw invalid_argument{"COPY into queue '" + queue + "' would bypass its limit of " +
                                   std::to_string(*target.per_tx_limit) +
                                   " events per transaction; use bulk_method::rows",
                               "", "", "COPY"};
    }
    if (!target.may_copy) {
        throw permission_denied{"COPY into " + target.table +
                                    ": permission denied (needs INSERT on the event table, as "
                                    "pgq_admin or the owner has; pgq_writer may use "
                                    "bulk_method::rows)",
                                "42501", "permission denied for table " + target.table, "COPY"};
    }
    // current_event_table() returns the name unquoted ("pgq.event_1_0"); quote each part.
    const std::string table = quote_qualified_name(tx.conn(), target.table);
    const text_ref time{&target.ev_time};
    try {
        pqxx::stream_to copy{tx, table, std::begin(sql::copy_columns), std::end(sql::copy_columns)};
        for (const auto& e : events) {
            copy << std::make_tuple(time, text_ref::of(e.type), text_ref::of(e.data),
                                    text_ref::of(e.extra1), text_ref::of(e.extra2),
                                    text_ref::of(e.extra3), text_ref::of(e.extra4));
        }
        copy.complete();
    } catch (...) {
        rethrow_translated("COPY " + target.table);
    }
    return events.size();
}

}  // namespace

std::size_t event::size_bytes() const noexcept {
    std::size_t n = type.size() + data.size();
    for (const auto* x : {&extra1, &extra2, &extra3, &extra4}) {
        if (*x) n += (*x)->size();
    }
    return n;
}

std::string_view to_string(bulk_method m) noexcept {
    switch (m) {
    case bulk_method::automatic: return "automatic";
    case bulk_method::function: return "function";
    case bulk_method::copy: return "copy";
    case bulk_method::rows: return "rows";
    }
    return "unknown";
}

void validate_event(const event& ev, const producer_options& options, bool check_utf8) {
    const std::size_t bytes = ev.size_bytes();
    if (bytes > options.max_event_bytes) {
        throw invalid_argument{"event is " + std::to_string(bytes) + " bytes; at most " +
                               std::to_string(options.max_event_bytes) +
                               " are allowed (producer_options::max_event_bytes)"};
    }
    const std::pair<const char*, const std::string*> fields[] = {
        {"ev_type", &ev.type},
        {"ev_data", &ev.data},
        {"ev_extra1", ev.extra1 ? &*ev.extra1 : nullptr},
        {"ev_extra2", ev.extra2 ? &*ev.extra2 : nullptr},
        {"ev_extra3", ev.extra3 ? &*ev.extra3 : nullptr},
        {"ev_extra4", ev.extra4 ? &*ev.extra4 : nullptr},
    };
    for (const auto& [name, value] : fields) {
        if (value == nullptr) continue;
        if (check_utf8) {
            validate_text(name, *value);
        } else if (const auto nul = value->find('\0'); nul != std::string::npos) {
            // The server converts from the client encoding; only NUL can never pass.
            throw invalid_argument{std::string{name} + ": NUL byte at byte " +
                                   std::to_string(nul) + " (PostgreSQL text cannot contain NUL)"};
        }
    }
}

std::int64_t insert_event(pqxx::transaction_base& tx, std::string_view queue, const event& ev,
                          const producer_options& options) {
    validate_queue_name(queue);
    validate_event(ev, options, detail::client_encoding_is_utf8(tx));
    detail::ensure_begun(tx);
    const auto r = exec(tx, sql::insert_event, std::string{queue}, ev.type, ev.data,
                        text_ref::of(ev.extra1), text_ref::of(ev.extra2), text_ref::of(ev.extra3),
                        text_ref::of(ev.extra4));
    return r[0][0].as<std::int64_t>();
}

bulk_method choose_bulk_method(pqxx::transaction_base& tx, std::string_view queue,
                               bulk_method requested) {
    if (requested != bulk_method::automatic) return requested;
    validate_queue_name(queue);
    detail::ensure_begun(tx);
    return get_bulk_target(tx, std::string{queue}).automatic();
}

std::size_t insert_events(pqxx::transaction_base& tx, std::string_view queue,
                          const std::vector<event>& events, const producer_options& options) {
    validate_queue_name(queue);
    const bool utf8 = detail::client_encoding_is_utf8(tx);
    for (std::size_t i = 0; i < events.size(); ++i) {
        try {
            validate_event(events[i], options, utf8);
        } catch (const invalid_argument& e) {
            throw invalid_argument{"event " + std::to_string(i) + ": " + e.what()};
        }
    }
    if (events.empty()) return 0;
    detail::ensure_begun(tx);
    const std::string q{queue};
    std::optional<bulk_target> target;
    bulk_method method = options.method;
    if (method == bulk_method::automatic || method == bulk_method::copy) {
        target = get_bulk_target(tx, q);
        if (method == bulk_method::automatic) method = target->automatic();
    }
    switch (method) {
    case bulk_method::copy: return insert_with_copy(tx, q, events, *target);
    case bulk_method::function: return insert_with_function(tx, q, events, options);
    case bulk_method::rows: return insert_with_rows(tx, q, events, options);
    case bulk_method::automatic: break;
    }
    throw invalid_argument{"unknown bulk_method"};
}

}  // namespace pgqpp
