#include "micropython_fixture.hpp"

#include <fstream>
#include <iostream>

namespace aiot::test {

namespace {

std::string uri(std::uint16_t port)
{
    return "tcp://127.0.0.1:" + std::to_string(port);
}

} // namespace

bool real_micropython()
{
    return std::string(AIOT_MICROPYTHON).size() > 0;
}

std::string micropython_interpreter()
{
    return real_micropython()
               ? std::string("real MicroPython (") + AIOT_MICROPYTHON + ")"
               : std::string("CPython with board stand-ins (no MicroPython interpreter: "
                             "../shared/micropython/micropython not found at configure time)");
}

std::string led_log_line(bool on)
{
    if (real_micropython()) {
        return on ? "aiot: LED on" : "aiot: LED off";
    }
    return on ? "[machine] Pin(2) value 1" : "[machine] Pin(2) value 0";
}

mqtt_peer::mqtt_peer(std::uint16_t port, const std::string& client_id)
    : client_(uri(port), client_id)
{
    client_.start_consuming();
    auto options = mqtt::connect_options_builder()
                       .clean_session()
                       .connect_timeout(std::chrono::seconds(5))
                       .finalize();
    client_.connect(options)->wait();
}

mqtt_peer::~mqtt_peer()
{
    try {
        client_.disconnect()->wait_for(std::chrono::seconds(2));
    }
    catch (const mqtt::exception&) {
        // the broker may already be gone
    }
}

void mqtt_peer::subscribe(const std::string& filter, int qos)
{
    client_.subscribe(filter, qos)->wait();
}

void mqtt_peer::publish(const std::string& topic, const std::string& payload, int qos)
{
    client_.publish(topic, payload.data(), payload.size(), qos, false)->wait();
}

std::optional<std::string> mqtt_peer::expect(const std::string& topic,
                                             std::chrono::milliseconds timeout)
{
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            return std::nullopt;
        }
        mqtt::const_message_ptr msg;
        if (client_.try_consume_message_for(&msg, left) && msg && msg->get_topic() == topic) {
            return msg->to_string();
        }
    }
}

std::optional<nlohmann::json> mqtt_peer::expect_json(const std::string& topic,
                                                     std::chrono::milliseconds timeout)
{
    auto text = expect(topic, timeout);
    if (!text) {
        return std::nullopt;
    }
    auto value = nlohmann::json::parse(*text, nullptr, false);
    if (value.is_discarded()) {
        return std::nullopt;
    }
    return value;
}

void micropython_fixture::TearDown()
{
    if (HasFailure()) {
        if (node_) {
            std::cerr << "---- node log ----\n" << node_->log() << "------------------\n";
        }
        if (mosquitto_) {
            std::cerr << "---- mosquitto log ----\n" << mosquitto_->log() << "-----------------------\n";
        }
    }
    node_.reset();
    mosquitto_.reset();
}

void micropython_fixture::start_mosquitto()
{
    mqtt_port_ = free_tcp_port(); // mosquitto (not ours) needs its port up front
    // With no config file, mosquitto 2 listens on the loopback only.
    mosquitto_ = std::make_unique<process>(
        AIOT_MOSQUITTO, std::vector<std::string>{"-p", std::to_string(mqtt_port_)},
        dir_ / "mosquitto.log");
    ASSERT_TRUE(mosquitto_->wait_for_tcp_port(mqtt_port_)) << mosquitto_->log();
}

void micropython_fixture::write_config(const std::string& node_id, const std::string& name,
                                       const std::string& led_pin, int check_interval_s)
{
    std::ofstream config(dir_ / "config.py");
    // The unix port has no network module and no machine.Pin: no Wi-Fi and
    // no GPIO LED there (the LED is then only a value).
    const bool mpy = real_micropython();
    config << (mpy ? "WIFI_SSID = None\n" : "WIFI_SSID = 'test-wifi'\n")
           << "WIFI_PASSWORD = 'not-a-secret'\n"
           << "MQTT_HOST = '127.0.0.1'\n"
           << "MQTT_PORT = " << mqtt_port_ << "\n"
           << "NODE_ID = '" << node_id << "'\n"
           << "NODE_NAME = " << nlohmann::json(name).dump() << "\n"
           << "BOARD = 'host-test'\n"
           << "POSITION = {'lat': 48.7145, 'lng': 2.2058}\n"
           << "LED_PIN = " << (led_pin.empty() || mpy ? "None" : led_pin) << "\n"
           << "CHECK_INTERVAL_S = " << check_interval_s << "\n";
    ASSERT_TRUE(config.good());
}

void micropython_fixture::start_node()
{
    static bool said = false;
    if (!said) {
        std::cout << "MicroPython node tests: the node runs on " << micropython_interpreter()
                  << "\n";
        said = true;
    }
    if (real_micropython()) {
        node_ = std::make_unique<process>(
            AIOT_MICROPYTHON,
            std::vector<std::string>{AIOT_MPY_REAL_RUNNER, dir_.path().string(), AIOT_MPY_NODE,
                                     AIOT_MICROPYTHON_LIB},
            dir_ / "node.log");
        return;
    }
    node_ = std::make_unique<process>(
        AIOT_PYTHON,
        std::vector<std::string>{"-u", "-I", "-B", AIOT_MPY_RUNNER, dir_.path().string(), AIOT_MPY_NODE},
        dir_ / "node.log");
}

} // namespace aiot::test
