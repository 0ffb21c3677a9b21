/// @file listener.hpp
/// LISTEN on a dedicated PostgreSQL connection, driven entirely by Boost.Asio: connecting,
/// LISTEN and reading notifications never block the event loop, and the connection is
/// re-established (with backoff, and LISTEN again) whenever it breaks.
///
/// Most programs want tick_waiter (tick_waiter.hpp), which is built on this.
#pragma once

#include "pgqpp/connection_config.hpp"
#include "pgqpp/runtime/backoff.hpp"
#include "pgqpp/runtime/logging.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace pgqpp::runtime {

/// One NOTIFY as received.
struct notification {
    std::string channel;  ///< e.g. "pgq_tick"
    std::string payload;  ///< e.g. the queue name
    int backend_pid = 0;  ///< the notifying session's backend
};

/// Where the listener's connection is.
enum class listener_state {
    stopped,       ///< not started, or stopped
    connecting,    ///< connecting, or sending LISTEN
    listening,     ///< LISTEN is active: notifications arrive
    reconnecting,  ///< the connection failed or broke; waiting for the backoff delay
};

/// "stopped", "connecting", "listening", "reconnecting".
std::string_view to_string(listener_state state) noexcept;

/// Settings of a notification_listener.
struct listener_options {
    /// Delays between connection attempts.
    backoff_options reconnect{std::chrono::milliseconds{100}, std::chrono::seconds{10}, 2.0, 0.2};
    /// Give up a connection attempt after this long (libpq's connect_timeout only applies to
    /// blocking connects).
    duration connect_timeout = std::chrono::seconds{10};
    /// application_name of the connection, unless the connection string sets one.
    std::string application_name = "pgqpp_listener";
    /**
     * Turn on TCP keepalives (idle 30 s, interval 10 s, 3 probes) unless the connection
     * string sets them: an idle LISTEN connection would otherwise never notice a peer that
     * vanished without closing the connection (no effect on unix sockets).
     */
    bool tcp_keepalives = true;
};

/// Counters of a notification_listener.
struct listener_stats {
    std::uint64_t connects = 0;       ///< times LISTEN became active
    std::uint64_t failures = 0;       ///< failed connection attempts and lost connections
    std::uint64_t notifications = 0;  ///< notifications received
    std::uint64_t wakeups = 0;        ///< times the socket was readable (no busy loop: ~1 per message)
};

/**
 * Keeps a connection LISTENing on some channels and reports each notification.
 *
 * @code
 * pgqpp::runtime::notification_listener l{io.get_executor(), db, {"pgq_tick"}};
 * l.on_notification([](const pgqpp::runtime::notification& n) { ... n.payload ... });
 * l.on_state_change([](pgqpp::runtime::listener_state s, const std::string& why) { ... });
 * l.start();
 * @endcode
 *
 * How it works: libpq's non-blocking API (PQconnectStart/PQconnectPoll, PQsendQuery,
 * PQconsumeInput/PQnotifies) with the connection's socket waited on through a
 * boost::asio::posix::stream_descriptor (async_wait, read or write readiness). The socket
 * is only waited on, never read by Asio; libpq owns it.
 *
 * Callbacks are posted to the executor (never run inside a call of this class), in the
 * order things happened. After a reconnect LISTEN is sent again before the state becomes
 * listening; notifications sent while the connection was down are lost (PostgreSQL only
 * delivers to sessions listening at commit), which is why callers should also check for
 * work when the state becomes listening.
 *
 * Not thread-safe: use it from the executor's thread (a strand with a multi-threaded
 * io_context). Destroying it stops it.
 */
class notification_listener {
public:
    using notification_handler = std::function<void(const notification&)>;
    /// New state and, for reconnecting, the reason (libpq's message).
    using state_handler = std::function<void(listener_state, const std::string& reason)>;

    /**
     * @param ex       executor of the program's event loop
     * @param db       where to connect (validated already)
     * @param channels channel names to LISTEN on (quoted as identifiers; any text works)
     * @param log      context for log lines ("[db] LISTEN connection lost: ...")
     */
    notification_listener(boost::asio::any_io_executor ex, pgqpp::connection_config db,
                          std::vector<std::string> channels, listener_options options = {},
                          log_context log = {});
    ~notification_listener();
    notification_listener(const notification_listener&) = delete;
    notification_listener& operator=(const notification_listener&) = delete;

    void on_notification(notification_handler fn);
    void on_state_change(state_handler fn);

    /// Starts connecting (no-op if started).
    void start();
    /// Closes the connection; no callbacks are made after this returns.
    void stop();

    listener_state state() const noexcept;
    listener_stats stats() const noexcept;
    /// The backend pid of the LISTEN connection while listening, else 0.
    int backend_pid() const noexcept;

private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

}  // namespace pgqpp::runtime
