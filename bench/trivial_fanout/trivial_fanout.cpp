// trivial_fanout: the least a websocket fan-out can do, as the baseline for
// aiot-broker (bench/broker_fanout measures both the same way).
//
// Every text message from a /gw connection is framed once and the same
// bytes are queued for every /ws connection; every message from /ws goes
// to every /gw connection. No JSON, no routing, no token check, no limits
// beyond a queue bound. One thread; each queue is written with one gathered
// write that points at the shared frames (no copies). It takes the
// broker's command line (--bind, --broker-port; the rest is ignored), so
// `broker_fanout --broker-bin <this>` starts it like the broker.
#include "broker/ws/handshake.hpp"
#include "common/net.hpp"
#include "broker/ws/frame.hpp"

#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdio>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

namespace {

namespace net = aiot::net;
namespace ws = aiot::broker::ws;
using aiot::tcp;
using aiot::error_code;

constexpr std::size_t max_queue_bytes = 16 * 1024 * 1024;
constexpr std::size_t max_message = 1024 * 1024;

class hub;

class connection : public std::enable_shared_from_this<connection> {
public:
    using frame_ptr = std::shared_ptr<const std::string>;
    connection(hub& h, tcp::socket s) : hub_(h), socket_(std::move(s)) {}
    void start() { read_head(); }
    void send(const frame_ptr& f);
    bool gateway() const { return gateway_; }

private:
    void read_head();
    void upgrade(std::string_view head);
    void read();
    void write();
    void end();

    hub& hub_;
    tcp::socket socket_;
    ws::decoder decoder_{ws::role::server, max_message};
    std::string head_;
    std::vector<char> buffer_ = std::vector<char>(64 * 1024);
    std::vector<frame_ptr> queue_;
    std::vector<frame_ptr> writing_;
    std::vector<net::const_buffer> buffers_;
    std::size_t queued_ = 0;
    bool gateway_ = false;
    bool open_ = false;
    bool writing_now_ = false;
};

class hub {
public:
    std::unordered_set<connection*> gateways;
    std::unordered_set<connection*> clients;

    void message(connection& from, std::string_view text)
    {
        auto frame = std::make_shared<std::string>();
        ws::append_frame(*frame, ws::opcode::text, text);
        for (auto* c : from.gateway() ? clients : gateways) {
            c->send(frame);
        }
    }
};

std::string header(std::string_view head, std::string_view name)
{
    // Case-sensitive enough for the load tool's requests.
    const auto at = head.find(std::string(name) + ": ");
    if (at == std::string_view::npos) {
        return {};
    }
    const auto start = at + name.size() + 2;
    return std::string(head.substr(start, head.find("\r\n", start) - start));
}

void connection::read_head()
{
    socket_.async_read_some(net::buffer(buffer_), [self = shared_from_this()](error_code ec,
                                                                             std::size_t n) {
        if (ec) {
            return;
        }
        self->head_.append(self->buffer_.data(), n);
        const auto end = self->head_.find("\r\n\r\n");
        if (end == std::string::npos) {
            if (self->head_.size() < 16384) {
                self->read_head();
            }
            return;
        }
        self->upgrade(std::string_view(self->head_).substr(0, end + 4));
        auto rest = self->head_.substr(end + 4);
        if (!rest.empty()) {
            self->decoder_.feed(std::span<char>(rest.data(), rest.size()), [&](const ws::event& e) {
                if (e.type == ws::event::kind::message) {
                    self->hub_.message(*self, e.payload);
                }
            });
        }
        self->read();
    });
}

void connection::upgrade(std::string_view head)
{
    gateway_ = head.substr(0, 8) == "GET /gw ";
    const auto protocol = header(head, "Sec-WebSocket-Protocol");
    auto response = std::make_shared<const std::string>(aiot::broker::switching_protocols(
        header(head, "Sec-WebSocket-Key"), aiot::broker::first_subprotocol(protocol)));
    open_ = true;
    (gateway_ ? hub_.gateways : hub_.clients).insert(this);
    send(response);
}

void connection::read()
{
    socket_.async_read_some(net::buffer(buffer_), [self = shared_from_this()](error_code ec,
                                                                             std::size_t n) {
        if (ec) {
            self->end();
            return;
        }
        self->decoder_.feed(std::span<char>(self->buffer_.data(), n), [&](const ws::event& e) {
            switch (e.type) {
            case ws::event::kind::message:
                self->hub_.message(*self, e.payload);
                break;
            case ws::event::kind::ping:
            case ws::event::kind::close:
            case ws::event::kind::error:
                if (auto reply = ws::control_reply(e)) {
                    self->send(std::make_shared<const std::string>(std::move(*reply)));
                }
                break;
            case ws::event::kind::pong:
                break;
            }
        });
        if (self->open_) {
            self->read();
        }
    });
}

void connection::send(const frame_ptr& f)
{
    if (!open_) {
        return;
    }
    if (queued_ + f->size() > max_queue_bytes) {
        end();
        return;
    }
    queued_ += f->size();
    queue_.push_back(f);
    if (!writing_now_) {
        writing_now_ = true;
        // After the current batch of reads is routed: one write for all.
        net::post(socket_.get_executor(), [self = shared_from_this()] { self->write(); });
    }
}

void connection::write()
{
    if (!open_ || queue_.empty()) {
        writing_now_ = false;
        return;
    }
    writing_.swap(queue_);
    buffers_.clear();
    for (const auto& f : writing_) {
        buffers_.emplace_back(f->data(), f->size());
    }
    net::async_write(socket_, buffers_, [self = shared_from_this()](error_code ec, std::size_t) {
        for (const auto& f : self->writing_) {
            self->queued_ -= f->size();
        }
        self->writing_.clear();
        if (ec) {
            self->end();
            return;
        }
        self->write();
    });
}

void connection::end()
{
    if (!open_) {
        return;
    }
    open_ = false;
    (gateway_ ? hub_.gateways : hub_.clients).erase(this);
    queue_.clear();
    error_code ec;
    socket_.close(ec);
}

void accept(tcp::acceptor& acceptor, hub& h)
{
    acceptor.async_accept([&](error_code ec, tcp::socket s) {
        if (!ec) {
            error_code ignored;
            s.set_option(tcp::no_delay(true), ignored);
            std::make_shared<connection>(h, std::move(s))->start();
        }
        accept(acceptor, h);
    });
}

} // namespace

int main(int argc, char** argv)
{
    CLI::App app{"trivial_fanout: the baseline fan-out for bench/broker_fanout"};
    std::string bind = "127.0.0.1";
    std::uint16_t port = 8000;
    app.add_option("--bind", bind, "Listen address");
    app.add_option("--broker-port", port, "Port");
    app.allow_extras(); // the broker's other options (--key-file, ...)
    CLI11_PARSE(app, argc, argv);

    net::io_context ioc{1};
    tcp::acceptor acceptor(ioc, tcp::endpoint(net::ip::make_address(bind), port));
    hub h;
    accept(acceptor, h);
    std::printf("listening on %s:%u\n", bind.c_str(), acceptor.local_endpoint().port());
    std::fflush(stdout);
    net::signal_set signals(ioc, SIGINT, SIGTERM);
    signals.async_wait([&](error_code, int) { ioc.stop(); });
    ioc.run();
    return 0;
}
