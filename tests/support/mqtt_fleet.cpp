#include "support/mqtt_fleet.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <queue>
#include <random>

namespace aiot::test {

namespace {

using steady = std::chrono::steady_clock;

// MQTT 3.1.1 packet types (first byte, high nibble).
constexpr unsigned char connack = 2, publish_type = 3, suback = 9;

void put_length(std::string& out, std::size_t n)
{
    do {
        auto byte = static_cast<unsigned char>(n % 128);
        n /= 128;
        if (n > 0) {
            byte |= 0x80;
        }
        out.push_back(static_cast<char>(byte));
    } while (n > 0);
}

void put_u16(std::string& out, std::size_t v)
{
    out.push_back(static_cast<char>((v >> 8) & 0xff));
    out.push_back(static_cast<char>(v & 0xff));
}

void put_string(std::string& out, std::string_view s)
{
    put_u16(out, s.size());
    out.append(s);
}

std::string packet(unsigned char first, const std::string& body)
{
    std::string out(1, static_cast<char>(first));
    put_length(out, body.size());
    out += body;
    return out;
}

std::string connect_packet(std::string_view client_id)
{
    std::string body;
    put_string(body, "MQTT");
    body.push_back(4);    // 3.1.1
    body.push_back(0x02); // clean session
    put_u16(body, 0);     // no keep-alive: the fleet's life is bounded anyway
    put_string(body, client_id);
    return packet(0x10, body);
}

} // namespace

std::uint64_t steady_ns()
{
    return static_cast<std::uint64_t>(steady::now().time_since_epoch().count());
}

std::optional<mqtt_value> parse_value(std::string_view data)
{
    if (data.size() < 6 || data[0] != 'v') {
        return std::nullopt;
    }
    mqtt_value v;
    const char* p = data.data() + 1;
    const char* end = data.data() + data.size();
    auto r = std::from_chars(p, end, v.node);
    if (r.ec != std::errc{} || r.ptr == end || *r.ptr != '.') {
        return std::nullopt;
    }
    r = std::from_chars(r.ptr + 1, end, v.index);
    if (r.ec != std::errc{} || r.ptr == end || *r.ptr != '.') {
        return std::nullopt;
    }
    r = std::from_chars(r.ptr + 1, end, v.sent_ns);
    if (r.ec != std::errc{} || r.ptr != end) {
        return std::nullopt;
    }
    return v;
}

struct mqtt_fleet::node {
    int index = 0;
    int fd = -1;
    enum class state { idle, connecting, subscribing, ready, closed } st = state::idle;
    std::string in;
    std::string out; // not yet taken by the kernel
    bool want_write = false;
    std::uint16_t next_id = 1;
    int values_sent = 0;
    bool values_started = false;
    bool asked_resources = false; // a discovery request came (resources_asked_s)
    bool asked_values = false;
};

mqtt_fleet::mqtt_fleet(mqtt_fleet_config config) : config_(std::move(config))
{
    nodes_.resize(static_cast<std::size_t>(config_.nodes));
    for (int i = 0; i < config_.nodes; ++i) {
        nodes_[static_cast<std::size_t>(i)].index = i;
    }
    epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
    wake_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = ~std::uint64_t{0};
    ::epoll_ctl(epoll_, EPOLL_CTL_ADD, wake_, &ev);
}

mqtt_fleet::~mqtt_fleet()
{
    stop();
    for (auto& n : nodes_) {
        if (n.fd >= 0) {
            ::close(n.fd);
        }
    }
    ::close(wake_);
    ::close(epoll_);
}

void mqtt_fleet::stop()
{
    stopping_ = true;
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto w = ::write(wake_, &one, sizeof one);
    if (thread_.joinable()) {
        thread_.join();
    }
}

void mqtt_fleet::send(node& n, std::string bytes)
{
    if (n.out.empty()) {
        const auto sent = ::send(n.fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (sent == static_cast<ssize_t>(bytes.size())) {
            return;
        }
        bytes.erase(0, sent > 0 ? static_cast<std::size_t>(sent) : 0);
    }
    n.out += bytes;
    if (!n.want_write) {
        n.want_write = true;
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLOUT;
        ev.data.u64 = static_cast<std::uint64_t>(n.index);
        ::epoll_ctl(epoll_, EPOLL_CTL_MOD, n.fd, &ev);
    }
}

void mqtt_fleet::flush(node& n)
{
    while (!n.out.empty()) {
        const auto sent = ::send(n.fd, n.out.data(), n.out.size(), MSG_NOSIGNAL);
        if (sent <= 0) {
            return; // EAGAIN: wait for EPOLLOUT again
        }
        n.out.erase(0, static_cast<std::size_t>(sent));
    }
    n.want_write = false;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = static_cast<std::uint64_t>(n.index);
    ::epoll_ctl(epoll_, EPOLL_CTL_MOD, n.fd, &ev);
}

void mqtt_fleet::publish(node& n, std::string_view topic, std::string_view payload)
{
    std::string body;
    put_string(body, topic);
    if (config_.qos > 0) {
        put_u16(body, n.next_id);
        n.next_id = static_cast<std::uint16_t>(n.next_id == 65535 ? 1 : n.next_id + 1);
    }
    body.append(payload);
    send(n, packet(static_cast<unsigned char>(0x30 | (config_.qos > 0 ? 0x02 : 0)), body));
}

std::size_t mqtt_fleet::connect(std::chrono::milliseconds timeout)
{
    const auto deadline = steady::now() + timeout;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(config_.port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::size_t next = 0;
    std::size_t in_progress = 0;
    std::size_t ready = 0;
    std::vector<epoll_event> events(512);
    while (ready < nodes_.size() && steady::now() < deadline) {
        while (next < nodes_.size() && in_progress < config_.connect_window) {
            auto& n = nodes_[next++];
            n.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            if (n.fd < 0) {
                error_ = std::string("socket: ") + std::strerror(errno) +
                         " (raise the open file limit)";
                return ready;
            }
            const int one = 1;
            ::setsockopt(n.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            if (::connect(n.fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 &&
                errno != EINPROGRESS) {
                error_ = std::string("connect: ") + std::strerror(errno);
                return ready;
            }
            n.st = node::state::connecting;
            epoll_event ev{};
            ev.events = EPOLLIN | EPOLLOUT;
            ev.data.u64 = static_cast<std::uint64_t>(n.index);
            n.want_write = true;
            ::epoll_ctl(epoll_, EPOLL_CTL_ADD, n.fd, &ev);
            n.out = connect_packet("aiot-fleet-" + node_id(n.index));
            ++in_progress;
        }
        const int k = ::epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), 100);
        for (int e = 0; e < k; ++e) {
            if (events[static_cast<std::size_t>(e)].data.u64 >= nodes_.size()) {
                continue;
            }
            auto& n = nodes_[events[static_cast<std::size_t>(e)].data.u64];
            if (events[static_cast<std::size_t>(e)].events & (EPOLLERR | EPOLLHUP)) {
                error_ = "connection to mosquitto failed for " + node_id(n.index);
                return ready;
            }
            if (n.want_write) {
                flush(n);
            }
            const auto before = n.st;
            if (!pump(n)) {
                error_ = "mosquitto closed the connection of " + node_id(n.index);
                return ready;
            }
            if (before != node::state::ready && n.st == node::state::ready) {
                ++ready;
                --in_progress;
            }
        }
    }
    if (ready < nodes_.size() && error_.empty()) {
        error_ = "timeout: " + std::to_string(ready) + " of " + std::to_string(nodes_.size()) +
                 " nodes connected";
    }
    return ready;
}

bool mqtt_fleet::pump(node& n)
{
    char buf[16384];
    for (;;) {
        const auto got = ::recv(n.fd, buf, sizeof buf, 0);
        if (got == 0) {
            n.st = node::state::closed;
            return false;
        }
        if (got < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                break;
            }
            n.st = node::state::closed;
            return false;
        }
        n.in.append(buf, static_cast<std::size_t>(got));
        if (static_cast<std::size_t>(got) < sizeof buf) {
            break;
        }
    }
    std::size_t pos = 0;
    while (n.in.size() - pos >= 2) {
        // Fixed header: type/flags, then a variable-length remaining length.
        std::size_t length = 0;
        std::size_t i = pos + 1;
        int shift = 0;
        bool complete = false;
        while (i < n.in.size() && shift <= 21) {
            const auto b = static_cast<unsigned char>(n.in[i++]);
            length |= static_cast<std::size_t>(b & 0x7f) << shift;
            shift += 7;
            if ((b & 0x80) == 0) {
                complete = true;
                break;
            }
        }
        if (!complete || n.in.size() - i < length) {
            break;
        }
        const auto first = static_cast<unsigned char>(n.in[pos]);
        const std::string_view body(n.in.data() + i, length);
        const auto type = static_cast<unsigned char>(first >> 4);
        if (type == connack && n.st == node::state::connecting) {
            if (body.size() < 2 || body[1] != 0) {
                n.st = node::state::closed;
                return false;
            }
            std::string sub;
            put_u16(sub, n.next_id++);
            put_string(sub, "gateway/" + node_id(n.index) + "/discover");
            sub.push_back(static_cast<char>(config_.qos));
            send(n, packet(0x82, sub));
            n.st = node::state::subscribing;
        } else if (type == suback && n.st == node::state::subscribing) {
            n.st = node::state::ready;
        } else if (type == publish_type && body.size() >= 2) {
            const auto qos = (first >> 1) & 0x03;
            const std::size_t topic_len = (static_cast<unsigned char>(body[0]) << 8) |
                                          static_cast<unsigned char>(body[1]);
            std::size_t at = 2 + topic_len;
            if (at + (qos > 0 ? 2 : 0) <= body.size()) {
                const auto topic = body.substr(2, topic_len);
                if (qos > 0) {
                    send(n, packet(0x40, std::string(body.substr(at, 2))));
                    at += 2;
                }
                handle_publish(n, topic, body.substr(at));
            }
        }
        // PUBACK and anything else: nothing to do (the fleet keeps no
        // copies: loopback TCP does not lose a packet).
        pos = i + length;
    }
    n.in.erase(0, pos);
    return true;
}

void mqtt_fleet::handle_publish(node& n, std::string_view topic, std::string_view payload)
{
    if (topic.size() < 9 || topic.substr(topic.size() - 9) != "/discover") {
        return;
    }
    discover_requests.fetch_add(1, std::memory_order_relaxed);
    const auto id = node_id(n.index);
    const auto since_burst = [this] {
        return static_cast<double>(steady_ns() - burst_ns.load()) / 1e9;
    };
    if (payload == "resources") {
        if (!n.asked_resources) {
            n.asked_resources = true;
            resources_asked_s.push_back(since_burst());
        }
        publish(n, "node/" + id + "/resources", R"(["temperature"])");
    } else if (payload == "values") {
        if (!n.asked_values) {
            n.asked_values = true;
            values_asked_s.push_back(since_burst());
        }
        publish(n, "node/" + id + "/temperature", R"({"value":"init"})");
        n.values_started = true; // run() schedules the series
    }
}

void mqtt_fleet::start()
{
    stopping_ = false;
    thread_ = std::thread([this] { run(); });
}

void mqtt_fleet::run()
{
    struct due {
        steady::time_point at;
        int node;
        bool check; // else: the node's next value
        bool operator>(const due& o) const { return at > o.at; }
    };
    std::priority_queue<due, std::vector<due>, std::greater<>> timers;
    std::mt19937 rng(12345);
    std::uniform_int_distribution<long long> phase(0, config_.value_interval.count());
    const auto start = steady::now();
    burst_ns = steady_ns();
    // The burst: every node at the same moment, no window.
    for (auto& n : nodes_) {
        if (n.st != node::state::ready) {
            continue;
        }
        publish(n, "node/check", R"({"id":")" + node_id(n.index) + R"("})");
        checks_sent.fetch_add(1, std::memory_order_relaxed);
        if (config_.check_interval.count() > 0) {
            timers.push({start + config_.check_interval, n.index, true});
        }
    }
    std::vector<epoll_event> events(1024);
    while (!stopping_) {
        int wait_ms = 100;
        if (!timers.empty()) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                timers.top().at - steady::now());
            wait_ms = static_cast<int>(std::clamp<long long>(left.count(), 0, 100));
        }
        const int k = ::epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), wait_ms);
        for (int e = 0; e < k; ++e) {
            const auto key = events[static_cast<std::size_t>(e)].data.u64;
            if (key >= nodes_.size()) {
                continue; // the wake-up fd: stopping_ is checked above
            }
            auto& n = nodes_[key];
            if (n.st == node::state::closed) {
                continue;
            }
            if (n.want_write) {
                flush(n);
            }
            const bool had_started = n.values_started;
            if (!pump(n)) {
                connections_lost.fetch_add(1, std::memory_order_relaxed);
                ::epoll_ctl(epoll_, EPOLL_CTL_DEL, n.fd, nullptr);
                continue;
            }
            if (!had_started && n.values_started && config_.values > 0) {
                timers.push({steady::now() + std::chrono::milliseconds(phase(rng)), n.index,
                             false});
            }
        }
        const auto now = steady::now();
        while (!timers.empty() && timers.top().at <= now) {
            const auto d = timers.top();
            timers.pop();
            auto& n = nodes_[static_cast<std::size_t>(d.node)];
            if (n.st == node::state::closed) {
                continue;
            }
            if (d.check) {
                publish(n, "node/check", R"({"id":")" + node_id(n.index) + R"("})");
                checks_sent.fetch_add(1, std::memory_order_relaxed);
                timers.push({d.at + config_.check_interval, d.node, true});
                continue;
            }
            std::string value = R"({"value":"v)";
            value += std::to_string(n.index);
            value += '.';
            value += std::to_string(n.values_sent);
            value += '.';
            value += std::to_string(steady_ns());
            value += R"("})";
            publish(n, "node/" + node_id(n.index) + "/temperature", value);
            values_sent.fetch_add(1, std::memory_order_relaxed);
            if (++n.values_sent < config_.values) {
                timers.push({d.at + config_.value_interval, d.node, false});
            } else {
                nodes_done.fetch_add(1, std::memory_order_relaxed);
            }
        }
    }
}

} // namespace aiot::test
