#include "coap_fleet.hpp"

#include <arpa/inet.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace aiot::test {

namespace {

constexpr std::uint8_t post = 2;
constexpr std::uint8_t content = 0x45;   // 2.05
constexpr std::uint8_t not_found = 0x84; // 4.04

} // namespace

std::uint64_t coap_fleet::now_ns()
{
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now().time_since_epoch())
            .count());
}

coap_fleet::coap_fleet(fleet_config config)
    : config_(std::move(config)),
      sent_at_(std::make_unique<std::uint64_t[]>(total_values())),
      random_(config_.seed)
{
}

coap_fleet::~coap_fleet()
{
    for (const auto& n : nodes_) {
        if (n.fd >= 0) {
            ::close(n.fd);
        }
    }
    if (epoll_ >= 0) {
        ::close(epoll_);
    }
}

bool coap_fleet::open()
{
    in_addr base{};
    if (::inet_pton(AF_INET, config_.base.c_str(), &base) != 1) {
        error_ = "base '" + config_.base + "' is not an IPv4 address";
        return false;
    }
    gateway_.sin_family = AF_INET;
    gateway_.sin_port = htons(config_.gateway_port);
    ::inet_pton(AF_INET, "127.0.0.1", &gateway_.sin_addr);
    epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epoll_ < 0) {
        error_ = std::string("epoll_create1: ") + std::strerror(errno);
        return false;
    }
    nodes_.resize(static_cast<std::size_t>(config_.nodes));
    for (int i = 0; i < config_.nodes; ++i) {
        auto& n = nodes_[static_cast<std::size_t>(i)];
        n.fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(config_.node_port);
        a.sin_addr.s_addr = htonl(ntohl(base.s_addr) + static_cast<std::uint32_t>(i));
        if (n.fd < 0 || ::bind(n.fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
            error_ = "node " + std::to_string(i) + ": socket/bind failed: " + std::strerror(errno);
            return false;
        }
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u32 = static_cast<std::uint32_t>(i);
        ::epoll_ctl(epoll_, EPOLL_CTL_ADD, n.fd, &ev);
        n.next_mid = static_cast<std::uint16_t>(random_());
    }
    return true;
}

coap_fleet::clock::duration coap_fleet::initial_timeout()
{
    // ACK_TIMEOUT .. ACK_TIMEOUT * ACK_RANDOM_FACTOR
    std::uniform_real_distribution<double> factor(1.0, config_.ack_random_factor);
    return std::chrono::duration_cast<clock::duration>(config_.ack_timeout * factor(random_));
}

void coap_fleet::send(int node, const coap_message& m)
{
    const auto bytes = encode(m);
    ::sendto(nodes_[static_cast<std::size_t>(node)].fd, bytes.data(), bytes.size(), 0,
             reinterpret_cast<const sockaddr*>(&gateway_), sizeof gateway_);
}

void coap_fleet::send_con(int node, kind what, coap_message m)
{
    auto& n = nodes_[static_cast<std::size_t>(node)];
    m.type = coap_type::con;
    m.mid = n.next_mid++;
    pending p;
    p.mid = m.mid;
    p.what = what;
    p.bytes = encode(m);
    p.timeout = initial_timeout();
    ::sendto(n.fd, p.bytes.data(), p.bytes.size(), 0, reinterpret_cast<const sockaddr*>(&gateway_),
             sizeof gateway_);
    timers_.push({clock::now() + p.timeout, node, timer_kind::retransmit, p.mid});
    n.cons.push_back(std::move(p));
}

void coap_fleet::boot()
{
    booted_at_ = clock::now();
    for (int i = 0; i < config_.nodes; ++i) {
        coap_message m;
        m.code = post;
        m.path = {"alive"};
        m.payload = "reset:" + config_.uid_prefix + std::to_string(i);
        send_con(i, kind::reset, std::move(m));
    }
    std::uniform_int_distribution<long> spread(
        0, std::max<long>(0, static_cast<long>(config_.alive_spread.count()) - 1));
    for (int i = 0; i < config_.nodes; ++i) {
        timers_.push({booted_at_ + config_.alive_interval +
                          std::chrono::milliseconds(spread(random_)),
                      i, timer_kind::alive, 0});
    }
}

void coap_fleet::send_alive(int node)
{
    coap_message m;
    m.code = post;
    m.path = {"alive"};
    m.payload = "alive:" + config_.uid_prefix + std::to_string(node);
    send_con(node, kind::alive, std::move(m));
    ++stats_.alives;
}

void coap_fleet::send_value(int node)
{
    auto& n = nodes_[static_cast<std::size_t>(node)];
    if (n.values_sent >= config_.values_per_node || next_seq_ >= total_values()) {
        return;
    }
    ++n.values_sent;
    const auto seq = next_seq_++;
    coap_message m;
    m.code = post;
    m.path = {"server"};
    m.payload = config_.resource + ":" + std::to_string(seq);
    sent_at_[seq] = now_ns();
    ++values_sent_;
    ++stats_.values_sent;
    if (config_.con_values) {
        send_con(node, kind::value, std::move(m));
    } else {
        m.type = coap_type::non;
        m.mid = n.next_mid++;
        send(node, m);
    }
    if (n.values_sent < config_.values_per_node) {
        timers_.push({clock::now() + config_.value_interval, node, timer_kind::value, 0});
    }
}

void coap_fleet::on_timer(const timer& t)
{
    auto& n = nodes_[static_cast<std::size_t>(t.node)];
    switch (t.what) {
    case timer_kind::alive:
        send_alive(t.node);
        timers_.push({t.at + config_.alive_interval, t.node, timer_kind::alive, 0});
        return;
    case timer_kind::value: send_value(t.node); return;
    case timer_kind::retransmit: break;
    }
    const auto it = std::find_if(n.cons.begin(), n.cons.end(),
                                 [&](const pending& p) { return p.mid == t.mid; });
    if (it == n.cons.end()) {
        return; // answered meanwhile
    }
    if (it->transmissions > config_.max_retransmit) {
        ++stats_.given_up;
        n.cons.erase(it);
        return;
    }
    ++it->transmissions;
    it->timeout *= 2;
    switch (it->what) {
    case kind::reset: ++stats_.reset_retransmissions; break;
    case kind::alive: ++stats_.alive_retransmissions; break;
    case kind::value: ++stats_.value_retransmissions; break;
    }
    ::sendto(n.fd, it->bytes.data(), it->bytes.size(), 0,
             reinterpret_cast<const sockaddr*>(&gateway_), sizeof gateway_);
    timers_.push({clock::now() + it->timeout, t.node, timer_kind::retransmit, t.mid});
}

void coap_fleet::on_datagram(int node, const sockaddr_in& from, std::string_view bytes)
{
    const auto m = decode(bytes);
    if (!m) {
        return;
    }
    auto& n = nodes_[static_cast<std::size_t>(node)];
    if (m->is_request()) {
        // The gateway's discovery: answer like a tiny node.
        ++stats_.discovery_requests;
        coap_message r;
        r.type = m->type == coap_type::con ? coap_type::ack : coap_type::non;
        r.mid = m->type == coap_type::con ? m->mid : n.next_mid++;
        r.token = m->token;
        if (m->path == std::vector<std::string>{".well-known", "core"}) {
            r.code = content;
            r.payload = "</name>;ct=0";
        } else if (m->path == std::vector<std::string>{"name"}) {
            r.code = content;
            r.payload = "node " + std::to_string(node);
        } else {
            r.code = not_found;
        }
        const auto out = encode(r);
        ::sendto(n.fd, out.data(), out.size(), 0, reinterpret_cast<const sockaddr*>(&from),
                 sizeof from);
        return;
    }
    if (m->type != coap_type::ack && m->type != coap_type::rst) {
        return;
    }
    const auto it = std::find_if(n.cons.begin(), n.cons.end(),
                                 [&](const pending& p) { return p.mid == m->mid; });
    if (it == n.cons.end()) {
        return; // a duplicate answer
    }
    if (m->type == coap_type::rst || m->code >= 0x60) {
        ++stats_.error_answers;
    }
    const auto what = it->what;
    n.cons.erase(it);
    if (what == kind::reset && !n.reset_answered) {
        n.reset_answered = true;
        ++stats_.resets_answered;
        if (config_.values_per_node > 0) {
            std::uniform_int_distribution<long> phase(
                0, std::max<long>(0, static_cast<long>(config_.value_interval.count()) - 1));
            timers_.push({clock::now() + config_.value_delay +
                              std::chrono::milliseconds(phase(random_)),
                          node, timer_kind::value, 0});
        }
    }
}

void coap_fleet::poll(int timeout_ms)
{
    if (!timers_.empty()) {
        const auto until = std::chrono::duration_cast<std::chrono::milliseconds>(
                               timers_.top().at - clock::now())
                               .count();
        timeout_ms = static_cast<int>(std::clamp<long>(until, 0, timeout_ms));
    }
    epoll_event events[256];
    const int count = ::epoll_wait(epoll_, events, 256, timeout_ms);
    char buffer[2048];
    for (int e = 0; e < count; ++e) {
        const int node = static_cast<int>(events[e].data.u32);
        // One datagram per event (epoll is level-triggered: a socket with
        // more comes again), so no read ends in EAGAIN.
        sockaddr_in from{};
        socklen_t len = sizeof from;
        const auto got = ::recvfrom(nodes_[static_cast<std::size_t>(node)].fd, buffer,
                                    sizeof buffer, 0, reinterpret_cast<sockaddr*>(&from), &len);
        if (got >= 0) {
            on_datagram(node, from, std::string_view(buffer, static_cast<std::size_t>(got)));
        }
    }
    const auto now = clock::now();
    while (!timers_.empty() && timers_.top().at <= now) {
        const auto t = timers_.top();
        timers_.pop();
        on_timer(t);
    }
}

} // namespace aiot::test
