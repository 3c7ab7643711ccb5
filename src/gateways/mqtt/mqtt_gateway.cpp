#include "mqtt_gateway.hpp"

#include "common/logging.hpp"
#include "common/metrics.hpp"
#include "common/net.hpp"
#include "common/overloaded.hpp"
#include "gateways/core/gateway_service.hpp"

#include <spdlog/spdlog.h>

#include <iterator>

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
                      // Actions wait for the batch's end (below).
                      logic.message(topic, payload);
                      settle(service, logic);
                  }},
                 log)
    {
        client.on_batch_end([this] { carry_out(logic.take_actions()); });
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
        carry_out(logic.take_actions());
    }

    // The actions of one event or of a batch of messages, with the topics
    // of consecutive subscribes of one QoS in one request (10,000 nodes
    // checking in at once: ~40 SUBSCRIBE packets instead of 10,000), and
    // every publish after all of them (a discovery request must not come
    // before its subscription; a later one is harmless). An unsubscribe
    // keeps its place among the subscribes, so subscribe-unsubscribe-
    // subscribe of one topic ends subscribed.
    void carry_out(std::vector<action> actions)
    {
        std::vector<std::string> subscribe[2]; // by QoS
        std::vector<publish_message*> publishes;
        const auto flush_subscribes = [&] {
            for (int qos = 0; qos < 2; ++qos) {
                if (!subscribe[qos].empty()) {
                    client.subscribe(subscribe[qos], qos);
                    subscribe[qos].clear();
                }
            }
        };
        for (auto& a : actions) {
            std::visit(overloaded{
                           [&](subscribe_topics& s) {
                               std::move(s.topics.begin(), s.topics.end(),
                                         std::back_inserter(subscribe[s.qos == 0 ? 0 : 1]));
                           },
                           [&](unsubscribe_topics& u) {
                               flush_subscribes();
                               client.unsubscribe(u.topics);
                           },
                           [&](publish_message& p) { publishes.push_back(&p); },
                       },
                       a);
        }
        flush_subscribes();
        for (auto* p : publishes) {
            client.publish(p->topic, p->payload, p->qos);
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

void mqtt_gateway::add_metrics(common::metrics& registry, const std::string& prefix)
{
    using kind = common::metrics::kind;
    const auto& logic = impl_->logic;
    registry.computed(prefix + "messages_rejected_total",
                      "MQTT messages ignored as invalid (topic, size, payload)", kind::counter,
                      [&logic] { return static_cast<double>(logic.rejected()); });
    registry.computed(prefix + "discovery_failures_total",
                      "Resource lists asked again because the last ask went unanswered",
                      kind::counter, [&logic] { return static_cast<double>(logic.rediscoveries()); });
    registry.computed(prefix + "nodes_evicted_total",
                      "Undiscovered nodes removed to admit new ones while the table was full",
                      kind::counter, [&logic] { return static_cast<double>(logic.evicted()); });
}

} // namespace aiot::gw::mqtt
