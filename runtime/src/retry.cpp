#include "pgqpp/runtime/retry.hpp"

#include "pgqpp/error.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/system_error.hpp>

#include <new>
#include <stdexcept>

namespace pgqpp::runtime {

failure_kind classify_failure(std::exception_ptr e) noexcept {
    if (!e) return failure_kind::transient;
    try {
        std::rethrow_exception(e);
    } catch (const pgqpp::error& err) {
        switch (err.code()) {
        case errc::invalid_argument:
        case errc::no_such_queue:
        case errc::not_registered:
        case errc::pgq_not_installed:
        case errc::feature_not_available:
        case errc::permission_denied:
        case errc::insert_disallowed:
        case errc::per_tx_limit_exceeded:
        case errc::batch_not_found:
            return failure_kind::permanent;
        default:
            return failure_kind::transient;
        }
    } catch (const std::logic_error&) {
        return failure_kind::permanent;
    } catch (const std::bad_alloc&) {
        return failure_kind::permanent;
    } catch (...) {
        return failure_kind::transient;
    }
}

std::string describe_failure(std::exception_ptr e) {
    if (!e) return "no error";
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& ex) {
        return ex.what();
    } catch (...) {
        return "unknown exception";
    }
}

struct retrier::state : std::enable_shared_from_this<state> {
    boost::asio::any_io_executor ex;
    boost::asio::steady_timer timer;
    backoff policy;
    log_context log;
    std::string what;
    classify_fn classify;
    std::function<void(std::exception_ptr, duration)> retry_fn;

    std::function<void()> attempt;
    done_fn done;
    std::uint64_t run_id = 0;  // a new run or cancel() invalidates older callbacks
    bool running = false;

    state(boost::asio::any_io_executor e, backoff_options o, log_context l, std::string w,
          classify_fn c, backoff::random_source r)
        : ex{e}, timer{e}, policy{o, std::move(r)}, log{std::move(l)}, what{std::move(w)},
          classify{c ? std::move(c) : classify_fn{classify_failure}} {}

    void finish(std::exception_ptr outcome) {
        running = false;
        ++run_id;
        auto fn = std::move(done);
        attempt = nullptr;
        done = nullptr;
        if (fn) boost::asio::post(ex, [fn = std::move(fn), outcome] { fn(outcome); });
    }

    void try_once(std::uint64_t id) {
        if (!running || id != run_id) return;
        std::exception_ptr failure;
        try {
            attempt();
        } catch (...) {
            failure = std::current_exception();
        }
        if (!failure) {
            if (policy.failures() > 0)
                log.info("{} succeeded after {} failure(s)", what, policy.failures());
            policy.reset();
            finish(nullptr);
            return;
        }
        if (classify(failure) == failure_kind::permanent) {
            log.error("{} failed: {} (not retrying)", what, describe_failure(failure));
            finish(failure);
            return;
        }
        auto self = shared_from_this();
        const duration delay =
            async_backoff_wait(timer, policy, [self, id](boost::system::error_code ec) {
                if (ec) return;
                self->try_once(id);
            });
        log.warn("{} failed: {}; retrying in {} (failure {})", what, describe_failure(failure),
                 format_duration(std::chrono::duration_cast<std::chrono::milliseconds>(delay)),
                 policy.failures());
        if (retry_fn) retry_fn(failure, delay);
    }
};

retrier::retrier(boost::asio::any_io_executor ex, backoff_options options, log_context log,
                 std::string what, classify_fn classify, backoff::random_source random)
    : state_{std::make_shared<state>(std::move(ex), options, std::move(log), std::move(what),
                                     std::move(classify), std::move(random))} {}

retrier::~retrier() {
    state_->done = nullptr;  // nobody to tell any more
    cancel();
}

void retrier::async_run(std::function<void()> attempt, done_fn done) {
    cancel();
    state_->attempt = std::move(attempt);
    state_->done = std::move(done);
    state_->running = true;
    state_->policy.reset();
    const std::uint64_t id = ++state_->run_id;
    boost::asio::post(state_->ex, [self = state_, id] { self->try_once(id); });
}

void retrier::cancel() {
    state_->timer.cancel();
    if (!state_->running) return;
    state_->finish(std::make_exception_ptr(
        boost::system::system_error{boost::asio::error::operation_aborted, "retrier cancelled"}));
}

bool retrier::running() const noexcept { return state_->running; }

void retrier::on_retry(std::function<void(std::exception_ptr, duration)> fn) {
    state_->retry_fn = std::move(fn);
}

const backoff& retrier::policy() const noexcept { return state_->policy; }

}  // namespace pgqpp::runtime
