/// @file async_test_support.hpp
/// Bookkeeping for async producer tests: what each request's handler reported, and the
/// check that matters most: the committed requests are exactly the events in the queue,
/// each once (no loss, no duplicate).
#pragma once

#include <pgqpp/error.hpp>
#include <pgqpp/producer.hpp>

#include <boost/system/error_code.hpp>
#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace pgqpp::test {

/// Outcomes of requests 0..n-1, whose events carry the payload "req-<i>".
class async_outcomes {
public:
    struct outcome {
        boost::system::error_code ec;
        std::int64_t id = 0;
        int calls = 0;
    };

    explicit async_outcomes(int n) : outcomes_(static_cast<std::size_t>(n)) {}

    /// The event of request @p i.
    static pgqpp::event event(int i) { return {"test", "req-" + std::to_string(i)}; }

    /// A completion handler recording request @p i's outcome.
    auto handler(int i) {
        return [this, i](boost::system::error_code ec, std::int64_t id) { record(i, ec, id); };
    }

    void record(int i, boost::system::error_code ec, std::int64_t id) {
        std::lock_guard<std::mutex> lk{mu_};
        auto& o = outcomes_.at(static_cast<std::size_t>(i));
        o.ec = ec;
        o.id = id;
        if (++o.calls == 1) ++completed_;
    }

    int completed() const { return completed_.load(); }

    outcome at(int i) const {
        std::lock_guard<std::mutex> lk{mu_};
        return outcomes_.at(static_cast<std::size_t>(i));
    }

    /// Every handler ran exactly once, with success and an id.
    void expect_all_ok() const {
        std::lock_guard<std::mutex> lk{mu_};
        for (std::size_t i = 0; i < outcomes_.size(); ++i) {
            const auto& o = outcomes_[i];
            EXPECT_EQ(o.calls, 1) << "request " << i;
            EXPECT_FALSE(o.ec) << "request " << i << ": " << o.ec.message();
            EXPECT_GT(o.id, 0) << "request " << i;
        }
    }

    /// Every handler ran exactly once; failures are the clear ones a fault may cause.
    void expect_only_clear_failures() const {
        std::lock_guard<std::mutex> lk{mu_};
        for (std::size_t i = 0; i < outcomes_.size(); ++i) {
            const auto& o = outcomes_[i];
            EXPECT_EQ(o.calls, 1) << "request " << i;
            if (!o.ec) continue;
            EXPECT_EQ(&o.ec.category(), &pgqpp::error_category()) << o.ec.message();
            const auto code = static_cast<pgqpp::errc>(o.ec.value());
            EXPECT_TRUE(code == pgqpp::errc::commit_outcome_unknown ||
                        code == pgqpp::errc::database_unavailable)
                << "request " << i << ": " << o.ec.message();
        }
    }

    /**
     * Reads all events of @p queue: each request that succeeded is there exactly once, with
     * the id its handler got; one that failed with commit_outcome_unknown at most once; any
     * other failure not at all; and nothing else is there.
     */
    void expect_exactly_the_committed_events(pqxx::connection& conn,
                                             const std::string& queue) const {
        pqxx::work tx{conn};
        const auto pfx = tx.exec_params1("select queue_data_pfx from pgq.queue where queue_name = $1",
                                         queue)[0]
                             .as<std::string>();
        std::map<std::string, std::vector<std::int64_t>> ids_by_data;
        for (const auto& r : tx.exec("select ev_id, ev_data from " + pfx + " order by ev_id"))
            ids_by_data[r[1].as<std::string>()].push_back(r[0].as<std::int64_t>());
        tx.commit();

        std::lock_guard<std::mutex> lk{mu_};
        std::size_t expected = 0;
        for (std::size_t i = 0; i < outcomes_.size(); ++i) {
            const auto& o = outcomes_[i];
            const std::string data = "req-" + std::to_string(i);
            const auto it = ids_by_data.find(data);
            const std::size_t found = it == ids_by_data.end() ? 0 : it->second.size();
            if (o.calls == 1 && !o.ec) {
                ++expected;
                EXPECT_EQ(found, 1u) << data << " committed (id " << o.id << ") but found "
                                     << found << " times";
                if (found == 1) {
                    EXPECT_EQ(it->second.front(), o.id) << data;
                }
            } else if (o.ec == pgqpp::make_error_code(pgqpp::errc::commit_outcome_unknown)) {
                EXPECT_LE(found, 1u) << data << " (outcome unknown) duplicated";
                expected += found;
            } else {
                EXPECT_EQ(found, 0u) << data << " failed (" << o.ec.message()
                                     << ") but is in the queue";
            }
        }
        std::size_t total = 0;
        for (const auto& [data, ids] : ids_by_data) total += ids.size();
        EXPECT_EQ(total, expected) << "events in the queue that no request accounts for";
    }

private:
    mutable std::mutex mu_;
    std::vector<outcome> outcomes_;
    std::atomic<int> completed_{0};
};

}  // namespace pgqpp::test
