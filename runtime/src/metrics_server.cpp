#include "pgqpp/runtime/metrics_server.hpp"

#include "pgqpp/runtime/config.hpp"
#include "pgqpp/runtime/logging.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include <atomic>
#include <thread>
#include <utility>

namespace pgqpp::runtime {

namespace asio = boost::asio;
using asio::ip::tcp;

std::optional<metrics_server_options> metrics_server_options::from(const config& cfg) {
    const auto port = cfg.get_int("metrics_port");
    if (port == 0) return std::nullopt;
    metrics_server_options o;
    o.address = cfg.get_string("metrics_address");
    o.port = static_cast<std::uint16_t>(port);
    return o;
}

namespace {

/// Ends the request head: an empty line ("\r\n\r\n", or "\n\n" from sloppy clients).
std::pair<asio::buffers_iterator<asio::streambuf::const_buffers_type>, bool> end_of_head(
    asio::buffers_iterator<asio::streambuf::const_buffers_type> begin,
    asio::buffers_iterator<asio::streambuf::const_buffers_type> end) {
    char prev = 0;
    char prev2 = 0;
    for (auto it = begin; it != end; ++it) {
        const char c = *it;
        if (c == '\n' && (prev == '\n' || (prev == '\r' && prev2 == '\n'))) return {it + 1, true};
        prev2 = prev;
        prev = c;
    }
    return {begin, false};
}

}  // namespace

struct metrics_server::impl {
    const metric_registry& registry;
    metrics_server_options options;
    // Declared before io: sessions still queued in io count themselves down when io is
    // destroyed.
    std::size_t connections = 0;  // only touched on the server thread
    asio::io_context io{1};
    tcp::acceptor acceptor{io};
    std::thread thread;
    std::atomic<std::uint64_t> served{0};
    std::uint16_t bound_port = 0;
    tcp::endpoint bound;
    log_context log{"metrics"};

    struct session : std::enable_shared_from_this<session> {
        impl& server;
        tcp::socket socket;
        asio::streambuf buffer;
        asio::steady_timer timer;
        std::string response;
        char scratch[4096];
        std::size_t drained = 0;

        session(impl& s, tcp::socket sock)
            : server{s}, socket{std::move(sock)}, buffer{s.options.max_request_bytes},
              timer{s.io} {}
        ~session() { --server.connections; }

        void start() {
            timer.expires_after(server.options.io_timeout);
            timer.async_wait([weak = std::weak_ptr<session>{shared_from_this()}](
                                 boost::system::error_code ec) {
                if (ec) return;
                if (auto self = weak.lock()) {
                    boost::system::error_code ignored;
                    self->socket.close(ignored);  // the pending read/write ends with an error
                }
            });
            asio::async_read_until(socket, buffer, &end_of_head,
                                   [self = shared_from_this()](boost::system::error_code ec,
                                                               std::size_t) { self->read(ec); });
        }

        void read(boost::system::error_code ec) {
            if (ec == asio::error::not_found) {  // the head did not fit in max_request_bytes
                answer(431, "Request Header Fields Too Large", "request head too large\n", false);
                return;
            }
            if (ec) return;  // closed, timed out
            const auto data = buffer.data();
            const std::string head{asio::buffers_begin(data), asio::buffers_end(data)};
            const std::string line = head.substr(0, head.find_first_of("\r\n"));
            const auto sp1 = line.find(' ');
            const auto sp2 = sp1 == std::string::npos ? sp1 : line.find(' ', sp1 + 1);
            if (sp2 == std::string::npos || line.compare(sp2 + 1, 7, "HTTP/1.") != 0) {
                answer(400, "Bad Request", "bad request\n", false);
                return;
            }
            const std::string method = line.substr(0, sp1);
            std::string target = line.substr(sp1 + 1, sp2 - sp1 - 1);
            target = target.substr(0, target.find('?'));
            const bool head_only = method == "HEAD";
            if (method != "GET" && !head_only) {
                answer(405, "Method Not Allowed", "only GET and HEAD\n", false);
                return;
            }
            if (target != server.options.path) {
                answer(404, "Not Found", "not found; metrics are at " + server.options.path + "\n",
                       head_only);
                return;
            }
            answer(200, "OK", server.registry.render(), head_only);
        }

        void answer(int status, const char* reason, const std::string& body, bool head_only) {
            ++server.served;
            response = "HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\n";
            response += status == 200 ? "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
                                      : "Content-Type: text/plain; charset=utf-8\r\n";
            if (status == 405) response += "Allow: GET, HEAD\r\n";
            response += "Content-Length: " + std::to_string(body.size()) + "\r\n";
            response += "Connection: close\r\n\r\n";
            if (!head_only) response += body;
            asio::async_write(socket, asio::buffer(response),
                              [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                                  if (ec) {
                                      self->close();
                                      return;
                                  }
                                  // Lingering close: stop sending, then read (and drop) what
                                  // the client still sends until it closes. Closing with
                                  // unread input would send a RST that can destroy the
                                  // answer before the client reads it (e.g. after 431).
                                  boost::system::error_code ignored;
                                  self->socket.shutdown(tcp::socket::shutdown_send, ignored);
                                  self->drain();
                              });
        }

        void drain() {
            socket.async_read_some(asio::buffer(scratch),
                                   [self = shared_from_this()](boost::system::error_code ec,
                                                               std::size_t n) {
                                       self->drained += n;
                                       if (ec || self->drained > (std::size_t{1} << 20)) {
                                           self->close();
                                           return;
                                       }
                                       self->drain();
                                   });
        }

        void close() {
            boost::system::error_code ignored;
            socket.close(ignored);
            timer.cancel();
        }
    };

    impl(const metric_registry& r, metrics_server_options o) : registry{r}, options{std::move(o)} {
        const std::string where = options.address + ":" + std::to_string(options.port);
        boost::system::error_code ec;
        const auto address = asio::ip::make_address(options.address, ec);
        if (ec) {
            throw metrics_error{"metrics endpoint: invalid address '" + options.address +
                                "': " + ec.message()};
        }
        const tcp::endpoint ep{address, options.port};
        const auto fail = [&](const char* what) {
            throw metrics_error{"metrics endpoint: cannot " + std::string{what} + " " + where +
                                ": " + ec.message()};
        };
        acceptor.open(ep.protocol(), ec);
        if (ec) fail("open a socket for");
        acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
        acceptor.bind(ep, ec);
        if (ec) fail("listen on");
        acceptor.listen(asio::socket_base::max_listen_connections, ec);
        if (ec) fail("listen on");
        bound = acceptor.local_endpoint(ec);
        bound_port = bound.port();
        accept();
        thread = std::thread{[this] { io.run(); }};
        log.info("serving {} on {}:{}", options.path, options.address, bound_port);
    }

    void accept() {
        acceptor.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
            if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
            if (!ec) {
                if (connections >= options.max_connections) {
                    boost::system::error_code ignored;
                    socket.close(ignored);
                } else {
                    ++connections;
                    std::make_shared<session>(*this, std::move(socket))->start();
                }
            }
            accept();
        });
    }

    ~impl() { stop(); }

    void stop() {
        if (!thread.joinable()) return;
        io.stop();
        thread.join();
        boost::system::error_code ignored;
        acceptor.close(ignored);
    }
};

metrics_server::metrics_server(const metric_registry& registry, metrics_server_options options)
    : impl_{std::make_unique<impl>(registry, std::move(options))} {}

metrics_server::~metrics_server() { stop(); }

std::uint16_t metrics_server::port() const noexcept { return impl_->bound_port; }
boost::asio::ip::tcp::endpoint metrics_server::endpoint() const { return impl_->bound; }
std::uint64_t metrics_server::requests() const noexcept { return impl_->served.load(); }
void metrics_server::stop() { impl_->stop(); }

}  // namespace pgqpp::runtime
