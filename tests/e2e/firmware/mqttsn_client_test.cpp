// aiot-mqtt-gateway --mqttsn-port end to end with a small raw-UDP MQTT-SN
// client (the codec builds its packets), over IPv4 and IPv6 loopback: the
// real aiot-broker, mosquitto for the MQTT side, and a web client.
#include "gateways/mqtt/mqttsn_codec.hpp"
#include "support/gateway_e2e.hpp"
#include "support/mosquitto.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace aiot;
using namespace aiot::gw::mqttsn;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

const std::string key_file = std::string(AIOT_TEST_DATA_DIR) + "/keys.ini";

// A UDP socket talking to the gateway's MQTT-SN port.
class sn_client {
public:
    sn_client(bool v6, std::uint16_t port)
    {
        fd_ = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM, 0);
        if (v6) {
            sockaddr_in6 a{};
            a.sin6_family = AF_INET6;
            a.sin6_port = htons(port);
            a.sin6_addr = in6addr_loopback;
            ok_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
        } else {
            sockaddr_in a{};
            a.sin_family = AF_INET;
            a.sin_port = htons(port);
            a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            ok_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
        }
    }
    ~sn_client() { ::close(fd_); }
    bool ok() const { return ok_; }

    void send_raw(const std::string& bytes) { ::send(fd_, bytes.data(), bytes.size(), 0); }
    void send(const packet& p) { send_raw(encode(p)); }

    // The next packet of type T (others are skipped), or nullopt.
    template <class T>
    std::optional<T> expect(std::chrono::milliseconds timeout = 5s)
    {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (true) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) {
                return std::nullopt;
            }
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
                continue;
            }
            char buf[1024];
            const auto n = ::recv(fd_, buf, sizeof buf, 0);
            if (n <= 0) {
                continue;
            }
            auto r = decode(std::string_view(buf, static_cast<std::size_t>(n)));
            if (r && std::holds_alternative<T>(*r.value)) {
                return std::get<T>(*r.value);
            }
        }
    }

    // REGISTER name; the topic id (0 on failure).
    std::uint16_t register_topic(const std::string& name)
    {
        send(register_{0, ++msg_id_, name});
        const auto ack = expect<regack>();
        return ack && ack->rc == return_code::accepted ? ack->topic_id : 0;
    }
    std::uint16_t subscribe_topic(const std::string& name)
    {
        send(subscribe{flags{.qos = 1}, ++msg_id_, name, 0});
        const auto ack = expect<suback>();
        return ack && ack->rc == return_code::accepted ? ack->topic_id : 0;
    }
    // QoS 1 publish on a registered topic; true when PUBACK accepted it.
    bool publish_to(const std::string& topic, const std::string& payload)
    {
        const auto id = register_topic(topic);
        send(publish{flags{.qos = 1}, id, ++msg_id_, payload});
        const auto ack = expect<puback>();
        return id != 0 && ack && ack->rc == return_code::accepted;
    }
    // The next publish from the gateway, acknowledged when QoS 1.
    std::optional<publish> next_publish(std::chrono::milliseconds timeout = 5s)
    {
        auto p = expect<publish>(timeout);
        if (p && p->f.qos == 1) {
            send(puback{p->topic_id, p->msg_id, return_code::accepted});
        }
        return p;
    }

private:
    int fd_ = -1;
    bool ok_ = false;
    std::uint16_t msg_id_ = 0;
};

class mqttsn_gateway_e2e : public test::gateway_e2e {
protected:
    mqttsn_gateway_e2e() : gateway_e2e(AIOT_BROKER_BIN, key_file) {}

    void SetUp() override
    {
        start_broker();
        const auto mqtt_port = test::free_tcp_port(); // mosquitto needs its port up front
        mosquitto_ = test::start_mosquitto(AIOT_MOSQUITTO, mqtt_port, dir_.path());
        // --mqttsn-port 0 means "no MQTT-SN": this port is chosen up front.
        sn_port_ = test::free_udp_port();
        auto args = broker_options();
        args.insert(args.end(), {"--mqtt-port", std::to_string(mqtt_port), "--mqttsn-port",
                                 std::to_string(sn_port_), "--max-time", "30", "--debug"});
        gateway_ = start(AIOT_MQTT_GATEWAY_BIN, args, "mqtt-gateway");
        // UDP: only the log says it listens (and on which port).
        ASSERT_EQ(gateway_->wait_for_bound_port("MQTT-SN: listening on UDP"), sn_port_)
            << gateway_->log();
        // No peer sees the uplink before a node talks: the log says it.
        ASSERT_TRUE(gateway_->wait_for_log("connected to broker")) << gateway_->log();
        client_ = open_client();
    }

    // A node with id node_id on client c: connect, subscribe, announce,
    // answer discovery with one resource `led`. Returns its uid.
    std::string announce(sn_client& c, const std::string& node_id)
    {
        c.send(gw::mqttsn::connect{flags{.clean_session = true}, 1, 30, node_id});
        const auto ack = c.expect<connack>();
        EXPECT_TRUE(ack && ack->rc == return_code::accepted);
        const auto discover = c.subscribe_topic("gateway/" + node_id + "/discover");
        EXPECT_NE(discover, 0);
        led_set_ = c.subscribe_topic("gateway/" + node_id + "/led/set");
        EXPECT_NE(led_set_, 0);
        EXPECT_TRUE(c.publish_to("node/check", json{{"id", node_id}}.dump()));
        auto p = c.next_publish();
        EXPECT_TRUE(p && p->topic_id == discover && p->data == "resources");
        EXPECT_TRUE(c.publish_to("node/" + node_id + "/resources", R"(["led"])"));
        p = c.next_publish();
        EXPECT_TRUE(p && p->topic_id == discover && p->data == "values");
        EXPECT_TRUE(c.publish_to("node/" + node_id + "/led", R"({"value":"0"})"));
        std::string uid;
        view_.watch(
            *client_,
            [&](const test::node_view& v) {
                const auto u = v.find("id", node_id);
                if (u && v.resource(*u, "led")) {
                    uid = *u;
                }
                return !uid.empty();
            },
            10s);
        return uid;
    }

    std::uint16_t sn_port_ = 0;
    std::uint16_t led_set_ = 0;
    std::unique_ptr<test::process> mosquitto_;
    std::unique_ptr<test::process> gateway_;
};

TEST_F(mqttsn_gateway_e2e, ipv4_node_is_announced_and_follows_writes)
{
    sn_client c(false, sn_port_);
    ASSERT_TRUE(c.ok());
    const auto uid = announce(c, "raw-4");
    ASSERT_FALSE(uid.empty()) << diagnostics();
    EXPECT_EQ(*view_.resource(uid, "protocol"), "MQTT-SN");
    EXPECT_EQ(*view_.resource(uid, "led"), "0");

    // a web client's write reaches the node as a PUBLISH on its topic id
    ASSERT_TRUE(client_->send_json(test::write_request(uid, "led", "1")));
    const auto p = c.next_publish();
    ASSERT_TRUE(p) << diagnostics();
    EXPECT_EQ(p->topic_id, led_set_);
    EXPECT_EQ(p->data, "1");
    EXPECT_EQ(p->f.qos, 1);
    EXPECT_TRUE(c.publish_to("node/raw-4/led", R"({"value":"1"})"));
    EXPECT_TRUE(view_.wait_value(*client_, uid, "led", "1")) << diagnostics();

    // ping, gateway discovery, a bad datagram (dropped, logged), still served
    c.send(pingreq{});
    EXPECT_TRUE(c.expect<pingresp>());
    c.send(searchgw{1});
    const auto info = c.expect<gwinfo>();
    ASSERT_TRUE(info);
    EXPECT_EQ(info->gw_id, 1);
    c.send_raw(std::string("\x09\x0c\x00", 3));
    // The logged reason is under test; the ping below shows it serves on.
    EXPECT_TRUE(gateway_->wait_for_log("length field says 9 octets")) << gateway_->log();
    c.send(pingreq{});
    EXPECT_TRUE(c.expect<pingresp>());

    // DISCONNECT is answered; the gateway then refuses the session's topics
    c.send(disconnect{});
    EXPECT_TRUE(c.expect<disconnect>());
    c.send(publish{flags{.qos = 1}, 1, 99, "x"});
    const auto refused = c.expect<puback>();
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->rc, return_code::invalid_topic_id);
}

TEST_F(mqttsn_gateway_e2e, ipv6_node_and_keep_alive_timeout)
{
    sn_client c(true, sn_port_);
    ASSERT_TRUE(c.ok());
    const auto uid = announce(c, "raw-6");
    ASSERT_FALSE(uid.empty()) << diagnostics();
    EXPECT_EQ(*view_.resource(uid, "protocol"), "MQTT-SN");

    // a second session with a 2 s keep-alive that goes silent is dropped
    // after 1.5 x 2 s
    sn_client quiet(true, sn_port_);
    quiet.send(gw::mqttsn::connect{flags{.clean_session = true}, 1, 2, "quiet"});
    ASSERT_TRUE(quiet.expect<connack>());
    const auto t0 = std::chrono::steady_clock::now();
    // When the gateway gives up on the client shows in its log only.
    EXPECT_TRUE(gateway_->wait_for_log("client 'quiet' lost: keep-alive timeout", 6s))
        << gateway_->log();
    EXPECT_GE(std::chrono::steady_clock::now() - t0, 2900ms);
    quiet.send(pingreq{});
    EXPECT_TRUE(quiet.expect<disconnect>()) << "no session any more";
    // the first one (keep-alive 30 s) is still served
    c.send(pingreq{});
    EXPECT_TRUE(c.expect<pingresp>());
}

} // namespace
