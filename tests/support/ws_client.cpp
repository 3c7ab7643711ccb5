#include "support/ws_client.hpp"

#include "common/net_ws.hpp"

namespace aiot::test {

using clock = std::chrono::steady_clock;

struct ws_client::impl {
    net::io_context ioc;
    websocket::stream<tcp::socket> ws{ioc};
    tcp::resolver resolver{ioc};
    beast::flat_buffer buffer;
    std::deque<std::string> inbox;
    bool used = false;
    bool open = false;
    bool ended = false;
    std::optional<std::uint16_t> code;
    std::string reason;

    // Runs handlers until done() or the deadline; false if not done.
    template <class Done>
    bool run_until(Done done, clock::time_point deadline)
    {
        while (!done()) {
            if (ioc.stopped()) {
                ioc.restart();
            }
            const auto now = clock::now();
            if (now >= deadline) {
                return false;
            }
            if (ioc.run_one_for(deadline - now) == 0 && ioc.stopped()) {
                return done(); // no work left: nothing more can happen
            }
        }
        return true;
    }

    void poll()
    {
        ioc.restart();
        ioc.poll();
    }

    void do_read()
    {
        ws.async_read(buffer, [this](beast::error_code ec, std::size_t) {
            if (ec) {
                ended = true;
                open = false;
                code = ec == websocket::error::closed ? ws.reason().code
                                                      : std::uint16_t{1006};
                reason = ec == websocket::error::closed ? std::string(ws.reason().reason.c_str())
                                                        : ec.message();
                return;
            }
            inbox.push_back(beast::buffers_to_string(buffer.data()));
            buffer.consume(buffer.size());
            do_read();
        });
    }

    // Closes the socket and runs what completes at once. Handlers still
    // pending (e.g. Beast's timers) only touch heap state or this object.
    void shutdown()
    {
        beast::error_code ec;
        resolver.cancel();
        beast::get_lowest_layer(ws).close(ec);
        poll();
        open = false;
    }
};

ws_client::ws_client() : impl_(std::make_unique<impl>()) {}

ws_client::~ws_client() { impl_->shutdown(); }

ws_client::handshake_result ws_client::connect(const std::string& host, std::uint16_t port,
                                               const std::string& target,
                                               std::optional<std::string> subprotocol,
                                               milliseconds timeout)
{
    if (impl_->used) {
        // A stream that was connected (or tried to) starts afresh.
        impl_->shutdown();
        impl_ = std::make_unique<impl>();
    }
    impl_->used = true;
    auto& m = *impl_;
    const auto deadline = clock::now() + timeout;
    // Shared with the handlers: they may complete after a timeout.
    struct state {
        bool done = false;
        beast::error_code error;
        websocket::response_type res;
    };
    auto st = std::make_shared<state>();

    websocket::stream_base::timeout t{};
    t.handshake_timeout = timeout;
    t.idle_timeout = websocket::stream_base::none();
    t.keep_alive_pings = false;
    m.ws.set_option(t);
    m.ws.set_option(websocket::stream_base::decorator(
        [subprotocol](websocket::request_type& req) {
            if (subprotocol) {
                req.set(http::field::sec_websocket_protocol, *subprotocol);
            }
        }));
    const std::string host_header = host + ":" + std::to_string(port);

    const auto local = local_address_;
    m.resolver.async_resolve(host, std::to_string(port), [&m, st, host_header, target, local](
                                                             beast::error_code ec,
                                                             tcp::resolver::results_type results) {
        if (ec) {
            st->error = ec;
            st->done = true;
            return;
        }
        if (!local.empty()) {
            // Bound first, then one endpoint: a range connect reopens the socket.
            auto& s = m.ws.next_layer();
            const auto to = results.begin()->endpoint();
            s.open(to.protocol(), ec);
            if (!ec) {
                s.bind(tcp::endpoint(net::ip::make_address(local, ec), 0), ec);
            }
            if (ec) {
                st->error = ec;
                st->done = true;
                return;
            }
        }
        auto connected = [&m, st, host_header, target](beast::error_code ec2) {
            if (ec2) {
                st->error = ec2;
                st->done = true;
                return;
            }
            beast::error_code ignored;
            m.ws.next_layer().set_option(tcp::no_delay(true), ignored);
            m.ws.async_handshake(st->res, host_header, target, [st](beast::error_code ec3) {
                st->error = ec3;
                st->done = true;
            });
        };
        if (!local.empty()) {
            m.ws.next_layer().async_connect(results.begin()->endpoint(), connected);
        } else {
            net::async_connect(m.ws.next_layer(), results,
                               [connected](beast::error_code ec2, const tcp::endpoint&) {
                                   connected(ec2);
                               });
        }
    });
    handshake_result result;
    if (!m.run_until([&] { return st->done; }, deadline)) {
        m.shutdown();
        result.error = "timeout";
        return result;
    }
    result.status = st->res.result_int();
    result.subprotocol = std::string(st->res[http::field::sec_websocket_protocol]);
    if (st->error) {
        result.error = st->error.message();
        if (st->error != websocket::error::upgrade_declined) {
            result.status = 0;
        } else {
            result.body = st->res.body();
        }
        m.shutdown();
        return result;
    }
    result.ok = true;
    m.open = true;
    m.do_read();
    return result;
}

bool ws_client::send(std::string_view text, milliseconds timeout)
{
    auto& m = *impl_;
    if (!m.open) {
        return false;
    }
    struct state {
        std::string data;
        bool done = false;
        beast::error_code error;
    };
    auto st = std::make_shared<state>();
    st->data = text;
    m.ws.text(true);
    m.ws.async_write(net::buffer(st->data), [st](beast::error_code ec, std::size_t) {
        st->error = ec;
        st->done = true;
    });
    if (!m.run_until([&] { return st->done; }, clock::now() + timeout)) {
        m.shutdown(); // a write cannot be taken back: the stream is unusable now
        return false;
    }
    return !st->error;
}

bool ws_client::send_json(const json& value, milliseconds timeout)
{
    return send(value.dump(), timeout);
}

std::optional<std::string> ws_client::receive(milliseconds timeout)
{
    auto& m = *impl_;
    m.run_until([&] { return !m.inbox.empty() || m.ended; }, clock::now() + timeout);
    if (m.inbox.empty()) {
        return std::nullopt;
    }
    auto text = std::move(m.inbox.front());
    m.inbox.pop_front();
    return text;
}

std::optional<ws_client::json> ws_client::receive_json(milliseconds timeout)
{
    auto text = receive(timeout);
    if (!text) {
        return std::nullopt;
    }
    auto value = json::parse(*text, nullptr, false);
    if (value.is_discarded()) {
        return std::nullopt;
    }
    return value;
}

std::optional<ws_client::json> ws_client::wait_for(const std::function<bool(const json&)>& pred,
                                                   milliseconds timeout)
{
    const auto deadline = clock::now() + timeout;
    for (;;) {
        const auto now = clock::now();
        auto text = receive(now < deadline ? std::chrono::duration_cast<milliseconds>(deadline - now)
                                           : milliseconds(0));
        if (!text) {
            return std::nullopt;
        }
        auto value = json::parse(*text, nullptr, false);
        if (!value.is_discarded() && pred(value)) {
            return value;
        }
    }
}

std::size_t ws_client::pending()
{
    impl_->poll();
    return impl_->inbox.size();
}

bool ws_client::wait_closed(milliseconds timeout)
{
    auto& m = *impl_;
    return m.run_until([&] { return m.ended; }, clock::now() + timeout);
}

bool ws_client::is_open() const { return impl_->open; }

std::optional<std::uint16_t> ws_client::close_code() const
{
    return impl_->ended ? impl_->code : std::nullopt;
}

std::string ws_client::close_reason() const { return impl_->reason; }

void ws_client::close(milliseconds timeout)
{
    auto& m = *impl_;
    if (!m.open) {
        return;
    }
    auto done = std::make_shared<bool>(false);
    m.ws.async_close(websocket::close_code::normal, [done](beast::error_code) { *done = true; });
    m.run_until([&] { return *done && m.ended; }, clock::now() + timeout);
    m.shutdown();
}

} // namespace aiot::test
