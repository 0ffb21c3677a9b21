// mail_client.hpp: a blocking HTTP/1.1 GET with a deadline (Boost.Asio's tcp::iostream).
#include "mail_client.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <cstdio>
#include <sstream>

namespace collector {
namespace {

/// A path segment, percent-encoded (anything but unreserved characters).
std::string encode(const std::string& s) {
    std::string out;
    for (unsigned char ch : s) {
        if (std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
            out += static_cast<char>(ch);
        } else {
            char hex[4];
            std::snprintf(hex, sizeof hex, "%%%02X", ch);
            out += hex;
        }
    }
    return out;
}

std::vector<letter> parse_letters(const std::string& body) {
    std::vector<letter> out;
    std::istringstream in{body};
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        std::vector<std::string> f;
        std::istringstream fields{line};
        std::string part;
        while (std::getline(fields, part, '\t')) f.push_back(part);
        if (f.size() != 4) throw std::runtime_error{"malformed letter line: " + line};
        out.push_back({f[0], f[1], f[2], f[3]});
    }
    return out;
}

}  // namespace

fetch_result fetch_mailbox(const std::string& host, const std::string& port,
                           const std::string& source, const std::string& mailbox,
                           std::chrono::milliseconds timeout) {
    fetch_result r;
    try {
        boost::asio::ip::tcp::iostream s;
        s.expires_after(timeout);  // connect, write and every read share the deadline
        s.connect(host, port);
        if (!s) throw std::runtime_error{"cannot connect to " + host + ":" + port + ": " +
                                         s.error().message()};
        s << "GET /" << encode(source) << "/" << encode(mailbox) << " HTTP/1.1\r\nHost: "
          << host << "\r\nConnection: close\r\n\r\n"
          << std::flush;
        std::string version, reason, line;
        int status = 0;
        s >> version >> status;
        std::getline(s, reason);
        std::size_t length = 0;
        while (std::getline(s, line) && line != "\r")
            if (line.rfind("Content-Length:", 0) == 0) length = std::stoul(line.substr(15));
        std::string body(length, '\0');
        s.read(body.data(), static_cast<std::streamsize>(length));
        if (!s) throw std::runtime_error{"connection lost or timed out: " + s.error().message()};
        if (status == 200) {
            r.letters = parse_letters(body);
        } else {
            r.what = status >= 400 && status < 500 ? fetch_result::kind::permanent
                                                   : fetch_result::kind::transient;
            r.error = "HTTP " + std::to_string(status) + ": " + body.substr(0, body.find('\n'));
        }
    } catch (const std::exception& e) {
        r.what = fetch_result::kind::transient;
        r.error = e.what();
    }
    return r;
}

}  // namespace collector
