/// @file mail_client.hpp
/// Fetching a mailbox from a mail source over HTTP/1.1 (the protocol of mail_server.cpp):
/// GET /<source>/<mailbox>, one letter per line "uid TAB sender TAB subject TAB body".
#pragma once

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

namespace collector {

struct letter {
    std::string uid, sender, subject, body;
};

/// What a fetch gave.
struct fetch_result {
    enum class kind {
        ok,         ///< letters
        transient,  ///< the source failed (network, timeout, 5xx): try again later
        permanent,  ///< the source says no (4xx): trying again will not help
    };
    kind what = kind::ok;
    std::vector<letter> letters;
    std::string error;  ///< for transient and permanent
};

/// Fetches @p mailbox of @p source from the server at @p host:@p port. Never throws for a
/// failure of the source or the network: that is a transient result.
fetch_result fetch_mailbox(const std::string& host, const std::string& port,
                           const std::string& source, const std::string& mailbox,
                           std::chrono::milliseconds timeout);

}  // namespace collector
