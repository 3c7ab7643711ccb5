#pragma once
// Helpers of the MicroPython node tests: mosquitto on a free loopback port,
// the node script under CPython, and an MQTT client in the gateway's role.
#include "support/process.hpp"
#include "support/system_helpers.hpp"

#include <gtest/gtest.h>
#include <mqtt/async_client.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace aiot::test {

// An MQTT client (Paho C++) that queues every message it receives.
class mqtt_peer {
public:
    mqtt_peer(std::uint16_t port, const std::string& client_id);
    ~mqtt_peer();
    mqtt_peer(const mqtt_peer&) = delete;
    mqtt_peer& operator=(const mqtt_peer&) = delete;

    void subscribe(const std::string& filter, int qos = 1);
    void publish(const std::string& topic, const std::string& payload, int qos = 1);

    // The payload of the next message on `topic`, skipping messages on other
    // topics; std::nullopt when none comes within the timeout.
    std::optional<std::string> expect(const std::string& topic,
                                      std::chrono::milliseconds timeout = std::chrono::seconds(5));
    // Same, parsed as JSON (std::nullopt also when it is not JSON).
    std::optional<nlohmann::json> expect_json(const std::string& topic,
                                              std::chrono::milliseconds timeout =
                                                  std::chrono::seconds(5));

private:
    mqtt::async_client client_;
};

// True when the tests run the node on the real MicroPython interpreter
// (../shared/micropython/, found at configure time); false: CPython with
// the stand-ins of micropython_standins/.
bool real_micropython();
// One line saying which interpreter runs the node (and why).
std::string micropython_interpreter();
// The node's log line for an LED switched to `on`: the GPIO stand-in's
// under CPython (LED_PIN 2), the node's own line on real MicroPython (whose
// unix port has no machine.Pin).
std::string led_log_line(bool on);

// Test fixture: a temp folder, mosquitto, and the node script.
class micropython_fixture : public ::testing::Test {
protected:
    void TearDown() override;

    // Starts mosquitto on a free port of 127.0.0.1 (mqtt_port_).
    void start_mosquitto();
    // Writes config.py for the node; `led_pin` empty means None (Pycom LED).
    void write_config(const std::string& node_id, const std::string& name,
                      const std::string& led_pin, int check_interval_s);
    // Starts the node script (the same main.py a board runs).
    void start_node();

    temp_dir dir_;
    std::uint16_t mqtt_port_ = 0;
    std::unique_ptr<process> mosquitto_;
    std::unique_ptr<process> node_;
};

} // namespace aiot::test
