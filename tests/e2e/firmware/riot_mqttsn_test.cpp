// The RIOT MQTT-SN application (firmware/riot/node_mqttsn, BOARD=native64)
// against aiot-mqtt-gateway's own MQTT-SN port, in a private network
// namespace: announcement with protocol MQTT-SN, resources, periodic sensor
// values, LED and position writes, recovery from a gateway restart, and
// `out` after --max-time. Built with NODE_ID=riot-sn, ALIVE_INTERVAL=2,
// MQTTSN_KEEPALIVE=10 (riot_build_apps.sh).
#include "riot_netns.hpp"

#include "support/gateway_e2e.hpp"
#include "support/mosquitto.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <regex>

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace aiot;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

const std::string key_file = std::string(AIOT_TEST_DATA_DIR) + "/keys.ini";
constexpr int max_time_s = 6;
constexpr auto node_keep_alive = 10s; // MQTTSN_KEEPALIVE of the test build

json value_of(const test::node_view& v, const std::string& uid, const std::string& name)
{
    const auto* r = v.resource(uid, name);
    return r ? *r : json();
}

// A gateway stand-in that answers nothing: it only records the MsgType of
// each MQTT-SN datagram that reaches UDP port 1885.
class silent_gateway {
public:
    silent_gateway()
    {
        fd_ = ::socket(AF_INET6, SOCK_DGRAM, 0);
        sockaddr_in6 a{};
        a.sin6_family = AF_INET6;
        a.sin6_port = htons(1885);
        a.sin6_addr = in6addr_any;
        bound_ = fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    }
    ~silent_gateway() { ::close(fd_); }
    bool bound() const { return bound_; }

    // Waits for a datagram of MsgType `type`; the types seen are kept.
    bool wait_for(int type, std::chrono::milliseconds timeout)
    {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (true) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) {
                return false;
            }
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
                continue;
            }
            unsigned char buf[512];
            const auto n = ::recv(fd_, buf, sizeof buf, 0);
            if (n >= 2) {
                seen_.push_back(buf[0] == 0x01 && n >= 4 ? buf[3] : buf[1]);
                if (seen_.back() == type) {
                    return true;
                }
            }
        }
    }
    std::string seen() const
    {
        std::string out;
        for (const int t : seen_) {
            out += fmt::format("0x{:02x} ", t);
        }
        return out;
    }

private:
    int fd_ = -1;
    bool bound_ = false;
    std::vector<int> seen_;
};

constexpr int mqttsn_connect = 0x04;
constexpr int mqttsn_disconnect = 0x18;

class riot_mqttsn : public test::gateway_e2e {
protected:
    riot_mqttsn() : gateway_e2e(AIOT_BROKER_BIN, key_file) {}

    void SetUp() override
    {
        if (auto why = test::riot::unavailable_reason({"node_mqttsn"})) {
            GTEST_SKIP() << *why;
        }
        const auto err = test::riot::make_bridge(1);
        ASSERT_TRUE(err.empty()) << err;
        start_broker();
        mqtt_port_ = test::free_tcp_port(); // mosquitto needs its port up front
        mosquitto_ = test::start_mosquitto(AIOT_MOSQUITTO, mqtt_port_, dir_.path());
        start_gateway();
        client_ = open_client();
    }

    void start_gateway()
    {
        auto args = broker_options();
        args.insert(args.end(), {"--mqtt-port", std::to_string(mqtt_port_), "--mqttsn-port",
                                 "1885", "--max-time", std::to_string(max_time_s), "--debug"});
        gateway_ = start(AIOT_MQTT_GATEWAY_BIN, args, fmt::format("mqtt-gateway{}", ++runs_));
        // The firmware's port is fixed (1885); UDP: only the log says the
        // gateway listens.
        ASSERT_TRUE(gateway_->wait_for_log("MQTT-SN: listening on UDP")) << gateway_->log();
    }

    // The uid of the node with id riot-sn once it has `resources`.
    std::string wait_node(const std::vector<std::string>& resources,
                          std::chrono::milliseconds timeout)
    {
        std::string uid;
        view_.watch(
            *client_,
            [&](const test::node_view& v) {
                const auto u = v.find("id", "riot-sn");
                if (!u) {
                    return false;
                }
                for (const auto& r : resources) {
                    if (!v.resource(*u, r)) {
                        return false;
                    }
                }
                uid = *u;
                return true;
            },
            timeout);
        return uid;
    }

    std::uint16_t mqtt_port_ = 0;
    int runs_ = 0;
    std::unique_ptr<test::process> mosquitto_;
    std::unique_ptr<test::process> gateway_;
};

TEST_F(riot_mqttsn, node_resources_writes_gateway_restart_and_out)
{
    test::riot::node node("node_mqttsn", 0, 5, dir_ / "node_mqttsn.log");
    const std::vector<std::string> all = {"protocol", "name",     "board",    "mcu",
                                          "os",       "led",      "position", "temperature",
                                          "pressure", "humidity"};
    auto uid = wait_node(all, 15s);
    ASSERT_FALSE(uid.empty()) << diagnostics();
    EXPECT_EQ(value_of(view_, uid, "protocol"), "MQTT-SN");
    EXPECT_EQ(value_of(view_, uid, "name"), "RIOT MQTT-SN node");
    EXPECT_EQ(value_of(view_, uid, "board"), "native64");
    EXPECT_EQ(value_of(view_, uid, "os"), "riot");
    EXPECT_EQ(value_of(view_, uid, "led"), "0");
    EXPECT_EQ(json::parse(value_of(view_, uid, "position").get<std::string>()),
              json::parse(R"({"lat":48.7146,"lng":2.2056})"));
    const auto temperature = value_of(view_, uid, "temperature");
    EXPECT_TRUE(std::regex_match(temperature.get<std::string>(), std::regex(R"(-?\d+\.\d°C)")))
        << temperature;

    // sensor values every second (SEND_INTERVAL_MS=1000)
    EXPECT_TRUE(view_.wait_updates(*client_, uid, "temperature", 2, 5s)) << diagnostics();

    // writes: the LED, then the position
    EXPECT_TRUE(toggle_led(uid, "1")) << diagnostics();
    // The LED driver itself: only the native board's log shows it.
    EXPECT_TRUE(node.wait_for_log("aiot: LED on", 2s)) << node.log();
    ASSERT_TRUE(client_->send_json(test::write_request(uid, "position", "1.5,-2.25")));
    EXPECT_TRUE(view_.watch(
        *client_,
        [&](const test::node_view& v) {
            const auto p = value_of(v, uid, "position");
            return p.is_string() &&
                   json::parse(p.get<std::string>(), nullptr, false) ==
                       json::parse(R"({"lat":1.5,"lng":-2.25})");
        },
        5s))
        << diagnostics();

    // the gateway restarts: its nodes go out; the node finds the new
    // gateway by itself (its next publish is refused) within a keep-alive
    gateway_->terminate();
    EXPECT_TRUE(view_.watch(*client_, [&](const test::node_view& v) { return v.is_out(uid); },
                            5s))
        << diagnostics();
    start_gateway();
    const auto restarted = std::chrono::steady_clock::now();
    uid = wait_node({"protocol", "led", "temperature"}, node_keep_alive);
    ASSERT_FALSE(uid.empty()) << "node not back within " << node_keep_alive.count() << " s\n"
                              << diagnostics();
    const auto back = std::chrono::steady_clock::now() - restarted;
    std::cout << "node back "
              << std::chrono::duration_cast<std::chrono::milliseconds>(back).count()
              << " ms after the gateway restarted\n";
    EXPECT_TRUE(view_.wait_value(*client_, uid, "led", "1", 5s)) << "the same node process";
    EXPECT_TRUE(toggle_led(uid, "0")) << diagnostics();

    // silence: out after --max-time
    node.stop();
    EXPECT_TRUE(view_.watch(*client_, [&](const test::node_view& v) { return v.is_out(uid); },
                            std::chrono::seconds(max_time_s + 5)))
        << diagnostics();
}

// The issue with rsmb and Paho's gateway: after a restart they ignore the
// DISCONNECT of a client they do not know, and emcute would wait for that
// answer forever. Here a stand-in that answers nothing takes the gateway's
// port: the node must end its session by itself (it answers its own
// DISCONNECT) and CONNECT again, then find the real gateway once it is back.
TEST_F(riot_mqttsn, node_ends_its_session_itself_when_the_gateway_stays_silent)
{
    test::riot::node node("node_mqttsn", 0, 5, dir_ / "node_mqttsn.log");
    auto uid = wait_node({"protocol", "led"}, 15s);
    ASSERT_FALSE(uid.empty()) << diagnostics();
    gateway_->terminate();
    {
        silent_gateway silent;
        ASSERT_TRUE(silent.bound());
        // a publish unanswered for (MQTTSN_RETRIES + 1) * MQTTSN_RETRY_S = 3 s
        ASSERT_TRUE(silent.wait_for(mqttsn_disconnect, 10s)) << silent.seen() << node.log();
        EXPECT_TRUE(silent.wait_for(mqttsn_connect, 5s))
            << "the node never connected again: " << silent.seen() << "\n"
            << node.log();
    }
    start_gateway();
    uid = wait_node({"protocol", "led"}, 20s);
    EXPECT_FALSE(uid.empty()) << "node not back after the gateway\n" << diagnostics();
}

} // namespace
