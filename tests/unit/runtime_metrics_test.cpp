// Prometheus registry and the /metrics endpoint, scraped over loopback
// (runtime/metrics.hpp, runtime/metrics_server.hpp).
#include <pgqpp/runtime/config.hpp>
#include <pgqpp/runtime/metrics.hpp>
#include <pgqpp/runtime/metrics_server.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <limits>
#include <thread>

namespace rt = pgqpp::runtime;
using boost::asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

/// Sends @p request to 127.0.0.1:@p port and returns everything the server answers.
std::string http(std::uint16_t port, const std::string& request) {
    boost::asio::io_context io;
    tcp::socket s{io};
    s.connect({boost::asio::ip::make_address("127.0.0.1"), port});
    boost::asio::write(s, boost::asio::buffer(request));
    std::string response;
    boost::system::error_code ec;
    boost::asio::read(s, boost::asio::dynamic_buffer(response), ec);  // until the server closes
    return response;
}

std::string get(std::uint16_t port, const std::string& path) {
    return http(port, "GET " + path + " HTTP/1.1\r\nHost: localhost\r\nUser-Agent: test\r\n\r\n");
}

std::string status_line(const std::string& response) {
    return response.substr(0, response.find("\r\n"));
}

std::string body(const std::string& response) {
    const auto p = response.find("\r\n\r\n");
    return p == std::string::npos ? std::string{} : response.substr(p + 4);
}

}  // namespace

TEST(Metrics, RendersTheTextExpositionFormat) {
    rt::metric_registry reg;
    auto& events = reg.counter("pgqpp_events_total", "Events processed.", {"queue", "consumer"});
    auto& lag = reg.gauge("pgqpp_lag_seconds", "Consumer lag.\nIn seconds \\ really.",
                          {"queue"});
    auto& up = reg.gauge("pgqpp_up", "1 while running.");
    events.labels({"letters", "mirror"}).inc(250);
    events.labels({"letters", "mirror"}).inc();
    events.labels({"a\"b\\c\nd", "x"}).inc(2);
    lag.labels({"letters"}).set(0.25);
    up.get().set(1);
    EXPECT_EQ(reg.render(),
              "# HELP pgqpp_events_total Events processed.\n"
              "# TYPE pgqpp_events_total counter\n"
              "pgqpp_events_total{queue=\"a\\\"b\\\\c\\nd\",consumer=\"x\"} 2\n"
              "pgqpp_events_total{queue=\"letters\",consumer=\"mirror\"} 251\n"
              "# HELP pgqpp_lag_seconds Consumer lag.\\nIn seconds \\\\ really.\n"
              "# TYPE pgqpp_lag_seconds gauge\n"
              "pgqpp_lag_seconds{queue=\"letters\"} 0.25\n"
              "# HELP pgqpp_up 1 while running.\n"
              "# TYPE pgqpp_up gauge\n"
              "pgqpp_up 1\n");
}

TEST(Metrics, CountersOnlyGoUpGaugesBothWays) {
    rt::metric_registry reg;
    auto& c = reg.counter("c_total", "c").get();
    c.inc(3);
    c.inc(-1);  // ignored
    EXPECT_EQ(c.value(), 3);
    auto& g = reg.gauge("g", "g").get();
    g.inc(5);
    g.dec(7);
    EXPECT_EQ(g.value(), -2);
}

TEST(Metrics, SameRegistrationReturnsTheSameFamilyConflictsAreErrors) {
    rt::metric_registry reg;
    auto& a = reg.counter("x_total", "x", {"db"});
    EXPECT_EQ(&a, &reg.counter("x_total", "x", {"db"}));
    EXPECT_THROW(reg.gauge("x_total", "x", {"db"}), std::invalid_argument);
    EXPECT_THROW(reg.counter("x_total", "x", {"queue"}), std::invalid_argument);
    EXPECT_THROW(reg.counter("1bad", "x"), std::invalid_argument);
    EXPECT_THROW(reg.counter("bad-name", "x"), std::invalid_argument);
    EXPECT_THROW(reg.counter("ok_total", "x", {"__reserved"}), std::invalid_argument);
    EXPECT_THROW(a.labels({}), std::invalid_argument);  // wrong number of values
    a.labels({"gone"}).inc();
    a.remove({"gone"});
    EXPECT_EQ(reg.render(), "# HELP x_total x\n# TYPE x_total counter\n");
}

TEST(Metrics, ValuesFormatAsPrometheusExpects) {
    EXPECT_EQ(rt::format_metric_value(0), "0");
    EXPECT_EQ(rt::format_metric_value(2000000), "2000000");
    EXPECT_EQ(rt::format_metric_value(-3), "-3");
    EXPECT_EQ(rt::format_metric_value(0.5), "0.5");
    EXPECT_EQ(rt::format_metric_value(std::nan("")), "NaN");
    EXPECT_EQ(rt::format_metric_value(std::numeric_limits<double>::infinity()), "+Inf");
    EXPECT_EQ(std::stod(rt::format_metric_value(1e20)), 1e20);
}

TEST(Metrics, ConcurrentUpdatesAreNotLost) {
    rt::metric_registry reg;
    auto& fam = reg.counter("n_total", "n", {"t"});
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&fam, t] {
            for (int i = 0; i < 10000; ++i) {
                fam.labels({"shared"}).inc();
                fam.labels({std::to_string(t)}).inc();
            }
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(fam.labels({"shared"}).value(), 40000);
}

TEST(MetricsServer, ServesMetricsOverLoopback) {
    rt::metric_registry reg;
    reg.counter("pgqpp_scrapes_test_total", "t").get().inc(7);
    rt::metrics_server server{reg, {"127.0.0.1", 0}};
    ASSERT_NE(server.port(), 0);
    const auto r = get(server.port(), "/metrics");
    EXPECT_EQ(status_line(r), "HTTP/1.1 200 OK");
    EXPECT_NE(r.find("\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"),
              std::string::npos);
    EXPECT_NE(r.find("\r\nConnection: close\r\n"), std::string::npos);
    EXPECT_EQ(body(r), reg.render());
    EXPECT_NE(r.find("Content-Length: " + std::to_string(reg.render().size()) + "\r\n"),
              std::string::npos);
    EXPECT_EQ(status_line(get(server.port(), "/metrics?debug=1")), "HTTP/1.1 200 OK");
}

TEST(MetricsServer, AnswersOtherRequestsWithTheRightStatus) {
    rt::metric_registry reg;
    rt::metrics_server server{reg, {"127.0.0.1", 0}};
    const auto p = server.port();
    EXPECT_EQ(status_line(get(p, "/")), "HTTP/1.1 404 Not Found");
    EXPECT_EQ(status_line(get(p, "/metrics/x")), "HTTP/1.1 404 Not Found");
    const auto post = http(p, "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
    EXPECT_EQ(status_line(post), "HTTP/1.1 405 Method Not Allowed");
    EXPECT_NE(post.find("\r\nAllow: GET, HEAD\r\n"), std::string::npos);
    const auto head = http(p, "HEAD /metrics HTTP/1.0\r\n\r\n");
    EXPECT_EQ(status_line(head), "HTTP/1.1 200 OK");
    EXPECT_EQ(body(head), "");
    EXPECT_EQ(status_line(http(p, "garbage\r\n\r\n")), "HTTP/1.1 400 Bad Request");
    EXPECT_EQ(status_line(http(p, "GET /metrics SPDY/3\r\n\r\n")), "HTTP/1.1 400 Bad Request");
    EXPECT_EQ(status_line(http(p, "GET /metrics HTTP/1.0\n\n")), "HTTP/1.1 200 OK");  // bare LF
    // A request head larger than max_request_bytes is cut off, not buffered without bound.
    const std::string huge = "GET /metrics HTTP/1.1\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n";
    EXPECT_EQ(status_line(http(p, huge)), "HTTP/1.1 431 Request Header Fields Too Large");
    EXPECT_EQ(server.requests(), 8u);
}

TEST(MetricsServer, ConcurrentScrapesAndAStalledClientDoNotBlockEachOther) {
    rt::metric_registry reg;
    auto& c = reg.counter("busy_total", "b").get();
    rt::metrics_server_options o{"127.0.0.1", 0};
    o.io_timeout = 500ms;
    rt::metrics_server server{reg, o};
    // A client that connects and never sends anything.
    boost::asio::io_context io;
    tcp::socket stalled{io};
    stalled.connect({boost::asio::ip::make_address("127.0.0.1"), server.port()});

    std::atomic<int> ok{0};
    std::vector<std::thread> scrapers;
    for (int t = 0; t < 8; ++t) {
        scrapers.emplace_back([&] {
            for (int i = 0; i < 10; ++i) {
                c.inc();
                if (status_line(get(server.port(), "/metrics")) == "HTTP/1.1 200 OK") ++ok;
            }
        });
    }
    for (auto& th : scrapers) th.join();
    EXPECT_EQ(ok.load(), 80);

    // The stalled connection is closed by the server after io_timeout.
    std::string rest;
    boost::system::error_code ec;
    boost::asio::read(stalled, boost::asio::dynamic_buffer(rest), ec);
    EXPECT_EQ(ec, boost::asio::error::eof);
    EXPECT_EQ(rest, "");
}

TEST(MetricsServer, BindFailuresAreClearErrors) {
    rt::metric_registry reg;
    rt::metrics_server first{reg, {"127.0.0.1", 0}};
    try {
        rt::metrics_server second{reg, {"127.0.0.1", first.port()}};
        FAIL() << "the port is taken";
    } catch (const rt::metrics_error& e) {
        EXPECT_EQ(std::string{e.what()}, "metrics endpoint: cannot listen on 127.0.0.1:" +
                                             std::to_string(first.port()) +
                                             ": Address already in use");
    }
    EXPECT_THROW((rt::metrics_server{reg, {"not-an-address", 0}}), rt::metrics_error);
}

TEST(MetricsServer, OptionsFromConfigZeroPortMeansOff) {
    rt::options_table t{"p", "s"};
    t.add(rt::standard_options());
    rt::config_loader loader{t};
    loader.parse_command_line({});
    EXPECT_FALSE(rt::metrics_server_options::from(loader.load()).has_value());
    loader.parse_command_line({"--metrics-port", "9187", "--metrics-address", "0.0.0.0"});
    const auto o = rt::metrics_server_options::from(loader.load());
    ASSERT_TRUE(o.has_value());
    EXPECT_EQ(o->port, 9187);
    EXPECT_EQ(o->address, "0.0.0.0");
}
