#include "pgqpp/runtime/pidfile.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace pgqpp::runtime {

namespace {

std::string read_pid_text(int fd) {
    char buf[32] = {};
    const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0) return {};
    std::string s{buf, static_cast<std::size_t>(n)};
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

std::string system_message(const std::string& what, const std::string& path, int err) {
    return what + " " + path + ": " + std::strerror(err);
}

}  // namespace

pidfile::pidfile(std::string path) : path_{std::move(path)} {
    // Open, lock, and make sure the locked file is still the one at `path` (another
    // process may have removed it between our open() and flock(): then retry).
    for (int attempt = 0; attempt < 10; ++attempt) {
        const int fd = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0) throw pidfile_error{system_message("cannot write pidfile", path_, errno)};
        if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
            const int err = errno;
            const std::string holder = read_pid_text(fd);
            ::close(fd);
            if (err == EWOULDBLOCK) {
                throw pidfile_error{"pidfile " + path_ + " is held by another running process" +
                                    (holder.empty() ? std::string{} : " (pid " + holder + ")")};
            }
            throw pidfile_error{system_message("cannot lock pidfile", path_, err)};
        }
        struct stat by_fd {};
        struct stat by_path {};
        if (::fstat(fd, &by_fd) == 0 && ::stat(path_.c_str(), &by_path) == 0 &&
            by_fd.st_dev == by_path.st_dev && by_fd.st_ino == by_path.st_ino) {
            const std::string text = std::to_string(::getpid()) + "\n";
            if (::ftruncate(fd, 0) != 0 ||
                ::pwrite(fd, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) {
                const int err = errno;
                ::close(fd);
                throw pidfile_error{system_message("cannot write pidfile", path_, err)};
            }
            fd_ = fd;
            return;
        }
        ::close(fd);
    }
    throw pidfile_error{"cannot take pidfile " + path_ + ": it keeps being replaced"};
}

pidfile::~pidfile() { remove(); }

void pidfile::remove() noexcept {
    if (fd_ < 0) return;
    // Unlink while holding the lock, so that a starting process either sees our locked
    // file or no file; then release.
    struct stat by_fd {};
    struct stat by_path {};
    if (::fstat(fd_, &by_fd) == 0 && ::stat(path_.c_str(), &by_path) == 0 &&
        by_fd.st_dev == by_path.st_dev && by_fd.st_ino == by_path.st_ino) {
        ::unlink(path_.c_str());
    }
    ::close(fd_);
    fd_ = -1;
}

pid_t pidfile::running_pid(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    pid_t pid = 0;
    if (::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK) {
        pid = static_cast<pid_t>(std::atol(read_pid_text(fd).c_str()));
    } else {
        ::flock(fd, LOCK_UN);
    }
    ::close(fd);
    return pid;
}

}  // namespace pgqpp::runtime
