#include "pgqpp/runtime/tick_waiter.hpp"

#include "pgqpp/error.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/steady_timer.hpp>

#include <map>
#include <set>

namespace pgqpp::runtime {

std::string_view to_string(wake_reason reason) noexcept {
    switch (reason) {
    case wake_reason::notified: return "notified";
    case wake_reason::timeout: return "timeout";
    case wake_reason::listener_ready: return "listener_ready";
    case wake_reason::listener_lost: return "listener_lost";
    case wake_reason::cancelled: return "cancelled";
    }
    return "unknown";
}

struct tick_waiter::impl : std::enable_shared_from_this<impl> {
    struct waiter {
        std::string queue;
        std::unique_ptr<boost::asio::steady_timer> timer;
        std::unique_ptr<detail::tick_completion> done;
    };

    boost::asio::any_io_executor ex;
    notification_listener listener;
    std::map<std::uint64_t, waiter> waiters;
    std::uint64_t next_id = 0;
    std::set<std::string, std::less<>> interest;  // queues waited on at least once
    std::set<std::string, std::less<>> pending;   // ...that were notified while not waited on
    listener_state last_state = listener_state::stopped;

    impl(boost::asio::any_io_executor e, pgqpp::connection_config db, listener_options o,
         log_context log)
        : ex{e},
          listener{e, std::move(db), {std::string{tick_channel}}, std::move(o), std::move(log)} {}

    void hook() {
        std::weak_ptr<impl> weak = shared_from_this();
        listener.on_notification([weak](const notification& n) {
            if (auto self = weak.lock()) self->notified(n);
        });
        listener.on_state_change([weak](listener_state s, const std::string&) {
            if (auto self = weak.lock()) self->state_changed(s);
        });
    }

    void complete(std::uint64_t id, boost::system::error_code ec, wake_reason reason) {
        const auto it = waiters.find(id);
        if (it == waiters.end()) return;
        waiter w = std::move(it->second);
        waiters.erase(it);
        w.timer->cancel();
        w.done->complete(ec, reason);
    }

    void complete_all(boost::system::error_code ec, wake_reason reason) {
        auto all = std::move(waiters);
        waiters.clear();
        for (auto& [id, w] : all) {
            w.timer->cancel();
            w.done->complete(ec, reason);
        }
    }

    void notified(const notification& n) {
        if (n.channel != tick_channel) return;
        bool woke = false;
        for (auto it = waiters.begin(); it != waiters.end();) {
            if (it->second.queue == n.payload) {
                const auto id = it->first;
                ++it;
                complete(id, {}, wake_reason::notified);
                woke = true;
            } else {
                ++it;
            }
        }
        if (!woke && interest.count(n.payload) != 0) pending.insert(n.payload);
    }

    void state_changed(listener_state s) {
        const listener_state before = last_state;
        last_state = s;
        if (s == listener_state::listening) {
            complete_all({}, wake_reason::listener_ready);
        } else if (s == listener_state::reconnecting && before == listener_state::listening) {
            complete_all(pgqpp::make_error_code(errc::connection_lost), wake_reason::listener_lost);
        }
    }
};

tick_waiter::tick_waiter(boost::asio::any_io_executor ex, pgqpp::connection_config db,
                         listener_options options, log_context log)
    : executor_{ex}, impl_{std::make_shared<impl>(ex, std::move(db), std::move(options),
                                                  std::move(log))} {
    impl_->hook();
}

tick_waiter::~tick_waiter() { stop(); }

void tick_waiter::start() { impl_->listener.start(); }

void tick_waiter::stop() {
    impl_->listener.stop();
    impl_->last_state = listener_state::stopped;
    cancel();
}

void tick_waiter::cancel() {
    impl_->complete_all(boost::asio::error::operation_aborted, wake_reason::cancelled);
}

void tick_waiter::start_wait(std::string queue, duration timeout,
                             std::unique_ptr<detail::tick_completion> done) {
    impl& s = *impl_;
    if (s.interest.count(queue) == 0) s.interest.insert(queue);
    if (const auto it = s.pending.find(queue); it != s.pending.end()) {
        s.pending.erase(it);
        done->complete({}, wake_reason::notified);
        return;
    }
    const std::uint64_t id = ++s.next_id;
    auto timer = std::make_unique<boost::asio::steady_timer>(s.ex, timeout);
    timer->async_wait([weak = std::weak_ptr<impl>{impl_}, id](boost::system::error_code ec) {
        if (ec) return;
        if (auto self = weak.lock()) self->complete(id, {}, wake_reason::timeout);
    });
    s.waiters.emplace(id, impl::waiter{std::move(queue), std::move(timer), std::move(done)});
}

listener_state tick_waiter::state() const noexcept { return impl_->listener.state(); }
listener_stats tick_waiter::stats() const noexcept { return impl_->listener.stats(); }
int tick_waiter::backend_pid() const noexcept { return impl_->listener.backend_pid(); }

}  // namespace pgqpp::runtime
