// The RIOT CoAP applications (firmware/riot, BOARD=native64) as real nodes:
// each on its TAP of a bridge in a private network namespace, with the real
// aiot-broker and aiot-coap-gateway and a web client on the broker's /ws.
// Built with ALIVE_INTERVAL=2 and SEND_INTERVAL_MS=1000 (riot_build_apps.sh).
#include "riot_netns.hpp"

#include "support/gateway_e2e.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <regex>

using namespace aiot;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

const std::string key_file = std::string(AIOT_TEST_DATA_DIR) + "/keys.ini";
// --id=1 gives this uid (RIOT's luid on native is seeded by --id)
const std::string led_uid = "AFEA911C3F9CE106";
constexpr int max_time_s = 4;

// A resource's value as the view has it (null when missing).
json value_of(const test::node_view& v, const std::string& uid, const std::string& name)
{
    const auto* r = v.resource(uid, name);
    return r ? *r : json();
}

bool matches(const json* value, const char* pattern)
{
    return value != nullptr && value->is_string() &&
           std::regex_match(value->get<std::string>(), std::regex(pattern));
}

class riot_coap : public test::gateway_e2e {
protected:
    riot_coap() : gateway_e2e(AIOT_BROKER_BIN, key_file) {}

    void SetUp() override
    {
        if (auto why = test::riot::unavailable_reason(
                {"node_led", "node_env", "node_light", "node_imu", "node_air"})) {
            GTEST_SKIP() << *why;
        }
        const auto err = test::riot::make_bridge(5);
        ASSERT_TRUE(err.empty()) << err;
        start_broker();
        auto args = broker_options();
        args.insert(args.end(), {"--interface", "tapbr0", "--max-time",
                                 std::to_string(max_time_s), "--debug"});
        gateway_ = start(AIOT_COAP_GATEWAY_BIN, args, "coap-gateway");
        // a node whose reset is lost only shows up at its next alive
        // UDP, and an uplink no peer sees yet: only the log says both.
        ASSERT_TRUE(gateway_->wait_for_log("listening on")) << gateway_->log();
        ASSERT_TRUE(gateway_->wait_for_log("connected to broker")) << gateway_->log();
        client_ = open_client();
    }

    std::unique_ptr<test::riot::node> start_node(const std::string& app, int tap, int id)
    {
        return std::make_unique<test::riot::node>(
            app, tap, id, dir_ / fmt::format("{}-{}.log", app, id));
    }

    // The uid of the node named `name` once it has all of `resources`.
    std::string wait_node(const std::string& name, const std::vector<std::string>& resources)
    {
        std::string uid;
        view_.watch(
            *client_,
            [&](const test::node_view& v) {
                const auto u = v.find("name", name);
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
            15s);
        return uid;
    }

    // Runs coap-client-openssl in the namespace; returns what it printed.
    std::string coap(std::vector<std::string> args)
    {
        test::process p(AIOT_COAP_CLIENT_EXE, std::move(args), dir_ / "coap-client.log");
        EXPECT_TRUE(p.wait(10s)) << "coap-client did not finish";
        return p.log();
    }

    std::unique_ptr<test::process> gateway_;
};

// Every CoAP app announces itself with each of its resources, in the
// formats of firmware/riot/README.md, and the sensor nodes keep sending.
TEST_F(riot_coap, every_app_announces_its_resources_and_sends_values)
{
    auto led = start_node("node_led", 0, 1);
    auto env = start_node("node_env", 1, 2);
    auto light = start_node("node_light", 2, 3);
    auto imu = start_node("node_imu", 3, 4);
    auto air = start_node("node_air", 4, 6);
    const std::vector<std::string> common = {"protocol", "ip",  "name",    "board",
                                             "mcu",      "os",  "position"};
    auto with = [&](std::vector<std::string> more) {
        more.insert(more.end(), common.begin(), common.end());
        return more;
    };

    const auto led_node = wait_node("RIOT LED node", with({"led"}));
    ASSERT_EQ(led_node, led_uid) << diagnostics();
    const auto env_node = wait_node("RIOT environment node",
                                    with({"temperature", "pressure", "humidity"}));
    ASSERT_FALSE(env_node.empty()) << diagnostics();
    const auto light_node = wait_node("RIOT light node", with({"illuminance"}));
    ASSERT_FALSE(light_node.empty()) << diagnostics();
    const auto imu_node = wait_node("RIOT IMU node", with({"imu"}));
    ASSERT_FALSE(imu_node.empty()) << diagnostics();
    const auto air_node = wait_node("RIOT air quality node", with({"eco2", "tvoc"}));
    ASSERT_FALSE(air_node.empty()) << diagnostics();

    EXPECT_EQ(value_of(view_, led_uid, "protocol"), "CoAP");
    EXPECT_EQ(value_of(view_, led_uid, "board"), "native64");
    EXPECT_EQ(value_of(view_, led_uid, "os"), "riot");
    EXPECT_EQ(value_of(view_, led_uid, "led"), "0");
    EXPECT_TRUE(matches(view_.resource(led_uid, "ip"), "fe80::ff:fe00:102(%.*)?"))
        << value_of(view_, led_uid, "ip");
    EXPECT_TRUE(matches(view_.resource(env_node, "temperature"), R"(-?\d+\.\d°C)"))
        << value_of(view_, env_node, "temperature");
    EXPECT_TRUE(matches(view_.resource(env_node, "pressure"), R"(\d+hPa)"));
    EXPECT_TRUE(matches(view_.resource(env_node, "humidity"), R"(\d+%)"));
    EXPECT_TRUE(matches(view_.resource(light_node, "illuminance"), R"(\d+lx)"));
    EXPECT_TRUE(matches(view_.resource(air_node, "eco2"), R"(\d+ppm)"))
        << value_of(view_, air_node, "eco2");
    EXPECT_TRUE(matches(view_.resource(air_node, "tvoc"), R"(\d+ppb)"));
    EXPECT_EQ(value_of(view_, air_node, "position"), R"({"lat":48.7146,"lng":2.2056})");
    const auto imu_value =
        json::parse(value_of(view_, imu_node, "imu").get<std::string>(), nullptr, false);
    ASSERT_TRUE(imu_value.is_array() && imu_value.size() == 3) << imu_value;
    EXPECT_EQ(imu_value[0].value("type", ""), "acc");
    EXPECT_EQ(imu_value[1].value("type", ""), "mag");
    EXPECT_EQ(imu_value[2].value("type", ""), "gyro");

    // periodic values (every second here), and they move
    const auto first = value_of(view_, env_node, "temperature");
    EXPECT_TRUE(view_.wait_updates(*client_, env_node, "temperature", 2, 5s)) << diagnostics();
    EXPECT_TRUE(view_.wait_updates(*client_, light_node, "illuminance", 2, 5s));
    EXPECT_TRUE(view_.wait_updates(*client_, imu_node, "imu", 2, 5s));
    EXPECT_TRUE(view_.wait_updates(*client_, air_node, "eco2", 2, 5s));
    EXPECT_NE(value_of(view_, env_node, "temperature"), first);
}

// The LED follows writes from the web client (and reads back from the node
// itself), a rename sticks, a reboot with the same uid resets the node and
// brings fresh resources, and silent nodes go out after --max-time.
TEST_F(riot_coap, led_rename_reboot_and_out)
{
    auto led = start_node("node_led", 0, 1);
    auto env = start_node("node_env", 1, 2);
    ASSERT_EQ(wait_node("RIOT LED node", {"led", "name", "os"}), led_uid) << diagnostics();
    const auto env_node = wait_node("RIOT environment node", {"temperature"});
    ASSERT_FALSE(env_node.empty()) << diagnostics();
    const auto node_url = [](const std::string& path) {
        return "coap://[" + test::riot::node_link_local(0) + "%tapbr0]/" + path;
    };

    EXPECT_TRUE(toggle_led(led_uid, "1")) << diagnostics();
    EXPECT_NE(coap({"-m", "get", node_url("led")}).find('1'), std::string::npos);
    EXPECT_TRUE(toggle_led(led_uid, "0")) << diagnostics();
    EXPECT_NE(coap({"-m", "get", node_url("led")}).find('0'), std::string::npos);
    // a value the node refuses changes nothing
    ASSERT_TRUE(client_->send_json(test::write_request(led_uid, "led", "7")));
    EXPECT_TRUE(led->wait_for_log("refused LED value", 2s)) << led->log(); // the reason
    EXPECT_EQ(value_of(view_, led_uid, "led"), "0");

    ASSERT_TRUE(client_->send_json(test::write_request(led_uid, "name", "Kitchen")));
    EXPECT_TRUE(view_.wait_value(*client_, led_uid, "name", "Kitchen")) << diagnostics();
    EXPECT_NE(coap({"-m", "get", node_url("name")}).find("Kitchen"), std::string::npos);

    // the position (compiled in) moves with a PUT; a bad one is refused
    ASSERT_TRUE(client_->send_json(test::write_request(led_uid, "position", "-33.5,151.25")));
    EXPECT_TRUE(view_.wait_value(*client_, led_uid, "position", "-33.5,151.25")) << diagnostics();
    EXPECT_NE(coap({"-m", "get", node_url("position")}).find(R"({"lat":-33.5,"lng":151.25})"),
              std::string::npos);
    ASSERT_TRUE(client_->send_json(test::write_request(led_uid, "position", "north")));
    EXPECT_TRUE(led->wait_for_log("refused a position", 2s)) << led->log(); // the reason

    // reboot: same --id, so same uid; the gateway sends `reset`, then the
    // fresh resources (the name the firmware starts with)
    EXPECT_TRUE(toggle_led(led_uid, "1"));
    led->stop();
    bool reset_seen = false;
    led = start_node("node_led", 0, 1);
    EXPECT_TRUE(view_.watch(
        *client_,
        [&](const test::node_view& v) {
            reset_seen = reset_seen || (v.has(led_uid) && !v.resource(led_uid, "name"));
            const auto* name = v.resource(led_uid, "name");
            const auto* value = v.resource(led_uid, "led");
            return reset_seen && name && *name == "RIOT LED node" && value && *value == "0";
        },
        10s))
        << diagnostics();
    // a page opened now gets the gateway's cache: protocol kept, fresh name
    {
        auto late = open_client();
        test::node_view late_view;
        EXPECT_TRUE(late_view.watch(
            *late,
            [&](const test::node_view& v) {
                return value_of(v, led_uid, "protocol") == "CoAP" &&
                       value_of(v, led_uid, "name") == "RIOT LED node";
            },
            5s))
            << diagnostics();
    }

    // silence: out after --max-time (checked every second)
    const auto stopped = std::chrono::steady_clock::now();
    led->stop();
    env->stop();
    EXPECT_TRUE(view_.watch(
        *client_,
        [&](const test::node_view& v) { return v.is_out(led_uid) && v.is_out(env_node); },
        std::chrono::seconds(max_time_s + 5)))
        << diagnostics();
    EXPECT_GE(std::chrono::steady_clock::now() - stopped, std::chrono::seconds(max_time_s - 1));
}

} // namespace
