// aiot-coap-gateway end to end: the real broker, gateway and test node on
// loopback (free ports), a web client on the broker's /ws, and
// coap-client-openssl as a foreign CoAP peer.
#include "support/process.hpp"
#include "support/system_helpers.hpp"
#include "support/ws_client.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <regex>
#include <set>

using namespace aiot;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

const std::string key_file = std::string(AIOT_TEST_DATA_DIR) + "/keys.ini";
const std::string node_address = "127.0.0.2";

bool is(const json& m, const std::string& type, const std::string& uid)
{
    return m.value("type", "") == type && m.value("uid", "") == uid;
}

bool is_update(const json& m, const std::string& uid, const std::string& endpoint)
{
    return is(m, "update", uid) && m.value("endpoint", "") == endpoint;
}

// Sends one UDP datagram from an ephemeral port of `from` to 127.0.0.1:port.
void send_datagram(const std::string& from, std::uint16_t port, const std::string& bytes)
{
    const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    ::inet_pton(AF_INET, from.c_str(), &local.sin_addr);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local), 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    ::inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    EXPECT_EQ(::sendto(fd, bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&to),
                       sizeof to),
              static_cast<ssize_t>(bytes.size()));
    ::close(fd);
}

// A CoAP NON POST /<path> with a payload, built by hand (no token).
std::string coap_post(const std::string& path, const std::string& payload)
{
    std::string m = {'\x50', '\x02', '\x12', '\x34'}; // ver 1, NON, POST, message id
    m.push_back(static_cast<char>(0xb0 | path.size())); // option 11 (Uri-Path)
    m += path;
    m.push_back('\xff');
    return m + payload;
}

class coap_gateway_e2e : public ::testing::Test {
protected:
    std::unique_ptr<test::process> start_broker(const std::string& log_name = "broker.log")
    {
        auto p = std::make_unique<test::process>(
            AIOT_BROKER_EXE,
            std::vector<std::string>{"--broker-port", std::to_string(broker_port_), "--bind",
                                     "127.0.0.1", "--key-file", key_file},
            dir_ / log_name);
        // Port 0 the first time; a broker started again takes that port.
        const auto port = p->wait_for_bound_port("listening on");
        EXPECT_NE(port, 0) << p->log();
        if (broker_port_ == 0) {
            broker_port_ = port;
        }
        return p;
    }

    std::unique_ptr<test::process> start_gateway(std::vector<std::string> extra = {},
                                                 const std::string& bind = "127.0.0.1")
    {
        std::vector<std::string> args{"--broker-host", "127.0.0.1",
                                      "--broker-port", std::to_string(broker_port_),
                                      "--key-file",    key_file,
                                      "--coap-bind",   bind,
                                      "--coap-port",   std::to_string(coap_port_),
                                      "--node-port",   std::to_string(node_port_),
                                      "--debug"};
        args.insert(args.end(), extra.begin(), extra.end());
        auto p = std::make_unique<test::process>(AIOT_COAP_GATEWAY_EXE, args, dir_ / "gateway.log");
        // Port 0 the first time, read back from the log (UDP: no connect
        // tells that it listens).
        const auto port = p->wait_for_bound_port("listening on");
        EXPECT_NE(port, 0) << p->log();
        if (coap_port_ == 0) {
            coap_port_ = port;
        }
        // No peer sees the uplink before a node posts: the log says it.
        EXPECT_TRUE(p->wait_for_log("connected to broker")) << p->log();
        return p;
    }

    std::unique_ptr<test::process> start_node(const std::string& uid,
                                              std::vector<std::string> extra = {},
                                              const std::string& host = node_address,
                                              const std::string& gateway = "127.0.0.1")
    {
        std::vector<std::string> args{"--gateway-host", gateway,
                                      "--gateway-port", std::to_string(coap_port_),
                                      "--node-host",    host,
                                      "--node-port",    std::to_string(node_port_),
                                      "--uid",          uid};
        args.insert(args.end(), extra.begin(), extra.end());
        if (std::find(extra.begin(), extra.end(), "--alive-interval") == extra.end()) {
            args.insert(args.end(), {"--alive-interval", "1"});
        }
        // It serves before its first post: every test waits for what the
        // gateway makes of that post.
        return std::make_unique<test::process>(AIOT_COAP_TEST_NODE_EXE, args,
                                               dir_ / ("node-" + uid + ".log"));
    }

    // A dashboard-like client: /ws, then `new`.
    std::unique_ptr<test::ws_client> open_client()
    {
        auto c = std::make_unique<test::ws_client>();
        const auto r = c->connect("127.0.0.1", broker_port_, "/ws");
        EXPECT_TRUE(r) << r.error;
        EXPECT_TRUE(c->send(R"({"type":"new","data":"client"})"));
        return c;
    }

    // Reads updates of `uid` until every endpoint in `wanted` was seen;
    // returns the last value of each wanted one (missing ones absent).
    static std::map<std::string, json> collect(test::ws_client& client, const std::string& uid,
                                               const std::set<std::string>& wanted,
                                               std::chrono::milliseconds timeout = 10s)
    {
        std::map<std::string, json> seen;
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            bool all = true;
            for (const auto& w : wanted) {
                all = all && seen.contains(w);
            }
            if (all) {
                break;
            }
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            const auto m = client.wait_for(
                [&](const json& j) { return is(j, "update", uid); },
                std::max(left, std::chrono::milliseconds(1)));
            if (!m) {
                break;
            }
            if (const auto e = m->value("endpoint", ""); wanted.contains(e)) {
                seen[e] = m->at("data");
            }
        }
        return seen;
    }

    // Runs coap-client-openssl to completion; returns what it printed.
    std::string coap_client(std::vector<std::string> args)
    {
        args.insert(args.begin(), {"-B", "5"});
        test::process p(AIOT_COAP_CLIENT_EXE, args, dir_ / "coap-client.log");
        EXPECT_TRUE(p.wait(10s)) << "coap-client did not finish";
        return p.log();
    }

    static bool have_coap_client() { return std::string(AIOT_COAP_CLIENT_EXE).size() > 0; }

    std::string gateway_url(const std::string& path) const
    {
        return "coap://127.0.0.1:" + std::to_string(coap_port_) + "/" + path;
    }

    test::temp_dir dir_;
    std::uint16_t broker_port_ = 0; // bound by the first start_broker()
    std::uint16_t coap_port_ = 0;   // bound by the first start_gateway()
    // The test nodes' port must be known to the gateway up front (it asks
    // every node on that one port): chosen here.
    std::uint16_t node_port_ = test::free_udp_port();
};

} // namespace

TEST_F(coap_gateway_e2e, node_is_announced_discovered_and_streams_values)
{
    auto broker = start_broker();
    auto gateway = start_gateway();
    auto client = open_client();
    auto node = start_node("e2e-1", {"--temperature", "--led", "--value-interval", "0.2"});

    ASSERT_TRUE(client->wait_for([](const json& m) { return is(m, "new", "e2e-1"); }, 10s))
        << gateway->log();
    const auto values =
        collect(*client, "e2e-1", {"protocol", "ip", "board", "name", "led", "temperature"});
    ASSERT_EQ(values.size(), 6u) << gateway->log();
    EXPECT_EQ(values.at("protocol"), "CoAP");
    EXPECT_EQ(values.at("ip"), node_address);
    EXPECT_EQ(values.at("board"), "native");
    EXPECT_EQ(values.at("name"), "CoAP test node");
    EXPECT_EQ(values.at("led"), "0");
    EXPECT_TRUE(std::regex_match(values.at("temperature").get<std::string>(),
                                 std::regex("[0-9]+°C")))
        << values.at("temperature");

    // Live values keep coming.
    for (int i = 0; i < 3; ++i) {
        EXPECT_TRUE(client->wait_for(
            [](const json& m) { return is_update(m, "e2e-1", "temperature"); }, 5s));
    }
}

TEST_F(coap_gateway_e2e, led_write_from_the_web_reaches_the_node_and_comes_back)
{
    auto broker = start_broker();
    auto gateway = start_gateway();
    auto client = open_client();
    auto node = start_node("e2e-led", {"--led"});
    const auto values = collect(*client, "e2e-led", {"led"});
    ASSERT_EQ(values.size(), 1u) << gateway->log();
    ASSERT_EQ(values.at("led"), "0");

    ASSERT_TRUE(client->send(
        R"({"type":"update","data":{"uid":"e2e-led","endpoint":"led","payload":"1"}})"));
    // The value comes back from the node: it set its LED.
    const auto led = client->wait_for(
        [](const json& m) { return is_update(m, "e2e-led", "led") && m.at("data") == "1"; }, 5s);
    EXPECT_TRUE(led) << gateway->log();

    ASSERT_TRUE(client->send(
        R"({"type":"update","data":{"uid":"e2e-led","endpoint":"led","payload":"0"}})"));
    EXPECT_TRUE(client->wait_for(
        [](const json& m) { return is_update(m, "e2e-led", "led") && m.at("data") == "0"; }, 5s));
}

TEST_F(coap_gateway_e2e, silent_node_is_removed_after_max_time)
{
    auto broker = start_broker();
    auto gateway = start_gateway({"--max-time", "2"});
    auto client = open_client();
    auto node = start_node("e2e-silent", {"--alive-interval", "0.5"});
    ASSERT_TRUE(client->wait_for([](const json& m) { return is(m, "new", "e2e-silent"); }, 10s));

    // Alive: kept past max-time.
    EXPECT_FALSE(client->wait_for([](const json& m) { return is(m, "out", "e2e-silent"); }, 3s));

    node->signal(SIGKILL);
    node->terminate();
    const auto killed = std::chrono::steady_clock::now();
    ASSERT_TRUE(client->wait_for([](const json& m) { return is(m, "out", "e2e-silent"); }, 6s))
        << gateway->log();
    EXPECT_GE(std::chrono::steady_clock::now() - killed, 1s); // not before max-time
}

TEST_F(coap_gateway_e2e, broker_restart_makes_the_gateway_announce_its_nodes_again)
{
    auto broker = start_broker("broker1.log");
    auto gateway = start_gateway();
    auto node = start_node("e2e-restart", {"--led"});
    {
        auto client = open_client();
        ASSERT_EQ(collect(*client, "e2e-restart", {"led"}).size(), 1u) << gateway->log();
    }

    broker->signal(SIGKILL);
    broker->terminate();
    broker = start_broker("broker2.log");
    auto client = open_client(); // most likely before the gateway is back
    ASSERT_TRUE(client->wait_for([](const json& m) { return is(m, "new", "e2e-restart"); }, 10s))
        << gateway->log();
    const auto values = collect(*client, "e2e-restart", {"protocol", "ip", "board", "led"});
    EXPECT_EQ(values.size(), 4u);
    EXPECT_TRUE(test::eventually(
        [&] {
            const auto log = gateway->log();
            const auto first = log.find("connected to broker");
            return first != std::string::npos &&
                   log.find("connected to broker", first + 1) != std::string::npos;
        },
        5s));
    EXPECT_TRUE(gateway->running());
}

TEST_F(coap_gateway_e2e, coap_client_as_a_foreign_peer)
{
    if (!have_coap_client()) {
        GTEST_SKIP() << "coap-client-openssl not installed (Debian package libcoap3-bin)";
    }
    auto broker = start_broker();
    auto gateway = start_gateway();
    auto client = open_client();

    auto out = coap_client({"-m", "post", "-e", "alive:foreign1", gateway_url("alive")});
    EXPECT_NE(out.find("Received 'alive:foreign1'"), std::string::npos) << out;
    ASSERT_TRUE(client->wait_for([](const json& m) { return is(m, "new", "foreign1"); }, 5s));
    const auto ip = client->wait_for([](const json& m) { return is_update(m, "foreign1", "ip"); });
    ASSERT_TRUE(ip);
    EXPECT_EQ(ip->at("data"), "127.0.0.1");

    // Nothing serves CoAP there: its discovery fails, the gateway goes on
    // (and says why: the log is the behaviour under test).
    EXPECT_TRUE(gateway->wait_for_log("node 'foreign1' at 127.0.0.1: discovery failed"));

    out = coap_client({"-m", "post", "-e", "temperature:21%C2%B0C", gateway_url("server")});
    EXPECT_NE(out.find("Received 'temperature:21°C'"), std::string::npos) << out;
    const auto t = client->wait_for(
        [](const json& m) { return is_update(m, "foreign1", "temperature"); }, 5s);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->at("data"), "21°C");

    // A reset from the same peer: `reset`, then discovery again.
    out = coap_client({"-m", "post", "-e", "reset:foreign1", gateway_url("alive")});
    EXPECT_NE(out.find("Received 'reset:foreign1'"), std::string::npos) << out;
    EXPECT_TRUE(client->wait_for([](const json& m) { return is(m, "reset", "foreign1"); }, 5s));

    // A GET on /alive is not allowed; an unknown path is not found.
    out = coap_client({"-m", "get", gateway_url("alive")});
    EXPECT_NE(out.find("4.05"), std::string::npos) << out;
    out = coap_client({"-m", "post", "-e", "x", gateway_url("nothing")});
    EXPECT_NE(out.find("4.04"), std::string::npos) << out;
}

TEST_F(coap_gateway_e2e, malformed_input_leaves_the_gateway_serving)
{
    if (!have_coap_client()) {
        GTEST_SKIP() << "coap-client-openssl not installed (Debian package libcoap3-bin)";
    }
    auto broker = start_broker();
    auto gateway = start_gateway();
    auto client = open_client();
    auto node = start_node("e2e-bad", {"--temperature", "--value-interval", "0.2"});
    ASSERT_EQ(collect(*client, "e2e-bad", {"temperature"}).size(), 1u) << gateway->log();

    // Payload without ':'. Each refusal answers with its code and logs
    // its reason; the logged reasons are under test here.
    auto out = coap_client({"-m", "post", "-e", "nocolon", gateway_url("server")});
    EXPECT_NE(out.find("4.00"), std::string::npos) << out;
    EXPECT_TRUE(gateway->wait_for_log(
        "POST /server from 127.0.0.1 refused (4.00): expected '<resource>:<value>' in 'nocolon'"));
    out = coap_client({"-m", "post", "-e", "alive", gateway_url("alive")});
    EXPECT_NE(out.find("4.00"), std::string::npos) << out;

    // From an address that never posted an alive.
    out = coap_client({"-a", "127.0.0.9", "-m", "post", "-e", "a:1", gateway_url("server")});
    EXPECT_NE(out.find("4.04"), std::string::npos) << out;

    // Too large: block-wise (coap-client splits it), and in one datagram.
    const auto huge = dir_ / "huge.txt";
    std::ofstream(huge) << "temperature:" << std::string(5000, '9');
    out = coap_client({"-m", "post", "-f", huge.string(), gateway_url("server")});
    EXPECT_NE(out.find("4.13"), std::string::npos) << out;
    EXPECT_TRUE(gateway->wait_for_log("refused (4.13): block-wise transfer"));
    send_datagram(node_address, coap_port_, coap_post("server", std::string(1100, '9')));
    EXPECT_TRUE(gateway->wait_for_log("payload of 1100 bytes, at most 1024"));

    // Raw garbage and damaged CoAP.
    send_datagram("127.0.0.1", coap_port_, "this is not CoAP at all");
    send_datagram("127.0.0.1", coap_port_, std::string(1, '\x40'));
    send_datagram("127.0.0.1", coap_port_, std::string("\x50\x02\x12\x34\xbf", 5));
    send_datagram("127.0.0.1", coap_port_, std::string(60000, '\xff'));

    // A value that is not UTF-8, from the node's address: repaired.
    send_datagram(node_address, coap_port_, coap_post("server", "status:ok\xff"));
    const auto status = client->wait_for(
        [](const json& m) { return is_update(m, "e2e-bad", "status"); }, 5s);
    ASSERT_TRUE(status) << gateway->log();
    EXPECT_EQ(status->at("data"), "ok\xef\xbf\xbd");
    EXPECT_TRUE(gateway->wait_for_log("value of 'status' is not valid UTF-8"));

    // Still serving: fresh values from the node, and the process is alive.
    for (int i = 0; i < 3; ++i) {
        EXPECT_TRUE(client->wait_for(
            [](const json& m) { return is_update(m, "e2e-bad", "temperature"); }, 5s));
    }
    EXPECT_TRUE(gateway->running());
}

TEST_F(coap_gateway_e2e, ipv6_loopback)
{
    auto broker = start_broker();
    auto gateway = start_gateway({}, "::1");
    auto client = open_client();
    auto node = start_node("e2e-v6", {"--led"}, "::1", "::1");
    const auto values = collect(*client, "e2e-v6", {"ip", "board", "led"});
    ASSERT_EQ(values.size(), 3u) << gateway->log();
    EXPECT_EQ(values.at("ip"), "::1");
    EXPECT_EQ(values.at("board"), "native");
}

TEST_F(coap_gateway_e2e, many_nodes_in_one_test_node_process)
{
    auto broker = start_broker();
    auto gateway = start_gateway();
    auto client = open_client();
    auto nodes = start_node("many", {"--nodes", "20", "--temperature", "--value-interval", "0.5"},
                            "127.0.1.1");
    std::set<std::string> announced;
    const auto deadline = std::chrono::steady_clock::now() + 15s;
    while (announced.size() < 20 && std::chrono::steady_clock::now() < deadline) {
        const auto m = client->wait_for([](const json& j) { return j.value("type", "") == "new"; },
                                        1s);
        if (m) {
            announced.insert(m->value("uid", ""));
        }
    }
    EXPECT_EQ(announced.size(), 20u) << gateway->log();
    EXPECT_TRUE(announced.contains("many-1"));
    EXPECT_TRUE(announced.contains("many-20"));
    // Node i serves on its own address: ask for a replay of the cache.
    ASSERT_TRUE(client->send(R"({"type":"new","data":"client"})"));
    const auto values = collect(*client, "many-20", {"ip", "temperature"});
    ASSERT_EQ(values.size(), 2u) << gateway->log();
    EXPECT_EQ(values.at("ip"), "127.0.1.20");
}

TEST_F(coap_gateway_e2e, a_node_that_never_answers_does_not_hold_up_the_others)
{
    auto broker = start_broker();
    auto gateway = start_gateway({"--request-timeout", "4"});
    auto client = open_client();

    // A "node" whose CoAP port is open (no ICMP error) but never answers.
    const std::string mute_address = "127.0.0.7";
    const int mute = ::socket(AF_INET, SOCK_DGRAM, 0);
    ASSERT_GE(mute, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(node_port_);
    ::inet_pton(AF_INET, mute_address.c_str(), &a.sin_addr);
    ASSERT_EQ(::bind(mute, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    send_datagram(mute_address, coap_port_, coap_post("alive", "alive:mute"));
    ASSERT_TRUE(client->wait_for([](const json& m) { return is(m, "new", "mute"); }, 5s));

    // A real node arriving meanwhile is discovered at once.
    const auto started = std::chrono::steady_clock::now();
    auto node = start_node("e2e-quick", {"--led"});
    const auto values = collect(*client, "e2e-quick", {"board", "led"}, 5s);
    EXPECT_EQ(values.size(), 2u) << gateway->log();
    EXPECT_LT(std::chrono::steady_clock::now() - started, 2500ms); // mute's timeout: 4 s

    // The mute node's discovery ends by the timeout and is logged (no
    // peer sees a discovery give up).
    EXPECT_TRUE(gateway->wait_for_log(
        "node 'mute' at 127.0.0.7: discovery failed (GET /.well-known/core: no answer within "
        "4000 ms)",
        8s))
        << gateway->log();
    ::close(mute);
}

TEST_F(coap_gateway_e2e, start_up_errors_are_one_clear_line)
{
    auto broker = start_broker();
    auto gateway = start_gateway();
    // The same UDP port again (libcoap alone would share it silently).
    test::process second(AIOT_COAP_GATEWAY_EXE,
                         {"--broker-host", "127.0.0.1", "--broker-port",
                          std::to_string(broker_port_), "--key-file", key_file, "--coap-bind",
                          "127.0.0.1", "--coap-port", std::to_string(coap_port_)},
                         dir_ / "second.log");
    EXPECT_EQ(second.wait(10s), 1);
    EXPECT_NE(second.log().find("cannot listen on UDP [127.0.0.1]:" + std::to_string(coap_port_) +
                                ": Address already in use"),
              std::string::npos)
        << second.log();

    test::process no_keys(AIOT_COAP_GATEWAY_EXE,
                          {"--key-file", (dir_ / "missing.ini").string(), "--coap-bind",
                           "127.0.0.1", "--coap-port", "0"},
                          dir_ / "no-keys.log");
    EXPECT_EQ(no_keys.wait(10s), 1);
    EXPECT_NE(no_keys.log().find("missing.ini"), std::string::npos) << no_keys.log();
    EXPECT_TRUE(gateway->running());
}
