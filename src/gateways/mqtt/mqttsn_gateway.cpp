#include "mqttsn_gateway.hpp"

#include "common/logging.hpp"
#include "common/net.hpp"
#include "gateways/core/gateway_service.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <stdexcept>

namespace aiot::gw::mqtt {

namespace {

using udp = net::ip::udp;
using steady = std::chrono::steady_clock;

// The logic's opaque peer key: "[address%scope]:port".
std::string peer_key(const udp::endpoint& ep)
{
    return "[" + ep.address().to_string() + "]:" + std::to_string(ep.port());
}

std::optional<udp::endpoint> peer_endpoint(const std::string& key)
{
    const auto close = key.rfind("]:");
    if (key.empty() || key[0] != '[' || close == std::string::npos) {
        return std::nullopt;
    }
    boost::system::error_code ec;
    const auto address = net::ip::make_address(key.substr(1, close - 1), ec);
    if (ec) {
        return std::nullopt;
    }
    return udp::endpoint(address, static_cast<unsigned short>(std::stoul(key.substr(close + 2))));
}

} // namespace

struct mqttsn_gateway::impl {
    impl(net::io_context& ioc, mqttsn_gateway_config cfg, std::shared_ptr<spdlog::logger> logger)
        : config(std::move(cfg)),
          log(logger ? std::move(logger) : common::get_logger("gw.mqttsn")),
          service(ioc, config.gateway, "MQTT-SN", log),
          sn(config.sn, log),
          topics(config.topics, log),
          socket(ioc)
    {
        service.on_write([this](const write_command& w) { run([&] { topics.write(w); }); });
        service.on_node_expired(
            [this](const std::string& uid) { run([&] { topics.node_expired(uid); }); });
        service.on_tick([this](time_point now) {
            run([&] {
                sn.tick(now);
                topics.tick(now);
            });
        });
    }

    ~impl()
    {
        service.on_write({});
        service.on_node_expired({});
        service.on_tick({});
    }

    void open()
    {
        boost::system::error_code ec;
        const auto address = net::ip::make_address(config.bind_address, ec);
        if (ec) {
            throw std::runtime_error("--mqttsn-bind: '" + config.bind_address +
                                     "' is not an IP address");
        }
        const udp::endpoint local(address, config.port);
        socket.open(local.protocol());
        if (address.is_v6()) {
            socket.set_option(net::ip::v6_only(false), ec); // IPv4 too, when "::"
        }
        socket.bind(local, ec);
        if (ec) {
            throw std::runtime_error("MQTT-SN: cannot bind UDP " + peer_key(local) + ": " +
                                     ec.message());
        }
        socket.non_blocking(true);
        log->info("MQTT-SN: listening on UDP {}", peer_key(socket.local_endpoint()));
    }

    // Feeds one event, then carries out everything it led to: datagrams to
    // send, client publishes into the topic logic, the topic logic's
    // publishes to the subscribed clients (which may again make datagrams).
    template <class F>
    void run(F event)
    {
        event();
        settle(service, topics);
        const auto now = steady::now();
        for (int round = 0; round < 8; ++round) {
            bool busy = false;
            for (auto& p : sn.take_publishes()) {
                busy = true;
                topics.message(p.topic, p.payload);
                settle(service, topics);
            }
            for (auto& a : topics.take_actions()) {
                if (auto* p = std::get_if<publish_message>(&a)) {
                    busy = true;
                    sn.deliver(p->topic, p->payload, now);
                }
                // subscribe/unsubscribe: the clients' own subscriptions decide
            }
            for (auto& d : sn.take_datagrams()) {
                send(d);
            }
            if (!busy) {
                break;
            }
        }
    }

    void send(const mqttsn::outgoing& d)
    {
        const auto ep = peer_endpoint(d.peer);
        if (!ep) {
            log->warn("MQTT-SN: cannot send to '{}': not an endpoint", d.peer);
            return;
        }
        boost::system::error_code ec;
        socket.send_to(net::buffer(d.bytes), *ep, 0, ec);
        if (ec) {
            log->warn("MQTT-SN: datagram of {} octets to {} not sent: {}", d.bytes.size(),
                      d.peer, ec.message());
        }
    }

    void do_receive()
    {
        socket.async_receive_from(
            net::buffer(buffer), sender, [this](const boost::system::error_code& ec, std::size_t n) {
                if (ec == net::error::operation_aborted || !socket.is_open()) {
                    return;
                }
                if (ec) {
                    log->warn("MQTT-SN: receive failed: {}", ec.message());
                } else if (n == buffer.size()) {
                    log->warn("MQTT-SN: datagram from {} dropped: larger than {} octets",
                              peer_key(sender), buffer.size() - 1);
                } else {
                    const auto key = peer_key(sender);
                    run([&] {
                        sn.datagram(key, std::string_view(buffer.data(), n), steady::now());
                    });
                }
                do_receive();
            });
    }

    mqttsn_gateway_config config;
    std::shared_ptr<spdlog::logger> log;
    gateway_service service;
    mqttsn::mqttsn_logic sn;
    mqtt_logic topics;
    udp::socket socket;
    udp::endpoint sender;
    std::array<char, mqttsn::max_packet_bytes + 1> buffer{};
};

mqttsn_gateway::mqttsn_gateway(net::io_context& ioc, mqttsn_gateway_config config,
                               std::shared_ptr<spdlog::logger> log)
    : impl_(std::make_unique<impl>(ioc, std::move(config), std::move(log)))
{
}

mqttsn_gateway::~mqttsn_gateway() = default;

void mqttsn_gateway::start()
{
    impl_->open();
    // the clients are reached directly: the topic logic is always "connected"
    impl_->run([&] { impl_->topics.connected(steady::now()); });
    impl_->do_receive();
    impl_->service.start();
}

void mqttsn_gateway::stop()
{
    boost::system::error_code ec;
    impl_->socket.close(ec);
    impl_->service.stop();
}

std::uint16_t mqttsn_gateway::local_port() const
{
    boost::system::error_code ec;
    const auto ep = impl_->socket.local_endpoint(ec);
    return ec ? 0 : ep.port();
}

} // namespace aiot::gw::mqtt
