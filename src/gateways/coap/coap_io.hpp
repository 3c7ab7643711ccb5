#pragma once
// libcoap on the daemon's io_context (its sockets are watched by asio),
// shared by aiot-coap-gateway and coap-test-node: process-wide set-up with
// libcoap's log routed to spdlog, the fd loop, and address helpers.
// Every coap_* call happens on the io_context's thread.
#include "gateways/core/fwd.hpp"

#include <coap3/coap.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace aiot::gw::coap {

// coap_startup() and libcoap's log output to `log` (warnings and worse; info
// too with debug: libcoap's own debug level is one line per packet, so it is
// used only with verbose), then coap_cleanup() at the end. One per process,
// created before any coap_context_t and destroyed after the last.
class libcoap_runtime {
public:
    libcoap_runtime(std::shared_ptr<spdlog::logger> log, bool debug, bool verbose = false);
    ~libcoap_runtime();
    libcoap_runtime(const libcoap_runtime&) = delete;
    libcoap_runtime& operator=(const libcoap_runtime&) = delete;
};

// Owners of libcoap objects: the context frees its endpoints, resources and
// remaining sessions; a session pointer is one reference (released once).
struct context_deleter {
    void operator()(coap_context_t* c) const { coap_free_context(c); }
};
using context_ptr = std::unique_ptr<coap_context_t, context_deleter>;
struct session_deleter {
    void operator()(coap_session_t* s) const { coap_session_release(s); }
};
using session_ptr = std::unique_ptr<coap_session_t, session_deleter>;

// Runs a context's I/O on an io_context: waits until libcoap's epoll fd is
// readable (packets or libcoap's retransmission timer), then calls
// coap_io_process(ctx, COAP_IO_NO_WAIT) while the fd stays readable,
// calling after_io() after each round, outside libcoap (the place to send
// what the handlers decided). A burst yields to other handlers every few
// rounds, and after every round while busy() is true (other work of the
// io_context waits: the broker uplink's next write). While
// hold() is true no packet is taken (they wait in the kernel) until
// resume() is called. No polling.
class coap_io_loop {
public:
    coap_io_loop(boost::asio::io_context& ioc, coap_context_t* ctx, std::function<void()> after_io,
                 std::shared_ptr<spdlog::logger> log, std::function<bool()> hold = nullptr,
                 std::function<bool()> busy = nullptr);
    ~coap_io_loop(); // stops
    coap_io_loop(const coap_io_loop&) = delete;
    coap_io_loop& operator=(const coap_io_loop&) = delete;

    void start();
    // Input held by hold() may be taken again: hold() is asked again from
    // a fresh handler (never inside this call).
    void resume();
    // No libcoap call is made after stop() returns.
    void stop();

private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

// The payload of a PDU (empty if none).
std::string_view pdu_payload(const coap_pdu_t* pdu);
// Adds Content-Format text/plain and `text` as the payload (after any
// Uri-Path options); false if it does not fit.
bool add_text_payload(coap_pdu_t* pdu, std::string_view text);

// The host part of an address as text: "127.0.0.1", "::1", "fe80::1" (an
// IPv4-mapped IPv6 address is written as IPv4; no port, no scope).
std::string address_text(const coap_address_t& a);
std::uint32_t address_scope(const coap_address_t& a);
std::uint16_t address_port(const coap_address_t& a);

// A numeric address ("127.0.0.1", "::1", "[::1]", "fe80::1%eth0") with a
// port; scope_id applies to IPv6 addresses without a "%zone". nullopt if
// the text is not a numeric address or names an unknown interface.
std::optional<coap_address_t> make_address(std::string_view host, std::uint16_t port,
                                           std::uint32_t scope_id = 0);
// As make_address, but also resolves host names ("localhost") with
// getaddrinfo (blocking: for start-up only). family: AF_INET or AF_INET6 to
// take only such an address, AF_UNSPEC (0) for any.
std::optional<coap_address_t> resolve_address(const std::string& host, std::uint16_t port,
                                              int family = 0);

// libcoap binds its UDP endpoints with SO_REUSEADDR, so a port already in
// use does not make coap_new_endpoint fail. Call this first: it binds a
// plain socket for a moment and returns the error text, or empty if free.
std::string check_udp_port_free(const coap_address_t& a);

// The process's UDP sockets (file descriptors), to find the one libcoap
// opens for an endpoint (it does not expose it): those after minus before.
std::vector<int> udp_sockets();

// The bytes of kernel memory a socket's received, unread datagrams hold
// (SO_MEMINFO; about 800 per small datagram on Linux), 0 if unknown.
std::size_t receive_queue_bytes(int fd);

// Asks for a receive buffer of `bytes` on a socket: SO_RCVBUFFORCE first
// (allowed with CAP_NET_ADMIN, beyond net.core.rmem_max), else SO_RCVBUF
// (capped by rmem_max). Returns what the kernel granted (getsockopt: the
// kernel doubles the request for its bookkeeping) and how.
struct receive_buffer {
    int granted = 0;   // bytes, as getsockopt reports them
    bool forced = false; // SO_RCVBUFFORCE took it
    std::string error; // empty if getsockopt worked
};
receive_buffer set_receive_buffer(int fd, int bytes);

// Whether an IPv6 text address is link-local (fe80::/10).
bool is_link_local(const coap_address_t& a);

} // namespace aiot::gw::coap
