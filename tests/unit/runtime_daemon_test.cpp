// Pidfile and signal handling (runtime/pidfile.hpp, runtime/daemon.hpp): in this process
// with raise(), and in a child process (tests/support/runtime_test_daemon.cpp) with kill().
#include <pgqpp/runtime/daemon.hpp>
#include <pgqpp/runtime/pidfile.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace rt = pgqpp::runtime;
using namespace std::chrono_literals;

#ifndef RUNTIME_TEST_DAEMON
#error "RUNTIME_TEST_DAEMON must name the helper binary"
#endif

namespace {

std::string temp_path(const std::string& name) {
    return (std::filesystem::temp_directory_path() /
            ("pgqpp_" + std::to_string(::getpid()) + "_" + name))
        .string();
}

std::string read_file(const std::string& path) {
    std::ifstream in{path};
    std::string s;
    std::getline(in, s);
    return s;
}

/// The test daemon as a child process whose stdout lines the test reads.
class child {
public:
    explicit child(std::vector<std::string> args) {
        int out[2];
        if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error{"pipe"};
        pid_ = ::fork();
        if (pid_ == 0) {
            ::dup2(out[1], STDOUT_FILENO);
            std::vector<char*> argv;
            std::string bin = RUNTIME_TEST_DAEMON;
            argv.push_back(bin.data());
            for (auto& a : args) argv.push_back(a.data());
            argv.push_back(nullptr);
            ::execv(bin.c_str(), argv.data());
            ::_exit(127);
        }
        ::close(out[1]);
        fd_ = out[0];
    }
    ~child() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
        ::close(fd_);
    }

    /// The next line of output, or "<timeout>" / "<eof>".
    std::string line(std::chrono::milliseconds timeout = 30s) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            const auto nl = buffer_.find('\n');
            if (nl != std::string::npos) {
                std::string l = buffer_.substr(0, nl);
                buffer_.erase(0, nl + 1);
                return l;
            }
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) return "<timeout>";
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
            char buf[256];
            const ssize_t n = ::read(fd_, buf, sizeof buf);
            if (n <= 0) return "<eof>";
            buffer_.append(buf, static_cast<std::size_t>(n));
        }
    }

    void signal(int sig) { ::kill(pid_, sig); }

    /// Waits for the exit; returns the exit status, 1000 + signal if killed, -1 on timeout.
    int wait(std::chrono::milliseconds timeout = 30s) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            int status = 0;
            const pid_t r = ::waitpid(pid_, &status, WNOHANG);
            if (r == pid_) {
                pid_ = -1;
                return WIFEXITED(status) ? WEXITSTATUS(status) : 1000 + WTERMSIG(status);
            }
            ::usleep(5000);
        }
        return -1;
    }

    pid_t pid() const { return pid_; }

private:
    pid_t pid_ = -1;
    int fd_ = -1;
    std::string buffer_;
};

}  // namespace

TEST(Pidfile, WritesThePidAndRemovesTheFile) {
    const auto path = temp_path("a.pid");
    {
        rt::pidfile p{path};
        EXPECT_EQ(read_file(path), std::to_string(::getpid()));
        EXPECT_EQ(rt::pidfile::running_pid(path), ::getpid());
    }
    EXPECT_FALSE(std::filesystem::exists(path));
    EXPECT_EQ(rt::pidfile::running_pid(path), 0);
}

TEST(Pidfile, RefusesWhileAnotherHolderLives) {
    const auto path = temp_path("b.pid");
    rt::pidfile first{path};
    // flock() locks belong to the open file: a second open() conflicts even in one process.
    try {
        rt::pidfile second{path};
        FAIL() << "second pidfile must be refused";
    } catch (const rt::pidfile_error& e) {
        EXPECT_EQ(std::string{e.what()}, "pidfile " + path +
                                             " is held by another running process (pid " +
                                             std::to_string(::getpid()) + ")");
    }
    EXPECT_TRUE(std::filesystem::exists(path));  // the refused one did not remove it
}

TEST(Pidfile, TakesOverAStaleFile) {
    const auto path = temp_path("c.pid");
    std::ofstream{path} << "999999\n";  // left behind by a crash: nobody holds its lock
    EXPECT_EQ(rt::pidfile::running_pid(path), 0);
    rt::pidfile p{path};
    EXPECT_EQ(read_file(path), std::to_string(::getpid()));
}

TEST(Pidfile, UnwritablePathIsAClearError) {
    try {
        rt::pidfile p{"/dev/null/x.pid"};
        FAIL();
    } catch (const rt::pidfile_error& e) {
        EXPECT_STREQ(e.what(), "cannot write pidfile /dev/null/x.pid: Not a directory");
    }
}

TEST(Daemon, SighupReloadsAndSigtermStopsInThisProcess) {
    boost::asio::io_context io;
    rt::daemon d{io, {"test", temp_path("d.pid")}};
    boost::asio::steady_timer keepalive{io, 1h};
    keepalive.async_wait([](boost::system::error_code) {});
    int reloads = 0;
    int stopped_by = -1;
    d.on_reload([&] {
        ++reloads;
        ::raise(SIGTERM);  // the second step, once the reload was seen
    });
    d.on_stop([&](int sig) {
        stopped_by = sig;
        keepalive.cancel();
    });
    d.start();
    EXPECT_TRUE(std::filesystem::exists(temp_path("d.pid")));
    ::raise(SIGHUP);
    io.run_for(30s);  // ends when keepalive is cancelled by the stop
    EXPECT_EQ(reloads, 1);
    EXPECT_EQ(stopped_by, SIGTERM);
    EXPECT_TRUE(d.stop_requested());
    d.finish();
    EXPECT_FALSE(std::filesystem::exists(temp_path("d.pid")));
}

TEST(Daemon, RequestStopBehavesLikeASignal) {
    boost::asio::io_context io;
    rt::daemon d{io, {}};
    int stopped_by = -1;
    d.on_stop([&](int sig) { stopped_by = sig; });
    d.start();
    EXPECT_FALSE(d.stop_requested());
    d.request_stop();
    EXPECT_TRUE(d.stop_requested());
    io.run_for(30s);
    EXPECT_EQ(stopped_by, 0);
}

TEST(DaemonProcess, SigtermStopsGracefullyAndRemovesThePidfile) {
    const auto pid = temp_path("e.pid");
    child c{{"--pidfile", pid}};
    ASSERT_EQ(c.line(), "ready");
    EXPECT_EQ(rt::pidfile::running_pid(pid), c.pid());
    c.signal(SIGHUP);
    EXPECT_EQ(c.line(), "reload");
    c.signal(SIGTERM);
    EXPECT_EQ(c.line(), "stopping");
    EXPECT_EQ(c.wait(), 0);
    EXPECT_FALSE(std::filesystem::exists(pid));
}

TEST(DaemonProcess, SigintAlsoStopsGracefully) {
    child c{{}};
    ASSERT_EQ(c.line(), "ready");
    c.signal(SIGINT);
    EXPECT_EQ(c.line(), "stopping");
    EXPECT_EQ(c.wait(), 0);
}

TEST(DaemonProcess, StopWaitsForTheCurrentWork) {
    child c{{"--busy-ms", "1500"}};
    ASSERT_EQ(c.line(), "ready");
    ASSERT_EQ(c.line(), "work-start");
    c.signal(SIGTERM);  // arrives while the loop is blocked in the work
    EXPECT_EQ(c.line(), "work-done");
    EXPECT_EQ(c.line(), "stopping");
    EXPECT_EQ(c.wait(), 0);
}

TEST(DaemonProcess, SecondSignalExitsAtOnceEvenWhileBusy) {
    const auto pid = temp_path("f.pid");
    child c{{"--busy-ms", "600000", "--pidfile", pid}};
    ASSERT_EQ(c.line(), "ready");
    ASSERT_EQ(c.line(), "work-start");
    c.signal(SIGTERM);
    // The first signal is handled on the daemon's own thread; give it a moment before the
    // second, so that the two are not merged into one delivery.
    ASSERT_TRUE([&] {
        for (int i = 0; i < 3000; ++i) {
            ::usleep(10000);
            c.signal(SIGTERM);
            const int status = c.wait(10ms);
            if (status != -1) return status == 128 + SIGTERM;
        }
        return false;
    }()) << "the second SIGTERM must end the process with status 143 long before the work ends";
    EXPECT_FALSE(std::filesystem::exists(pid));
}

TEST(DaemonProcess, SecondInstanceIsRefusedByThePidfile) {
    const auto pid = temp_path("g.pid");
    child first{{"--pidfile", pid}};
    ASSERT_EQ(first.line(), "ready");
    child second{{"--pidfile", pid}};
    EXPECT_EQ(second.line(), "<eof>");
    EXPECT_EQ(second.wait(), 1);
    EXPECT_EQ(rt::pidfile::running_pid(pid), first.pid());  // untouched
    first.signal(SIGTERM);
    EXPECT_EQ(first.wait(), 0);
}

TEST(DaemonProcess, BadCommandLineExitsWithUsageStatus) {
    child c{{"--no-such-option"}};
    EXPECT_EQ(c.line(), "<eof>");
    EXPECT_EQ(c.wait(), 2);
}
