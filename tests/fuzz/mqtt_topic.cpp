// What reaches the MQTT gateway from the MQTT broker: topics and payloads
// through mqtt_logic and a real gateway_core. The input is lines; each is
// "<topic><TAB><payload>" (no TAB: an empty payload). A line "!c" is a
// reconnection, "!t" a tick 31 s later, "!w<uid> <endpoint> <payload>" a
// web write. Whatever comes in, the gateway only subscribes to and
// publishes on topics it may use (no wildcard from a node's text).
#include "core_sink.hpp"
#include "fuzz_check.hpp"
#include "fuzz_util.hpp"
#include "common/message.hpp"
#include "gateways/mqtt/mqtt_logic.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>

using namespace aiot;
using namespace aiot::gw::mqtt;
using namespace std::chrono_literals;

namespace {

int counter = 0;

void check_topic(const std::string& topic, bool for_publish)
{
    AIOT_FUZZ_CHECK(!topic.empty() && topic.size() <= 256);
    if (for_publish) {
        AIOT_FUZZ_CHECK(topic.find_first_of("+#") == std::string::npos);
    }
    for (const auto level : fuzz::split(topic, '/')) {
        AIOT_FUZZ_CHECK(!level.empty());
        for (const char c : level) {
            AIOT_FUZZ_CHECK(static_cast<unsigned char>(c) >= 0x20);
        }
    }
}

void check_actions(mqtt_logic& logic)
{
    for (const auto& a : logic.take_actions()) {
        if (const auto* p = std::get_if<publish_message>(&a)) {
            check_topic(p->topic, true);
        } else if (const auto* s = std::get_if<subscribe_topics>(&a)) {
            for (const auto& t : s->topics) {
                // node/check is ours; only that one has no wildcard issue.
                AIOT_FUZZ_CHECK(t.find('#') == std::string::npos);
                AIOT_FUZZ_CHECK(t.find('+') == std::string::npos);
                check_topic(t, false);
            }
        } else if (const auto* u = std::get_if<unsubscribe_topics>(&a)) {
            for (const auto& t : u->topics) {
                check_topic(t, false);
            }
        }
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    static const auto log = fuzz::quiet_logger("gw.mqtt");
    gw::gateway_core core(gw::core_config{"MQTT"}, log);
    logic_config config;
    config.max_nodes = 4;
    config.max_resources = 8;
    config.max_payload_bytes = 1024;
    counter = 0;
    mqtt_logic logic(config, log, [] { return "uid-" + std::to_string(++counter); });
    gw::time_point now{};
    core.broker_connected(now);
    logic.connected(now);
    check_actions(logic);

    for (const auto line : fuzz::split(fuzz::as_text(data, size), '\n')) {
        if (line == "!c") {
            logic.disconnected();
            logic.connected(now);
        } else if (line == "!t") {
            now += 31s;
            logic.tick(now);
            core.tick(now);
            const auto out = core.take_output();
            for (const auto& uid : out.expired) {
                logic.node_expired(uid);
            }
            for (const auto& m : out.to_broker) {
                AIOT_FUZZ_CHECK(common::parse_message(m));
            }
        } else if (line.starts_with("!w")) {
            const auto parts = fuzz::split(line.substr(2), ' ');
            if (parts.size() >= 3) {
                logic.write({std::string(parts[0]), std::string(parts[1]),
                             std::string(parts[2]), "client"});
            }
        } else {
            const auto tab = line.find('\t');
            logic.message(line.substr(0, tab),
                          tab == std::string_view::npos ? std::string_view{} : line.substr(tab + 1));
        }
        fuzz::settle(core, logic, now);
        check_actions(logic);
        for (const auto& m : core.take_output().to_broker) {
            AIOT_FUZZ_CHECK(common::parse_message(m));
        }
    }
    AIOT_FUZZ_CHECK(logic.size() <= 4);
    return 0;
}
