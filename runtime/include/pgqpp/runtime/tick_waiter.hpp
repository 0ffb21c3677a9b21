/// @file tick_waiter.hpp
/// Wake up when a queue gets a tick: on our SQL's `NOTIFY pgq_tick, '<queue>'`, or when a
/// poll timeout expires (the fallback for the real PgQ, which sends no NOTIFY, and for
/// notifications lost while the LISTEN connection was down).
///
/// @code
/// pgqpp::runtime::tick_waiter ticks{io.get_executor(), db, {}, log};
/// ticks.start();
/// void consumer::idle() {            // next_batch returned nothing
///     ticks.async_wait_for_tick("letters", poll_period,
///         [this](boost::system::error_code ec, pgqpp::runtime::wake_reason why) {
///             if (ec == boost::asio::error::operation_aborted) return;   // stopping
///             work();                                                    // next_batch again
///         });
/// }
/// @endcode
#pragma once

#include "pgqpp/runtime/listener.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/system/error_code.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace pgqpp::runtime {

/// Why a wait for a tick completed.
enum class wake_reason {
    notified,        ///< a `pgq_tick` notification for the queue arrived (now or since the last wait)
    timeout,         ///< the poll timeout expired first (the fallback)
    listener_ready,  ///< LISTEN became active (again): ticks may have been missed, look now
    listener_lost,   ///< the LISTEN connection broke (error_code: errc::connection_lost);
                     ///< it reconnects by itself, meanwhile waits only end by timeout
    cancelled,       ///< stop() or cancel() (error_code: operation_aborted)
};

/// "notified", "timeout", "listener_ready", "listener_lost", "cancelled".
std::string_view to_string(wake_reason reason) noexcept;

namespace detail {
/// A type-erased, move-only completion handler of signature void(error_code, wake_reason).
class tick_completion {
public:
    virtual ~tick_completion() = default;
    /// Posts the handler to its associated executor with these arguments.
    virtual void complete(boost::system::error_code ec, wake_reason reason) = 0;
};

template <class Handler>
class tick_completion_impl final : public tick_completion {
public:
    tick_completion_impl(Handler h, const boost::asio::any_io_executor& fallback)
        : work_{boost::asio::get_associated_executor(h, fallback)}, handler_{std::move(h)} {}

    void complete(boost::system::error_code ec, wake_reason reason) override {
        auto ex = work_.get_executor();
        boost::asio::post(ex, [h = std::move(handler_), ec, reason]() mutable { h(ec, reason); });
        work_.reset();
    }

private:
    boost::asio::executor_work_guard<
        boost::asio::associated_executor_t<Handler, boost::asio::any_io_executor>>
        work_;
    Handler handler_;
};
}  // namespace detail

/**
 * Waits for ticks of queues, by LISTEN on channel `pgq_tick` with a poll timeout as the
 * fallback. Completes each wait exactly once; never busy-loops.
 *
 * Semantics of async_wait_for_tick(queue, timeout, handler):
 * - completes with wake_reason::notified when a notification with payload == @p queue
 *   arrives, or at once if one arrived since the previous wait for this queue ended (so a
 *   tick between "next_batch returned nothing" and the wait is not slept through; the
 *   price is at most one extra poll after a tick that came during a batch);
 * - with wake_reason::timeout when @p timeout expires first;
 * - with wake_reason::listener_ready when LISTEN became active (first connect and each
 *   reconnect), because ticks may have been missed while it was not;
 * - with errc::connection_lost and wake_reason::listener_lost when a working LISTEN
 *   connection broke (reported once; failed reconnects are not reported, the waits then
 *   simply end by timeout);
 * - with boost::asio::error::operation_aborted and wake_reason::cancelled on stop().
 *
 * The handler is any completion token of signature
 * `void(boost::system::error_code, wake_reason)` (callback, boost::asio::use_future,
 * yield_context); it runs on its associated executor (default: this object's), never
 * inside async_wait_for_tick(). Several waits may be in progress (same or different queues).
 *
 * Not thread-safe: use it from the executor's thread.
 */
class tick_waiter {
public:
    /// The channel our SQL notifies on each tick.
    static constexpr std::string_view tick_channel = "pgq_tick";

    tick_waiter(boost::asio::any_io_executor ex, pgqpp::connection_config db,
                listener_options options = {}, log_context log = {});
    /// stop().
    ~tick_waiter();
    tick_waiter(const tick_waiter&) = delete;
    tick_waiter& operator=(const tick_waiter&) = delete;

    /// Starts the LISTEN connection (waits started before are fine: they time out, or wake
    /// with listener_ready).
    void start();
    /// Completes every wait with operation_aborted and closes the LISTEN connection.
    void stop();

    /// Waits for a tick of @p queue, at most @p timeout. See the class comment.
    template <class CompletionToken>
    auto async_wait_for_tick(std::string queue, duration timeout, CompletionToken&& token) {
        return boost::asio::async_initiate<CompletionToken,
                                           void(boost::system::error_code, wake_reason)>(
            [this](auto handler, std::string q, duration t) {
                using handler_t = std::decay_t<decltype(handler)>;
                start_wait(std::move(q), t,
                           std::make_unique<detail::tick_completion_impl<handler_t>>(
                               std::move(handler), executor_));
            },
            token, std::move(queue), timeout);
    }

    /// Completes the waits in progress with operation_aborted (the listener keeps running).
    void cancel();

    /// The LISTEN connection's state.
    listener_state state() const noexcept;
    /// The LISTEN connection's counters.
    listener_stats stats() const noexcept;
    /// The LISTEN connection's backend pid while listening, else 0.
    int backend_pid() const noexcept;

private:
    struct impl;
    void start_wait(std::string queue, duration timeout,
                    std::unique_ptr<detail::tick_completion> done);

    boost::asio::any_io_executor executor_;
    std::shared_ptr<impl> impl_;
};

}  // namespace pgqpp::runtime
