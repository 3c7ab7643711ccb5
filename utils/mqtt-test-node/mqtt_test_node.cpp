#include "mqtt_test_node.hpp"

#include "common/logging.hpp"
#include "common/net.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <functional>
#include <map>
#include <random>

namespace aiot::utils {

namespace {

using json = nlohmann::json;

const std::vector<std::string> resource_names = {"id",  "name", "os",          "board",
                                                 "ip",  "led",  "temperature", "pressure"};

struct node {
    std::string id;
    std::string led = "0";
};

} // namespace

struct mqtt_test_node::impl {
    impl(net::io_context& ioc, gw::mqtt::client_config client_config,
         mqtt_test_node_config cfg, std::shared_ptr<spdlog::logger> logger)
        : config(std::move(cfg)),
          log(logger ? std::move(logger) : common::get_logger("mqtt-test-node")),
          temperature_timer(ioc),
          pressure_timer(ioc),
          check_timer(ioc),
          client(ioc, std::move(client_config),
                 {[this] { on_connected(); }, [] {},
                  [this](std::string_view topic, std::string_view payload) {
                      on_message(topic, payload);
                  }},
                 log)
    {
        for (const auto& id : config.node_ids) {
            nodes.emplace(id, node{id});
        }
    }

    void start()
    {
        log->info("{} simulated node(s): {}{}", nodes.size(), nodes.begin()->first,
                  nodes.size() > 1 ? ", ..." : "");
        every(temperature_timer, config.temperature_interval, [this] { publish_all("temperature"); });
        every(pressure_timer, config.pressure_interval, [this] { publish_all("pressure"); });
        every(check_timer, config.check_interval, [this] { check_in(); });
        client.start();
    }

    void stop()
    {
        temperature_timer.cancel();
        pressure_timer.cancel();
        check_timer.cancel();
        client.stop();
    }

    void every(net::steady_timer& timer, std::chrono::milliseconds interval,
               std::function<void()> f)
    {
        timer.expires_after(interval);
        timer.async_wait([this, &timer, interval, f = std::move(f)](const boost::system::error_code& ec) {
            if (ec) {
                return;
            }
            f();
            every(timer, interval, f);
        });
    }

    void on_connected()
    {
        std::vector<std::string> topics{"gateway/check"};
        for (const auto& [id, n] : nodes) {
            topics.push_back("gateway/" + id + "/discover");
            topics.push_back("gateway/" + id + "/led/set");
        }
        client.subscribe(topics, 1);
        check_in();
    }

    void check_in()
    {
        for (const auto& [id, n] : nodes) {
            client.publish("node/check", json{{"id", id}}.dump(), 1);
        }
    }

    json value_of(const node& n, const std::string& resource)
    {
        if (resource == "id") {
            return n.id;
        }
        if (resource == "name") {
            return "MQTT test node";
        }
        if (resource == "os") {
            return "Linux";
        }
        if (resource == "board") {
            return "native";
        }
        if (resource == "ip") {
            return "127.0.0.1";
        }
        if (resource == "led") {
            return n.led;
        }
        if (resource == "temperature") {
            return fmt::format("{}°C", std::uniform_int_distribution<int>(20, 29)(random));
        }
        return fmt::format("{}hPa", std::uniform_int_distribution<int>(990, 1014)(random));
    }

    void publish_value(const node& n, const std::string& resource)
    {
        client.publish("node/" + n.id + "/" + resource,
                       json{{"value", value_of(n, resource)}}.dump(), 1);
    }

    void publish_all(const std::string& resource)
    {
        if (!client.connected()) {
            return;
        }
        for (const auto& [id, n] : nodes) {
            publish_value(n, resource);
        }
    }

    void on_message(std::string_view topic, std::string_view payload)
    {
        if (topic == "gateway/check") {
            check_in();
            return;
        }
        // gateway/<id>/discover or gateway/<id>/led/set
        constexpr std::string_view prefix = "gateway/";
        if (topic.substr(0, prefix.size()) != prefix) {
            return;
        }
        auto rest = topic.substr(prefix.size());
        const auto slash = rest.find('/');
        const auto it = nodes.find(std::string(rest.substr(0, slash)));
        if (slash == std::string_view::npos || it == nodes.end()) {
            log->debug("ignored message on '{}'", topic);
            return;
        }
        auto& n = it->second;
        const auto what = rest.substr(slash + 1);
        if (what == "discover" && payload == "resources") {
            client.publish("node/" + n.id + "/resources", json(resource_names).dump(), 1);
        } else if (what == "discover" && payload == "values") {
            for (const auto& r : resource_names) {
                publish_value(n, r);
            }
        } else if (what == "led/set") {
            if (payload != "0" && payload != "1") {
                log->warn("node '{}': LED value '{}' ignored (expected 0 or 1)", n.id, payload);
                return;
            }
            n.led = std::string(payload);
            log->info("node '{}': LED {}", n.id, n.led == "1" ? "on" : "off");
            publish_value(n, "led");
        } else {
            log->debug("node '{}': ignored '{}' on '{}'", n.id, payload, topic);
        }
    }

    mqtt_test_node_config config;
    std::shared_ptr<spdlog::logger> log;
    std::map<std::string, node, std::less<>> nodes;
    std::mt19937 random{std::random_device{}()};
    net::steady_timer temperature_timer;
    net::steady_timer pressure_timer;
    net::steady_timer check_timer;
    gw::mqtt::mqtt_client client; // last: destroyed first
};

mqtt_test_node::mqtt_test_node(net::io_context& ioc, gw::mqtt::client_config client,
                               mqtt_test_node_config config, std::shared_ptr<spdlog::logger> log)
    : impl_(std::make_unique<impl>(ioc, std::move(client), std::move(config), std::move(log)))
{
}

mqtt_test_node::~mqtt_test_node() = default;

void mqtt_test_node::start()
{
    impl_->start();
}

void mqtt_test_node::stop()
{
    impl_->stop();
}

} // namespace aiot::utils
