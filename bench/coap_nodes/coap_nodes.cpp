// coap_nodes: how aiot-coap-gateway copes with many CoAP nodes. N simulated
// nodes, each a UDP socket of its own on 127.1.x.y (one thread, one epoll),
// register (reset:<uid> to /alive, windowed, retransmitted like CON), answer
// the gateway's discovery (/.well-known/core lists /name), then post values
// to /server. A web client on the broker's /ws measures:
//   - time until every node's `new` (and its discovered `name`) arrived,
//   - value latency (POST sent -> update received) at a paced rate,
//   - values/s through the gateway with a bounded window of values in flight,
//   - the gateway's RSS and CPU.
// Every phase is bounded in time.
#include "support/coap_fleet.hpp"
#include "latency_histogram.hpp"

#include "common/system.hpp"
#include "broker/ws/frame.hpp"
#include "broker/ws/client_handshake.hpp"
#include "support/process.hpp"
#include "support/system_helpers.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <charconv>
#include <cstdio>
#include <deque>
#include <fstream>
#include <iterator>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>

namespace {

using namespace aiot;
using steady = std::chrono::steady_clock;
using namespace std::chrono_literals;
using test::coap_message;
using test::coap_type;

std::uint64_t now_ns()
{
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(steady::now().time_since_epoch())
            .count());
}

double seconds_since(steady::time_point t)
{
    return std::chrono::duration<double>(steady::now() - t).count();
}

struct options {
    int nodes = 1000;
    std::string base = "127.1.0.1";
    double rate = 2000;
    double latency_seconds = 3;
    double throughput_seconds = 5;
    int window = 256;
    int announce_window = 128;
    double announce_timeout = 60;
    std::string gateway_bin = AIOT_COAP_GATEWAY_BIN;
    std::string broker_bin = AIOT_BROKER_BIN;
    std::vector<std::string> gateway_args;
    std::string log_dir; // empty: a temporary folder, removed at the end
    bool burst = false;
    bool non = false;
    int burst_values = 5;
    double alive_interval = 8;
    double burst_timeout = 60;
};

// VmRSS and VmHWM of a process, in kB.
std::pair<long, long> memory_kb(pid_t pid)
{
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    long rss = -1;
    long hwm = -1;
    for (std::string line; std::getline(in, line);) {
        if (line.starts_with("VmRSS:")) {
            rss = std::stol(line.substr(6));
        } else if (line.starts_with("VmHWM:")) {
            hwm = std::stol(line.substr(6));
        }
    }
    return {rss, hwm};
}

// User + system CPU seconds of a process.
double cpu_seconds(pid_t pid)
{
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::istringstream fields(text.substr(text.rfind(')') + 2));
    std::string field;
    double ticks = 0;
    for (int i = 3; i <= 15 && fields >> field; ++i) {
        ticks += (i == 14 || i == 15) ? std::stod(field) : 0;
    }
    return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// What the web client saw; written by the receiver thread.
struct observed {
    explicit observed(int n)
        : announced(std::make_unique<std::atomic<bool>[]>(n)),
          named(std::make_unique<std::atomic<bool>[]>(n))
    {
    }

    std::unique_ptr<std::atomic<bool>[]> announced;
    std::unique_ptr<std::atomic<bool>[]> named;
    std::atomic<int> announced_count{0};
    std::atomic<int> named_count{0};
    std::atomic<std::uint64_t> values{0};
    std::mutex mutex; // guards histogram
    bench::latency_histogram histogram;
};

// The web client: a blocking websocket connection on the receiver thread,
// with the project's frame decoder. Lighter than the test helper's client,
// so it keeps up with the broker at tens of thousands of messages/s.
class web_client {
public:
    ~web_client()
    {
        if (fd_ >= 0) {
            ::close(fd_);
        }
    }

    // Connects to ws://127.0.0.1:port/ws and sends `new`.
    bool open(std::uint16_t port)
    {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        ::inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
        if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
            return false;
        }
        const std::string key = "YWlvdCBiZW5jaCBrZXkgMQ==";
        if (!send_all(aiot::broker::ws::client_handshake_request("127.0.0.1", "/ws", key))) {
            return false;
        }
        std::string head;
        char c = 0;
        while (!head.ends_with("\r\n\r\n") && head.size() < 8192 && ::recv(fd_, &c, 1, 0) == 1) {
            head.push_back(c);
        }
        if (!aiot::broker::ws::client_handshake_accepted(head, key)) {
            return false;
        }
        const timeval tv{0, 100000}; // recv returns every 100 ms to check for the end
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        const broker::ws::mask_key mask{1, 2, 3, 4};
        return send_all(broker::ws::encode_frame(broker::ws::opcode::text,
                                                 R"({"type":"new","data":"client"})", &mask));
    }

    // Reads until stop is set, calling on_message for each text message.
    void run(const std::atomic<bool>& stop, const std::function<void(std::string_view)>& on_message)
    {
        broker::ws::decoder decoder(broker::ws::role::client, 1 << 20);
        std::vector<char> buffer(1 << 16);
        while (!stop) {
            const auto got = ::recv(fd_, buffer.data(), buffer.size(), 0);
            if (got == 0) {
                std::fprintf(stderr, "web client: the broker closed the connection\n");
                return;
            }
            if (got < 0) {
                continue; // timeout: check stop
            }
            decoder.feed(std::span<char>(buffer.data(), static_cast<std::size_t>(got)),
                         [&](const broker::ws::event& e) {
                             if (e.type == broker::ws::event::kind::message) {
                                 on_message(e.payload);
                             } else if (e.type == broker::ws::event::kind::close) {
                                 std::fprintf(stderr, "web client: closed by the broker (%u %.*s)\n",
                                              e.code, static_cast<int>(e.reason.size()),
                                              e.reason.data());
                             }
                         });
        }
    }

private:
    bool send_all(const std::string& data)
    {
        std::size_t done = 0;
        while (done < data.size()) {
            const auto n = ::send(fd_, data.data() + done, data.size() - done, MSG_NOSIGNAL);
            if (n <= 0) {
                return false;
            }
            done += static_cast<std::size_t>(n);
        }
        return true;
    }

    int fd_ = -1;
};

// The index of the simulated node a broker message is about ("bench-<i>"),
// -1 for anything else.
int bench_node(const nlohmann::json& m, int nodes)
{
    if (!m.is_object()) {
        return -1;
    }
    const auto uid = m.value("uid", "");
    if (!uid.starts_with("bench-")) {
        return -1;
    }
    int node = -1;
    std::from_chars(uid.data() + 6, uid.data() + uid.size(), node);
    return node < nodes ? node : -1;
}

// The broker and the gateway of one run, on fresh ports; false (with their
// log on stderr) when one does not start.
struct daemons {
    std::unique_ptr<test::temp_dir> dir;
    std::unique_ptr<test::process> broker;
    std::unique_ptr<test::process> gateway;
    std::uint16_t broker_port = 0;
    std::uint16_t coap_port = 0;
    std::uint16_t node_port = 0;
};

bool launch(const options& o, daemons& d)
{
    d.dir = std::make_unique<test::temp_dir>();
    const auto logs = o.log_dir.empty() ? d.dir->path() : std::filesystem::path(o.log_dir);
    d.broker_port = test::free_tcp_port();
    d.coap_port = test::free_udp_port();
    d.node_port = test::free_udp_port();
    d.broker = std::make_unique<test::process>(
        o.broker_bin,
        std::vector<std::string>{"--broker-port", std::to_string(d.broker_port), "--bind",
                                 "127.0.0.1", "--key-file", AIOT_TEST_KEY_FILE},
        logs / "broker.log");
    if (!d.broker->wait_for_tcp_port(d.broker_port)) {
        std::fprintf(stderr, "broker did not start:\n%s\n", d.broker->log().c_str());
        return false;
    }
    std::vector<std::string> args{"--broker-host", "127.0.0.1",
                                  "--broker-port", std::to_string(d.broker_port),
                                  "--key-file",    AIOT_TEST_KEY_FILE,
                                  "--coap-bind",   "127.0.0.1",
                                  "--coap-port",   std::to_string(d.coap_port),
                                  "--node-port",   std::to_string(d.node_port),
                                  "--max-nodes",   std::to_string(o.nodes + 16),
                                  "--max-time",    "600"};
    args.insert(args.end(), o.gateway_args.begin(), o.gateway_args.end());
    d.gateway = std::make_unique<test::process>(o.gateway_bin, args, logs / "gateway.log");
    if (!d.gateway->wait_for_log("connected to broker")) {
        std::fprintf(stderr, "gateway did not start:\n%s\n", d.gateway->log().c_str());
        return false;
    }
    return true;
}

class load {
public:
    explicit load(options o) : o_(std::move(o)), seen_(o_.nodes) {}
    int run();

private:
    bool start_daemons();
    bool open_sockets();
    void on_message(std::string_view text);
    void poll_sockets(int timeout_ms);
    void on_datagram(int node, const sockaddr_in& from, std::string_view bytes);
    void send_to_gateway(int node, const coap_message& m);
    void send_alive(int node);
    void send_value(int node);
    bool announce();
    void paced_values();
    void windowed_values();
    void report_gateway(const char* when);

    options o_;
    daemons d_; // the broker and the gateway
    sockaddr_in gateway_addr_{};
    std::vector<int> fds_;
    int epoll_ = -1;
    std::uint16_t next_mid_ = 1;
    std::vector<steady::time_point> alive_sent_; // time_point{} once answered
    int alive_answered_ = 0;
    std::uint64_t retransmissions_ = 0;
    std::uint64_t discovery_requests_ = 0;
    std::uint64_t sent_values_ = 0;
    std::unique_ptr<std::atomic<std::uint64_t>[]> sent_at_; // by value sequence number
    std::uint64_t max_values_ = 0;
    observed seen_;
    std::atomic<bool> stop_{false};
};

bool load::start_daemons()
{
    if (!launch(o_, d_)) {
        return false;
    }
    gateway_addr_.sin_family = AF_INET;
    gateway_addr_.sin_port = htons(d_.coap_port);
    ::inet_pton(AF_INET, "127.0.0.1", &gateway_addr_.sin_addr);
    return true;
}

bool load::open_sockets()
{
    in_addr base{};
    if (::inet_pton(AF_INET, o_.base.c_str(), &base) != 1) {
        std::fprintf(stderr, "--base must be an IPv4 address\n");
        return false;
    }
    epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
    for (int i = 0; i < o_.nodes; ++i) {
        const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(d_.node_port);
        a.sin_addr.s_addr = htonl(ntohl(base.s_addr) + static_cast<std::uint32_t>(i));
        if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
            std::fprintf(stderr, "node %d: socket/bind failed: %s\n", i, std::strerror(errno));
            return false;
        }
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u32 = static_cast<std::uint32_t>(i);
        ::epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev);
        fds_.push_back(fd);
    }
    alive_sent_.assign(o_.nodes, steady::time_point{});
    return true;
}

// What the web client receives, on its own thread.
void load::on_message(std::string_view text)
{
    const auto m = nlohmann::json::parse(text, nullptr, false);
    const int node = bench_node(m, o_.nodes);
    if (node < 0) {
        return;
    }
    const auto type = m.value("type", "");
    if (type == "new") {
        if (!seen_.announced[node].exchange(true)) {
            ++seen_.announced_count;
        }
        return;
    }
    if (type != "update") {
        return;
    }
    const auto endpoint = m.value("endpoint", "");
    if (endpoint == "name") {
        if (!seen_.named[node].exchange(true)) {
            ++seen_.named_count;
        }
    } else if (endpoint == "bench") {
        const auto data = m.value("data", "");
        std::uint64_t seq = 0;
        std::from_chars(data.data(), data.data() + data.size(), seq);
        if (seq < max_values_) {
            const auto latency = now_ns() - sent_at_[seq].load(std::memory_order_relaxed);
            std::lock_guard lock(seen_.mutex);
            seen_.histogram.add(latency);
        }
        ++seen_.values;
    }
}

void load::send_to_gateway(int node, const coap_message& m)
{
    const auto bytes = test::encode(m);
    ::sendto(fds_[node], bytes.data(), bytes.size(), 0,
             reinterpret_cast<const sockaddr*>(&gateway_addr_), sizeof gateway_addr_);
}

void load::send_alive(int node)
{
    coap_message m;
    m.type = coap_type::con;
    m.code = 2; // POST
    m.mid = next_mid_++;
    m.token = std::string(reinterpret_cast<const char*>(&node), sizeof node);
    m.path = {"alive"};
    m.payload = "reset:bench-" + std::to_string(node);
    send_to_gateway(node, m);
    alive_sent_[node] = steady::now();
}

void load::send_value(int node)
{
    if (sent_values_ >= max_values_) {
        return;
    }
    const auto seq = sent_values_++;
    coap_message m;
    m.type = coap_type::non;
    m.code = 2;
    m.mid = next_mid_++;
    m.path = {"server"};
    m.payload = "bench:" + std::to_string(seq);
    sent_at_[seq].store(now_ns(), std::memory_order_relaxed);
    send_to_gateway(node, m);
}

void load::on_datagram(int node, const sockaddr_in& from, std::string_view bytes)
{
    const auto m = test::decode(bytes);
    if (!m) {
        return;
    }
    if (m->is_request()) {
        // The gateway's discovery: answer like a tiny node.
        ++discovery_requests_;
        coap_message r;
        r.type = m->type == coap_type::con ? coap_type::ack : coap_type::non;
        r.mid = m->type == coap_type::con ? m->mid : next_mid_++;
        r.token = m->token;
        if (m->path == std::vector<std::string>{".well-known", "core"}) {
            r.code = 0x45; // 2.05
            r.payload = "</name>;ct=0";
        } else if (m->path == std::vector<std::string>{"name"}) {
            r.code = 0x45;
            r.payload = "bench node " + std::to_string(node);
        } else {
            r.code = 0x84; // 4.04
        }
        const auto out = test::encode(r);
        ::sendto(fds_[node], out.data(), out.size(), 0, reinterpret_cast<const sockaddr*>(&from),
                 sizeof from);
        return;
    }
    if (m->is_response() && m->token.size() == sizeof(int) &&
        alive_sent_[node] != steady::time_point{}) {
        alive_sent_[node] = steady::time_point{};
        ++alive_answered_;
    }
}

void load::poll_sockets(int timeout_ms)
{
    epoll_event events[256];
    const int n = ::epoll_wait(epoll_, events, 256, timeout_ms);
    char buffer[2048];
    for (int e = 0; e < n; ++e) {
        const int node = static_cast<int>(events[e].data.u32);
        for (int reads = 0; reads < 16; ++reads) {
            sockaddr_in from{};
            socklen_t len = sizeof from;
            const auto got = ::recvfrom(fds_[node], buffer, sizeof buffer, 0,
                                        reinterpret_cast<sockaddr*>(&from), &len);
            if (got < 0) {
                break;
            }
            on_datagram(node, from, std::string_view(buffer, static_cast<std::size_t>(got)));
        }
    }
}

bool load::announce()
{
    const auto start = steady::now();
    std::deque<int> waiting; // nodes whose reset is not answered, oldest first
    int next = 0;
    double all_new_s = -1;
    while (seconds_since(start) < o_.announce_timeout) {
        while (next < o_.nodes &&
               next - alive_answered_ < o_.announce_window) {
            send_alive(next);
            waiting.push_back(next++);
        }
        poll_sockets(1);
        // Retransmit unanswered resets after 2 s, as a CON would.
        const auto now = steady::now();
        while (!waiting.empty()) {
            const int node = waiting.front();
            if (alive_sent_[node] == steady::time_point{}) {
                waiting.pop_front();
            } else if (now - alive_sent_[node] > 2s) {
                waiting.pop_front();
                send_alive(node);
                ++retransmissions_;
                waiting.push_back(node);
            } else {
                break;
            }
        }
        if (all_new_s < 0 && seen_.announced_count == o_.nodes) {
            all_new_s = seconds_since(start);
            std::printf("all %d nodes announced to the web client after %.3f s "
                        "(%llu reset retransmissions)\n",
                        o_.nodes, all_new_s, static_cast<unsigned long long>(retransmissions_));
            report_gateway("after the announcements");
        }
        if (seen_.named_count == o_.nodes) {
            std::printf("all %d nodes discovered (name received) after %.3f s "
                        "(%llu discovery requests answered)\n",
                        o_.nodes, seconds_since(start),
                        static_cast<unsigned long long>(discovery_requests_));
            return true;
        }
    }
    std::printf("timeout: %d of %d nodes announced, %d discovered after %.0f s\n",
                seen_.announced_count.load(), o_.nodes, seen_.named_count.load(),
                o_.announce_timeout);
    return false;
}

void load::paced_values()
{
    {
        std::lock_guard lock(seen_.mutex);
        seen_.histogram.clear();
    }
    const auto first = seen_.values.load();
    const auto start = steady::now();
    const double cpu0 = cpu_seconds(d_.gateway->pid());
    const double broker_cpu0 = cpu_seconds(d_.broker->pid());
    std::uint64_t sent = 0;
    int node = 0;
    while (seconds_since(start) < o_.latency_seconds) {
        const auto due = static_cast<std::uint64_t>(seconds_since(start) * o_.rate);
        while (sent < due) {
            send_value(node);
            node = (node + 1) % o_.nodes;
            ++sent;
        }
        poll_sockets(1); // sleeps when idle: the tool must not take a core from the gateway
    }
    // Late values: wait up to 2 s for the rest.
    const auto wait = steady::now();
    while (seen_.values - first < sent && seconds_since(wait) < 2) {
        poll_sockets(1);
    }
    const double cpu = cpu_seconds(d_.gateway->pid()) - cpu0;
    const double broker_cpu = cpu_seconds(d_.broker->pid()) - broker_cpu0;
    std::lock_guard lock(seen_.mutex);
    std::printf("paced %.0f values/s for %.1f s: %llu sent, %llu received; latency p50 %.0f us, "
                "p99 %.0f us, max %.0f us; CPU: gateway %.0f%%, broker %.0f%%\n",
                o_.rate, o_.latency_seconds, static_cast<unsigned long long>(sent),
                static_cast<unsigned long long>(seen_.values - first),
                seen_.histogram.percentile_us(0.5), seen_.histogram.percentile_us(0.99),
                seen_.histogram.max_us(), 100 * cpu / o_.latency_seconds,
                100 * broker_cpu / o_.latency_seconds);
}

void load::windowed_values()
{
    {
        std::lock_guard lock(seen_.mutex);
        seen_.histogram.clear();
    }
    const auto first = seen_.values.load();
    const auto sent_before = sent_values_;
    std::uint64_t lost = 0;
    const auto start = steady::now();
    const double cpu0 = cpu_seconds(d_.gateway->pid());
    const double broker_cpu0 = cpu_seconds(d_.broker->pid());
    auto last_progress = steady::now();
    std::uint64_t last_seen = first;
    int node = 0;
    while (seconds_since(start) < o_.throughput_seconds && sent_values_ < max_values_) {
        const auto received = seen_.values.load() - first;
        const auto sent = sent_values_ - sent_before;
        const auto in_flight = sent > received + lost ? sent - received - lost : 0;
        for (auto room = o_.window - static_cast<long>(in_flight); room > 0; --room) {
            send_value(node);
            node = (node + 1) % o_.nodes;
        }
        poll_sockets(1);
        const auto now_seen = seen_.values.load();
        if (now_seen != last_seen) {
            last_seen = now_seen;
            last_progress = steady::now();
        } else if (steady::now() - last_progress > 1s) {
            lost += in_flight; // dropped on the way: free the window
            last_progress = steady::now();
        }
    }
    const double elapsed = seconds_since(start);
    const double cpu = cpu_seconds(d_.gateway->pid()) - cpu0;
    const double broker_cpu = cpu_seconds(d_.broker->pid()) - broker_cpu0;
    const auto received = seen_.values.load() - first;
    std::lock_guard lock(seen_.mutex);
    std::printf("window %d for %.1f s: %llu sent, %llu received, %.0f values/s; latency p50 "
                "%.0f us, p99 %.0f us; CPU: gateway %.0f%% (%.1f us per value), broker %.0f%%; "
                "%llu counted lost\n",
                o_.window, elapsed, static_cast<unsigned long long>(sent_values_ - sent_before),
                static_cast<unsigned long long>(received), static_cast<double>(received) / elapsed,
                seen_.histogram.percentile_us(0.5), seen_.histogram.percentile_us(0.99),
                100 * cpu / elapsed, received > 0 ? 1e6 * cpu / static_cast<double>(received) : 0.0,
                100 * broker_cpu / elapsed, static_cast<unsigned long long>(lost));
}

void load::report_gateway(const char* when)
{
    const auto [rss, hwm] = memory_kb(d_.gateway->pid());
    std::printf("gateway memory %s: RSS %ld kB, peak RSS %ld kB\n", when, rss, hwm);
}

int load::run()
{
    const auto fds = common::raise_fd_limit();
    if (fds.after < static_cast<unsigned long>(o_.nodes) + 64) {
        std::fprintf(stderr, "open file limit %lu is too low for %d nodes\n", fds.after, o_.nodes);
        return 1;
    }
    max_values_ = static_cast<std::uint64_t>(o_.rate * o_.latency_seconds) + 4'000'000;
    sent_at_ = std::make_unique<std::atomic<std::uint64_t>[]>(max_values_);
    if (!start_daemons()) {
        return 1;
    }
    report_gateway("at start");
    web_client client;
    if (!client.open(d_.broker_port)) {
        std::fprintf(stderr, "web client: cannot connect to the broker's /ws\n");
        return 1;
    }
    const auto opened = steady::now();
    if (!open_sockets()) {
        return 1;
    }
    std::printf("%d node sockets on %s... port %u opened in %.3f s\n", o_.nodes, o_.base.c_str(),
                d_.node_port, seconds_since(opened));
    std::thread receiver(
        [&] { client.run(stop_, [this](std::string_view text) { on_message(text); }); });
    const bool announced = announce();
    report_gateway("after discovery");
    if (announced) {
        paced_values();
        windowed_values();
        report_gateway("at the end");
    }
    stop_ = true;
    receiver.join();
    for (const int fd : fds_) {
        ::close(fd);
    }
    ::close(epoll_);
    d_.gateway->terminate();
    d_.broker->terminate();
    return announced ? 0 : 2;
}


// /proc/net/snmp Udp: RcvbufErrors (all sockets of the machine).
long udp_rcvbuf_errors()
{
    std::ifstream in("/proc/net/snmp");
    std::string names;
    std::string values;
    for (std::string line; std::getline(in, line);) {
        if (line.starts_with("Udp: ")) {
            if (names.empty()) {
                names = line;
            } else {
                values = line;
                break;
            }
        }
    }
    std::istringstream n(names);
    std::istringstream v(values);
    for (std::string name, value; n >> name && v >> value;) {
        if (name == "RcvbufErrors") {
            return std::stol(value);
        }
    }
    return -1;
}

// The drops counter of the UDP sockets bound to `port` (/proc/net/udp and
// udp6, as `ss -uam` shows them), summed.
long udp_socket_drops(std::uint16_t port)
{
    long drops = 0;
    for (const char* file : {"/proc/net/udp", "/proc/net/udp6"}) {
        std::ifstream in(file);
        std::string line;
        std::getline(in, line); // header
        while (std::getline(in, line)) {
            std::istringstream fields(line);
            std::string slot;
            std::string local;
            fields >> slot >> local;
            const auto colon = local.rfind(':');
            if (colon == std::string::npos ||
                std::stoul(local.substr(colon + 1), nullptr, 16) != port) {
                continue;
            }
            std::string field;
            std::string last;
            while (fields >> field) {
                last = field;
            }
            drops += std::stol(last);
        }
    }
    return drops;
}

// --burst: every node boots at the same moment (test::coap_fleet), then
// values and alives flow; a web client watches the broker.
class burst_load {
public:
    explicit burst_load(options o) : o_(std::move(o)) {}
    int run();

private:
    bool start_daemons();
    void on_message(std::string_view text);
    void report();

    options o_;
    daemons d_; // the broker and the gateway
    std::unique_ptr<test::coap_fleet> fleet_;
    // Written by the web client's thread (ns on the steady clock, 0: not yet).
    std::unique_ptr<std::atomic<std::uint64_t>[]> new_at_;
    std::unique_ptr<std::atomic<std::uint64_t>[]> named_at_;
    std::unique_ptr<std::atomic<std::uint64_t>[]> seen_at_; // by value seq
    std::atomic<int> announced_{0};
    std::atomic<int> named_{0};
    std::atomic<std::uint64_t> duplicates_{0};
    std::atomic<bool> stop_{false};
    std::atomic<bool> client_closed_{false};
};

bool burst_load::start_daemons()
{
    if (!launch(o_, d_)) {
        return false;
    }
    return true;
}

void burst_load::on_message(std::string_view text)
{
    const auto m = nlohmann::json::parse(text, nullptr, false);
    const int node = bench_node(m, o_.nodes);
    if (node < 0) {
        return;
    }
    const auto now = test::coap_fleet::now_ns();
    const auto type = m.value("type", "");
    std::uint64_t unset = 0;
    if (type == "new") {
        if (new_at_[node].compare_exchange_strong(unset, now)) {
            ++announced_;
        }
        return;
    }
    if (type != "update") {
        return;
    }
    const auto endpoint = m.value("endpoint", "");
    if (endpoint == "name") {
        if (named_at_[node].compare_exchange_strong(unset, now)) {
            ++named_;
        }
    } else if (endpoint == "bench") {
        const auto data = m.value("data", "");
        std::uint64_t seq = 0;
        std::from_chars(data.data(), data.data() + data.size(), seq);
        if (seq < fleet_->total_values() && !seen_at_[seq].compare_exchange_strong(unset, now)) {
            ++duplicates_;
        }
    }
}

double percentile(std::vector<double>& v, double p)
{
    if (v.empty()) {
        return -1;
    }
    const auto k = std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())));
    std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
    return v[k];
}

int burst_load::run()
{
    const auto fds = common::raise_fd_limit();
    if (fds.after < static_cast<unsigned long>(o_.nodes) + 64) {
        std::fprintf(stderr, "open file limit %lu is too low for %d nodes\n", fds.after, o_.nodes);
        return 1;
    }
    if (!start_daemons()) {
        return 1;
    }
    test::fleet_config fc;
    fc.nodes = o_.nodes;
    fc.base = o_.base;
    fc.node_port = d_.node_port;
    fc.gateway_port = d_.coap_port;
    fc.uid_prefix = "bench-";
    fc.resource = "bench";
    fc.values_per_node = o_.burst_values;
    fc.con_values = !o_.non;
    fc.alive_interval = std::chrono::milliseconds(static_cast<long>(o_.alive_interval * 1000));
    fleet_ = std::make_unique<test::coap_fleet>(fc);
    new_at_ = std::make_unique<std::atomic<std::uint64_t>[]>(o_.nodes);
    named_at_ = std::make_unique<std::atomic<std::uint64_t>[]>(o_.nodes);
    seen_at_ = std::make_unique<std::atomic<std::uint64_t>[]>(fleet_->total_values());
    web_client client;
    if (!client.open(d_.broker_port)) {
        std::fprintf(stderr, "web client: cannot connect to the broker's /ws\n");
        return 1;
    }
    if (!fleet_->open()) {
        std::fprintf(stderr, "%s\n", fleet_->error().c_str());
        return 1;
    }
    std::thread receiver([&] {
        client.run(stop_, [this](std::string_view text) { on_message(text); });
        client_closed_ = !stop_;
    });
    const long drops0 = udp_socket_drops(d_.coap_port);
    const long rcvbuf0 = udp_rcvbuf_errors();
    const double cpu0 = cpu_seconds(d_.gateway->pid());
    const double broker_cpu0 = cpu_seconds(d_.broker->pid());
    const double own_cpu0 = cpu_seconds(::getpid());
    std::printf("burst: %d nodes on %s... port %u, %d %s values each, alives every %.0f s\n",
                o_.nodes, o_.base.c_str(), d_.node_port, o_.burst_values, o_.non ? "NON" : "CON",
                o_.alive_interval);
    fleet_->boot();
    const auto start = fleet_->booted_at();
    const auto limit = start + std::chrono::milliseconds(static_cast<long>(o_.burst_timeout * 1000));
    std::uint64_t last_sent = 0;
    steady::time_point all_sent{};
    long max_rss = 0;
    auto next_sample = start;
    while (steady::now() < limit && !client_closed_) {
        fleet_->poll(1);
        if (fleet_->values_done() && all_sent == steady::time_point{}) {
            all_sent = steady::now();
        }
        const bool all_seen = named_ == o_.nodes && [&] {
            for (std::uint64_t s = last_sent; s < fleet_->total_values(); ++s) {
                if (seen_at_[s] == 0) {
                    last_sent = s;
                    return false;
                }
            }
            last_sent = fleet_->total_values();
            return true;
        }();
        if (all_seen && fleet_->values_done()) {
            break;
        }
        // A value is lost after 10 s: no need to wait longer than that.
        if (all_sent != steady::time_point{} && steady::now() - all_sent > 10s) {
            break;
        }
        if (steady::now() >= next_sample) {
            next_sample += 100ms;
            max_rss = std::max(max_rss, memory_kb(d_.gateway->pid()).first);
        }
    }
    const double wall = seconds_since(start);
    const double cpu = cpu_seconds(d_.gateway->pid()) - cpu0;
    const double broker_cpu = cpu_seconds(d_.broker->pid()) - broker_cpu0;
    const double own_cpu = cpu_seconds(::getpid()) - own_cpu0;
    const long drops = udp_socket_drops(d_.coap_port) - drops0;
    const long rcvbuf = udp_rcvbuf_errors() - rcvbuf0;
    const auto [rss, hwm] = memory_kb(d_.gateway->pid());
    stop_ = true;
    receiver.join();

    const auto t0 = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(start.time_since_epoch()).count());
    const auto since = [&](std::uint64_t ns) { return static_cast<double>(ns - t0) / 1e9; };
    std::vector<double> news;
    std::vector<double> names;
    for (int i = 0; i < o_.nodes; ++i) {
        if (new_at_[i]) {
            news.push_back(since(new_at_[i]));
        }
        if (named_at_[i]) {
            names.push_back(since(named_at_[i]));
        }
    }
    std::sort(news.begin(), news.end());
    std::sort(names.begin(), names.end());
    const auto at_fraction = [&](const std::vector<double>& v, double f) {
        const auto need = static_cast<std::size_t>(std::ceil(f * o_.nodes));
        return v.size() >= need && need > 0 ? v[need - 1] : -1.0;
    };
    std::printf("new seen by the web client: 50%% %.3f s, 90%% %.3f s, 100%% %.3f s (%zu of %d)\n",
                at_fraction(news, 0.5), at_fraction(news, 0.9), at_fraction(news, 1.0),
                news.size(), o_.nodes);
    const double registered = names.size() == static_cast<std::size_t>(o_.nodes) ? names.back() : 1e9;
    std::printf("discovery (name seen): 50%% %.3f s, 100%% %.3f s (%zu of %d)\n",
                at_fraction(names, 0.5), at_fraction(names, 1.0), names.size(), o_.nodes);
    const auto& st = fleet_->stats();
    std::printf("retransmissions: %llu resets, %llu alives (of %llu), %llu values; %llu CONs "
                "given up; %llu error answers; %llu discovery requests answered\n",
                static_cast<unsigned long long>(st.reset_retransmissions),
                static_cast<unsigned long long>(st.alive_retransmissions),
                static_cast<unsigned long long>(st.alives),
                static_cast<unsigned long long>(st.value_retransmissions),
                static_cast<unsigned long long>(st.given_up),
                static_cast<unsigned long long>(st.error_answers),
                static_cast<unsigned long long>(st.discovery_requests));
    std::vector<double> during;
    std::vector<double> after;
    std::uint64_t lost = 0;
    std::uint64_t late = 0;
    std::uint64_t sent = 0;
    for (std::uint64_t s = 0; s < fleet_->total_values(); ++s) {
        const auto at = fleet_->sent_at(s);
        if (at == 0) {
            continue;
        }
        ++sent;
        const auto seen = seen_at_[s].load();
        if (seen == 0 || seen - at > 10'000'000'000ull) {
            ++lost;
            late += seen != 0;
            continue;
        }
        const double ms = static_cast<double>(seen - at) / 1e6;
        (since(at) < registered ? during : after).push_back(ms);
    }
    std::printf("values: %llu of %llu sent, %llu lost (%.3f%%; %llu of them late, > 10 s), %llu "
                "duplicates seen\n",
                static_cast<unsigned long long>(sent),
                static_cast<unsigned long long>(fleet_->total_values()),
                static_cast<unsigned long long>(lost),
                sent ? 100.0 * static_cast<double>(lost) / static_cast<double>(sent) : 0.0,
                static_cast<unsigned long long>(late),
                static_cast<unsigned long long>(duplicates_.load()));
    std::printf("latency during registration: p50 %.1f ms, p99 %.1f ms (%zu values); after: p50 "
                "%.1f ms, p99 %.1f ms (%zu values)\n",
                percentile(during, 0.5), percentile(during, 0.99), during.size(),
                percentile(after, 0.5), percentile(after, 0.99), after.size());
    std::printf("gateway: CPU %.0f%% of %.1f s, RSS %ld kB (peak sampled %ld kB, VmHWM %ld kB); "
                "broker CPU %.0f%%; this tool %.0f%%\n",
                100 * cpu / wall, wall, rss, max_rss, hwm, 100 * broker_cpu / wall,
                100 * own_cpu / wall);
    std::printf("kernel: gateway socket drops %ld, Udp RcvbufErrors %ld; web client %s\n", drops,
                rcvbuf, client_closed_ ? "CLOSED by the broker" : "kept");
    d_.gateway->terminate();
    d_.broker->terminate();
    const bool ok = names.size() == static_cast<std::size_t>(o_.nodes) && !client_closed_;
    return ok ? 0 : 2;
}

} // namespace

int main(int argc, char** argv)
{
    options o;
    CLI::App app{"coap_nodes: load tool for aiot-coap-gateway (docs/PERFORMANCE.md)"};
    app.option_defaults()->always_capture_default();
    app.add_option("--nodes", o.nodes, "Simulated nodes")->check(CLI::Range(1, 60000));
    app.add_option("--base", o.base, "IPv4 address of node 0 (node i: + i)");
    app.add_option("--rate", o.rate, "Values/s in the latency phase")->check(CLI::PositiveNumber);
    app.add_option("--latency-seconds", o.latency_seconds, "Length of the latency phase")
        ->check(CLI::Range(0.1, 120.0));
    app.add_option("--throughput-seconds", o.throughput_seconds, "Length of the throughput phase")
        ->check(CLI::Range(0.1, 120.0));
    app.add_option("--window", o.window, "Values in flight in the throughput phase")
        ->check(CLI::Range(1, 100000));
    app.add_option("--announce-window", o.announce_window, "Unanswered resets at most")
        ->check(CLI::Range(1, 100000));
    app.add_option("--announce-timeout", o.announce_timeout, "Seconds for announce + discovery")
        ->check(CLI::Range(1.0, 600.0));
    app.add_option("--gateway-bin", o.gateway_bin, "aiot-coap-gateway to measure");
    app.add_option("--broker-bin", o.broker_bin, "aiot-broker to use");
    app.add_option("--gateway-arg", o.gateway_args, "Extra gateway argument (repeatable)")
        ->allow_extra_args(false);
    app.add_option("--log-dir", o.log_dir, "Keep the broker and gateway logs in this folder");
    app.add_flag("--burst", o.burst,
                 "Every node boots at the same moment (no window), then values and alives flow");
    app.add_flag("--non", o.non, "--burst: values as NON (CON by default)");
    app.add_option("--burst-values", o.burst_values, "--burst: values per node, 1 s apart")
        ->check(CLI::Range(0, 1000));
    app.add_option("--alive-interval", o.alive_interval, "--burst: seconds between alives")
        ->check(CLI::Range(1.0, 600.0));
    app.add_option("--burst-timeout", o.burst_timeout, "--burst: seconds the run takes at most")
        ->check(CLI::Range(1.0, 600.0));
    CLI11_PARSE(app, argc, argv);
    if (o.burst) {
        return burst_load(std::move(o)).run();
    }
    return load(std::move(o)).run();
}
