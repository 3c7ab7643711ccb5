#include "coap_test_node.hpp"

#include "common/net.hpp"
#include "gateways/coap/coap_io.hpp"
#include "gateways/coap/coap_logic.hpp"
#include "sensor_values.hpp"

#include <spdlog/spdlog.h>

#include <arpa/inet.h>

#include <functional>
#include <queue>
#include <random>
#include <stdexcept>
#include <unordered_map>

namespace aiot::utils {

namespace {

using steady = std::chrono::steady_clock;
namespace cg = gw::coap;

enum class task { start, alive, temperature, pressure, imu, version };

struct event {
    steady::time_point when;
    std::size_t node;
    task what;

    bool operator>(const event& other) const { return when > other.when; }
};

struct sim_node {
    std::string uid;
    std::string address;
    std::string name;
    coap_session_t* gateway = nullptr; // client session towards the gateway (the context's)
    sensor_values values;
    std::string led = "0";
    std::string robot = "s";
    std::string js;
};

std::string random_uid(std::mt19937& random)
{
    return fmt::format("{:08x}{:04x}", random(), random() & 0xffff);
}

constexpr std::size_t max_js_bytes = 1024;
constexpr std::size_t events_per_batch = 2000;

} // namespace

struct coap_test_node::impl {
    impl(net::io_context& io, coap_test_node_config c, std::shared_ptr<spdlog::logger> l)
        : ioc(io), config(std::move(c)), log(std::move(l)), timer(io)
    {
        if (config.nodes == 0) {
            throw std::runtime_error("--nodes must be at least 1");
        }
        const auto first = cg::make_address(config.node_host, config.node_port);
        if (!first) {
            throw std::runtime_error("--node-host '" + config.node_host +
                                     "' is not a numeric address");
        }
        const int family = first->addr.sa.sa_family;
        if (family != AF_INET && config.nodes > 1) {
            throw std::runtime_error("--nodes above 1 needs an IPv4 --node-host");
        }
        gateway = cg::resolve_address(config.gateway_host, config.gateway_port, family)
                      .value_or(coap_address_t{});
        if (gateway.addr.sa.sa_family != family) {
            throw std::runtime_error("cannot resolve --gateway-host '" + config.gateway_host +
                                     "' to an address of the same family as --node-host");
        }
        ctx.reset(coap_new_context(nullptr));
        if (!ctx) {
            throw std::runtime_error("cannot create a libcoap context");
        }
        coap_set_app_data(ctx.get(), this);
        coap_register_response_handler(ctx.get(), &impl::response_handler);
        coap_register_nack_handler(ctx.get(), &impl::nack_handler);
        add_resources();
        open_nodes(*first);
        loop = std::make_unique<cg::coap_io_loop>(ioc, ctx.get(), nullptr, log);
    }

    ~impl()
    {
        stop();
        coap_set_app_data(ctx.get(), nullptr);
    }

    void open_nodes(coap_address_t address)
    {
        nodes.reserve(config.nodes);
        for (std::size_t i = 0; i < config.nodes; ++i) {
            if (i > 0) {
                const auto next = ntohl(address.addr.sin.sin_addr.s_addr) + 1;
                address.addr.sin.sin_addr.s_addr = htonl(next);
            }
            sim_node n{.uid = config.uid.empty() ? random_uid(random)
                              : config.nodes == 1 ? config.uid
                                                  : fmt::format("{}-{}", config.uid, i + 1),
                       .address = cg::address_text(address),
                       .name = config.nodes == 1 ? "CoAP test node"
                                                 : fmt::format("CoAP test node {}", i + 1),
                       .gateway = nullptr,
                       .values = sensor_values(random()),
                       .led = "0",
                       .robot = "s",
                       .js = {}};
            const auto error = cg::check_udp_port_free(address);
            if (!error.empty() || !coap_new_endpoint(ctx.get(), &address, COAP_PROTO_UDP)) {
                throw std::runtime_error(fmt::format("cannot listen on UDP [{}]:{}: {}", n.address,
                                                     config.node_port,
                                                     error.empty() ? "see libcoap's message" : error));
            }
            coap_address_t local = address;
            coap_address_set_port(&local, 0);
            n.gateway = config.psk_identity.empty()
                            ? coap_new_client_session(ctx.get(), &local, &gateway, COAP_PROTO_UDP)
                            : psk_session(local);
            if (!n.gateway) {
                throw std::runtime_error("cannot open a session from " + n.address +
                                         " to the gateway");
            }
            by_address.emplace(n.address, i);
            nodes.push_back(std::move(n));
        }
    }

    coap_session_t* psk_session(const coap_address_t& local)
    {
        coap_dtls_cpsk_t setup{};
        setup.version = COAP_DTLS_CPSK_SETUP_VERSION;
        setup.psk_info.identity = {config.psk_identity.size(),
                                   reinterpret_cast<const std::uint8_t*>(config.psk_identity.data())};
        setup.psk_info.key = {config.psk_key.size(),
                              reinterpret_cast<const std::uint8_t*>(config.psk_key.data())};
        return coap_new_client_session_psk2(ctx.get(), &local, &gateway, COAP_PROTO_DTLS, &setup);
    }

    void add_resources()
    {
        const struct {
            bool served;
            const char* path;
            bool writable;
        } all[] = {{true, "board", false},          {true, "name", false},
                   {config.led, "led", true},        {config.temperature, "temperature", false},
                   {config.pressure, "pressure", false}, {config.imu, "imu", false},
                   {config.robot, "robot", true},    {config.js, "js", true},
                   {config.version, "version", false}};
        for (const auto& r : all) {
            if (!r.served) {
                continue;
            }
            auto* resource = coap_resource_init(coap_make_str_const(r.path), 0);
            coap_register_request_handler(resource, COAP_REQUEST_GET, &impl::get_handler);
            if (r.writable) {
                coap_register_request_handler(resource, COAP_REQUEST_PUT, &impl::put_handler);
            }
            coap_add_attr(resource, coap_make_str_const("ct"), coap_make_str_const("0"), 0);
            coap_add_resource(ctx.get(), resource);
        }
    }

    void start()
    {
        loop->start();
        const auto now = steady::now();
        const double rate = config.start_rate > 0 ? config.start_rate : 1e9;
        for (std::size_t i = 0; i < nodes.size(); ++i) {
            schedule(now + std::chrono::microseconds(static_cast<long>(i * 1e6 / rate)), i,
                     task::start);
        }
        if (nodes.size() <= 8) {
            for (const auto& n : nodes) {
                log->info("node '{}' serves on [{}]:{}", n.uid, n.address, config.node_port);
            }
        } else {
            log->info("{} nodes serve on {} ... {} port {}", nodes.size(), nodes.front().address,
                      nodes.back().address, config.node_port);
        }
        run_due();
    }

    void stop()
    {
        if (!stopped) {
            stopped = true;
            loop->stop();
            timer.cancel();
        }
    }

    // --- timed posts -------------------------------------------------------

    void schedule(steady::time_point when, std::size_t node, task what)
    {
        events.push({when, node, what});
    }

    void arm()
    {
        if (events.empty() || stopped) {
            return;
        }
        timer.expires_at(events.top().when);
        timer.async_wait([this](const boost::system::error_code& ec) {
            if (!ec) {
                run_due();
            }
        });
    }

    void run_due()
    {
        const auto now = steady::now();
        for (std::size_t done = 0; done < events_per_batch; ++done) {
            if (events.empty() || events.top().when > now || stopped) {
                arm();
                return;
            }
            const auto e = events.top();
            events.pop();
            perform(e, now);
        }
        net::post(ioc, [this] { run_due(); }); // a long backlog: let I/O in between
    }

    std::chrono::milliseconds phase(std::chrono::milliseconds interval)
    {
        return std::chrono::milliseconds(
            std::uniform_int_distribution<long>(0, interval.count())(random));
    }

    void perform(const event& e, steady::time_point now)
    {
        auto& n = nodes[e.node];
        switch (e.what) {
        case task::start:
            post(n, "alive", "reset:" + n.uid, true);
            schedule(now + config.alive_interval, e.node, task::alive);
            if (config.temperature) {
                schedule(now + phase(config.value_interval), e.node, task::temperature);
            }
            if (config.pressure) {
                schedule(now + phase(config.value_interval), e.node, task::pressure);
            }
            if (config.imu) {
                schedule(now + phase(config.imu_interval), e.node, task::imu);
            }
            if (config.version) {
                schedule(now + phase(config.version_interval), e.node, task::version);
            }
            return;
        case task::alive:
            post(n, "alive", "alive:" + n.uid, true);
            schedule(e.when + config.alive_interval, e.node, task::alive);
            return;
        case task::temperature:
            post_value(e, "temperature", n.values.temperature(), config.value_interval);
            return;
        case task::pressure:
            post_value(e, "pressure", n.values.pressure(), config.value_interval);
            return;
        case task::imu:
            post_value(e, "imu", n.values.imu(), config.imu_interval);
            return;
        case task::version:
            post_value(e, "version", AIOT_VERSION, config.version_interval);
            return;
        }
    }

    // Posts `name:value` to /server and schedules the next one.
    void post_value(const event& e, std::string_view name, std::string_view value,
                    std::chrono::milliseconds interval)
    {
        post(nodes[e.node], "server", fmt::format("{}:{}", name, value), false);
        schedule(e.when + interval, e.node, e.what);
    }

    void post(sim_node& n, const char* path, std::string_view payload, bool confirmable)
    {
        auto* pdu = coap_new_pdu(confirmable ? COAP_MESSAGE_CON : COAP_MESSAGE_NON,
                                 COAP_REQUEST_CODE_POST, n.gateway);
        if (!pdu) {
            log->warn("node '{}': cannot make a CoAP message", n.uid);
            return;
        }
        std::uint8_t token[8];
        size_t token_length = 0;
        coap_session_new_token(n.gateway, &token_length, token);
        coap_add_token(pdu, token_length, token);
        coap_add_option(pdu, COAP_OPTION_URI_PATH, std::strlen(path),
                        reinterpret_cast<const std::uint8_t*>(path));
        cg::add_text_payload(pdu, payload);
        if (coap_send(n.gateway, pdu) == COAP_INVALID_MID) {
            log->warn("node '{}': POST /{} not sent", n.uid, path);
            return;
        }
        log->debug("node '{}': POST /{} '{}'", n.uid, path, payload);
    }

    // --- libcoap callbacks ---------------------------------------------------

    static impl* of(coap_session_t* s)
    {
        return static_cast<impl*>(coap_get_app_data(coap_session_get_context(s)));
    }

    sim_node* node_of(coap_session_t* s)
    {
        const auto it = by_address.find(cg::address_text(*coap_session_get_addr_local(s)));
        return it == by_address.end() ? nullptr : &nodes[it->second];
    }

    static std::string resource_name(coap_resource_t* r)
    {
        const auto* uri = coap_resource_get_uri_path(r);
        return uri ? std::string(reinterpret_cast<const char*>(uri->s), uri->length) : "";
    }

    // GET and PUT on any resource: read() or write() for the node whose
    // address the request came to.
    static void handle(coap_resource_t* r, coap_session_t* s, const coap_pdu_t* req,
                       coap_pdu_t* resp, bool put)
    {
        auto* self = of(s);
        auto* n = self ? self->node_of(s) : nullptr;
        if (!n) {
            coap_pdu_set_code(resp, COAP_RESPONSE_CODE_NOT_FOUND);
            return;
        }
        const auto [code, text] = put ? self->write(*n, resource_name(r), cg::pdu_payload(req))
                                      : std::pair{COAP_RESPONSE_CODE_CONTENT,
                                                  self->read(*n, resource_name(r))};
        coap_pdu_set_code(resp, code);
        cg::add_text_payload(resp, text);
    }

    static void get_handler(coap_resource_t* r, coap_session_t* s, const coap_pdu_t* req,
                            const coap_string_t*, coap_pdu_t* resp)
    {
        handle(r, s, req, resp, false);
    }

    static void put_handler(coap_resource_t* r, coap_session_t* s, const coap_pdu_t* req,
                            const coap_string_t*, coap_pdu_t* resp)
    {
        handle(r, s, req, resp, true);
    }

    std::string read(sim_node& n, const std::string& name)
    {
        if (name == "board") {
            return "native";
        }
        if (name == "name") {
            return n.name;
        }
        if (name == "led") {
            return n.led;
        }
        if (name == "temperature") {
            return n.values.temperature();
        }
        if (name == "pressure") {
            return n.values.pressure();
        }
        if (name == "imu") {
            return n.values.imu();
        }
        if (name == "robot") {
            return n.robot;
        }
        if (name == "js") {
            return n.js;
        }
        return AIOT_VERSION; // version
    }

    std::pair<coap_pdu_code_t, std::string> write(sim_node& n, const std::string& name,
                                                  std::string_view value)
    {
        if (name == "led") {
            std::string v;
            if (value == "1" || value == "on" || value == "true") {
                v = "1";
            } else if (value == "0" || value == "off" || value == "false") {
                v = "0";
            } else {
                log->warn("node '{}': LED value '{}' refused (1 or 0)", n.uid, value);
                return {COAP_RESPONSE_CODE_BAD_REQUEST, "LED takes 1 or 0"};
            }
            n.led = v;
            log->info("node '{}': LED set to {}", n.uid, v);
            post(n, "server", "led:" + v, true);
            return {COAP_RESPONSE_CODE_CHANGED, v};
        }
        if (name == "robot") {
            if (value.size() != 1 || std::string_view("udlrs").find(value) == std::string::npos) {
                return {COAP_RESPONSE_CODE_BAD_REQUEST, "robot takes u, d, l, r or s"};
            }
            n.robot = std::string(value);
            log->info("node '{}': robot action '{}'", n.uid, value);
            return {COAP_RESPONSE_CODE_CHANGED, n.robot};
        }
        if (value.size() > max_js_bytes) {
            return {COAP_RESPONSE_CODE_REQUEST_TOO_LARGE, "script too large"};
        }
        n.js = std::string(value);
        log->info("node '{}': new script of {} bytes", n.uid, value.size());
        return {COAP_RESPONSE_CODE_CHANGED, "stored"};
    }

    static coap_response_t response_handler(coap_session_t* s, const coap_pdu_t*,
                                            const coap_pdu_t* received, const coap_mid_t)
    {
        auto* self = of(s);
        if (!self || !received) {
            return COAP_RESPONSE_OK;
        }
        self->gateway_answered(true);
        const auto code = static_cast<std::uint8_t>(coap_pdu_get_code(received));
        self->log->log(code >> 5 == 2 ? spdlog::level::debug : spdlog::level::warn,
                       "gateway answered {}: '{}'", cg::code_text(code), cg::pdu_payload(received));
        return COAP_RESPONSE_OK;
    }

    static void nack_handler(coap_session_t* s, const coap_pdu_t*, const coap_nack_reason_t,
                             const coap_mid_t)
    {
        if (auto* self = of(s)) {
            self->gateway_answered(false);
        }
    }

    // Logs when the gateway stops or starts answering (not per message).
    void gateway_answered(bool answered)
    {
        if (answered != gateway_up) {
            gateway_up = answered;
            if (answered) {
                log->info("the gateway answers");
            } else {
                log->warn("the gateway does not answer");
            }
        }
    }

    net::io_context& ioc;
    coap_test_node_config config;
    std::shared_ptr<spdlog::logger> log;
    cg::context_ptr ctx; // frees the endpoints and the nodes' sessions, after the loop
    coap_address_t gateway{};
    std::vector<sim_node> nodes;
    std::unordered_map<std::string, std::size_t> by_address;
    std::unique_ptr<cg::coap_io_loop> loop;
    net::steady_timer timer;
    std::priority_queue<event, std::vector<event>, std::greater<>> events;
    std::mt19937 random{std::random_device{}()};
    bool gateway_up = false;
    bool stopped = false;
};

coap_test_node::coap_test_node(net::io_context& ioc, coap_test_node_config config,
                               std::shared_ptr<spdlog::logger> log)
    : impl_(std::make_unique<impl>(ioc, std::move(config), std::move(log)))
{
}

coap_test_node::~coap_test_node() = default;

void coap_test_node::start()
{
    impl_->start();
}

void coap_test_node::stop()
{
    impl_->stop();
}

} // namespace aiot::utils
