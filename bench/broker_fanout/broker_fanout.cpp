// broker_fanout: how many deliveries per second aiot-broker fans out to web
// clients, with what latency and memory. G gateways announce one node each
// and send updates; M web clients read them. One thread, one io_context.
//
// Modes: as fast as the broker takes them (each gateway keeps at most
// --window updates not yet received by every client, so the broker is
// measured, not a queue); a fixed offered --rate; --idle-clients N holds N
// subscribed clients and checks that every one still gets a broadcast.
// --tls: the broker started with a certificate made here (openssl command
// line), every peer speaking TLS through Asio's ssl::stream.
// --brokers N: N brokers joined through a nats-server started here
// (aiot-broker --nats); gateways and clients are spread over them in turn,
// so most deliveries cross NATS.
#include "latency_histogram.hpp"

#include "broker/transport.hpp"

#include "common/keys.hpp"
#include "common/net_http.hpp"
#include "common/system.hpp"
#include "broker/ws/frame.hpp"
#include "broker/ws/client_handshake.hpp"
#include "support/process.hpp"
#include "support/system_helpers.hpp"
#include "support/test_pki.hpp"

#include <CLI/CLI.hpp>

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <deque>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <span>
#include <sstream>

namespace {

using namespace aiot;
namespace ws = aiot::broker::ws;
using steady = std::chrono::steady_clock;
using namespace std::chrono_literals;

std::uint64_t now_ns()
{
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(steady::now().time_since_epoch())
            .count());
}

struct options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 0; // 0: start a broker of our own
    std::string key_file;   // of an existing broker
    std::string broker_bin = AIOT_BROKER_BIN;
    std::vector<std::string> broker_args;
    int clients = 100;
    int gateways = 4;
    double duration = 5;
    double warmup = 1;
    int window = 0; // 0: 65536 / M, within 16..256
    bool no_window = false;  // gateways send as fast as TCP takes it
    int stuck_clients = 0;   // with no_window: clients that stop reading
    double rate = 0; // deliveries/s; 0: as fast as possible
    int payload = 0;
    int idle_clients = 0;
    int parallel_connects = 256;
    bool tls = false;
    int brokers = 1;
    std::string nats_server_bin = "/usr/sbin/nats-server";
};

struct memory {
    long rss_kb = -1;
    long hwm_kb = -1;
};

memory read_memory(pid_t pid)
{
    memory m;
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.starts_with("VmRSS:")) {
            m.rss_kb = std::stol(line.substr(6));
        } else if (line.starts_with("VmHWM:")) {
            m.hwm_kb = std::stol(line.substr(6));
        }
    }
    return m;
}

// CPU seconds (user + system) a process used so far.
double process_cpu_s(pid_t pid)
{
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto close = text.rfind(')');
    if (close == std::string::npos) {
        return 0;
    }
    std::istringstream fields(text.substr(close + 2));
    std::string field;
    double ticks = 0;
    for (int i = 3; i <= 15 && fields >> field; ++i) {
        if (i == 14 || i == 15) { // utime, stime
            ticks += std::stod(field);
        }
    }
    return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// True when `text` carries "type": `type`, spaced as pyaiot writes it (the
// broker's own bytes) or compact (a gateway's text forwarded unchanged by
// brokers before the byte-exact serializer).
bool has_type(std::string_view text, std::string_view type)
{
    for (const std::string_view key : {std::string_view(R"("type": ")"), std::string_view(R"("type":")")}) {
        for (auto at = text.find(key); at != std::string_view::npos; at = text.find(key, at + 1)) {
            const auto rest = text.substr(at + key.size());
            if (rest.size() > type.size() && rest.substr(0, type.size()) == type &&
                rest[type.size()] == '"') {
                return true;
            }
        }
    }
    return false;
}

class fanout;
class peer;

// Every peer has received at least n `new` messages.
bool all_saw(const std::vector<std::unique_ptr<peer>>& peers, int n);

// One websocket connection over a raw socket, with our own codec.
// async_read_some reads at once when data is there and needs no epoll
// re-arm per read, so the tool spends little per delivery.
class peer {
public:
    // tls: a client context (wss://), nullptr for ws://.
    peer(fanout& b, net::io_context& ioc, bool gateway, int index, ssl::context* tls)
        : b_(b),
          stream_(tls ? broker::transport(tcp::socket(ioc), *tls)
                      : broker::transport(tcp::socket(ioc))),
          socket_(stream_.socket()),
          gateway_(gateway),
          index_(index),
          decoder_(ws::role::client, 64 * 1024 * 1024)
    {
        const auto x = static_cast<std::uint32_t>(index * 2654435761u + (gateway ? 7 : 3));
        mask_ = {static_cast<std::uint8_t>(x), static_cast<std::uint8_t>(x >> 8),
                 static_cast<std::uint8_t>(x >> 16), static_cast<std::uint8_t>(x >> 24)};
    }

    void start(const tcp::endpoint& ep, std::string request, std::size_t read_buffer_size);
    void append_text(std::string_view text) { ws::append_frame(out_, ws::opcode::text, text, &mask_); }
    void flush();
    void close()
    {
        stream_.close();
        state_ = state::closed;
    }

    bool gateway() const { return gateway_; }
    int index() const { return index_; }
    bool is_open() const { return state_ == state::open; }

    std::uint64_t news = 0; // "new" messages received
    std::uint64_t sent = 0; // gateway: updates sent
    // Client, no-window mode: the next update expected from each gateway,
    // and the updates that never came (skipped sequence numbers).
    std::vector<std::uint64_t> next_seq;
    std::uint64_t lost = 0;

    // Stops reading for good: the broker's queue for this peer only grows.
    void stop_reading() { reading_ = false; }
    bool reading() const { return reading_; }
    // For a peer that stopped reading: whether the broker has closed the
    // connection (reads what is waiting until the end or an error).
    bool closed_by_peer();
    std::size_t pending_out() const { return out_.size(); }

private:
    enum class state { connecting, handshaking, open, closed };
    void do_read();
    void on_read(const beast::error_code& ec, std::size_t n);
    void fail(const std::string& why);
    void on_connected();

    fanout& b_;
    broker::transport stream_;
    tcp::socket& socket_; // stream_'s
    bool gateway_;
    int index_;
    state state_ = state::connecting;
    ws::decoder decoder_;
    ws::mask_key mask_{};
    std::string key_ = "dGhlIHNhbXBsZSBub25jZQ==";
    std::string head_;
    std::vector<char> buffer_;
    std::string out_;
    std::string writing_;
    bool write_busy_ = false;
    bool reading_ = true;
};

class fanout {
public:
    explicit fanout(options o) : o_(std::move(o)) {}
    int run();

    // For the peers.
    void on_open(peer& p);
    void on_message(peer& p, std::string_view text);
    void on_closed(peer& p, bool was_open, const std::string& why);
    void on_written(peer& p);

private:
    bool start_broker();
    std::vector<test::process*> all_brokers() const
    {
        std::vector<test::process*> all;
        if (broker_) {
            all.push_back(broker_.get());
        }
        for (const auto& b : more_brokers_) {
            all.push_back(b.get());
        }
        return all;
    }
    double brokers_cpu_s() const
    {
        double sum = 0;
        for (auto* b : all_brokers()) {
            sum += process_cpu_s(b->pid());
        }
        return sum;
    }
    // --tls: a certificate for the broker (its options added to args) and
    // the peers' client context trusting it.
    bool make_certificate(std::vector<std::string>& args);
    bool run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout);
    bool connect(std::vector<std::unique_ptr<peer>>& peers, int count, bool gateway);
    void start_more();
    void on_update(peer& client, std::string_view text);
    void pump();
    void schedule_pump();
    void tick();
    std::string update_text(int g, std::uint64_t seq) const;
    int run_load();
    int run_idle();
    void report_memory(const char* what);

    options o_;
    net::io_context ioc_{1};
    std::unique_ptr<test::temp_dir> dir_;
    std::unique_ptr<test::process> broker_;
    // --brokers N: the others, and the nats-server between them.
    std::vector<std::unique_ptr<test::process>> more_brokers_;
    std::unique_ptr<test::process> nats_;
    std::vector<tcp::endpoint> endpoints_;
    std::unique_ptr<ssl::context> tls_; // --tls: the peers' client context
    std::string gateway_request_;
    std::string client_request_;
    std::vector<std::unique_ptr<peer>> gateways_;
    std::vector<std::unique_ptr<peer>> clients_;

    std::deque<std::pair<peer*, bool>> to_start_;
    int connecting_ = 0;
    int opened_ = 0;
    int failed_ = 0;
    int dropped_ = 0;
    int reported_ = 0;
    int alive_clients_ = 0;

    // Flow control: per gateway, how many clients got each recent update.
    std::vector<std::vector<std::uint32_t>> ring_;
    std::vector<std::uint64_t> acked_; // updates every client has
    std::size_t ring_size_ = 0;
    bool sending_ = false;
    bool pump_posted_ = false;
    bool measuring_ = false;
    std::uint64_t deliveries_ = 0;
    std::uint64_t send_start_ns_ = 0;
    double msgs_per_gateway_ns_ = 0;
    bool saturated_ = false;
    net::steady_timer tick_timer_{ioc_};
    aiot::bench::latency_histogram latency_;
    std::string padding_;
    memory idle_;
};

void peer::start(const tcp::endpoint& ep, std::string request, std::size_t read_buffer_size)
{
    out_ = std::move(request);
    buffer_.resize(read_buffer_size);
    socket_.async_connect(ep, [this](const beast::error_code& ec) {
        if (ec) {
            fail("connect: " + ec.message());
            return;
        }
        beast::error_code ignored;
        socket_.set_option(tcp::no_delay(true), ignored);
        if (auto* tls = stream_.tls()) {
            tls->async_handshake(ssl::stream_base::client, [this](const beast::error_code& e) {
                if (e) {
                    fail("TLS handshake: " + e.message());
                    return;
                }
                on_connected();
            });
            return;
        }
        on_connected();
    });
}

void peer::on_connected()
{
    state_ = state::handshaking;
    flush();
    do_read();
}

void peer::flush()
{
    if (write_busy_ || out_.empty() || state_ == state::closed) {
        return;
    }
    writing_.swap(out_);
    out_.clear();
    write_busy_ = true;
    net::async_write(stream_, net::buffer(writing_),
                     [this](const beast::error_code& ec, std::size_t) {
                         write_busy_ = false;
                         writing_.clear();
                         if (ec) {
                             fail("write: " + ec.message());
                             return;
                         }
                         flush();
                         b_.on_written(*this);
                     });
}

bool peer::closed_by_peer()
{
    if (state_ == state::closed) {
        return true;
    }
    beast::error_code ec;
    socket_.non_blocking(true, ec);
    for (int i = 0; i < 100000; ++i) { // bounded: at most 100,000 reads
        socket_.read_some(net::buffer(buffer_), ec);
        if (ec) {
            return ec != net::error::would_block && ec != net::error::try_again;
        }
    }
    return false;
}

void peer::do_read()
{
    stream_.async_read_some(net::buffer(buffer_), [this](const beast::error_code& ec,
                                                         std::size_t n) { on_read(ec, n); });
}

void peer::fail(const std::string& why)
{
    if (state_ == state::closed) {
        return;
    }
    const bool was_open = state_ == state::open;
    close();
    b_.on_closed(*this, was_open, why);
}

void peer::on_read(const beast::error_code& ec, std::size_t n)
{
    if (state_ == state::closed) {
        return;
    }
    if (ec) {
        fail(ec == net::error::eof || ec == ssl::error::stream_truncated
                 ? "closed by the broker"
                 : "read: " + ec.message());
        return;
    }
    std::span<char> data(buffer_.data(), n);
    if (state_ == state::handshaking) {
        const std::size_t before = head_.size();
        head_.append(data.data(), data.size());
        const auto end = head_.find("\r\n\r\n");
        if (end == std::string::npos) {
            if (head_.size() > 16384) {
                fail("handshake answer too long");
            } else {
                do_read();
            }
            return;
        }
        const std::size_t used = end + 4 - before;
        head_.resize(end + 4);
        if (!aiot::broker::ws::client_handshake_accepted(head_, key_)) {
            fail("handshake refused: " + head_.substr(0, head_.find("\r\n")));
            return;
        }
        std::string().swap(head_);
        state_ = state::open;
        b_.on_open(*this);
        data = data.subspan(used);
    }
    decoder_.feed(data, [this](const ws::event& e) {
        if (state_ == state::closed) {
            return;
        }
        switch (e.type) {
        case ws::event::kind::message:
            b_.on_message(*this, e.payload);
            break;
        case ws::event::kind::close:
            fail("closed by the broker with " + std::to_string(e.code) + " " +
                 std::string(e.reason));
            break;
        case ws::event::kind::error:
            fail("bad frame: " + std::string(e.reason));
            break;
        case ws::event::kind::ping:
            out_ += *ws::control_reply(e, &mask_);
            flush();
            break;
        case ws::event::kind::pong:
            break;
        }
    });
    if (state_ != state::closed && reading_) {
        do_read();
    }
}

bool all_saw(const std::vector<std::unique_ptr<peer>>& peers, int n)
{
    return std::all_of(peers.begin(), peers.end(),
                       [n](const auto& p) { return p->news >= static_cast<std::uint64_t>(n); });
}

bool fanout::run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout)
{
    const auto deadline = steady::now() + timeout;
    while (!done()) {
        if (steady::now() >= deadline) {
            return false;
        }
        if (broker_ && !broker_->running()) {
            std::cerr << "the broker died; its log:\n" << broker_->log();
            return false;
        }
        ioc_.run_for(10ms);
    }
    return true;
}

bool fanout::make_certificate(std::vector<std::string>& args)
{
    try {
        const auto pki = test::make_test_pki(dir_->path());
        args.insert(args.end(), {"--tls-cert", pki.cert.string(), "--tls-key", pki.key.string()});
        tls_ = std::make_unique<ssl::context>(ssl::context::tls_client);
        tls_->load_verify_file(pki.ca.string());
        tls_->set_verify_mode(ssl::verify_peer);
    } catch (const std::exception& e) {
        std::cerr << e.what() << "\n";
        return false;
    }
    return true;
}

bool fanout::start_broker()
{
    common::key_pair keys;
    if (o_.port == 0) {
        dir_ = std::make_unique<test::temp_dir>();
        keys = common::generate_keys();
        common::save_keys(keys, dir_->path() / "keys", false);
        o_.port = test::free_tcp_port();
        std::vector<std::string> args = {"--key-file", (dir_->path() / "keys").string(), "--bind",
                                         o_.host, "--broker-port", std::to_string(o_.port)};
        if (o_.tls && !make_certificate(args)) {
            return false;
        }
        args.insert(args.end(), o_.broker_args.begin(), o_.broker_args.end());
        if (o_.brokers > 1) {
            const auto nats_port = test::free_tcp_port();
            nats_ = std::make_unique<test::process>(
                o_.nats_server_bin,
                std::vector<std::string>{"-a", o_.host, "-p", std::to_string(nats_port)},
                dir_->path() / "nats.log");
            if (!nats_->wait_for_log("Server is ready")) {
                std::cerr << "nats-server did not start:\n" << nats_->log();
                return false;
            }
            args.push_back("--nats");
            args.push_back("nats://" + o_.host + ":" + std::to_string(nats_port));
        }
        broker_ = std::make_unique<test::process>(o_.broker_bin, args, dir_->path() / "broker.log");
        if (!broker_->wait_for_log("listening on")) {
            std::cerr << "the broker did not start:\n" << broker_->log();
            return false;
        }
        endpoints_.emplace_back(net::ip::make_address(o_.host), o_.port);
        for (int b = 1; b < o_.brokers; ++b) {
            const auto port = test::free_tcp_port();
            auto more = args;
            more[5] = std::to_string(port); // --broker-port's value
            more_brokers_.push_back(std::make_unique<test::process>(
                o_.broker_bin, more, dir_->path() / ("broker" + std::to_string(b) + ".log")));
            if (!more_brokers_.back()->wait_for_log("listening on")) {
                std::cerr << "broker " << b << " did not start:\n" << more_brokers_.back()->log();
                return false;
            }
            endpoints_.emplace_back(net::ip::make_address(o_.host), port);
        }
        const auto joined = "(" + std::to_string(o_.brokers - 1) + " other broker(s))";
        for (auto* b : all_brokers()) {
            if (o_.brokers > 1 && !b->wait_for_log(joined)) {
                std::cerr << "the brokers did not join through NATS:\n" << b->log();
                return false;
            }
        }
        idle_ = read_memory(broker_->pid());
        std::printf("broker pid %d on %s:%u, idle RSS %ld kB\n", broker_->pid(), o_.host.c_str(),
                    o_.port, idle_.rss_kb);
    } else {
        keys = common::load_keys(o_.key_file);
        endpoints_.emplace_back(net::ip::make_address(o_.host), o_.port);
    }
    const std::string host = o_.host + ":" + std::to_string(o_.port);
    const std::string key = "dGhlIHNhbXBsZSBub25jZQ==";
    gateway_request_ = aiot::broker::ws::client_handshake_request(host, "/gw", key,
                                                    "token, " + common::make_gateway_token(keys));
    client_request_ = aiot::broker::ws::client_handshake_request(host, "/ws", key);
    return true;
}

bool fanout::connect(std::vector<std::unique_ptr<peer>>& peers, int count, bool gateway)
{
    const int before_opened = opened_;
    const int before_failed = failed_;
    for (int i = 0; i < count; ++i) {
        peers.push_back(std::make_unique<peer>(*this, ioc_, gateway, i, tls_.get()));
        to_start_.emplace_back(peers.back().get(), gateway);
    }
    start_more();
    const bool ok = run_until([&] { return opened_ + failed_ - before_opened - before_failed == count; },
                              60s);
    if (failed_ != before_failed || !ok) {
        std::fprintf(stderr, "%d of %d %s connections failed\n",
                     count - (opened_ - before_opened), count, gateway ? "gateway" : "client");
        return false;
    }
    return true;
}

void fanout::start_more()
{
    while (connecting_ < o_.parallel_connects && !to_start_.empty()) {
        auto [p, gateway] = to_start_.front();
        to_start_.pop_front();
        ++connecting_;
        // Idle clients get small buffers: 10,000 of them stay cheap.
        p->start(endpoints_[static_cast<std::size_t>(p->index()) % endpoints_.size()],
                 gateway ? gateway_request_ : client_request_,
                 gateway ? 65536 : o_.idle_clients > 0 ? 4096 : 65536);
    }
}

void fanout::on_open(peer& p)
{
    --connecting_;
    ++opened_;
    if (!p.gateway()) {
        ++alive_clients_;
        p.append_text(R"({"type":"new","data":"client"})");
        p.flush();
    }
    start_more();
}

void fanout::on_closed(peer& p, bool was_open, const std::string& why)
{
    if (reported_++ < 5) { // the first few reasons are enough
        std::fprintf(stderr, "%s %d: %s\n", p.gateway() ? "gateway" : "client", p.index(),
                     why.c_str());
    }
    if (!was_open) {
        --connecting_;
        ++failed_;
        start_more();
        return;
    }
    ++dropped_;
    if (p.gateway()) {
        return;
    }
    --alive_clients_;
    // Updates the dropped client never got no longer hold the gateways back.
    for (std::size_t g = 0; g < acked_.size(); ++g) {
        while (acked_[g] < gateways_[g]->sent &&
               ring_[g][acked_[g] % ring_size_] >= static_cast<std::uint32_t>(alive_clients_)) {
            ring_[g][acked_[g]++ % ring_size_] = 0;
        }
    }
    schedule_pump();
}

void fanout::on_message(peer& p, std::string_view text)
{
    if (p.gateway()) {
        if (has_type(text, "new")) {
            ++p.news;
        }
        return;
    }
    if (has_type(text, "update")) {
        on_update(p, text);
    } else if (has_type(text, "new")) {
        ++p.news;
    }
}

std::string fanout::update_text(int g, std::uint64_t seq) const
{
    // The broker forwards gateway messages as received, so clients find
    // data where the gateway put it.
    return R"({"type":"update","uid":"bench-)" + std::to_string(g) +
           R"(","endpoint":"t","dst":"all","data":")" + std::to_string(g) + ":" +
           std::to_string(seq) + ":" + std::to_string(now_ns()) + padding_ + "\"}";
}

void fanout::on_written(peer& p)
{
    if (p.gateway() && o_.no_window) {
        schedule_pump();
    }
}

void fanout::on_update(peer& client, std::string_view text)
{
    // Compact (as sent) or pyaiot's spacing (as the broker re-serializes).
    auto at = text.find(R"("data":")");
    std::size_t skip = 8;
    if (at == std::string_view::npos) {
        at = text.find(R"("data": ")");
        skip = 9;
    }
    if (at == std::string_view::npos) {
        return;
    }
    const char* p = text.data() + at + skip;
    const char* end = text.data() + text.size();
    int g = 0;
    std::uint64_t seq = 0;
    std::uint64_t sent_ns = 0;
    auto r = std::from_chars(p, end, g);
    r = std::from_chars(r.ptr + 1, end, seq);
    r = std::from_chars(r.ptr + 1, end, sent_ns);
    if (r.ec != std::errc{} || g < 0 || g >= static_cast<int>(acked_.size())) {
        return;
    }
    if (measuring_) {
        ++deliveries_;
        latency_.add(now_ns() - sent_ns);
    }
    if (o_.no_window) {
        auto& next = client.next_seq[static_cast<std::size_t>(g)];
        client.lost += seq > next ? seq - next : 0;
        next = seq + 1;
        return;
    }
    auto& ring = ring_[static_cast<std::size_t>(g)];
    ++ring[seq % ring_size_];
    auto& acked = acked_[static_cast<std::size_t>(g)];
    bool advanced = false;
    while (ring[acked % ring_size_] >= static_cast<std::uint32_t>(alive_clients_) &&
           acked < gateways_[static_cast<std::size_t>(g)]->sent) {
        ring[acked % ring_size_] = 0;
        ++acked;
        advanced = true;
    }
    if (advanced && o_.rate == 0) {
        schedule_pump();
    }
}

void fanout::schedule_pump()
{
    if (pump_posted_ || !sending_) {
        return;
    }
    pump_posted_ = true;
    net::post(ioc_, [this] {
        pump_posted_ = false;
        pump();
    });
}

void fanout::pump()
{
    if (!sending_) {
        return;
    }
    for (std::size_t g = 0; g < gateways_.size(); ++g) {
        auto& gw = *gateways_[g];
        if (o_.no_window) {
            // Keep about 64 kB ready: the gateway writes whenever TCP
            // takes more, and only TCP (the broker reading) slows it.
            while (gw.pending_out() < 64 * 1024) {
                gw.append_text(update_text(static_cast<int>(g), gw.sent++));
            }
            gw.flush();
            continue;
        }
        while (gw.sent - acked_[g] < static_cast<std::uint64_t>(o_.window)) {
            gw.append_text(update_text(static_cast<int>(g), gw.sent++));
        }
        gw.flush();
    }
}

void fanout::tick()
{
    if (!sending_) {
        return;
    }
    const double elapsed = static_cast<double>(now_ns() - send_start_ns_);
    const auto due = static_cast<std::uint64_t>(elapsed * msgs_per_gateway_ns_);
    for (std::size_t g = 0; g < gateways_.size(); ++g) {
        auto& gw = *gateways_[g];
        while (gw.sent < due) {
            if (gw.sent - acked_[g] >= ring_size_ - 1) {
                saturated_ = true; // the broker does not keep up with the rate
                break;
            }
            gw.append_text(update_text(static_cast<int>(g), gw.sent++));
        }
        gw.flush();
    }
    tick_timer_.expires_after(1ms);
    tick_timer_.async_wait([this](const beast::error_code& ec) {
        if (!ec) {
            tick();
        }
    });
}

void fanout::report_memory(const char* what)
{
    if (broker_) {
        const auto m = read_memory(broker_->pid());
        std::printf("broker memory %s: RSS %ld kB, peak RSS (VmHWM) %ld kB\n", what, m.rss_kb,
                    m.hwm_kb);
    }
}

int fanout::run_load()
{
    const int m = o_.clients;
    const int g = o_.gateways;
    if (!connect(gateways_, g, true) || !connect(clients_, m, false)) {
        return 1;
    }
    // Every gateway has seen every client's `new`: all are subscribed.
    if (!run_until([&] { return all_saw(gateways_, m); }, 30s)) {
        std::fprintf(stderr, "not every client got subscribed\n");
        return 1;
    }
    for (int i = 0; i < g; ++i) {
        gateways_[static_cast<std::size_t>(i)]->append_text(
            R"({"type":"new","uid":"bench-)" + std::to_string(i) + R"(","dst":"all"})");
        gateways_[static_cast<std::size_t>(i)]->flush();
    }
    if (!run_until([&] { return all_saw(clients_, g); }, 30s)) {
        std::fprintf(stderr, "not every client saw every node\n");
        return 1;
    }
    std::printf("%d gateways and %d clients connected and subscribed\n", g, m);
    for (auto& c : clients_) {
        c->next_seq.assign(static_cast<std::size_t>(g), 0);
    }
    for (int i = m - o_.stuck_clients; i < m; ++i) {
        clients_[static_cast<std::size_t>(i)]->stop_reading();
    }

    ring_size_ = o_.rate > 0 ? 1u << 20 : static_cast<std::size_t>(o_.window) * 2;
    ring_.assign(static_cast<std::size_t>(g), std::vector<std::uint32_t>(ring_size_));
    acked_.assign(static_cast<std::size_t>(g), 0);
    sending_ = true;
    send_start_ns_ = now_ns();
    if (o_.rate > 0) {
        msgs_per_gateway_ns_ = o_.rate / (static_cast<double>(m) * g) / 1e9;
        tick();
    } else {
        pump();
    }
    ioc_.run_for(std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::duration<double>(o_.warmup)));
    latency_.clear();
    deliveries_ = 0;
    measuring_ = true;
    const double broker_cpu0 = brokers_cpu_s();
    const double nats_cpu0 = nats_ ? process_cpu_s(nats_->pid()) : 0;
    const double own_cpu0 = process_cpu_s(::getpid());
    const auto t0 = now_ns();
    ioc_.run_for(std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::duration<double>(o_.duration)));
    const auto t1 = now_ns();
    const double broker_cpu = brokers_cpu_s() - broker_cpu0;
    const double nats_cpu = nats_ ? process_cpu_s(nats_->pid()) - nats_cpu0 : 0;
    const double own_cpu = process_cpu_s(::getpid()) - own_cpu0;
    measuring_ = false;
    sending_ = false;
    tick_timer_.cancel();

    // No-window mode: every reading client must get every update, in order;
    // every stuck client must have been closed by the broker.
    std::uint64_t lost = 0;
    int stuck_closed = 0;
    if (o_.no_window) {
        const auto behind = [&] {
            std::uint64_t missing = 0;
            for (const auto& c : clients_) {
                if (!c->reading() || !c->is_open()) {
                    continue;
                }
                for (std::size_t i = 0; i < gateways_.size(); ++i) {
                    missing += gateways_[i]->sent - std::min(gateways_[i]->sent, c->next_seq[i]);
                }
            }
            return missing;
        };
        run_until([&] { return behind() == 0; }, 20s);
        lost = behind();
        for (const auto& c : clients_) {
            lost += c->reading() ? c->lost : 0;
            stuck_closed += !c->reading() && c->closed_by_peer() ? 1 : 0;
        }
    }

    const double seconds = static_cast<double>(t1 - t0) / 1e9;
    const double per_s = static_cast<double>(deliveries_) / seconds;
    const memory mem = broker_ ? read_memory(broker_->pid()) : memory{};
    std::printf("mode %s, M=%d clients, G=%d gateways, window %d, payload +%d bytes, %.1f s\n",
                o_.rate > 0 ? "fixed rate" : "max", m, g, o_.window, o_.payload, seconds);
    if (o_.rate > 0) {
        std::printf("offered %.0f deliveries/s%s\n", o_.rate,
                    saturated_ ? " (NOT sustained: the broker fell behind)" : "");
    }
    std::printf("deliveries: %llu, %.0f deliveries/s, %.0f updates/s in\n",
                static_cast<unsigned long long>(deliveries_), per_s, per_s / m);
    std::printf("latency us: p50 %.0f, p99 %.0f, p99.9 %.0f, max %.0f\n", latency_.percentile_us(0.5),
                latency_.percentile_us(0.99), latency_.percentile_us(0.999), latency_.max_us());
    std::printf("CPU: broker%s %.0f%%, this tool %.0f%% (of one core)\n",
                o_.brokers > 1 ? "s together" : "", 100 * broker_cpu / seconds,
                100 * own_cpu / seconds);
    if (nats_) {
        std::printf("%d brokers through NATS: nats-server CPU %.0f%% (of one core)\n", o_.brokers,
                    100 * nats_cpu / seconds);
    }
    std::printf("broker RSS: idle %ld kB, now %ld kB, peak (VmHWM) %ld kB; dropped connections: %d\n",
                idle_.rss_kb, mem.rss_kb, mem.hwm_kb, dropped_);
    std::string extra;
    if (o_.no_window) {
        std::printf("no window: %llu updates lost by reading clients; %d of %d stuck clients "
                    "closed by the broker\n",
                    static_cast<unsigned long long>(lost), stuck_closed, o_.stuck_clients);
        extra = " lost=" + std::to_string(lost) + " stuck_closed=" + std::to_string(stuck_closed) +
                "/" + std::to_string(o_.stuck_clients);
    }
    std::printf("RESULT M=%d G=%d rate=%.0f deliveries_per_s=%.0f p50_us=%.0f p99_us=%.0f "
                "broker_cpu=%.0f%% tool_cpu=%.0f%% idle_rss_kb=%ld peak_rss_kb=%ld dropped=%d%s%s%s%s\n",
                m, g, o_.rate, per_s, latency_.percentile_us(0.5), latency_.percentile_us(0.99),
                100 * broker_cpu / seconds, 100 * own_cpu / seconds, idle_.rss_kb, mem.hwm_kb,
                dropped_, saturated_ ? " saturated" : "", o_.no_window ? " no_window" : "",
                extra.c_str(), o_.tls ? " tls" : "");
    const bool no_window_ok = lost == 0 && stuck_closed == o_.stuck_clients;
    return dropped_ == 0 && !saturated_ && no_window_ok ? 0 : 2;
}

int fanout::run_idle()
{
    const int n = o_.idle_clients;
    const auto t0 = steady::now();
    if (!connect(gateways_, 1, true) || !connect(clients_, n, false)) {
        return 1;
    }
    if (!run_until([&] { return gateways_[0]->news >= static_cast<std::uint64_t>(n); }, 30s)) {
        std::fprintf(stderr, "only %llu of %d clients subscribed\n",
                     static_cast<unsigned long long>(gateways_[0]->news), n);
        return 1;
    }
    const double connect_s = std::chrono::duration<double>(steady::now() - t0).count();
    std::printf("%d clients connected and subscribed in %.2f s (%.0f %shandshakes/s)\n", n,
                connect_s, n / connect_s, o_.tls ? "TLS + websocket " : "websocket ");
    report_memory("with the clients connected");
    ioc_.run_for(std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::duration<double>(o_.duration)));
    // Every held client still gets a broadcast.
    gateways_[0]->append_text(R"({"type":"new","uid":"bench-idle","dst":"all"})");
    gateways_[0]->flush();
    const auto sent = steady::now();
    int got = 0;
    run_until([&] {
        got = 0;
        for (const auto& c : clients_) {
            got += c->news > 0 ? 1 : 0;
        }
        return got == n;
    }, 20s);
    const double fanout_ms = std::chrono::duration<double, std::milli>(steady::now() - sent).count();
    const memory mem = broker_ ? read_memory(broker_->pid()) : memory{};
    std::printf("after %.0f s idle: %d of %d clients got the broadcast (in %.1f ms); dropped %d\n",
                o_.duration, got, n, fanout_ms, dropped_);
    std::printf("broker RSS: idle %ld kB, with clients %ld kB (%.2f kB per client), peak %ld kB\n",
                idle_.rss_kb, mem.rss_kb,
                static_cast<double>(mem.rss_kb - idle_.rss_kb) / n, mem.hwm_kb);
    std::printf("RESULT idle_clients=%d held=%d connects_per_s=%.0f idle_rss_kb=%ld rss_kb=%ld "
                "peak_rss_kb=%ld%s\n",
                n, got, n / connect_s, idle_.rss_kb, mem.rss_kb, mem.hwm_kb,
                o_.tls ? " tls" : "");
    return got == n && dropped_ == 0 ? 0 : 2;
}

int fanout::run()
{
    padding_.assign(static_cast<std::size_t>(o_.payload), 'x');
    const auto fds = common::raise_fd_limit();
    if (static_cast<long>(fds.after) < o_.clients + o_.idle_clients + o_.gateways + 64) {
        std::fprintf(stderr, "open file limit %lu is too low\n", fds.after);
        return 1;
    }
    if (!start_broker()) {
        return 1;
    }
    const int rc = o_.idle_clients > 0 ? run_idle() : run_load();
    for (auto& p : clients_) {
        p->close();
    }
    for (auto& p : gateways_) {
        p->close();
    }
    for (auto& b : more_brokers_) {
        if (const int status = b->terminate(5s); status != 0) {
            std::fprintf(stderr, "broker exit status %d; log:\n%s\n", status, b->log().c_str());
            return 1;
        }
    }
    if (nats_) {
        nats_->terminate(5s);
    }
    if (broker_) {
        const int status = broker_->terminate(5s);
        if (status != 0) {
            std::fprintf(stderr, "broker exit status %d; log:\n%s\n", status, broker_->log().c_str());
            return 1;
        }
    }
    return rc;
}

} // namespace

int main(int argc, char** argv)
{
    options o;
    CLI::App app{"broker_fanout: fan-out throughput, latency and memory of aiot-broker"};
    app.option_defaults()->always_capture_default();
    app.add_option("--port", o.port, "Port of a running broker (0: start one on a free port)");
    app.add_option("--host", o.host, "Broker address (loopback)");
    app.add_option("--key-file", o.key_file, "Key file of a running broker");
    app.add_option("--broker-bin", o.broker_bin, "aiot-broker to start");
    app.add_option("--broker-arg", o.broker_args, "Extra argument for the started broker");
    app.add_option("-M,--clients", o.clients, "Web clients")->check(CLI::Range(1, 15000));
    app.add_option("-G,--gateways", o.gateways, "Gateways")->check(CLI::Range(1, 64));
    app.add_option("--duration", o.duration, "Measured seconds")->check(CLI::Range(0.1, 45.0));
    app.add_option("--warmup", o.warmup, "Seconds before measuring")->check(CLI::Range(0.0, 5.0));
    app.add_option("--window", o.window,
                   "Updates per gateway not yet received by every client (0: 65536/M, "
                   "within 16..256)")
        ->check(CLI::Range(0, 100000));
    app.add_option("--rate", o.rate, "Offered deliveries/s (0: as fast as the broker goes)")
        ->check(CLI::Range(0.0, 1e8));
    app.add_option("--payload", o.payload, "Extra bytes in each update")->check(CLI::Range(0, 60000));
    app.add_flag("--no-window", o.no_window,
                 "Gateways send as fast as TCP takes it (no window, no rate): shows the broker's "
                 "memory bound; reading clients must lose nothing");
    app.add_option("--stuck-clients", o.stuck_clients,
                   "With --no-window: this many clients stop reading once subscribed (the "
                   "broker must close them)")
        ->check(CLI::Range(0, 15000));
    app.add_option("--idle-clients", o.idle_clients,
                   "Hold this many idle subscribed clients instead (memory mode)")
        ->check(CLI::Range(0, 15000));
    app.add_option("--parallel-connects", o.parallel_connects, "Handshakes under way at once")
        ->check(CLI::Range(1, 4096));
    app.add_flag("--tls", o.tls,
                 "Start the broker with a certificate made here (openssl command line); every "
                 "peer speaks TLS");
    app.add_option("--brokers", o.brokers,
                   "Start this many brokers joined through a nats-server started here; peers "
                   "are spread over them in turn")
        ->check(CLI::Range(1, 8));
    app.add_option("--nats-server-bin", o.nats_server_bin, "nats-server to start (--brokers)");
    CLI11_PARSE(app, argc, argv);
    if (o.brokers > 1 && o.port != 0) {
        std::cerr << "--brokers starts its own brokers: no --port\n";
        return 1;
    }
    if (o.window == 0) {
        o.window = std::clamp(65536 / o.clients, 16, 256);
    }
    if (o.tls && o.port != 0) {
        std::cerr << "--tls starts its own broker: no --port\n";
        return 1;
    }
    if (o.port != 0 && o.key_file.empty()) {
        std::cerr << "--port needs --key-file\n";
        return 1;
    }
    if (o.stuck_clients > 0 && (!o.no_window || o.stuck_clients >= o.clients)) {
        std::cerr << "--stuck-clients needs --no-window and fewer than --clients\n";
        return 1;
    }
    if (o.no_window && o.rate > 0) {
        std::cerr << "--no-window and --rate exclude each other\n";
        return 1;
    }
    ::alarm(110); // a safety net: no run may hang
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    return fanout(std::move(o)).run();
}
