#pragma once
// The one TCP listener of the daemons (broker, dashboard, websocket
// gateway). Dual-stack: "::" accepts IPv6 and IPv4, and falls back to
// 0.0.0.0 where the host has no IPv6. A failing accept (out of file
// descriptors...) is logged once, retried every 100 ms and its end logged:
// the listener never stops listening on its own.
//
// Lifetime: the accept loop holds the listener's state (a shared_ptr), not
// the listener, so its handlers never outlive what they touch; close() (or
// the destructor) stops accepting and drops on_accept, after which it is
// never called again.
#include "common/net.hpp"

#include <spdlog/logger.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace aiot::common {

class listener {
public:
    using accept_handler = std::function<void(tcp::socket)>;

    listener(net::io_context& ioc, std::shared_ptr<spdlog::logger> log);
    ~listener();
    listener(const listener&) = delete;
    listener& operator=(const listener&) = delete;

    // Binds address (an IP address, or a host name resolved to its first
    // address) and port, 0 for any free port, and listens. Returns the bound
    // endpoint. Throws std::runtime_error "cannot listen on <address> port
    // <port>: <reason>" if it cannot.
    tcp::endpoint open(const std::string& address, std::uint16_t port);

    // Accepts connections until close(), each handed to on_accept.
    void start(accept_handler on_accept);

    // Stops accepting (idempotent).
    void close();

    // The bound endpoint (with the real port when 0 was asked).
    tcp::endpoint local_endpoint() const;

private:
    struct state;
    std::shared_ptr<state> state_;
};

// "1.2.3.4:80" or "[::1]:80" (an IPv4-mapped IPv6 address is shown as
// IPv4); address_text: the address alone, "1.2.3.4" or "::1".
std::string endpoint_text(const tcp::endpoint& endpoint);
std::string address_text(net::ip::address address);

} // namespace aiot::common
