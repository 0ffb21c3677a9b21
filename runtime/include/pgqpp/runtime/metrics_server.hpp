/// @file metrics_server.hpp
/// An HTTP endpoint for Prometheus: GET /metrics returns a metric_registry's text.
///
/// @code
/// std::unique_ptr<pgqpp::runtime::metrics_server> http;
/// if (auto o = pgqpp::runtime::metrics_server_options::from(cfg))   // metrics_port != 0
///     http = std::make_unique<pgqpp::runtime::metrics_server>(metrics, *o);
/// @endcode
///
/// It runs on a thread and io_context of its own, so a scrape never waits for the
/// program's loop (which may be inside a long batch) and never delays it.
#pragma once

#include "pgqpp/runtime/metrics.hpp"
#include "pgqpp/runtime/values.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

namespace pgqpp::runtime {

class config;

/// The endpoint cannot be started (bad address, port in use, ...).
class metrics_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Settings of a metrics_server.
struct metrics_server_options {
    /// IPv4 or IPv6 address to bind ("0.0.0.0" or "::" for all interfaces).
    std::string address = "127.0.0.1";
    /// TCP port; 0 binds an ephemeral port (see metrics_server::port()).
    std::uint16_t port = 0;
    /// The path served; any other path is 404.
    std::string path = "/metrics";
    /// Longest request head accepted (request line and headers); longer gets 431.
    std::size_t max_request_bytes = 8192;
    /// Connections served at once; more are closed at once.
    std::size_t max_connections = 64;
    /// A connection that has not sent its request (or read the answer) by then is closed.
    duration io_timeout = std::chrono::seconds{10};

    /// From metrics_address and metrics_port (standard_options()); nullopt if the port is 0.
    static std::optional<metrics_server_options> from(const config& cfg);
};

/**
 * Serves `GET /metrics` (and HEAD) over HTTP/1.x: 200 with
 * `Content-Type: text/plain; version=0.0.4; charset=utf-8`; 404 for other paths, 405 for
 * other methods, 400 for a malformed request, 431 for a request head over
 * max_request_bytes. Every answer closes the connection. Concurrent scrapes are served
 * concurrently (up to max_connections).
 */
class metrics_server {
public:
    /**
     * Binds, listens and starts the server thread.
     * @param registry rendered at each scrape; must outlive the server
     * @throws metrics_error "metrics endpoint: cannot listen on 127.0.0.1:9187: Address
     *         already in use"
     */
    metrics_server(const metric_registry& registry, metrics_server_options options);
    /// stop().
    ~metrics_server();
    metrics_server(const metrics_server&) = delete;
    metrics_server& operator=(const metrics_server&) = delete;

    /// The bound port (the real one when options.port was 0).
    std::uint16_t port() const noexcept;
    /// The bound endpoint.
    boost::asio::ip::tcp::endpoint endpoint() const;
    /// Requests answered so far (any status).
    std::uint64_t requests() const noexcept;
    /// Closes the listening socket and all connections; joins the thread. Idempotent.
    void stop();

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace pgqpp::runtime
