// Faults injected end to end (issue 17): the broker, the three gateways
// (CoAP, MQTT with mosquitto, websocket), a test node on each and web
// clients, all real processes on loopback; then kill -9 of the broker, of
// each gateway and of mosquitto, a "broker" that accepts TCP and never
// answers the upgrade, SIGTERM during a burst, and a full disk for the key
// file and the logs. Every wait polls with a deadline.
//
// Covered elsewhere, not repeated here: kill -9 of a test node (each
// gateway's e2e test: a node that goes away is `out` after --max-time), a
// web client that stops reading (broker_e2e: bounded queue, close 1013,
// one log line), a handshake that never completes at the broker
// (broker_e2e), SIGTERM of an idle broker (broker_e2e: 1001 and exit 0).
#include "support/gateway_e2e.hpp"
#include "support/mosquitto.hpp"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace aiot;
using namespace std::chrono_literals;
using json = nlohmann::json;
using std::chrono::steady_clock;

namespace {

const std::string coap_uid = "fault-coap";
const std::string mqtt_id = "fault-mqtt";
const std::string ws_name = "fault-ws";

// The last lines of a log, for a failure message.
std::string tail(const std::string& log, std::size_t lines = 30)
{
    auto pos = log.size();
    for (std::size_t n = 0; n <= lines && pos != std::string::npos && pos > 0; ++n) {
        pos = log.rfind('\n', pos - 1);
    }
    return pos == std::string::npos ? log : log.substr(pos + 1);
}

long long ms_since(steady_clock::time_point t)
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(steady_clock::now() - t).count();
}

// A node_view that also checks what a dashboard relies on: never a second
// `new` for a uid without an `out` in between.
struct strict_view {
    test::node_view view;
    std::set<std::string> live;
    std::vector<std::string> duplicates;

    strict_view()
    {
        view.on_message = [this](const json& m) {
            const auto type = m.value("type", "");
            const auto uid = m.value("uid", "");
            if (type == "new" && !live.insert(uid).second) {
                duplicates.push_back(uid);
            } else if (type == "out") {
                live.erase(uid);
            }
        };
    }
    // The view refers to this object: not copied or moved.
    strict_view(const strict_view&) = delete;
    strict_view& operator=(const strict_view&) = delete;

    bool watch(test::ws_client& client, const std::function<bool(const test::node_view&)>& pred,
               std::chrono::milliseconds timeout = 10s)
    {
        return view.watch(client, pred, timeout);
    }
};

// A "broker" that accepts TCP connections and never reads or answers:
// the connections are held (at most 64) until the object dies.
class silent_listener {
public:
    explicit silent_listener(std::uint16_t port)
    {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0); // not inherited by the daemons
        const int one = 1;
        ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ok_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::listen(fd_, 64) == 0;
        thread_ = std::thread([this] { run(); });
    }
    ~silent_listener()
    {
        stop_ = true;
        thread_.join();
        // Reset, not closed: no socket lingers on the port the real
        // broker binds next.
        const linger reset{1, 0};
        for (const int c : held_) {
            ::setsockopt(c, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
            ::close(c);
        }
        ::close(fd_);
    }
    silent_listener(const silent_listener&) = delete;
    silent_listener& operator=(const silent_listener&) = delete;

    bool ok() const { return ok_; }
    int accepted() const { return accepted_; }
    std::uint16_t port() const
    {
        sockaddr_in a{};
        socklen_t len = sizeof a;
        return ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0 ? ntohs(a.sin_port)
                                                                               : 0;
    }

private:
    void run()
    {
        while (!stop_ && ok_) {
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, 20) == 1) {
                const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
                if (c >= 0 && held_.size() < 64) {
                    held_.push_back(c);
                    ++accepted_;
                } else if (c >= 0) {
                    ::close(c);
                }
            }
        }
    }

    int fd_ = -1;
    bool ok_ = false;
    std::atomic<bool> stop_{false};
    std::atomic<int> accepted_{0};
    std::vector<int> held_;
    std::thread thread_;
};

class faults_e2e : public test::gateway_e2e {
protected:
    faults_e2e()
        : gateway_e2e(AIOT_BROKER_EXE, std::string(AIOT_TEST_DATA_DIR) + "/keys.ini"),
          // mosquitto, and the CoAP test node (the gateway asks it on
          // that port), need their ports up front.
          mqtt_port_(test::free_tcp_port()),
          coap_node_port_(test::free_udp_port())
    {
    }

    void start_mosquitto()
    {
        mosquitto_ = test::start_mosquitto(AIOT_MOSQUITTO_EXE, mqtt_port_, dir_.path(),
                                           "mosquitto" + std::to_string(++mosquitto_runs_));
    }

    // The three gateways, each with a log of its own (gw-coap.log, ...).
    // log_to: a file for all output instead (e.g. /dev/full).
    void start_gateways(const std::string& log_to = {})
    {
        auto launch = [&](const std::string& exe, std::vector<std::string> extra,
                          const std::string& name) {
            auto args = broker_options();
            args.insert(args.end(), extra.begin(), extra.end());
            args.push_back("--debug");
            if (log_to.empty()) {
                return start(exe, args, name);
            }
            return std::make_unique<test::process>(exe, args, log_to);
        };
        // Port 0 unless the log cannot be read (/dev/full).
        const auto coap_port = log_to.empty() ? std::uint16_t{0} : test::free_udp_port();
        coap_gw_ = launch(AIOT_COAP_GATEWAY_EXE,
                          {"--coap-bind", "127.0.0.1", "--coap-port", std::to_string(coap_port),
                           "--node-port", std::to_string(coap_node_port_), "--max-time", "30"},
                          "gw-coap");
        mqtt_gw_ = launch(AIOT_MQTT_GATEWAY_EXE,
                          {"--mqtt-host", "127.0.0.1", "--mqtt-port", std::to_string(mqtt_port_),
                           "--max-time", "30"},
                          "gw-mqtt");
        // Port 0, read back from its log; a log that cannot be read
        // (/dev/full) needs a port chosen up front.
        const auto ws_port = log_to.empty() ? std::uint16_t{0} : test::free_tcp_port();
        ws_gw_ = launch(AIOT_WS_GATEWAY_EXE,
                        {"--gateway-port", std::to_string(ws_port), "--bind", "127.0.0.1"},
                        "gw-ws");
        if (log_to.empty()) {
            ws_port_ = ws_gw_->wait_for_bound_port("listening for websocket nodes");
            ASSERT_NE(ws_port_, 0) << diagnostics();
            coap_port_ = coap_gw_->wait_for_bound_port("listening on");
            ASSERT_NE(coap_port_, 0) << diagnostics();
        } else {
            coap_port_ = coap_port;
            ws_port_ = ws_port;
            ASSERT_TRUE(ws_gw_->wait_for_tcp_port(ws_port_)) << diagnostics();
        }
    }

    void start_nodes()
    {
        coap_node_ = start(AIOT_COAP_TEST_NODE_EXE,
                           {"--gateway-host", "127.0.0.1", "--gateway-port",
                            std::to_string(coap_port_), "--node-host", "127.0.0.2", "--node-port",
                            std::to_string(coap_node_port_), "--uid", coap_uid, "--temperature",
                            "--led", "--alive-interval", "1", "--value-interval", "0.2"},
                           "node-coap");
        mqtt_node_ = start(AIOT_MQTT_TEST_NODE_EXE,
                           {"--mqtt-host", "127.0.0.1", "--mqtt-port", std::to_string(mqtt_port_),
                            "--node-id", mqtt_id, "--temperature-interval", "0.2",
                            "--pressure-interval", "0.5"},
                           "node-mqtt");
        ws_node_ = start(AIOT_WS_TEST_NODE_EXE,
                         {"--gateway-host", "127.0.0.1", "--gateway-port", std::to_string(ws_port_),
                          "--name", ws_name, "--temperature-interval", "0.2", "--retry-delay",
                          "0.2"},
                         "node-ws");
    }

    // The uids of the three nodes as v knows them (empty when not seen).
    struct uids {
        std::string coap, mqtt, ws;
        std::vector<std::string> all() const { return {coap, mqtt, ws}; }
    };

    static uids find_uids(const test::node_view& v)
    {
        uids u;
        if (v.has(coap_uid)) {
            u.coap = coap_uid;
        }
        u.mqtt = v.find("id", mqtt_id).value_or("");
        u.ws = v.find("name", ws_name).value_or("");
        return u;
    }

    // All three nodes announced with their resources (values included).
    static bool all_seen(const test::node_view& v)
    {
        const auto u = find_uids(v);
        for (const auto& uid : u.all()) {
            if (uid.empty() || !v.resource(uid, "protocol") || !v.resource(uid, "led") ||
                !v.resource(uid, "temperature")) {
                return false;
            }
        }
        return true;
    }

    // mosquitto, broker, a web client, the three gateways and their nodes;
    // returns once the client has seen every node.
    void start_all()
    {
        start_mosquitto();
        start_broker();
        client_ = open_client();
        start_gateways();
        start_nodes();
        ASSERT_TRUE(strict_.watch(*client_, all_seen, 20s)) << diagnostics();
        uids_ = find_uids(strict_.view);
    }

    // The last line of a log is whole (ends with a newline).
    static bool ends_with_newline(const std::string& log)
    {
        return log.empty() || log.back() == '\n';
    }

    std::uint16_t mqtt_port_;
    std::uint16_t coap_port_ = 0;
    std::uint16_t coap_node_port_;
    std::uint16_t ws_port_ = 0;
    int mosquitto_runs_ = 0;
    std::unique_ptr<test::process> mosquitto_;
    std::unique_ptr<test::process> coap_gw_, mqtt_gw_, ws_gw_;
    std::unique_ptr<test::process> coap_node_, mqtt_node_, ws_node_;
    strict_view strict_; // what client_ has seen
    uids uids_;
};

} // namespace

TEST_F(faults_e2e, a_killed_broker_gets_every_node_back_within_5_s)
{
    start_all();
    EXPECT_TRUE(strict_.duplicates.empty());

    broker_->signal(SIGKILL);
    broker_->terminate();
    ASSERT_TRUE(client_->wait_closed());
    const auto restarted = steady_clock::now();
    start_broker();
    const auto listening_ms = ms_since(restarted);

    // A new dashboard sees all three nodes again, each with its resources
    // and live values, and no node twice.
    auto fresh = open_client();
    strict_view after;
    ASSERT_TRUE(after.watch(*fresh, all_seen, 15s)) << diagnostics();
    const auto back_ms = ms_since(restarted);
    std::printf("[ figure ] broker killed: listening again after %lld ms, every node "
                "re-announced to a new client after %lld ms\n",
                listening_ms, back_ms);
    EXPECT_LT(back_ms, 5000) << diagnostics();
    EXPECT_EQ(find_uids(after.view).all(), uids_.all()) << "same uids after the restart";
    for (const auto& uid : uids_.all()) {
        EXPECT_TRUE(after.watch(*fresh, [&, n = after.view.updates(uid, "temperature")](
                                            const test::node_view& v) {
            return v.updates(uid, "temperature") >= n + 2;
        })) << uid;
    }
    EXPECT_TRUE(after.duplicates.empty()) << after.duplicates.front();
    for (auto* p : {coap_gw_.get(), mqtt_gw_.get(), ws_gw_.get()}) {
        EXPECT_TRUE(p->running());
    }
}

TEST_F(faults_e2e, each_killed_gateway_takes_out_its_own_nodes_only)
{
    start_all();
    const std::vector<std::pair<test::process*, std::string>> order = {
        {coap_gw_.get(), uids_.coap}, {mqtt_gw_.get(), uids_.mqtt}, {ws_gw_.get(), uids_.ws}};
    std::set<std::string> gone;
    for (const auto& [gw, uid] : order) {
        gw->signal(SIGKILL);
        gw->terminate();
        const auto killed = steady_clock::now();
        ASSERT_TRUE(strict_.watch(*client_, [&](const test::node_view& v) { return v.is_out(uid); },
                                  5s))
            << uid << diagnostics();
        std::printf("[ figure ] gateway of %s killed: out after %lld ms\n", uid.c_str(),
                    ms_since(killed));
        gone.insert(uid);
        for (const auto& other : uids_.all()) {
            EXPECT_EQ(strict_.view.has(other), !gone.contains(other)) << other;
        }
    }
    EXPECT_TRUE(broker_->running());
    EXPECT_TRUE(strict_.duplicates.empty());
}

TEST_F(faults_e2e, a_killed_mosquitto_comes_back_and_mqtt_values_flow_again)
{
    start_all();
    mosquitto_->signal(SIGKILL);
    mosquitto_->terminate();
    // The loss must be seen before mosquitto comes back; only the
    // gateway's log shows it.
    ASSERT_TRUE(mqtt_gw_->wait_for_log("lost the MQTT broker")) << diagnostics();
    const auto restarted = steady_clock::now();
    start_mosquitto(); // same port

    const auto& uid = uids_.mqtt;
    ASSERT_TRUE(strict_.view.has(uid));
    ASSERT_TRUE(strict_.watch(*client_, [&, n = strict_.view.updates(uid, "temperature")](
                                            const test::node_view& v) {
        return v.updates(uid, "temperature") >= n + 3;
    }, 20s)) << diagnostics();
    std::printf("[ figure ] mosquitto killed: MQTT values flowing again %lld ms after its "
                "restart\n",
                ms_since(restarted));
    EXPECT_FALSE(strict_.view.is_out(uid)) << "same node, not re-created";
    EXPECT_TRUE(strict_.duplicates.empty());
    // A write reaches the node through the new MQTT session.
    ASSERT_TRUE(client_->send_json(test::write_request(uid, "led", "1")));
    EXPECT_TRUE(strict_.watch(*client_, [&](const test::node_view& v) {
        const auto* led = v.resource(uid, "led");
        return led && *led == "1";
    })) << diagnostics();
    // The other gateways never noticed.
    EXPECT_TRUE(strict_.view.has(uids_.coap));
    EXPECT_TRUE(strict_.view.has(uids_.ws));
}

TEST_F(faults_e2e, a_broker_that_never_answers_the_upgrade_is_timed_out_and_retried)
{
    start_mosquitto();
    auto fake = std::make_unique<silent_listener>(0);
    ASSERT_TRUE(fake->ok());
    broker_port_ = fake->port(); // where the real broker comes later
    const auto started = steady_clock::now();
    start_gateways();
    start_nodes();
    // Each gateway gives up on the silent peer (its connect timeout is
    // 10 s), says so once, and tries again.
    for (auto* gw : {coap_gw_.get(), mqtt_gw_.get(), ws_gw_.get()}) {
        // Said once, with the reason (the fake accepted count is below).
        ASSERT_TRUE(gw->wait_for_log("cannot connect to broker", 20s)) << diagnostics();
        const auto log = gw->log();
        EXPECT_NE(log.find("retrying with backoff"), std::string::npos) << log;
        EXPECT_TRUE(log.find("timeout") != std::string::npos ||
                    log.find("timed out") != std::string::npos)
            << log;
    }
    std::printf("[ figure ] silent broker: all three gateways timed out after %lld ms\n",
                ms_since(started));
    EXPECT_TRUE(test::eventually([&] { return fake->accepted() >= 6; }, 5s))
        << "each gateway tried again: " << fake->accepted() << " connections";

    // A real broker takes over the port: everything comes up.
    fake.reset();
    const auto real = steady_clock::now();
    start_broker();
    client_ = open_client();
    ASSERT_TRUE(strict_.watch(*client_, all_seen, 15s)) << diagnostics();
    std::printf("[ figure ] silent broker replaced: every node seen %lld ms later\n",
                ms_since(real));
    EXPECT_LT(ms_since(real), 5000);
    EXPECT_TRUE(strict_.duplicates.empty()) << strict_.duplicates.front() << diagnostics();
}

TEST_F(faults_e2e, sigterm_during_a_burst_exits_0_within_1_s)
{
    start_all();
    // The burst: a second web client writes every node's LED as fast as
    // the broker takes it (at most 200000 writes), while the nodes stream
    // their values; the echoes fill every queue on the way. It pauses (and
    // only drains) while a daemon shuts down, so that the shutdown is
    // measured with full queues but not against our own load generator.
    std::atomic<bool> stop{false};
    std::atomic<bool> paused{false};
    std::atomic<int> sent{0};
    std::atomic<int> burst_close{0};
    std::thread burst([&, all = uids_.all()] {
        test::ws_client w;
        if (!w.connect("127.0.0.1", broker_port_, "/ws") ||
            !w.send(R"({"type":"new","data":"client"})")) {
            return;
        }
        for (int i = 0; i < 200000 && !stop && w.is_open();) {
            if (paused) {
                w.receive(20ms); // drains the broadcasts
                continue;
            }
            const auto& uid = all[static_cast<std::size_t>(i) % all.size()];
            if (!w.send_json(test::write_request(uid, "led", i % 2 ? "1" : "0"), 2s)) {
                break;
            }
            ++i;
            ++sent;
            while (w.receive(0ms)) { // drops the broadcasts it gets
            }
        }
        if (w.wait_closed(2s)) { // at once after the broker's close
            burst_close = w.close_code().value_or(0);
        }
    });
    struct joiner {
        std::atomic<bool>& stop;
        std::thread& t;
        ~joiner()
        {
            stop = true;
            t.join();
        }
    } join{stop, burst};
    // Lets the burst run for `count` more writes, then pauses it.
    auto burst_for = [&](int count) {
        const int before = sent;
        paused = false;
        const bool ok = test::eventually([&] { return sent >= before + count; }, 10s);
        paused = true;
        return ok;
    };

    const std::vector<std::pair<std::string, test::process*>> gateways = {
        {"coap", coap_gw_.get()}, {"mqtt", mqtt_gw_.get()}, {"ws", ws_gw_.get()}};
    for (const auto& [name, gw] : gateways) {
        ASSERT_TRUE(burst_for(2000)) << "burst stalled" << diagnostics();
        const auto t = steady_clock::now();
        gw->signal(SIGTERM);
        const auto status = gw->wait(1s);
        const auto took = ms_since(t);
        ASSERT_TRUE(status) << name << " gateway still running 1 s after SIGTERM:\n"
                            << tail(gw->log());
        std::printf("[ figure ] %s gateway: exit %d %lld ms after SIGTERM (%d writes sent)\n",
                    name.c_str(), *status, took, sent.load());
        EXPECT_EQ(*status, 0) << tail(gw->log());
        EXPECT_TRUE(ends_with_newline(gw->log()));
        EXPECT_NE(gw->log().find("stopped\n"), std::string::npos) << tail(gw->log());
    }
    // Each said goodbye: the broker took its nodes out.
    EXPECT_TRUE(strict_.watch(*client_, [&](const test::node_view& v) {
        return v.is_out(uids_.coap) && v.is_out(uids_.mqtt) && v.is_out(uids_.ws);
    })) << diagnostics();

    // The broker, with two web clients reading (one of them the burst) and
    // one that never reads again, so never answers the close.
    auto deaf = open_client();
    ASSERT_TRUE(burst_for(2000)) << "burst stalled" << diagnostics();
    const auto t = steady_clock::now();
    broker_->signal(SIGTERM);
    EXPECT_TRUE(client_->wait_closed(1s));
    const auto status = broker_->wait(
        std::max(std::chrono::milliseconds(0),
                 1000ms - std::chrono::duration_cast<std::chrono::milliseconds>(
                              steady_clock::now() - t)));
    const auto took = ms_since(t);
    ASSERT_TRUE(status) << "broker still running 1 s after SIGTERM:\n" << tail(broker_->log());
    std::printf("[ figure ] broker: exit %d %lld ms after SIGTERM (%d writes sent)\n", *status,
                took, sent.load());
    EXPECT_EQ(*status, 0);
    EXPECT_TRUE(ends_with_newline(broker_->log()));
    // Clients got whole messages, then a clean close.
    EXPECT_EQ(client_->close_code(), 1001);
    while (const auto m = client_->receive(0ms)) {
        EXPECT_FALSE(json::parse(*m, nullptr, false).is_discarded()) << *m;
    }
    stop = true;
    burst.join();
    burst = std::thread([] {}); // for the joiner
    EXPECT_EQ(burst_close.load(), 1001);
    EXPECT_TRUE(strict_.duplicates.empty());
}

TEST_F(faults_e2e, key_file_on_a_full_disk_fails_cleanly_and_leaves_no_partial_file)
{
    if (::geteuid() != 0 || std::string(AIOT_UNSHARE_EXE).empty()) {
        GTEST_SKIP() << "needs root and unshare(1) for a tiny tmpfs in a private mount namespace";
    }
    const auto mnt = dir_ / "full";
    std::filesystem::create_directory(mnt);
    // In a mount namespace of its own: a 16 kB tmpfs holding an old key
    // file, filled up; then a new key file, and --force over the old one.
    const std::string script = R"sh(
        mount -t tmpfs -o size=16k tmpfs "$1" || { echo "SKIP: mount failed"; exit 0; }
        printf 'old keys\n' > "$1/keys.ini"
        dd if=/dev/zero of="$1/fill" bs=4k count=16 2>/dev/null
        "$2" --key-file "$1/new.ini"; echo "exit=$?"
        "$2" --key-file "$1/keys.ini" --force; echo "exit=$?"
        echo "files: $(ls -A "$1" | tr '\n' ' ')"
        echo "old: $(cat "$1/keys.ini")"
    )sh";
    test::process p(AIOT_UNSHARE_EXE,
                    {"--mount", "sh", "-c", script, "sh", mnt.string(), AIOT_GENERATE_KEYS_EXE},
                    dir_ / "generate-keys.log");
    const auto status = p.wait(20s);
    ASSERT_TRUE(status) << p.log();
    const auto out = p.log();
    if (*status != 0 || out.find("SKIP:") != std::string::npos) {
        GTEST_SKIP() << "no private mount namespace here: " << out;
    }
    EXPECT_NE(out.find("cannot write key file " + (mnt / "new.ini").string() +
                       ": No space left on device"),
              std::string::npos)
        << out;
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 6) << "one line per failure:\n" << out;
    EXPECT_NE(out.find("exit=1\n"), std::string::npos) << out;
    EXPECT_EQ(out.find("exit=0"), std::string::npos) << out;
    EXPECT_NE(out.find("files: fill keys.ini \n"), std::string::npos) << "no partial file:\n"
                                                                      << out;
    EXPECT_NE(out.find("old: old keys\n"), std::string::npos) << out;
}

TEST_F(faults_e2e, logs_to_a_full_device_do_not_stop_the_daemons)
{
    start_mosquitto();
    // Every daemon writes its log (debug for the gateways) to /dev/full:
    // no bound port to read back, so the broker's is chosen up front.
    broker_port_ = test::free_tcp_port();
    broker_ = std::make_unique<test::process>(
        AIOT_BROKER_EXE,
        std::vector<std::string>{"--broker-port", std::to_string(broker_port_), "--bind",
                                 "127.0.0.1", "--key-file", key_file_},
        "/dev/full");
    ASSERT_TRUE(broker_->wait_for_tcp_port(broker_port_));
    client_ = open_client();
    start_gateways("/dev/full");
    start_nodes();
    ASSERT_TRUE(strict_.watch(*client_, all_seen, 20s)) << diagnostics();
    uids_ = find_uids(strict_.view);
    // Writes (logged at debug by the gateways) still work.
    ASSERT_TRUE(client_->send_json(test::write_request(uids_.ws, "led", "1")));
    EXPECT_TRUE(strict_.watch(*client_, [&](const test::node_view& v) {
        const auto* led = v.resource(uids_.ws, "led");
        return led && *led == "1";
    })) << diagnostics();
    for (auto* p : {broker_.get(), coap_gw_.get(), mqtt_gw_.get(), ws_gw_.get()}) {
        ASSERT_TRUE(p->running());
        EXPECT_EQ(p->terminate(2s), 0);
    }
}
