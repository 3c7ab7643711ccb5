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

// The client of the values lane: the same broker and TLS, its own id.
client_config values_lane(client_config c)
{
    c.client_id += "-values";
    return c;
}

} // namespace

// Two MQTT connections (mqtt_logic.hpp, `lane`): one for node/check, the
// resource lists and every publish, one for the values. The MQTT broker
// queues and sends in order per connection, so under a burst the
// discovery answers no longer wait behind thousands of values. Paho runs
// both on the same two threads; both hand their messages to this thread.
struct mqtt_gateway::impl {
    impl(net::io_context& ioc, gateway_service& svc, mqtt_gateway_config config,
         std::shared_ptr<spdlog::logger> logger)
        : log(logger ? std::move(logger) : common::get_logger("gw.mqtt")),
          service(svc),
          logic(config.logic, log),
          values(ioc, values_lane(config.client), handlers(), log),
          discovery(ioc, std::move(config.client), handlers(), log)
    {
        discovery.on_batch_end([this] { carry_out(logic.take_actions()); });
        values.on_batch_end([this] { carry_out(logic.take_actions()); });
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

    mqtt_client::handlers handlers()
    {
        return {[this] { session_changed(); }, [this] { session_changed(); },
                [this](std::string_view topic, std::string_view payload) {
                    // Actions wait for the batch's end (above).
                    logic.message(topic, payload);
                    settle(service, logic);
                }};
    }

    // The logic's session is up while both connections are: it subscribes
    // everything again whenever one of them comes back.
    void session_changed()
    {
        const bool up = discovery.connected() && values.connected();
        if (up && !logic.is_connected()) {
            run([&] { logic.connected(std::chrono::steady_clock::now()); });
        } else if (!up && logic.is_connected()) {
            run([&] { logic.disconnected(); });
        }
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

    mqtt_client& client_of(lane l) { return l == lane::values ? values : discovery; }

    // The actions of one event or of a batch of messages, with the topics
    // of consecutive subscribes of one lane and QoS in one request (10,000
    // nodes checking in at once: ~40 SUBSCRIBE packets instead of 10,000),
    // and every publish after all of them (a discovery request must not
    // come before its subscription; a later one is harmless). A publish
    // decided after a values subscription goes out once the values
    // connection's subscriptions are acknowledged: the node answers
    // `discover values` there, and the broker would drop the answer for
    // want of a subscriber. An unsubscribe keeps its place among the
    // subscribes, so subscribe-unsubscribe-subscribe of one topic ends
    // subscribed.
    void carry_out(std::vector<action> actions)
    {
        std::vector<std::string> subscribe[2][2]; // [lane][qos]
        std::vector<publish_message> now;
        std::vector<publish_message> after_values; // wait for the values' SUBACKs
        bool values_subscribed = false;
        const auto flush_subscribes = [&] {
            for (const auto l : {lane::discovery, lane::values}) {
                for (int qos = 0; qos < 2; ++qos) {
                    auto& topics = subscribe[static_cast<int>(l)][qos];
                    if (!topics.empty()) {
                        client_of(l).subscribe(topics, qos);
                        topics.clear();
                    }
                }
            }
        };
        for (auto& a : actions) {
            std::visit(overloaded{
                           [&](subscribe_topics& s) {
                               values_subscribed = values_subscribed || s.on == lane::values;
                               auto& to = subscribe[static_cast<int>(s.on)][s.qos == 0 ? 0 : 1];
                               std::move(s.topics.begin(), s.topics.end(),
                                         std::back_inserter(to));
                           },
                           [&](unsubscribe_topics& u) {
                               flush_subscribes();
                               client_of(u.on).unsubscribe(u.topics);
                           },
                           [&](publish_message& p) {
                               (values_subscribed ? after_values : now).push_back(std::move(p));
                           },
                       },
                       a);
        }
        flush_subscribes();
        publish(now);
        if (!after_values.empty()) {
            // Bounded: one per batch while SUBSCRIBEs are outstanding, and
            // dropped with the session.
            values.after_subscriptions(
                [this, held = std::move(after_values)] { publish(held); });
        }
    }

    void publish(const std::vector<publish_message>& messages)
    {
        for (const auto& p : messages) {
            discovery.publish(p.topic, p.payload, p.qos);
        }
    }

    std::shared_ptr<spdlog::logger> log;
    gateway_service& service;
    mqtt_logic logic;
    // Last: destroyed first, so no event reaches a dead logic.
    mqtt_client values;
    mqtt_client discovery;
};

mqtt_gateway::mqtt_gateway(net::io_context& ioc, gateway_service& service,
                           mqtt_gateway_config config, std::shared_ptr<spdlog::logger> log)
    : impl_(std::make_unique<impl>(ioc, service, std::move(config), std::move(log)))
{
}

mqtt_gateway::~mqtt_gateway() = default;

void mqtt_gateway::start()
{
    impl_->discovery.start();
    impl_->values.start();
}

void mqtt_gateway::stop()
{
    impl_->service.on_tick({});
    impl_->discovery.stop();
    impl_->values.stop();
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
