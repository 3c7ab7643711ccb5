#include "coap_endpoint.hpp"

#include "common/logging.hpp"
#include "common/metrics.hpp"
#include "common/net.hpp"
#include "common/refusal_log.hpp"
#include "common/text.hpp"
#include "gateways/coap/coap_io.hpp"
#include "gateways/coap/dtls_session_table.hpp"
#include "gateways/coap/payload.hpp"
#include "gateways/core/gateway_service.hpp"

#include <spdlog/spdlog.h>

#include <net/if.h>

#include <algorithm>
#include <iterator>
#include <limits>
#include <optional>
#include <map>
#include <stdexcept>

namespace aiot::gw::coap {

namespace {

using steady = std::chrono::steady_clock;

constexpr std::size_t token_size = 8;
constexpr std::size_t max_reply_bytes = 1024; // fits one datagram with headers

void put_token(std::uint64_t id, std::uint8_t* out)
{
    for (std::size_t i = 0; i < token_size; ++i) {
        out[i] = static_cast<std::uint8_t>(id >> (8 * (token_size - 1 - i)));
    }
}

std::optional<std::uint64_t> token_id(const coap_pdu_t* pdu)
{
    if (!pdu) {
        return std::nullopt;
    }
    const auto token = coap_pdu_get_token(pdu);
    if (token.length != token_size) {
        return std::nullopt;
    }
    std::uint64_t id = 0;
    for (std::size_t i = 0; i < token_size; ++i) {
        id = id << 8 | token.s[i];
    }
    return id;
}

std::string_view nack_text(coap_nack_reason_t reason)
{
    switch (reason) {
    case COAP_NACK_TOO_MANY_RETRIES: return "no answer (retransmissions exhausted)";
    case COAP_NACK_NOT_DELIVERABLE: return "not deliverable";
    case COAP_NACK_RST: return "reset by the node";
    case COAP_NACK_TLS_FAILED: return "TLS failed";
    case COAP_NACK_ICMP_ISSUE: return "unreachable (ICMP)";
    }
    return "failed";
}

} // namespace

struct coap_endpoint::impl {
    impl(net::io_context& io, coap_config c, gateway_service& s,
         std::shared_ptr<spdlog::logger> l)
        : ioc(io),
          config(std::move(c)),
          service(s),
          log(l ? std::move(l) : common::get_logger("gw.coap")),
          logic(config.logic, log),
          dtls_sessions(config.logic.max_nodes),
          timer(io),
          retry_timer(io)
    {
        if (!config.interface.empty()) {
            interface_index = ::if_nametoindex(config.interface.c_str());
            if (interface_index == 0) {
                throw std::runtime_error("unknown network interface '" + config.interface + "'");
            }
        }
        if (!config.plain && !config.dtls) {
            throw std::runtime_error("--no-plain-coap leaves no port: give --coap-psk-file too");
        }
        if (config.dtls && !coap_dtls_is_supported()) {
            throw std::runtime_error("this libcoap has no DTLS support (use libcoap-3-openssl)");
        }
        ctx.reset(coap_new_context(nullptr));
        if (!ctx) {
            throw std::runtime_error("cannot create a libcoap context");
        }
        coap_set_app_data(ctx.get(), this);
        coap_context_set_max_idle_sessions(ctx.get(), config.max_idle_sessions);
        coap_context_set_session_timeout(ctx.get(), config.session_timeout_s);
        coap_register_response_handler(ctx.get(), &impl::response_handler);
        coap_register_nack_handler(ctx.get(), &impl::nack_handler);
        if (config.dtls) {
            set_up_psk();
        }
        if (config.plain) {
            bound = open_endpoint(config.port, COAP_PROTO_UDP, "UDP");
        }
        if (config.dtls) {
            bound += (bound.empty() ? "" : " and ") +
                     open_endpoint(config.coaps_port, COAP_PROTO_DTLS, "DTLS");
        }
        add_resource("alive", &impl::alive_handler);
        add_resource("server", &impl::server_handler);
        // Packets wait in the kernel while the uplink has a backlog (so it
        // is not starved), until it says it drained; and the loop yields
        // after each packet while messages wait for the uplink, so that
        // its write (of everything waiting) goes before the next packet
        // (16 packets per turn made every value wait behind a backlog of
        // hundreds when the uplink wrote one message per turn).
        loop = std::make_unique<coap_io_loop>(
            ioc, ctx.get(), [this] { drain(); }, log, [this] { return hold_input(); },
            [this] { return service.broker_backlog() > 0; });
        service.on_write([this](const write_command& w) {
            logic.on_write(w);
            drain();
        });
        service.on_node_expired([this](const std::string& uid) { logic.on_node_expired(uid); });
        service.on_broker_drained([this] { resume_input(); });
    }

    // Opens one endpoint on --coap-bind; returns it as libcoap prints it
    // ("127.0.0.1:5683 UDP": the port bound).
    std::string open_endpoint(std::uint16_t port, coap_proto_t proto, const char* what)
    {
        const auto where = make_address(config.bind_address, port);
        if (!where) {
            throw std::runtime_error("--coap-bind '" + config.bind_address +
                                     "' is not a numeric IPv4 or IPv6 address");
        }
        if (const auto error = check_udp_port_free(*where); !error.empty()) {
            throw std::runtime_error(fmt::format("cannot listen on {} [{}]:{}: {}", what,
                                                 config.bind_address, port, error));
        }
        const auto before = udp_sockets();
        const auto* endpoint = coap_new_endpoint(ctx.get(), &*where, proto);
        if (!endpoint) {
            throw std::runtime_error(
                fmt::format("cannot listen on {} [{}]:{}", what, config.bind_address, port));
        }
        std::vector<int> opened;
        const auto after = udp_sockets();
        std::set_difference(after.begin(), after.end(), before.begin(), before.end(),
                            std::back_inserter(opened));
        if (opened.size() == 1) {
            endpoint_fds.push_back(opened.front());
            size_receive_buffer(opened.front());
        } else {
            log->warn("libcoap's {} socket not found ({} new UDP sockets): its receive buffer "
                      "is not set, and discovery does not give way to the nodes' packets",
                      what, opened.size());
        }
        return coap_endpoint_str(endpoint);
    }

    // Server PSK: the key is looked up by the identity the node gives
    // (id_callback); no default key, so an unknown identity is refused.
    void set_up_psk()
    {
        coap_dtls_spsk_t setup{};
        setup.version = COAP_DTLS_SPSK_SETUP_VERSION;
        setup.validate_id_call_back = &impl::psk_for_identity;
        setup.id_call_back_arg = this;
        static constexpr char hint[] = "aiot";
        setup.psk_info.hint = {sizeof hint - 1, reinterpret_cast<const std::uint8_t*>(hint)};
        if (!coap_context_set_psk2(ctx.get(), &setup)) {
            throw std::runtime_error("libcoap refused the DTLS PSK set-up");
        }
        coap_register_event_handler(ctx.get(), &impl::event_handler);
        log->info("DTLS: {} PSK identities", config.psk_keys.size());
    }

    static const coap_bin_const_t* psk_for_identity(coap_bin_const_t* identity,
                                                    coap_session_t* s, void* arg)
    {
        auto* self = static_cast<impl*>(arg);
        const std::string_view id(reinterpret_cast<const char*>(identity->s), identity->length);
        const auto it = self->config.psk_keys.find(id);
        if (it == self->config.psk_keys.end()) {
            self->refuse_dtls(s, fmt::format("unknown PSK identity '{}'",
                                             common::printable(id, 64)));
            return nullptr;
        }
        self->note_handshake(s, it->first);
        self->psk_answer = {it->second.size(),
                            reinterpret_cast<const std::uint8_t*>(it->second.data())};
        return &self->psk_answer; // libcoap copies it
    }

    // DTLS failures: a wrong key shows as a failed handshake.
    static int event_handler(coap_session_t* s, const coap_event_t event)
    {
        auto* self = of(s);
        if (self == nullptr) {
            return 0;
        }
        if (event == COAP_EVENT_DTLS_ERROR) {
            self->handshakes.erase(s);
            self->refuse_dtls(s, "DTLS handshake failed (wrong key for the identity?)");
        } else if (event == COAP_EVENT_DTLS_CLOSED || event == COAP_EVENT_SESSION_CLOSED) {
            self->handshakes.erase(s);
            self->session_ended(s);
        } else if (event == COAP_EVENT_SERVER_SESSION_DEL) {
            self->handshakes.erase(s);
        } else if (event == COAP_EVENT_DTLS_CONNECTED) {
            self->handshakes.erase(s);
            const auto* id = coap_session_get_psk_identity(s);
            self->log->debug("DTLS session with {} up (identity '{}')", remote_text(s),
                             id ? common::printable({reinterpret_cast<const char*>(id->s),
                                                     id->length}, 64)
                                : std::string("?"));
        }
        return 0;
    }

    // A known identity got its key: the handshake should end soon. With a
    // wrong key it stalls (DTLS drops what it cannot decrypt): drain()
    // logs those still open after handshake_limit.
    static constexpr auto handshake_limit = std::chrono::seconds(3);
    struct handshake {
        std::string identity;
        std::string remote;
        steady::time_point since;
    };
    void note_handshake(coap_session_t* s, const std::string& identity)
    {
        if (handshakes.size() >= 1024) {
            handshakes.erase(handshakes.begin()); // bounded
        }
        handshakes[s] = {identity, remote_text(s), steady::now()};
    }
    void check_handshakes()
    {
        const auto now = steady::now();
        for (auto it = handshakes.begin(); it != handshakes.end();) {
            if (now - it->second.since < handshake_limit) {
                ++it;
                continue;
            }
            const auto address = it->second.remote.substr(0, it->second.remote.find(' '));
            if (dtls_refusals.refused(address, now).log) {
                log->warn("DTLS from {} refused: handshake as '{}' not finished after {} s "
                          "(wrong key for the identity?)",
                          it->second.remote, common::printable(it->second.identity, 64),
                          handshake_limit.count());
            }
            it = handshakes.erase(it);
        }
    }

    static std::string remote_text(coap_session_t* s)
    {
        const auto* a = coap_session_get_addr_remote(s);
        return a ? fmt::format("{} port {}", address_text(*a), address_port(*a)) : "?";
    }

    // A refused DTLS peer: logged, at most a few lines per address and
    // interval (the rest summed up by drain()).
    void refuse_dtls(coap_session_t* s, const std::string& why)
    {
        const auto* a = coap_session_get_addr_remote(s);
        const auto address = a ? address_text(*a) : std::string("?");
        if (dtls_refusals.refused(address, steady::now()).log) {
            log->warn("DTLS from {} refused: {}", remote_text(s), why);
        }
    }

    static std::string node_key(const std::string& address, std::uint32_t scope)
    {
        return address + "%" + std::to_string(scope);
    }

    // The DTLS session a node posted over, kept (one reference) to reach
    // it again (discovery, writes); a plain post from the address drops it.
    void note_session(coap_session_t* s, const peer& from)
    {
        const auto key = node_key(from.address, from.scope_id);
        if (coap_session_get_proto(s) != COAP_PROTO_DTLS) {
            dtls_sessions.posted_plain(key);
            return;
        }
        dtls_sessions.posted_dtls(
            key, s, [](coap_session_t* raw) { return session_ptr(coap_session_reference(raw)); });
    }

    // A node's DTLS session ended: the node closed it (close_notify, e.g.
    // when it stops) or libcoap gave up on it. Our reference goes (released
    // in drain(), not inside libcoap), so libcoap can free the session, and
    // nothing more is sent to that address until the node posts again over
    // a new session: requests to it fail at once (send()) instead of going
    // in clear to --node-port or into a dead session. The node is not marked
    // out here: its discovery retries and writes fail without traffic, and
    // it goes out at --max-time like any silent node. A node that only
    // renews its session (a reboot) posts again within its alive interval
    // and must keep its card, so "out at once" would be wrong for it.
    void session_ended(coap_session_t* s)
    {
        if (auto ended = dtls_sessions.ended(s)) {
            log->info("DTLS session with {} ended", remote_text(s));
            to_release.push_back(std::move(ended->handle));
        }
    }

    ~impl()
    {
        stop();
        service.on_write(nullptr);
        service.on_node_expired(nullptr);
        service.on_broker_drained(nullptr);
        coap_set_app_data(ctx.get(), nullptr); // no handler reaches us from here on
    }

    // A burst of nodes booting at once (a power cut) sends thousands of
    // datagrams in the same millisecond: the default buffer (about 200 of
    // them) dropped most, and the nodes' retransmissions came seconds later.
    void size_receive_buffer(int fd)
    {
        if (config.receive_buffer <= 0) {
            return;
        }
        const auto r = set_receive_buffer(fd, config.receive_buffer);
        if (!r.error.empty()) {
            log->warn("UDP receive buffer: {}", r.error);
        } else if (r.granted / 2 < config.receive_buffer) { // the kernel doubles what it grants
            log->warn("UDP receive buffer: asked for {} bytes, the kernel granted {} (raise "
                      "net.core.rmem_max, or run with CAP_NET_ADMIN): a burst of nodes may be "
                      "dropped and wait for their retransmissions",
                      config.receive_buffer, r.granted);
        } else {
            log->info("UDP receive buffer: {} bytes granted ({} asked, {})", r.granted,
                      config.receive_buffer, r.forced ? "SO_RCVBUFFORCE" : "SO_RCVBUF");
        }
    }

    // True while the broker uplink has a backlog.
    bool hold_input()
    {
        const auto backlog = service.broker_backlog();
        if (backlog <= config.max_broker_backlog) {
            return false;
        }
        if (held_since == steady::time_point{}) {
            held_since = steady::now();
            log->debug("broker backlog of {} messages: CoAP packets wait", backlog);
        }
        return true;
    }

    // The uplink drained. A pause that lasted (the broker or its connection
    // not keeping up) is logged, not each short one.
    void resume_input()
    {
        if (held_since == steady::time_point{}) {
            return;
        }
        const auto held = steady::now() - std::exchange(held_since, {});
        if (held > std::chrono::seconds(1)) {
            log->warn("broker was not keeping up: CoAP packets waited {} ms",
                      std::chrono::duration_cast<std::chrono::milliseconds>(held).count());
        }
        loop->resume();
    }

    void add_resource(const char* path, coap_method_handler_t handler)
    {
        auto* r = coap_resource_init(coap_make_str_const(path), 0);
        coap_register_request_handler(r, COAP_REQUEST_POST, handler);
        coap_add_resource(ctx.get(), r);
    }

    void stop()
    {
        if (!stopped) {
            stopped = true;
            loop->stop();
            timer.cancel();
            retry_timer.cancel();
        }
    }

    static impl* of(coap_session_t* s)
    {
        return static_cast<impl*>(coap_get_app_data(coap_session_get_context(s)));
    }

    // --- libcoap callbacks: they only record; drain() acts afterwards ----

    static void alive_handler(coap_resource_t*, coap_session_t* s, const coap_pdu_t* req,
                              const coap_string_t*, coap_pdu_t* resp)
    {
        if (auto* self = of(s)) {
            self->handle_post(true, s, req, resp);
        }
    }

    static void server_handler(coap_resource_t*, coap_session_t* s, const coap_pdu_t* req,
                               const coap_string_t*, coap_pdu_t* resp)
    {
        if (auto* self = of(s)) {
            self->handle_post(false, s, req, resp);
        }
    }

    static coap_response_t response_handler(coap_session_t* s, const coap_pdu_t*,
                                            const coap_pdu_t* received, const coap_mid_t)
    {
        if (auto* self = of(s); self && received) {
            if (const auto id = token_id(received)) {
                self->finish(*id, {true, static_cast<std::uint8_t>(coap_pdu_get_code(received)),
                                   std::string(pdu_payload(received)), {}});
            }
        }
        return COAP_RESPONSE_OK;
    }

    static void nack_handler(coap_session_t* s, const coap_pdu_t* sent,
                             const coap_nack_reason_t reason, const coap_mid_t)
    {
        if (auto* self = of(s)) {
            if (const auto id = token_id(sent)) {
                self->finish(*id, {false, 0, {}, std::string(nack_text(reason))});
            }
        }
    }

    void handle_post(bool alive, coap_session_t* s, const coap_pdu_t* req, coap_pdu_t* resp)
    {
        const auto* remote = coap_session_get_addr_remote(s);
        const peer from{address_text(*remote), address_scope(*remote),
                        static_cast<std::uint16_t>(coap_pdu_get_mid(req))};
        if (config.dtls) {
            note_session(s, from);
        }
        coap_reply reply;
        coap_opt_iterator_t options;
        if (coap_check_option(req, COAP_OPTION_BLOCK1, &options)) {
            reply = {code::too_large, "block-wise transfers are not accepted"};
            log->warn("POST /{} from {} refused (4.13): block-wise transfer",
                      alive ? "alive" : "server", from.address);
        } else {
            const auto payload = pdu_payload(req);
            reply = alive ? logic.on_alive(payload, from) : logic.on_server(payload, from);
            if (auto refused = gw::settle(service, logic)) {
                reply = std::move(*refused);
            }
        }
        coap_pdu_set_code(resp, static_cast<coap_pdu_code_t>(reply.code));
        add_text_payload(resp, std::string_view(reply.payload).substr(0, max_reply_bytes));
    }

    void finish(std::uint64_t id, coap_result r)
    {
        const auto it = in_flight.find(id);
        if (it == in_flight.end()) {
            return; // timed out before, or not ours
        }
        // A node that answered is often asked again at once (discovery:
        // /.well-known/core, then each resource): its session is kept for
        // that until the end of drain().
        (r.answered ? answered_sessions : to_release).push_back(std::move(it->second.session));
        in_flight.erase(it);
        finished.emplace_back(id, std::move(r));
    }

    // --- outside libcoap ---------------------------------------------------

    void drain()
    {
        if (stopped) {
            return;
        }
        logic.flush_refusals();
        check_handshakes();
        for (const auto& sum : dtls_refusals.take_summaries(steady::now())) {
            log->warn("DTLS from {}: {} more refusals", sum.address, sum.count);
        }
        // Whether the gateway is behind on its nodes: a system call, made
        // at most once per drain and only when discovery reads wait.
        std::optional<bool> behind;
        while (true) {
            for (auto& [id, r] : std::exchange(finished, {})) {
                logic.on_result(id, r);
                gw::settle(service, logic);
            }
            auto reads = std::numeric_limits<std::size_t>::max();
            if (logic.reads_waiting()) {
                if (!behind) {
                    behind = behind_on_nodes();
                }
                if (*behind) {
                    reads = config.reads_per_round_behind;
                }
            }
            for (const auto& r : logic.take_requests(reads)) {
                send(r);
            }
            if (finished.empty()) {
                break;
            }
        }
        to_release.clear();
        answered_sessions.clear();
        arm_timer();
        arm_retry_timer();
    }

    // True while more than --coap-yield-bytes of the nodes' datagrams wait
    // in the endpoints' receive queues. Each round of packets then starts
    // at most --coap-reads-behind discovery reads (their answers, each with
    // a broker message or two, are handled between the nodes' packets): a
    // value or an alive must not queue behind a burst of registrations,
    // and discovery must not stop while values keep coming. Writes are not
    // held. Every round of packets ends with drain(), so discovery is back
    // to full speed as soon as the queue is short again.
    bool behind_on_nodes() const
    {
        if (config.yield_bytes == 0) {
            return false;
        }
        std::size_t waiting = 0;
        for (const int fd : endpoint_fds) {
            waiting += receive_queue_bytes(fd);
        }
        return waiting > config.yield_bytes;
    }

    // Failed discoveries tried again: the logic says when.
    void arm_retry_timer()
    {
        const auto next = logic.next_retry();
        if (!next || stopped || (retry_armed && retry_at <= *next)) {
            return;
        }
        retry_armed = true;
        retry_at = *next;
        retry_timer.expires_at(*next);
        retry_timer.async_wait([this](const boost::system::error_code& ec) {
            if (ec) {
                return; // re-armed or stopped
            }
            retry_armed = false;
            logic.on_retry_timer();
            drain();
        });
    }

    void fail(std::uint64_t id, std::string why)
    {
        finished.emplace_back(id, coap_result{false, 0, {}, std::move(why)});
    }

    void send(const coap_request& r)
    {
        auto scope = r.scope_id;
        auto dst = make_address(r.address, config.node_port, scope);
        if (dst && is_link_local(*dst) && interface_index != 0) {
            dst->addr.sin6.sin6_scope_id = interface_index;
        }
        if (!dst) {
            fail(r.id, "not a usable address");
            return;
        }
        session_ptr session;
        using route = dtls_session_table<session_ptr>::route;
        switch (const auto found = dtls_sessions.find(node_key(r.address, r.scope_id)); found.how) {
        case route::session: session.reset(coap_session_reference(found.session)); break;
        case route::ended: fail(r.id, "its DTLS session ended (until it posts again)"); return;
        case route::clear: break;
        }
        if (!session) {
            session = reuse_session(*dst);
        }
        if (!session) {
            session.reset(coap_new_client_session(ctx.get(), nullptr, &*dst, COAP_PROTO_UDP));
        }
        if (!session) {
            fail(r.id, "cannot open a client session");
            return;
        }
        coap_session_set_max_retransmit(session.get(), config.max_retransmit);
        auto* pdu = coap_new_pdu(COAP_MESSAGE_CON,
                                 r.method == coap_method::get ? COAP_REQUEST_CODE_GET
                                                              : COAP_REQUEST_CODE_PUT,
                                 session.get());
        bool ok = pdu != nullptr;
        if (ok) {
            std::uint8_t token[token_size];
            put_token(r.id, token);
            ok = coap_add_token(pdu, token_size, token) != 0;
            for (const auto& segment : split_path(r.path)) {
                ok = ok && coap_add_option(pdu, COAP_OPTION_URI_PATH, segment.size(),
                                           reinterpret_cast<const std::uint8_t*>(segment.data()));
            }
            if (r.method == coap_method::put) {
                ok = ok && add_text_payload(pdu, r.payload);
            }
        }
        if (!ok) {
            if (pdu) {
                coap_delete_pdu(pdu);
            }
            fail(r.id, "request does not fit a CoAP message");
            return;
        }
        auto* raw = session.get();
        in_flight.emplace(r.id, flight{std::move(session), steady::now() + config.request_timeout});
        if (coap_send(raw, pdu) == COAP_INVALID_MID) {
            if (in_flight.erase(r.id) > 0) {
                fail(r.id, "cannot send");
            }
            return;
        }
        log->debug("node '{}': {} /{} sent to {}", r.uid,
                   r.method == coap_method::get ? "GET" : "PUT", r.path, r.address);
    }

    // A session to `dst` that just got an answer (saves a socket, its
    // connect, epoll registration and close per request), or null.
    session_ptr reuse_session(const coap_address_t& dst)
    {
        for (auto it = answered_sessions.begin(); it != answered_sessions.end(); ++it) {
            if (coap_address_equals(coap_session_get_addr_remote(it->get()), &dst)) {
                auto session = std::move(*it);
                answered_sessions.erase(it);
                return session;
            }
        }
        return nullptr;
    }

    void arm_timer()
    {
        if (in_flight.empty() || stopped) {
            return;
        }
        // Same timeout for all, ids increasing: the first one ends first.
        const auto first = in_flight.begin()->second.deadline;
        if (timer_armed && timer_at <= first) {
            return;
        }
        timer_armed = true;
        timer_at = first;
        timer.expires_at(first);
        timer.async_wait([this](const boost::system::error_code& ec) {
            if (ec) {
                return; // re-armed or stopped
            }
            timer_armed = false;
            on_timer();
        });
    }

    void on_timer()
    {
        const auto now = steady::now();
        const auto why = fmt::format("no answer within {} ms", config.request_timeout.count());
        while (!in_flight.empty() && in_flight.begin()->second.deadline <= now) {
            const auto it = in_flight.begin();
            const auto id = it->first;
            in_flight.erase(it); // releases the session: libcoap ends its retransmissions
            fail(id, why);
        }
        drain();
    }

    struct flight {
        session_ptr session;
        steady::time_point deadline;
    };

    net::io_context& ioc;
    coap_config config;
    gateway_service& service;
    std::shared_ptr<spdlog::logger> log;
    coap_logic logic;
    // Destroyed in reverse order: sessions and the loop before the context.
    context_ptr ctx;
    std::string bound; // address and port, as libcoap prints them
    std::unique_ptr<coap_io_loop> loop;
    std::uint32_t interface_index = 0;
    std::vector<int> endpoint_fds; // libcoap's sockets for the nodes' packets
    std::map<std::uint64_t, flight> in_flight;                    // by request id
    std::vector<std::pair<std::uint64_t, coap_result>> finished; // not yet told to the logic
    std::vector<session_ptr> to_release; // sessions done with (not released inside libcoap)
    std::vector<session_ptr> answered_sessions; // ... that got an answer: reused in drain()
    dtls_session_table<session_ptr> dtls_sessions; // by "address%scope"
    coap_bin_const_t psk_answer{};                    // psk_for_identity's answer
    std::map<const coap_session_t*, handshake> handshakes; // keyed, not finished (bounded)
    common::refusal_log dtls_refusals;
    net::steady_timer timer;
    steady::time_point held_since{}; // input held for the uplink since
    bool timer_armed = false;
    steady::time_point timer_at{};
    net::steady_timer retry_timer;
    bool retry_armed = false;
    steady::time_point retry_at{};
    bool stopped = false;
};

coap_endpoint::coap_endpoint(net::io_context& ioc, coap_config config, gateway_service& service,
                             std::shared_ptr<spdlog::logger> log)
    : impl_(std::make_unique<impl>(ioc, std::move(config), service, std::move(log)))
{
}

coap_endpoint::~coap_endpoint() = default;

void coap_endpoint::start()
{
    impl_->loop->start();
    impl_->log->info("listening on {}; nodes are asked on port {}{}", impl_->bound,
                     impl_->config.node_port,
                     impl_->config.dtls ? " (DTLS nodes: over their own DTLS session)" : "");
}

void coap_endpoint::stop()
{
    impl_->stop();
}

const coap_logic& coap_endpoint::logic() const
{
    return impl_->logic;
}

void coap_endpoint::add_metrics(common::metrics& registry, const std::string& prefix)
{
    using kind = common::metrics::kind;
    const auto& stats = impl_->logic.stats();
    registry.computed(prefix + "requests_refused_total",
                      "POSTs from nodes answered with an error (bad payload, table full...)",
                      kind::counter, [&stats] { return static_cast<double>(stats.refused); });
    registry.computed(prefix + "discovery_failures_total",
                      "Discoveries of a node's resources that failed (retries included)",
                      kind::counter,
                      [&stats] { return static_cast<double>(stats.discovery_failures); });
    registry.computed(prefix + "discoveries_abandoned_total",
                      "Failed discoveries with no retry left (tried again at the next alive)",
                      kind::counter,
                      [&stats] { return static_cast<double>(stats.discoveries_abandoned); });
}

} // namespace aiot::gw::coap
