// mail_server: a small stand-in for the external mail services the collector fetches from
// (docs/example-collector.md). HTTP/1.1 on Boost.Asio, one thread, every answer closes the
// connection.
//
//   GET /<source>/<mailbox>     the mailbox's letters, one per line:
//                               uid TAB sender TAB subject TAB body
//                               (404 for a mailbox whose name starts with "missing")
//   GET /_control/<source>?delay_ms=N&fail_every=N
//                               make a source slow (each answer waits N ms) and/or fail
//                               (every N-th request of the source gets 503; 1: all of them)
//   GET /_stats                 per source: "source requests failures max_concurrent"
//
// It counts the requests of each source being served at the same time (from the request
// line to the close), so a test can check the collector's per-source limit.
#include <pgqpp/runtime/runtime.hpp>

#include <boost/asio.hpp>

#include <spdlog/spdlog.h>

#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>

namespace asio = boost::asio;
namespace rt = pgqpp::runtime;
using asio::ip::tcp;

namespace {

struct source_state {
    std::int64_t delay_ms = 0;
    std::int64_t fail_every = 0;  ///< 0: never
    std::int64_t requests = 0, failures = 0;
    int current = 0, max_concurrent = 0;
};

struct server_state {
    std::map<std::string, source_state> sources;
    std::int64_t letters = 10;
};

/// "a=1, b=2" entries of a list option -> map.
std::map<std::string, std::int64_t> pairs(const std::vector<std::string>& items,
                                          const char* key) {
    std::map<std::string, std::int64_t> out;
    for (const auto& item : items) {
        const auto eq = item.find('=');
        if (eq == std::string::npos || eq == 0)
            throw std::invalid_argument{std::string{key} + ": expected SOURCE=N, got '" + item +
                                        "'"};
        out[item.substr(0, eq)] = std::stoll(item.substr(eq + 1));
    }
    return out;
}

/// Value of ?key=N in a query string, or -1.
std::int64_t query_int(const std::string& query, const std::string& key) {
    std::istringstream in{query};
    std::string part;
    while (std::getline(in, part, '&'))
        if (part.rfind(key + "=", 0) == 0) return std::stoll(part.substr(key.size() + 1));
    return -1;
}

/// The letters of a mailbox: generated, the same at every request.
std::string letters_of(const std::string& source, const std::string& mailbox, std::int64_t n) {
    std::string body;
    for (std::int64_t i = 1; i <= n; ++i)
        body += mailbox + "-" + std::to_string(i) + "\tfriend" + std::to_string(i) + "@" +
                source + "\tLetter " + std::to_string(i) + " to " + mailbox +
                "\tHello from " + source + ".\n";
    return body;
}

class session : public std::enable_shared_from_this<session> {
public:
    session(tcp::socket socket, server_state& state)
        : socket_{std::move(socket)}, timer_{socket_.get_executor()}, state_{state} {}

    void start() {
        asio::async_read_until(socket_, buf_, "\r\n\r\n",
                               [self = shared_from_this()](boost::system::error_code ec,
                                                           std::size_t) {
                                   if (!ec) self->on_request();
                               });
    }

private:
    void on_request() {
        std::istream in{&buf_};
        std::string method, target;
        in >> method >> target;
        if (method != "GET" || target.empty() || target[0] != '/')
            return reply(400, "bad request\n");
        const auto q = target.find('?');
        const std::string path = target.substr(1, q == std::string::npos ? q : q - 1);
        const std::string query = q == std::string::npos ? "" : target.substr(q + 1);
        const auto slash = path.find('/');
        if (path == "_stats") return reply(200, stats());
        if (slash == std::string::npos || slash == 0 || slash + 1 == path.size())
            return reply(404, "expected /<source>/<mailbox>\n");
        const std::string first = path.substr(0, slash), rest = path.substr(slash + 1);
        if (first == "_control") {
            auto& s = state_.sources[rest];
            if (auto d = query_int(query, "delay_ms"); d >= 0) s.delay_ms = d;
            if (auto f = query_int(query, "fail_every"); f >= 0) s.fail_every = f;
            return reply(200, "ok\n");
        }
        source_ = first;
        auto& s = state_.sources[source_];
        ++s.requests;
        s.max_concurrent = std::max(s.max_concurrent, ++s.current);
        counted_ = true;
        const bool fail = s.fail_every > 0 && s.requests % s.fail_every == 0;
        watch_client();
        timer_.expires_after(std::chrono::milliseconds{s.delay_ms});
        timer_.async_wait([self = shared_from_this(), fail, mailbox = rest](
                              boost::system::error_code ec) {
            if (ec) return;  // the client went away (watch_client)
            auto& st = self->state_.sources[self->source_];
            if (fail) {
                ++st.failures;
                return self->reply(503, "source unavailable\n");
            }
            if (mailbox.rfind("missing", 0) == 0) return self->reply(404, "no such mailbox\n");
            self->reply(200, letters_of(self->source_, mailbox, self->state_.letters));
        });
    }

    /// A client that closes its connection before the answer (a worker killed mid-fetch)
    /// abandons the request: it is dropped and no longer counted, as a server that stops
    /// working on a request whose client is gone. (The client sends nothing after its
    /// request, so the read ends only with the connection.)
    void watch_client() {
        socket_.async_read_some(asio::buffer(probe_),
                                [self = shared_from_this()](boost::system::error_code ec,
                                                            std::size_t) {
                                    if (!ec || !self->counted_) return;
                                    self->uncount();
                                    self->timer_.cancel();
                                    boost::system::error_code ignored;
                                    self->socket_.close(ignored);
                                });
    }

    std::string stats() const {
        std::string out;
        for (const auto& [name, s] : state_.sources)
            out += name + " " + std::to_string(s.requests) + " " + std::to_string(s.failures) +
                   " " + std::to_string(s.max_concurrent) + "\n";
        return out;
    }

    void reply(int status, std::string body) {
        const char* reason = status == 200 ? "OK" : status == 404 ? "Not Found"
                             : status == 503 ? "Service Unavailable" : "Bad Request";
        out_ = "HTTP/1.1 " + std::to_string(status) + " " + reason +
               "\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) +
               "\r\nConnection: close\r\n\r\n" + body;
        asio::async_write(socket_, asio::buffer(out_),
                          [self = shared_from_this()](boost::system::error_code, std::size_t) {
                              // Uncounted before the close: a client that saw the end of
                              // the answer is no longer "being served".
                              self->uncount();
                              boost::system::error_code ignored;
                              self->socket_.shutdown(tcp::socket::shutdown_both, ignored);
                              self->socket_.close(ignored);
                          });
    }

    void uncount() {
        if (counted_) --state_.sources[source_].current;
        counted_ = false;
    }

    tcp::socket socket_;
    asio::steady_timer timer_;
    server_state& state_;
    asio::streambuf buf_;
    std::string out_, source_;
    char probe_[64];
    bool counted_ = false;
};

void accept(tcp::acceptor& acceptor, server_state& state) {
    acceptor.async_accept([&](boost::system::error_code ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted) return;
        if (!ec) std::make_shared<session>(std::move(socket), state)->start();
        accept(acceptor, state);
    });
}

rt::options_table options() {
    rt::options_table t{"mail_server", "Serves generated mailboxes over HTTP for the collector."};
    t.add(rt::opt::string("address", "127.0.0.1", "Address to listen on."));
    t.add(rt::opt::integer("port", "0", "Port (0: any free one; printed on stdout).")
              .range(0, 65535));
    t.add(rt::opt::integer("letters", "10", "Letters in every mailbox.").range(0, 1000000));
    t.add(rt::opt::list("delay_ms", "", "SOURCE=N: answers of that source wait N ms."));
    t.add(rt::opt::list("fail_every", "",
                        "SOURCE=N: every N-th request of that source gets 503 (1: all)."));
    t.add(rt::standard_options());
    return t;
}

}  // namespace

int main(int argc, char** argv) {
    rt::config_loader loader{options()};
    std::optional<rt::config> cfg = loader.load_or_exit(argc, argv);
    if (!cfg) return loader.exit_code();
    rt::setup_logging(rt::logging_settings::from(*cfg));

    server_state state;
    asio::io_context io;
    tcp::acceptor acceptor{io};
    try {
        state.letters = cfg->get_int("letters");
        for (const auto& [src, ms] : pairs(cfg->get_list("delay_ms"), "delay_ms"))
            state.sources[src].delay_ms = ms;
        for (const auto& [src, n] : pairs(cfg->get_list("fail_every"), "fail_every"))
            state.sources[src].fail_every = n;
        const tcp::endpoint ep{asio::ip::make_address(cfg->get_string("address")),
                               static_cast<unsigned short>(cfg->get_int("port"))};
        acceptor.open(ep.protocol());
        acceptor.set_option(tcp::acceptor::reuse_address(true));
        acceptor.bind(ep);
        acceptor.listen();
    } catch (const std::exception& e) {
        spdlog::critical("{}", e.what());
        return rt::exit_failure;
    }
    std::cout << "listening on " << acceptor.local_endpoint().port() << std::endl;
    accept(acceptor, state);
    asio::signal_set signals{io, SIGTERM, SIGINT};
    signals.async_wait([&](boost::system::error_code, int) { io.stop(); });
    io.run();
    return 0;
}
