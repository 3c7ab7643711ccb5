#include "mqtt_gateway.hpp"

#include "common/logging.hpp"
#include "common/net.hpp"
#include "common/overloaded.hpp"
#include "gateways/core/gateway_service.hpp"

#include <spdlog/spdlog.h>

namespace aiot::gw::mqtt {

namespace {

using common::overloaded;

} // namespace

struct mqtt_gateway::impl {
    impl(net::io_context& ioc, gateway_service& svc, mqtt_gateway_config config,
         std::shared_ptr<spdlog::logger> logger)
        : log(logger ? std::move(logger) : common::get_logger("gw.mqtt")),
          service(svc),
          logic(config.logic, log),
          client(ioc, std::move(config.client),
                 {[this] { run([&] { logic.connected(std::chrono::steady_clock::now()); }); },
                  [this] { run([&] { logic.disconnected(); }); },
                  [this](std::string_view topic, std::string_view payload) {
                      run([&] { logic.message(topic, payload); });
                  }},
                 log)
    {
        service.on_write([this](const write_command& w) { run([&] { logic.write(w); }); });
        service.on_node_expired(
            [this](const std::string& uid) { run([&] { logic.node_expired(uid); }); });
        service.on_tick([this](time_point now) { run([&] { logic.tick(now); }); });
    }

    ~impl()
    {
        service.on_write({});
        service.on_node_expired({});
        service.on_tick({});
    }

    // Feeds one event to the logic, then carries out what it decided: the
    // node events first (they may decide more actions), then the actions.
    template <class F>
    void run(F event)
    {
        event();
        settle(service, logic);
        for (auto& a : logic.take_actions()) {
            std::visit(overloaded{
                           [&](subscribe_topics& s) { client.subscribe(s.topics, 1); },
                           [&](unsubscribe_topics& u) { client.unsubscribe(u.topics); },
                           [&](publish_message& p) { client.publish(p.topic, p.payload, 1); },
                       },
                       a);
        }
    }

    std::shared_ptr<spdlog::logger> log;
    gateway_service& service;
    mqtt_logic logic;
    mqtt_client client; // last: destroyed first, so no event reaches a dead logic
};

mqtt_gateway::mqtt_gateway(net::io_context& ioc, gateway_service& service,
                           mqtt_gateway_config config, std::shared_ptr<spdlog::logger> log)
    : impl_(std::make_unique<impl>(ioc, service, std::move(config), std::move(log)))
{
}

mqtt_gateway::~mqtt_gateway() = default;

void mqtt_gateway::start()
{
    impl_->client.start();
}

void mqtt_gateway::stop()
{
    impl_->service.on_tick({});
    impl_->client.stop();
}

const mqtt_logic& mqtt_gateway::logic() const
{
    return impl_->logic;
}

} // namespace aiot::gw::mqtt
