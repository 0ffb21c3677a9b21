#include "pgqpp/runtime/listener.hpp"

#include "pgqpp/quote.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <libpq-fe.h>

namespace pgqpp::runtime {

std::string_view to_string(listener_state state) noexcept {
    switch (state) {
    case listener_state::stopped: return "stopped";
    case listener_state::connecting: return "connecting";
    case listener_state::listening: return "listening";
    case listener_state::reconnecting: return "reconnecting";
    }
    return "unknown";
}

namespace {

std::string conn_error(const PGconn* conn) {
    const std::string raw = conn != nullptr ? PQerrorMessage(conn) : "out of memory";
    // libpq's messages span lines ("...failed: FATAL: ...\n\tIs the server running...");
    // one line reads better in logs.
    std::string m;
    for (char c : raw) {
        const bool space = c == '\n' || c == '\t' || c == '\r' || c == ' ';
        if (space) {
            if (!m.empty() && m.back() != ' ') m += ' ';
        } else {
            m += c;
        }
    }
    while (!m.empty() && m.back() == ' ') m.pop_back();
    return m.empty() ? std::string{"unknown libpq error"} : m;
}

std::string conninfo_for(const pgqpp::connection_config& db, const listener_options& o) {
    pgqpp::connection_config c = db;
    if (!o.application_name.empty()) c = c.with_default("application_name", o.application_name);
    if (o.tcp_keepalives) {
        c = c.with_default("keepalives", "1")
                .with_default("keepalives_idle", "30")
                .with_default("keepalives_interval", "10")
                .with_default("keepalives_count", "3");
    }
    return c.conninfo();
}

}  // namespace

struct notification_listener::impl : std::enable_shared_from_this<impl> {
    using wait_type = boost::asio::posix::descriptor_base::wait_type;

    boost::asio::any_io_executor ex;
    std::string conninfo;
    std::string describe;
    std::vector<std::string> channels;
    listener_options options;
    log_context log;
    backoff policy;
    boost::asio::steady_timer timer;  // connect timeout, then reconnect delay
    boost::asio::posix::stream_descriptor socket;

    PGconn* conn = nullptr;
    PostgresPollingStatusType poll = PGRES_POLLING_WRITING;
    bool listen_pending = false;
    listener_state st = listener_state::stopped;
    std::uint64_t generation = 0;  // bumped on every close: stale completions are ignored
    bool stopped = true;           // no callbacks once stop() was called
    listener_stats counters;
    int pid = 0;

    notification_handler on_notify;
    state_handler on_state;

    impl(boost::asio::any_io_executor e, const pgqpp::connection_config& db,
         std::vector<std::string> ch, listener_options o, log_context l)
        : ex{e}, conninfo{conninfo_for(db, o)}, describe{db.describe()}, channels{std::move(ch)},
          options{std::move(o)}, log{std::move(l)}, policy{options.reconnect}, timer{e},
          socket{e} {}

    ~impl() { close(); }

    // ---- callbacks, always posted --------------------------------------------------------

    void set_state(listener_state s, const std::string& reason) {
        st = s;
        if (!on_state || stopped) return;
        boost::asio::post(ex, [self = shared_from_this(), s, reason] {
            if (!self->stopped && self->on_state) self->on_state(s, reason);
        });
    }

    void deliver(notification n) {
        ++counters.notifications;
        log.trace("NOTIFY {} '{}' from backend {}", n.channel, n.payload, n.backend_pid);
        if (!on_notify) return;
        boost::asio::post(ex, [self = shared_from_this(), n = std::move(n)] {
            if (!self->stopped && self->on_notify) self->on_notify(n);
        });
    }

    // ---- connection ----------------------------------------------------------------------

    void close() {
        ++generation;
        boost::system::error_code ignored;
        timer.cancel();
        if (socket.is_open()) {
            socket.cancel(ignored);
            socket.release();  // libpq owns the descriptor and closes it in PQfinish
        }
        if (conn != nullptr) {
            PQfinish(conn);
            conn = nullptr;
        }
        listen_pending = false;
        pid = 0;
    }

    /// Waits for @p what on the connection's current socket, then calls @p next, unless the
    /// connection was closed meanwhile.
    template <class Next>
    void wait(wait_type what, Next next) {
        const int fd = PQsocket(conn);
        if (fd < 0) {
            failed("connection has no socket: " + conn_error(conn));
            return;
        }
        // During connecting libpq may replace the socket (another host, SSL/GSS fallback),
        // possibly with the same number; registering afresh each time is always right.
        if (socket.is_open() && (st == listener_state::connecting || socket.native_handle() != fd)) {
            socket.release();
        }
        if (!socket.is_open()) {
            boost::system::error_code ec;
            socket.assign(fd, ec);
            if (ec) {
                failed("cannot watch the connection's socket: " + ec.message());
                return;
            }
        }
        socket.async_wait(what, [self = shared_from_this(), g = generation,
                                 next = std::move(next)](boost::system::error_code ec) {
            if (g != self->generation) return;
            if (ec) {
                self->failed("waiting on the connection's socket: " + ec.message());
                return;
            }
            next();
        });
    }

    void connect() {
        close();
        set_state(listener_state::connecting, {});
        log.debug("LISTEN connection: connecting to {}", describe);
        conn = PQconnectStart(conninfo.c_str());
        if (conn == nullptr || PQstatus(conn) == CONNECTION_BAD) {
            failed(conn_error(conn));
            return;
        }
        PQsetNoticeProcessor(
            conn,
            [](void* arg, const char* message) {
                static_cast<impl*>(arg)->log.debug("LISTEN connection: server notice: {}",
                                                   message);
            },
            this);
        timer.expires_after(options.connect_timeout);
        timer.async_wait([self = shared_from_this(), g = generation](boost::system::error_code ec) {
            if (ec || g != self->generation || self->st != listener_state::connecting) return;
            self->failed("timeout expired after " + format_duration(self->options.connect_timeout));
        });
        poll = PGRES_POLLING_WRITING;
        step_connect();
    }

    void step_connect() {
        switch (poll) {
        case PGRES_POLLING_OK: send_listen(); return;
        case PGRES_POLLING_FAILED: failed(conn_error(conn)); return;
        case PGRES_POLLING_READING:
            wait(wait_type::wait_read, [this] { poll = PQconnectPoll(conn); step_connect(); });
            return;
        case PGRES_POLLING_WRITING:
        default:
            wait(wait_type::wait_write, [this] { poll = PQconnectPoll(conn); step_connect(); });
            return;
        }
    }

    void send_listen() {
        if (PQsetnonblocking(conn, 1) != 0) {
            failed(conn_error(conn));
            return;
        }
        std::string sql;
        for (const auto& ch : channels) sql += "LISTEN " + pgqpp::quote_identifier(ch) + ";";
        if (PQsendQuery(conn, sql.c_str()) == 0) {
            failed(conn_error(conn));
            return;
        }
        listen_pending = true;
        flush();
    }

    void flush() {
        const int r = PQflush(conn);
        if (r < 0) {
            failed(conn_error(conn));
        } else if (r == 1) {
            wait(wait_type::wait_write, [this] { flush(); });
        } else {
            read();
        }
    }

    void read() {
        wait(wait_type::wait_read, [this] { readable(); });
    }

    void readable() {
        ++counters.wakeups;
        if (PQconsumeInput(conn) == 0) {
            failed(conn_error(conn));
            return;
        }
        while (listen_pending && PQisBusy(conn) == 0) {
            PGresult* res = PQgetResult(conn);
            if (res == nullptr) {
                listen_pending = false;
                listening();
                break;
            }
            const bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
            std::string error = ok ? std::string{} : PQresultErrorMessage(res);
            PQclear(res);
            if (!ok) {
                while (!error.empty() && error.back() == '\n') error.pop_back();
                failed("LISTEN failed: " + error);
                return;
            }
        }
        while (PGnotify* n = PQnotifies(conn)) {
            notification note{n->relname != nullptr ? n->relname : "",
                              n->extra != nullptr ? n->extra : "", n->be_pid};
            PQfreemem(n);
            deliver(std::move(note));
        }
        if (PQstatus(conn) == CONNECTION_BAD) {
            failed(conn_error(conn));
            return;
        }
        read();
    }

    void listening() {
        pid = PQbackendPID(conn);
        ++counters.connects;
        const bool again = counters.connects > 1;
        policy.reset();
        if (again) {
            log.info("LISTEN connection re-established (backend {})", pid);
        } else {
            log.debug("LISTEN active (backend {})", pid);
        }
        set_state(listener_state::listening, {});
    }

    void failed(const std::string& reason) {
        const bool was_listening = st == listener_state::listening;
        close();
        ++counters.failures;
        if (stopped) return;
        const duration delay = policy.next_delay();
        const auto shown = format_duration(std::chrono::duration_cast<std::chrono::milliseconds>(delay));
        if (was_listening) {
            log.warn("LISTEN connection lost: {}; reconnecting in {}", reason, shown);
        } else {
            log.warn("LISTEN connection failed: {}; retrying in {}", reason, shown);
        }
        set_state(listener_state::reconnecting, reason);
        timer.expires_after(delay);
        timer.async_wait([self = shared_from_this(), g = generation](boost::system::error_code ec) {
            if (ec || g != self->generation || self->stopped) return;
            self->connect();
        });
    }
};

notification_listener::notification_listener(boost::asio::any_io_executor ex,
                                             pgqpp::connection_config db,
                                             std::vector<std::string> channels,
                                             listener_options options, log_context log)
    : impl_{std::make_shared<impl>(std::move(ex), db, std::move(channels), std::move(options),
                                   std::move(log))} {}

notification_listener::~notification_listener() { stop(); }

void notification_listener::on_notification(notification_handler fn) {
    impl_->on_notify = std::move(fn);
}

void notification_listener::on_state_change(state_handler fn) { impl_->on_state = std::move(fn); }

void notification_listener::start() {
    if (!impl_->stopped) return;
    impl_->stopped = false;
    impl_->policy.reset();
    impl_->connect();
}

void notification_listener::stop() {
    impl_->stopped = true;
    impl_->close();
    impl_->st = listener_state::stopped;
}

listener_state notification_listener::state() const noexcept { return impl_->st; }
listener_stats notification_listener::stats() const noexcept { return impl_->counters; }
int notification_listener::backend_pid() const noexcept { return impl_->pid; }

}  // namespace pgqpp::runtime
