/// @file pidfile.hpp
/// A pidfile that also guards against a second instance.
#pragma once

#include <stdexcept>
#include <string>
#include <sys/types.h>

namespace pgqpp::runtime {

/// The pidfile is held by another running process, or cannot be written.
class pidfile_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/**
 * Writes the process id to a file and holds an exclusive lock (flock) on it for the
 * object's lifetime; the destructor removes the file.
 *
 * The lock, not the pid in the file, decides whether another instance runs: a file left
 * behind by a crash (kill -9, power loss) is free and simply taken over, and a reused pid
 * never blocks a start. The lock is released by the kernel when the process dies, however
 * it dies.
 *
 * @code
 * pgqpp::runtime::pidfile pid{"/run/pgq-ticker/pgq-ticker.pid"};   // throws pidfile_error
 * @endcode
 */
class pidfile {
public:
    /**
     * Creates (or takes over) @p path, locks it and writes the pid followed by a newline.
     * @throws pidfile_error "pidfile /x.pid is held by another running process (pid 4711)"
     *         or "cannot write pidfile /x.pid: Permission denied"
     */
    explicit pidfile(std::string path);
    /// Removes the file (if it is still ours) and releases the lock.
    ~pidfile();
    pidfile(const pidfile&) = delete;
    pidfile& operator=(const pidfile&) = delete;

    const std::string& path() const noexcept { return path_; }

    /// Removes the file now (also done by the destructor). Safe to call from a signal-free
    /// context before std::_Exit(). Idempotent.
    void remove() noexcept;

    /**
     * The pid written in @p path if a running process holds its lock, else 0. For tools
     * that send signals to a daemon (like `pgqd -s`/`-k`/`-r`).
     */
    static pid_t running_pid(const std::string& path);

private:
    std::string path_;
    int fd_ = -1;
};

}  // namespace pgqpp::runtime
