#include "pgqpp/runtime/daemon.hpp"

#include "pgqpp/runtime/config.hpp"
#include "pgqpp/runtime/logging.hpp"
#include "pgqpp/runtime/pidfile.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>

#include <csignal>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace pgqpp::runtime {

namespace {
std::string signal_name(int signal) {
    switch (signal) {
    case SIGTERM: return "SIGTERM";
    case SIGINT: return "SIGINT";
    case SIGHUP: return "SIGHUP";
    default: return "signal " + std::to_string(signal);
    }
}
}  // namespace

daemon_options daemon_options::from(const config& cfg) {
    daemon_options o;
    o.name = cfg.table().program();
    o.pidfile = cfg.get_string("pidfile");
    return o;
}

struct daemon::impl : std::enable_shared_from_this<impl> {
    boost::asio::io_context& program_io;
    daemon_options options;
    log_context log;

    std::mutex mu;  // guards the callbacks
    std::function<void(int)> stop_fn;
    std::function<void()> reload_fn;
    std::atomic<bool> stopping{false};

    std::unique_ptr<pidfile> pid;
    boost::asio::io_context signal_io;
    std::optional<boost::asio::signal_set> signals;
    std::thread thread;
    bool started = false;

    impl(boost::asio::io_context& io, daemon_options o)
        : program_io{io}, options{std::move(o)}, log{options.name} {}

    void post_stop(int signal) {
        boost::asio::post(program_io, [self = shared_from_this(), signal] {
            std::function<void(int)> fn;
            {
                std::lock_guard<std::mutex> lk{self->mu};
                fn = self->stop_fn;
            }
            if (fn) fn(signal);
        });
    }

    void wait_for_signal() {
        signals->async_wait([self = shared_from_this()](boost::system::error_code ec, int sig) {
            if (ec) return;  // cancelled by finish()
            self->handle(sig);
            self->wait_for_signal();
        });
    }

    void handle(int sig) {
        if (sig == SIGHUP) {
            log.info("{}: reloading", signal_name(sig));
            boost::asio::post(program_io, [self = shared_from_this()] {
                std::function<void()> fn;
                {
                    std::lock_guard<std::mutex> lk{self->mu};
                    fn = self->reload_fn;
                }
                if (fn) fn();
            });
            return;
        }
        if (!stopping.exchange(true)) {
            log.info("{}: stopping after the current work (send it again to exit at once)",
                     signal_name(sig));
            post_stop(sig);
            return;
        }
        log.warn("{} while stopping: exiting at once", signal_name(sig));
        root_logger()->flush();
        if (pid) pid->remove();
        std::_Exit(128 + sig);
    }
};

daemon::daemon(boost::asio::io_context& io, daemon_options options)
    : impl_{std::make_shared<impl>(io, std::move(options))} {}

daemon::~daemon() { finish(); }

void daemon::on_stop(std::function<void(int)> fn) {
    std::lock_guard<std::mutex> lk{impl_->mu};
    impl_->stop_fn = std::move(fn);
}

void daemon::on_reload(std::function<void()> fn) {
    std::lock_guard<std::mutex> lk{impl_->mu};
    impl_->reload_fn = std::move(fn);
}

void daemon::start() {
    if (impl_->started) return;
    if (!impl_->options.pidfile.empty())
        impl_->pid = std::make_unique<pidfile>(impl_->options.pidfile);
    std::signal(SIGPIPE, SIG_IGN);
    impl_->signals.emplace(impl_->signal_io, SIGTERM, SIGINT, SIGHUP);
    impl_->wait_for_signal();
    impl_->started = true;
    impl_->thread = std::thread{[self = impl_] { self->signal_io.run(); }};
}

void daemon::request_stop() {
    if (!impl_->stopping.exchange(true)) impl_->post_stop(0);
}

bool daemon::stop_requested() const noexcept { return impl_->stopping.load(); }

void daemon::finish() {
    if (impl_->started) {
        // Cancel on the signal thread (signal_set is not thread-safe), then let it end.
        boost::asio::post(impl_->signal_io, [self = impl_] {
            boost::system::error_code ignored;
            self->signals->cancel(ignored);
            self->signals->clear(ignored);
        });
        impl_->thread.join();
        impl_->signals.reset();
        impl_->started = false;
    }
    impl_->pid.reset();
}

}  // namespace pgqpp::runtime
