#include "support/process.hpp"

#include "support/system_helpers.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>

namespace aiot::test {

process::process(const std::filesystem::path& exe, std::vector<std::string> args,
                 std::filesystem::path log_path)
    : log_path_(std::move(log_path))
{
    const int log_fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (log_fd < 0) {
        throw std::system_error(errno, std::generic_category(),
                                "cannot open log " + log_path_.string());
    }
    // Everything the child needs is prepared before fork: after it, only
    // async-signal-safe calls.
    std::string exe_text = exe.string();
    std::vector<char*> argv;
    argv.push_back(exe_text.data());
    for (auto& a : args) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    const pid_t parent = ::getpid();

    pid_ = ::fork();
    if (pid_ < 0) {
        const int err = errno;
        ::close(log_fd);
        throw std::system_error(err, std::generic_category(), "fork");
    }
    if (pid_ == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) {
            ::_exit(127);
        }
        ::dup2(log_fd, STDOUT_FILENO);
        ::dup2(log_fd, STDERR_FILENO);
        const int null_fd = ::open("/dev/null", O_RDONLY);
        if (null_fd >= 0) {
            ::dup2(null_fd, STDIN_FILENO);
        }
        ::execv(argv[0], argv.data());
        static constexpr char msg[] = "exec failed\n";
        [[maybe_unused]] auto n = ::write(STDERR_FILENO, msg, sizeof msg - 1);
        ::_exit(127);
    }
    ::close(log_fd);
}

process::~process()
{
    if (pid_ > 0 && !status_) {
        terminate();
    }
}

bool process::reap(bool block)
{
    if (status_) {
        return true;
    }
    int st = 0;
    const pid_t r = ::waitpid(pid_, &st, block ? 0 : WNOHANG);
    if (r == pid_) {
        status_ = WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? -WTERMSIG(st) : -1;
        return true;
    }
    return false;
}

bool process::running() { return !reap(false); }

std::optional<int> process::wait(std::chrono::milliseconds timeout)
{
    eventually([&] { return reap(false); }, timeout, std::chrono::milliseconds(5));
    return status_;
}

void process::signal(int sig)
{
    if (!reap(false)) {
        ::kill(pid_, sig);
    }
}

int process::terminate(std::chrono::milliseconds timeout)
{
    signal(SIGTERM);
    if (!wait(timeout)) {
        ::kill(pid_, SIGKILL);
        reap(true);
    }
    return *status_;
}

std::string process::log() const
{
    std::ifstream in(log_path_, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

bool process::wait_for_log(std::string_view text, std::chrono::milliseconds timeout)
{
    return eventually(
        [&] {
            // Read the log once more after the process ended: it may have
            // written the text just before exiting.
            const bool ended = !running();
            return log().find(text) != std::string::npos || ended;
        },
        timeout) && log().find(text) != std::string::npos;
}

namespace {

bool is_digit(char c)
{
    return std::isdigit(static_cast<unsigned char>(c)) != 0;
}

// The port of the first complete line of text containing marker: the
// first ":<port>" after the marker that follows a digit or ']' (so the
// "::" of "[::1]" and the "http:" of a URL are skipped); 0 if none yet.
std::uint16_t bound_port_in(const std::string& text, std::string_view marker)
{
    for (auto at = text.find(marker); at != std::string::npos; at = text.find(marker, at + 1)) {
        const auto end = text.find('\n', at);
        if (end == std::string::npos) {
            return 0; // the line is not complete yet
        }
        for (auto c = text.find(':', at + marker.size()); c < end; c = text.find(':', c + 1)) {
            if (!is_digit(text[c - 1]) && text[c - 1] != ']') {
                continue;
            }
            std::size_t d = c + 1;
            unsigned long value = 0;
            for (; d < end && is_digit(text[d]) && d < c + 7; ++d) {
                value = value * 10 + static_cast<unsigned long>(text[d] - '0');
            }
            if (d > c + 1 && (d == end || !is_digit(text[d])) && value > 0 && value <= 65535) {
                return static_cast<std::uint16_t>(value);
            }
        }
    }
    return 0;
}

} // namespace

std::uint16_t process::wait_for_bound_port(std::string_view marker,
                                           std::chrono::milliseconds timeout)
{
    std::uint16_t port = 0;
    eventually(
        [&] {
            // Read the log once more after the process ended.
            const bool ended = !running();
            port = bound_port_in(log(), marker);
            return port != 0 || ended;
        },
        timeout);
    return port;
}

bool process::wait_for_tcp_port(std::uint16_t port, std::chrono::milliseconds timeout,
                                const std::string& host)
{
    auto try_connect = [&] {
        sockaddr_storage ss{};
        socklen_t len = 0;
        int family = AF_INET;
        auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
        auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
        if (::inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
            v4->sin_family = AF_INET;
            v4->sin_port = htons(port);
            len = sizeof *v4;
        } else if (::inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
            family = AF_INET6;
            v6->sin6_family = AF_INET6;
            v6->sin6_port = htons(port);
            len = sizeof *v6;
        } else {
            return false;
        }
        const int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            return false;
        }
        const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) == 0;
        ::close(fd);
        return ok;
    };
    return eventually([&] { return try_connect() || !running(); }, timeout) && running();
}

} // namespace aiot::test
