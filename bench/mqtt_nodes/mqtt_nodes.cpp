// mqtt_nodes: N simulated MQTT nodes (one MQTT connection) through
// mosquitto, aiot-mqtt-gateway and aiot-broker to one web client, all
// started here on loopback with free ports. Measures (see
// docs/PERFORMANCE.md, section "MQTT gateway"):
//  1. announce: from the first node/check until the web client has seen
//     `new` for every node, and until it has every node's first value;
//  2. throughput: values published as fast as the chain takes them (at
//     most --window published and not yet seen by the client), values/s
//     end to end, with the latency under that load;
//  3. latency: values at a fixed --rate, MQTT publish -> websocket client.
// Every phase is bounded by --values and --phase-timeout.
#include "latency_histogram.hpp"

#include "common/logging.hpp"
#include "common/net.hpp"
#include "gateways/mqtt/mqtt_client.hpp"
#include "support/mosquitto.hpp"
#include "support/process.hpp"
#include "support/system_helpers.hpp"
#include "support/ws_client.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <thread>

namespace {

using namespace aiot;
using namespace std::chrono_literals;
using json = nlohmann::json;
using steady = std::chrono::steady_clock;

std::uint64_t now_ns()
{
    return static_cast<std::uint64_t>(steady::now().time_since_epoch().count());
}

double seconds_since(steady::time_point t)
{
    return std::chrono::duration<double>(steady::now() - t).count();
}

struct options {
    int nodes = 1000;
    std::uint64_t values = 200'000;
    std::uint64_t window = 1'000;
    double rate = 2'000;
    std::uint64_t rate_values = 20'000;
    int qos = 1;
    int inflight = 20; // mosquitto's max_inflight_messages (its default)
    double phase_timeout = 60;
    std::string key_file = std::string(AIOT_TEST_DATA_DIR) + "/keys.ini";
};

// CPU seconds and resident memory of a child, from /proc.
struct usage {
    double cpu_s = 0;
    double rss_mb = 0;
};

usage usage_of(pid_t pid)
{
    usage u;
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    const std::string text{std::istreambuf_iterator<char>(stat), std::istreambuf_iterator<char>()};
    // Fields after the command name (which may hold spaces): state is field 3.
    std::istringstream rest(text.substr(std::min(text.size(), text.rfind(')') + 2)));
    std::vector<std::string> fields{std::istream_iterator<std::string>(rest), {}};
    const double tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
    if (fields.size() > 21) {
        u.cpu_s = (std::stod(fields[11]) + std::stod(fields[12])) / tick; // utime, stime
        u.rss_mb = std::stod(fields[21]) * static_cast<double>(::sysconf(_SC_PAGESIZE)) / 1e6;
    }
    return u;
}

// The simulated nodes: one MQTT connection on its own thread. They answer
// discovery with one resource, `temperature`; values carry their send time.
class fleet {
public:
    fleet(std::uint16_t port, int nodes, int qos)
        : qos_(qos),
          client_(ioc_,
                  [&] {
                      gw::mqtt::client_config c;
                      c.host = "127.0.0.1";
                      c.port = port;
                      c.client_id = gw::mqtt::make_client_id("bench");
                      c.retry = {std::chrono::milliseconds(0), 200ms, 200ms};
                      c.max_pending_publishes = 1'000'000;
                      return c;
                  }(),
                  {[this] { connected_ = client_.subscribe({"gateway/+/discover"}, 1); }, [] {},
                   [this](std::string_view topic, std::string_view payload) {
                       on_message(topic, payload);
                   }},
                  common::get_logger("bench.fleet"))
    {
        for (int i = 0; i < nodes; ++i) {
            ids_.push_back("bench-" + std::to_string(i));
        }
        client_.start();
        thread_ = std::thread([this] { ioc_.run(); });
    }

    ~fleet()
    {
        net::post(ioc_, [this] {
            pace_.cancel();
            client_.stop();
            guard_.reset();
        });
        thread_.join();
    }

    bool connected() const { return connected_; }

    void check_in()
    {
        net::post(ioc_, [this] {
            for (const auto& id : ids_) {
                client_.publish("node/check", json{{"id", id}}.dump(), qos_);
            }
        });
    }

    // Publishes `count` values as fast as the window allows.
    void flood(std::uint64_t count, std::uint64_t window, const std::atomic<std::uint64_t>& seen)
    {
        net::post(ioc_, [this, count, window, &seen] {
            sent_ = 0;
            pump(count, window, seen);
        });
    }

    // Publishes `count` values at `rate` per second.
    void paced(std::uint64_t count, double rate)
    {
        net::post(ioc_, [this, count, rate] {
            sent_ = 0;
            pace(count, rate, steady::now());
        });
    }

    std::uint64_t sent() const { return sent_; }

private:
    void on_message(std::string_view topic, std::string_view payload)
    {
        // gateway/<id>/discover
        const auto id = topic.substr(8, topic.rfind('/') - 8);
        if (payload == "resources") {
            client_.publish(fmt::format("node/{}/resources", id), R"(["temperature"])", qos_);
        } else if (payload == "values") {
            client_.publish(fmt::format("node/{}/temperature", id), R"({"value":"init"})", qos_);
        }
    }

    // False when the client refused it (its queue is full): try again later.
    bool publish_value()
    {
        const auto& id = ids_[sent_ % ids_.size()];
        if (!client_.publish("node/" + id + "/temperature",
                             fmt::format(R"({{"value":"t{}"}})", now_ns()), qos_)) {
            return false;
        }
        ++sent_;
        return true;
    }

    void pump(std::uint64_t count, std::uint64_t window, const std::atomic<std::uint64_t>& seen)
    {
        int burst = 0;
        while (sent_ < count && sent_ - seen.load() < window && burst < 256 && publish_value()) {
            ++burst;
        }
        if (sent_ >= count) {
            return;
        }
        if (burst > 0) {
            net::post(ioc_, [this, count, window, &seen] { pump(count, window, seen); });
        } else {
            pace_.expires_after(100us);
            pace_.async_wait([this, count, window, &seen](const boost::system::error_code& ec) {
                if (!ec) {
                    pump(count, window, seen);
                }
            });
        }
    }

    void pace(std::uint64_t count, double rate, steady::time_point start)
    {
        const auto due = static_cast<std::uint64_t>(seconds_since(start) * rate);
        while (sent_ < count && sent_ < due && publish_value()) {
        }
        if (sent_ >= count) {
            return;
        }
        pace_.expires_after(1ms);
        pace_.async_wait([this, count, rate, start](const boost::system::error_code& ec) {
            if (!ec) {
                pace(count, rate, start);
            }
        });
    }

    net::io_context ioc_;
    net::executor_work_guard<net::io_context::executor_type> guard_{ioc_.get_executor()};
    int qos_;
    std::vector<std::string> ids_;
    std::atomic<bool> connected_{false};
    std::atomic<std::uint64_t> sent_{0};
    net::steady_timer pace_{ioc_};
    gw::mqtt::mqtt_client client_;
    std::thread thread_;
};

// The web client's side: counts nodes and values, measures latency.
class watcher {
public:
    explicit watcher(test::ws_client& client) : client_(client) {}

    // Reads until pred() or the deadline; false on timeout or close.
    template <class Pred>
    bool until(Pred pred, steady::time_point deadline)
    {
        while (!pred()) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - steady::now());
            if (left.count() <= 0) {
                return false;
            }
            const auto text = client_.receive(std::min<std::chrono::milliseconds>(left, 200ms));
            if (!text) {
                if (!client_.is_open()) {
                    return false;
                }
                continue;
            }
            handle(*text);
        }
        return true;
    }

    std::size_t announced() const { return announced_; }
    std::size_t ready() const { return ready_; }
    bench::latency_histogram latency;
    std::atomic<std::uint64_t> values{0};

private:
    void handle(const std::string& text)
    {
        const auto m = json::parse(text, nullptr, false);
        const auto type = m.is_object() ? m.value("type", "") : "";
        if (type == "new") {
            ++announced_;
            return;
        }
        if (type != "update" || m.value("endpoint", "") != "temperature" ||
            !m.contains("data") || !m["data"].is_string()) {
            return;
        }
        const auto& data = m["data"].get_ref<const std::string&>();
        if (data == "init") {
            ++ready_;
            return;
        }
        std::uint64_t sent = 0;
        if (data.size() > 1 && data[0] == 't' &&
            std::from_chars(data.data() + 1, data.data() + data.size(), sent).ec == std::errc{}) {
            latency.add(now_ns() - sent);
            values.fetch_add(1);
        }
    }

    test::ws_client& client_;
    std::size_t announced_ = 0;
    std::size_t ready_ = 0;
};

std::unique_ptr<test::process> start(const std::string& exe, std::vector<std::string> args,
                                     const test::temp_dir& dir, const std::string& name)
{
    return std::make_unique<test::process>(exe, std::move(args), dir / (name + ".log"));
}

void print_latency(const char* what, const bench::latency_histogram& h)
{
    std::printf("%s: p50 %.0f us, p99 %.0f us, max %.0f us (%llu samples)\n", what,
                h.percentile_us(0.5), h.percentile_us(0.99), h.max_us(),
                static_cast<unsigned long long>(h.count()));
}

void print_usage(const char* phase, const std::map<std::string, test::process*>& procs,
                 std::map<std::string, usage>& before)
{
    std::printf("  cpu during %s:", phase);
    for (const auto& [name, p] : procs) {
        const auto u = usage_of(p->pid());
        std::printf(" %s %.2f s (rss %.1f MB);", name.c_str(), u.cpu_s - before[name].cpu_s,
                    u.rss_mb);
        before[name] = u;
    }
    std::printf("\n");
}

} // namespace

int main(int argc, char** argv)
{
    CLI::App app{"mqtt_nodes: simulated MQTT nodes through mosquitto, aiot-mqtt-gateway and "
                 "aiot-broker to a web client"};
    app.option_defaults()->always_capture_default();
    options o;
    app.add_option("--nodes", o.nodes, "Simulated nodes")->check(CLI::Range(1, 10000));
    app.add_option("--values", o.values, "Values in the throughput phase")
        ->check(CLI::Range(1, 10'000'000));
    app.add_option("--window", o.window, "Values published and not yet received, at most")
        ->check(CLI::Range(1, 100'000));
    app.add_option("--rate", o.rate, "Values per second in the latency phase")
        ->check(CLI::Range(1.0, 1e6));
    app.add_option("--rate-values", o.rate_values, "Values in the latency phase (0: skip)");
    app.add_option("--qos", o.qos, "QoS of the nodes' publishes")->check(CLI::Range(0, 1));
    app.add_option("--mosquitto-inflight", o.inflight,
                   "mosquitto's max_inflight_messages: QoS 1 messages sent to one client and "
                   "not yet acknowledged (0: no limit)")
        ->check(CLI::Range(0, 65535));
    app.add_option("--phase-timeout", o.phase_timeout, "Seconds each phase may take at most")
        ->check(CLI::Range(1.0, 600.0));
    app.add_option("--key-file", o.key_file, "Key file for the broker and the gateway");
    CLI11_PARSE(app, argc, argv);
    common::init_logging(false);

    test::temp_dir dir;
    const auto mqtt_port = test::free_tcp_port();
    const auto broker_port = test::free_tcp_port();
    auto mosquitto = test::start_mosquitto(
        AIOT_MOSQUITTO_EXE, mqtt_port, dir.path(), "mosquitto",
        "max_inflight_messages " + std::to_string(o.inflight));
    auto broker = start(AIOT_BROKER_EXE,
                        {"--broker-port", std::to_string(broker_port), "--bind", "127.0.0.1",
                         "--key-file", o.key_file},
                        dir, "broker");
    if (!broker->wait_for_tcp_port(broker_port)) {
        std::fprintf(stderr, "broker did not start:\n%s\n", broker->log().c_str());
        return 1;
    }
    auto gateway = start(AIOT_MQTT_GATEWAY_EXE,
                         {"--broker-host", "127.0.0.1", "--broker-port", std::to_string(broker_port),
                          "--key-file", o.key_file, "--mqtt-host", "127.0.0.1", "--mqtt-port",
                          std::to_string(mqtt_port), "--max-time", "0"},
                         dir, "gateway");
    if (!gateway->wait_for_log("connected to broker") ||
        !gateway->wait_for_log("MQTT session up")) {
        std::fprintf(stderr, "gateway did not connect:\n%s\n", gateway->log().c_str());
        return 1;
    }
    test::ws_client client;
    if (const auto r = client.connect("127.0.0.1", broker_port, "/ws"); !r) {
        std::fprintf(stderr, "web client: %s\n", r.error.c_str());
        return 1;
    }
    client.send(R"({"type":"new","data":"client"})");
    watcher web(client);
    fleet nodes(mqtt_port, o.nodes, o.qos);
    if (!test::eventually([&] { return nodes.connected(); }, 10s)) {
        std::fprintf(stderr, "simulated nodes could not connect to mosquitto\n");
        return 1;
    }
    const std::map<std::string, test::process*> procs = {
        {"gateway", gateway.get()}, {"broker", broker.get()}, {"mosquitto", mosquitto.get()}};
    std::map<std::string, usage> before;
    for (const auto& [name, p] : procs) {
        before[name] = usage_of(p->pid());
    }
    const auto phase_limit = std::chrono::duration_cast<steady::duration>(
        std::chrono::duration<double>(o.phase_timeout));
    const auto n = static_cast<std::size_t>(o.nodes);
    std::printf("mqtt_nodes: %d nodes, QoS %d, mosquitto max_inflight_messages %d\n", o.nodes,
                o.qos, o.inflight);

    // 1. Announce.
    const auto t0 = steady::now();
    nodes.check_in();
    const bool all_new = web.until([&] { return web.announced() >= n; }, t0 + phase_limit);
    const double new_s = seconds_since(t0);
    const bool all_ready = web.until([&] { return web.ready() >= n; }, t0 + phase_limit);
    const double ready_s = seconds_since(t0);
    std::printf("announce: all %zu `new` after %.3f s%s; every node's first value after %.3f s%s\n",
                web.announced(), new_s, all_new ? "" : " (TIMEOUT)", ready_s,
                all_ready ? "" : " (TIMEOUT)");
    print_usage("announce", procs, before);

    // 2. Throughput with a window.
    web.values = 0;
    web.latency.clear();
    const auto t1 = steady::now();
    nodes.flood(o.values, o.window, web.values);
    const bool all_values = web.until([&] { return web.values.load() >= o.values; },
                                      t1 + phase_limit);
    const double flood_s = seconds_since(t1);
    std::printf("throughput: %llu of %llu values in %.3f s = %.0f values/s end to end "
                "(window %llu)%s\n",
                static_cast<unsigned long long>(web.values.load()),
                static_cast<unsigned long long>(o.values), flood_s,
                static_cast<double>(web.values.load()) / flood_s,
                static_cast<unsigned long long>(o.window), all_values ? "" : " (TIMEOUT)");
    print_latency("  latency under that load", web.latency);
    print_usage("throughput", procs, before);

    // 3. Latency at a fixed rate.
    if (o.rate_values > 0) {
        web.values = 0;
        web.latency.clear();
        const auto t2 = steady::now();
        nodes.paced(o.rate_values, o.rate);
        const bool all_paced = web.until([&] { return web.values.load() >= o.rate_values; },
                                         t2 + phase_limit);
        std::printf("paced at %.0f values/s: %llu of %llu values in %.3f s%s\n", o.rate,
                    static_cast<unsigned long long>(web.values.load()),
                    static_cast<unsigned long long>(o.rate_values), seconds_since(t2),
                    all_paced ? "" : " (TIMEOUT)");
        print_latency("  latency", web.latency);
        print_usage("paced", procs, before);
    }
    const auto dropped = gateway->log().find("MQTT messages dropped") != std::string::npos;
    std::printf("gateway dropped messages: %s\n", dropped ? "yes (see its log)" : "no");
    return 0;
}
