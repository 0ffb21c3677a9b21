#include "interrupt.hpp"

#include <chrono>
#include <csignal>
#include <thread>

namespace {
volatile std::sig_atomic_t stop_flag = 0;
extern "C" void pgqctl_on_stop(int) { stop_flag = 1; }
}  // namespace

namespace pgqctl {

void stop_on_signals() {
    std::signal(SIGINT, pgqctl_on_stop);
    std::signal(SIGTERM, pgqctl_on_stop);
}

bool stop_requested() { return stop_flag != 0; }

void sleep_unless_stopped(double seconds) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (!stop_requested() && std::chrono::steady_clock::now() < end)
        std::this_thread::sleep_for(std::chrono::milliseconds{20});
}

}  // namespace pgqctl
