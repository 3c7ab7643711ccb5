#include "coap_io.hpp"

#include "common/net.hpp"

#include <spdlog/spdlog.h>

#include <arpa/inet.h>
#include <linux/sock_diag.h>
#include <net/if.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <mutex>

namespace aiot::gw::coap {

namespace {

// libcoap's log handler is a plain function pointer: it finds the logger here.
std::mutex log_mutex;
std::shared_ptr<spdlog::logger> coap_logger;

void log_from_libcoap(coap_log_t level, const char* message)
{
    std::shared_ptr<spdlog::logger> log;
    {
        std::lock_guard lock(log_mutex);
        log = coap_logger;
    }
    if (!log || !message) {
        return;
    }
    std::string_view text(message);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
        text.remove_suffix(1);
    }
    spdlog::level::level_enum l = spdlog::level::debug;
    if (level <= LOG_ERR) {
        l = spdlog::level::err;
    } else if (level == LOG_WARNING) {
        l = spdlog::level::warn;
    } else if (level <= LOG_INFO) {
        l = spdlog::level::info;
    }
    log->log(l, "libcoap: {}", text);
}

constexpr int max_rounds = 16; // coap_io_process calls before yielding

} // namespace

libcoap_runtime::libcoap_runtime(std::shared_ptr<spdlog::logger> log, bool debug, bool verbose)
{
    {
        std::lock_guard lock(log_mutex);
        coap_logger = std::move(log);
    }
    coap_startup();
    coap_set_log_handler(&log_from_libcoap);
    const coap_log_t level = verbose ? LOG_DEBUG : debug ? LOG_INFO : LOG_WARNING;
    coap_set_log_level(level);
    coap_dtls_set_log_level(level);
}

libcoap_runtime::~libcoap_runtime()
{
    coap_cleanup();
    coap_set_log_handler(nullptr);
    std::lock_guard lock(log_mutex);
    coap_logger.reset();
}

struct coap_io_loop::impl : std::enable_shared_from_this<impl> {
    impl(net::io_context& io, coap_context_t* c, std::function<void()> after,
         std::shared_ptr<spdlog::logger> l, std::function<bool()> h, std::function<bool()> b)
        : ioc(io), fd(io), ctx(c), after_io(std::move(after)), hold(std::move(h)),
          busy(std::move(b)), log(std::move(l))
    {
    }

    void arm()
    {
        fd.async_wait(net::posix::stream_descriptor::wait_read,
                      [self = shared_from_this()](const boost::system::error_code& ec) {
                          if (!ec && !self->stopped) {
                              self->run();
                          }
                      });
    }

    bool readable() const
    {
        pollfd p{coap_context_get_coap_fd(ctx), POLLIN, 0};
        return ::poll(&p, 1, 0) > 0 && (p.revents & POLLIN) != 0;
    }

    void run()
    {
        if (hold && hold()) {
            held = true; // resume() runs again
            return;
        }
        for (int round = 0; round < max_rounds; ++round) {
            if (coap_io_process(ctx, COAP_IO_NO_WAIT) < 0) {
                log->warn("coap_io_process failed");
            }
            if (after_io) {
                after_io();
            }
            if (stopped) {
                return;
            }
            // Asio watches the fd edge-triggered: drain it before waiting.
            if (!readable()) {
                arm();
                return;
            }
            if (busy && busy()) {
                break; // let the waiting work run first (below)
            }
        }
        net::post(ioc, [self = shared_from_this()] {
            if (!self->stopped) {
                self->run();
            }
        });
    }

    net::io_context& ioc;
    net::posix::stream_descriptor fd; // a dup() of libcoap's epoll fd
    coap_context_t* ctx;
    std::function<void()> after_io;
    std::function<bool()> hold;
    std::function<bool()> busy;
    std::shared_ptr<spdlog::logger> log;
    bool stopped = false;
    bool held = false;
};

coap_io_loop::coap_io_loop(net::io_context& ioc, coap_context_t* ctx,
                           std::function<void()> after_io, std::shared_ptr<spdlog::logger> log,
                           std::function<bool()> hold, std::function<bool()> busy)
    : impl_(std::make_shared<impl>(ioc, ctx, std::move(after_io), std::move(log),
                                   std::move(hold), std::move(busy)))
{
}

coap_io_loop::~coap_io_loop()
{
    stop();
}

void coap_io_loop::start()
{
    const int fd = coap_context_get_coap_fd(impl_->ctx);
    if (fd < 0) {
        throw std::runtime_error("libcoap has no epoll fd (built without epoll?)");
    }
    // Asio closes its descriptor; libcoap keeps its own.
    const int copy = ::dup(fd);
    if (copy < 0) {
        throw std::runtime_error(std::string("dup of libcoap's fd failed: ") +
                                 std::strerror(errno));
    }
    impl_->fd.assign(copy);
    // Anything that arrived before the first wait is handled at once.
    net::post(impl_->ioc, [self = impl_] {
        if (!self->stopped) {
            self->run();
        }
    });
}

void coap_io_loop::resume()
{
    if (!std::exchange(impl_->held, false)) {
        return; // not held: a wait or a posted run is pending already
    }
    net::post(impl_->ioc, [self = impl_] {
        if (!self->stopped) {
            self->run();
        }
    });
}

void coap_io_loop::stop()
{
    impl_->stopped = true;
    boost::system::error_code ignored;
    impl_->fd.close(ignored);
}

std::string_view pdu_payload(const coap_pdu_t* pdu)
{
    size_t len = 0;
    const std::uint8_t* data = nullptr;
    if (!coap_get_data(pdu, &len, &data) || !data) {
        return {};
    }
    return {reinterpret_cast<const char*>(data), len};
}

bool add_text_payload(coap_pdu_t* pdu, std::string_view text)
{
    std::uint8_t format[4];
    if (!coap_add_option(pdu, COAP_OPTION_CONTENT_FORMAT,
                         coap_encode_var_safe(format, sizeof(format), COAP_MEDIATYPE_TEXT_PLAIN),
                         format)) {
        return false;
    }
    return text.empty() ||
           coap_add_data(pdu, text.size(), reinterpret_cast<const std::uint8_t*>(text.data()));
}

std::string address_text(const coap_address_t& a)
{
    char text[INET6_ADDRSTRLEN] = {};
    if (a.addr.sa.sa_family == AF_INET) {
        ::inet_ntop(AF_INET, &a.addr.sin.sin_addr, text, sizeof(text));
    } else if (a.addr.sa.sa_family == AF_INET6) {
        const auto& in6 = a.addr.sin6.sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(&in6)) {
            ::inet_ntop(AF_INET, &in6.s6_addr[12], text, sizeof(text));
        } else {
            ::inet_ntop(AF_INET6, &in6, text, sizeof(text));
        }
    }
    return text;
}

std::uint32_t address_scope(const coap_address_t& a)
{
    return a.addr.sa.sa_family == AF_INET6 ? a.addr.sin6.sin6_scope_id : 0;
}

std::uint16_t address_port(const coap_address_t& a)
{
    return coap_address_get_port(&a);
}

std::string check_udp_port_free(const coap_address_t& a)
{
    const int fd = ::socket(a.addr.sa.sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return std::strerror(errno);
    }
    if (a.addr.sa.sa_family == AF_INET6) {
        const int off = 0; // as libcoap does: IPv4 too
        ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
    }
    std::string error;
    if (::bind(fd, &a.addr.sa, a.size) != 0) {
        error = std::strerror(errno);
    }
    ::close(fd);
    return error;
}

std::vector<int> udp_sockets()
{
    std::vector<int> fds;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd", ec)) {
        int fd = -1;
        const auto name = entry.path().filename().string();
        if (std::from_chars(name.data(), name.data() + name.size(), fd).ec != std::errc{}) {
            continue;
        }
        int type = 0;
        socklen_t len = sizeof type;
        sockaddr_storage local{};
        socklen_t local_len = sizeof local;
        if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_DGRAM &&
            ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len) == 0 &&
            (local.ss_family == AF_INET || local.ss_family == AF_INET6)) {
            fds.push_back(fd);
        }
    }
    std::sort(fds.begin(), fds.end());
    return fds;
}

std::size_t receive_queue_bytes(int fd)
{
    std::uint32_t info[SK_MEMINFO_VARS] = {};
    socklen_t len = sizeof info;
    if (::getsockopt(fd, SOL_SOCKET, SO_MEMINFO, info, &len) != 0 ||
        len <= SK_MEMINFO_RMEM_ALLOC * sizeof info[0]) {
        return 0;
    }
    return info[SK_MEMINFO_RMEM_ALLOC];
}

receive_buffer set_receive_buffer(int fd, int bytes)
{
    receive_buffer r;
    r.forced = ::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) == 0;
    if (!r.forced) {
        ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
    }
    socklen_t len = sizeof r.granted;
    if (::getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &r.granted, &len) != 0) {
        r.error = std::strerror(errno);
    }
    return r;
}

bool is_link_local(const coap_address_t& a)
{
    return a.addr.sa.sa_family == AF_INET6 && IN6_IS_ADDR_LINKLOCAL(&a.addr.sin6.sin6_addr);
}

std::optional<coap_address_t> make_address(std::string_view host, std::uint16_t port,
                                           std::uint32_t scope_id)
{
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    std::string text(host);
    coap_address_t a;
    coap_address_init(&a);
    if (::inet_pton(AF_INET, text.c_str(), &a.addr.sin.sin_addr) == 1) {
        a.addr.sin.sin_family = AF_INET;
        a.size = sizeof(a.addr.sin);
        coap_address_set_port(&a, port);
        return a;
    }
    if (const auto percent = text.find('%'); percent != std::string::npos) {
        scope_id = ::if_nametoindex(text.c_str() + percent + 1);
        if (scope_id == 0) {
            return std::nullopt;
        }
        text.resize(percent);
    }
    if (::inet_pton(AF_INET6, text.c_str(), &a.addr.sin6.sin6_addr) == 1) {
        a.addr.sin6.sin6_family = AF_INET6;
        a.addr.sin6.sin6_scope_id = scope_id;
        a.size = sizeof(a.addr.sin6);
        coap_address_set_port(&a, port);
        return a;
    }
    return std::nullopt;
}

std::optional<coap_address_t> resolve_address(const std::string& host, std::uint16_t port,
                                              int family)
{
    if (auto numeric = make_address(host, port)) {
        if (family != AF_UNSPEC && numeric->addr.sa.sa_family != family) {
            return std::nullopt;
        }
        return numeric;
    }
    addrinfo hints{};
    hints.ai_family = family;
    hints.ai_socktype = SOCK_DGRAM;
    addrinfo* found = nullptr;
    if (::getaddrinfo(host.c_str(), nullptr, &hints, &found) != 0 || !found) {
        return std::nullopt;
    }
    std::optional<coap_address_t> result;
    for (auto* ai = found; ai && !result; ai = ai->ai_next) {
        if ((ai->ai_family == AF_INET || ai->ai_family == AF_INET6) &&
            ai->ai_addrlen <= sizeof(coap_address_t::addr)) {
            coap_address_t a;
            coap_address_init(&a);
            std::memcpy(&a.addr, ai->ai_addr, ai->ai_addrlen);
            a.size = ai->ai_addrlen;
            coap_address_set_port(&a, port);
            result = a;
        }
    }
    ::freeaddrinfo(found);
    return result;
}

} // namespace aiot::gw::coap
