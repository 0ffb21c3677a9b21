/// @file insert_impl.hpp
/// Internal: the insert paths shared by the synchronous functions and the async producer.
#pragma once

#include "pgqpp/producer.hpp"

#include <pqxx/transaction_base>

#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

namespace pgqpp::detail {

/// Whether text sent on @p tx's connection must be checked as UTF-8 (client_encoding UTF8).
bool client_encoding_is_utf8(pqxx::transaction_base& tx);

/// What insert_rows_with_ids() returns.
struct rows_result {
    std::int64_t txid = 0;            ///< txid_current() of the transaction
    std::vector<std::int64_t> ids;    ///< ev_id of each event, in input order
};

/// Inserts @p n events (event i is @p at(i)) with one statement calling pgq.insert_event
/// per event and returns their ids and the transaction's txid. Errors are translated
/// (pgqpp::error).
rows_result insert_rows_with_ids(pqxx::transaction_base& tx, std::string_view queue,
                                 std::size_t n,
                                 const std::function<const event&(std::size_t)>& at);

}  // namespace pgqpp::detail
