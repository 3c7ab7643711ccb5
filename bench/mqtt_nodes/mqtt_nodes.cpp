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
// --burst instead: N nodes, each its own MQTT connection (test::mqtt_fleet),
// publish node/check at the same moment, then values; reports the time to
// 50/90/100 % of `new` and of discovery at the web client, values lost (not
// seen within --loss-after), latency, and what the gateway used.
#include "latency_histogram.hpp"

#include "common/logging.hpp"
#include "common/net.hpp"
#include "gateways/mqtt/mqtt_client.hpp"
#include "support/mosquitto.hpp"
#include "support/mqtt_fleet.hpp"
#include "support/process.hpp"
#include "support/system_helpers.hpp"
#include "support/ws_client.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <thread>
#include <unordered_set>

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
    bool burst = false;
    int burst_values = 5;
    int value_interval_ms = 1000;
    int check_interval_ms = 8000;
    double loss_after = 10;
    std::string log_dir;
    std::vector<std::string> broker_args;
    std::vector<std::string> gateway_args;
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


double peak_rss_mb(pid_t pid)
{
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmHWM:", 0) == 0) {
            return std::stod(line.substr(6)) / 1e3; // kB
        }
    }
    return 0;
}

// The web client's side of a burst: when each node's `new` and first value
// (discovery over) came, and every value's latency and whether it came in
// time.
class burst_watcher {
public:
    burst_watcher(test::ws_client& client, int nodes, int values, std::uint64_t loss_after_ns)
        : client_(client),
          values_(values),
          loss_after_ns_(loss_after_ns),
          seen_(static_cast<std::size_t>(nodes) * static_cast<std::size_t>(values))
    {
    }

    void read_for(std::chrono::milliseconds d)
    {
        const auto end = steady::now() + d;
        while (steady::now() < end) {
            const auto text = client_.receive(std::chrono::duration_cast<std::chrono::milliseconds>(
                std::max<steady::duration>(end - steady::now(), 1ms)));
            if (!text) {
                if (!client_.is_open()) {
                    return;
                }
                continue;
            }
            handle(*text);
        }
    }

    std::vector<double> new_s;      // seconds after the burst, in arrival order
    std::vector<double> discovered_s;
    std::vector<std::uint64_t> latency_during; // ns; sent before every node was discovered
    std::vector<std::uint64_t> latency_after;
    std::uint64_t in_time = 0;  // values seen within loss_after
    std::uint64_t late = 0;     // seen, but later
    std::uint64_t burst_ns = 0; // set before reading
    std::uint64_t all_discovered_ns = 0;
    std::size_t node_count = 0;

private:
    void handle(const std::string& text)
    {
        const auto now = now_ns();
        const auto m = json::parse(text, nullptr, false);
        const auto type = m.is_object() ? m.value("type", "") : "";
        const auto uid = m.is_object() ? m.value("uid", "") : "";
        if (type == "new") {
            if (announced_.insert(uid).second) {
                new_s.push_back(static_cast<double>(now - burst_ns) / 1e9);
            }
            return;
        }
        if (type != "update" || m.value("endpoint", "") != "temperature" || !m.contains("data") ||
            !m["data"].is_string()) {
            return;
        }
        const auto& data = m["data"].get_ref<const std::string&>();
        if (data == "init") {
            if (ready_.insert(uid).second) {
                discovered_s.push_back(static_cast<double>(now - burst_ns) / 1e9);
                if (ready_.size() == node_count) {
                    all_discovered_ns = now;
                }
            }
            return;
        }
        const auto v = test::parse_value(data);
        if (!v || v->index < 0 || v->index >= values_ || v->node < 0) {
            return;
        }
        const auto slot = static_cast<std::size_t>(v->node) * static_cast<std::size_t>(values_) +
                          static_cast<std::size_t>(v->index);
        if (slot >= seen_.size() || seen_[slot]) {
            return;
        }
        seen_[slot] = true;
        const auto lat = now - v->sent_ns;
        if (lat > loss_after_ns_) {
            ++late;
            return;
        }
        ++in_time;
        if (all_discovered_ns == 0 || v->sent_ns < all_discovered_ns) {
            latency_during.push_back(lat);
        } else {
            latency_after.push_back(lat);
        }
    }

    test::ws_client& client_;
    int values_;
    std::uint64_t loss_after_ns_;
    std::vector<bool> seen_;
    std::unordered_set<std::string> announced_;
    std::unordered_set<std::string> ready_;
};

void print_latencies(const char* what, std::vector<std::uint64_t> ns)
{
    if (ns.empty()) {
        std::printf("%s: no samples\n", what);
        return;
    }
    std::sort(ns.begin(), ns.end());
    const auto at = [&](double p) {
        return static_cast<double>(ns[std::min(ns.size() - 1, static_cast<std::size_t>(
                                                                  p * static_cast<double>(ns.size())))]) /
               1e6;
    };
    std::printf("%s: p50 %.1f ms, p99 %.1f ms, max %.1f ms (%zu samples)\n", what, at(0.5),
                at(0.99), static_cast<double>(ns.back()) / 1e6, ns.size());
}

// Seconds until a fraction p of n arrivals (times in arrival order); -1 if
// that many never came.
double quantile_time(const std::vector<double>& times, std::size_t n, double p)
{
    const auto k = static_cast<std::size_t>(std::ceil(p * static_cast<double>(n)));
    return k == 0 || times.size() < k ? -1.0 : times[k - 1];
}

std::string seconds_text(double s)
{
    return s < 0 ? std::string("never") : fmt::format("{:.3f} s", s);
}

int run_burst(const options& o, std::uint16_t mqtt_port, test::process& gateway,
              test::process& broker, test::process& mosquitto, test::ws_client& client)
{
    const auto n = static_cast<std::size_t>(o.nodes);
    test::mqtt_fleet_config fc;
    fc.port = mqtt_port;
    fc.nodes = o.nodes;
    fc.qos = o.qos;
    fc.values = o.burst_values;
    fc.value_interval = std::chrono::milliseconds(o.value_interval_ms);
    fc.check_interval = std::chrono::milliseconds(o.check_interval_ms);
    test::mqtt_fleet fleet(fc);
    const auto c0 = steady::now();
    const auto connected = fleet.connect(60s);
    std::printf("burst: %zu nodes, each its own MQTT connection, connected and subscribed in "
                "%.3f s%s%s\n",
                connected, seconds_since(c0), fleet.error().empty() ? "" : ": ",
                fleet.error().c_str());
    if (connected < n) {
        return 1;
    }
    burst_watcher web(client, o.nodes, o.burst_values,
                      static_cast<std::uint64_t>(o.loss_after * 1e9));
    web.node_count = n;
    const std::map<std::string, test::process*> procs = {
        {"gateway", &gateway}, {"broker", &broker}, {"mosquitto", &mosquitto}};
    std::map<std::string, usage> before;
    for (const auto& [name, p] : procs) {
        before[name] = usage_of(p->pid());
    }
    web.burst_ns = now_ns();
    fleet.start();
    const auto t0 = steady::now();
    const auto limit = std::chrono::duration<double>(o.phase_timeout);
    const auto expected_values = n * static_cast<std::uint64_t>(o.burst_values);
    // Until every value is in, or every node has sent all its values and
    // loss_after has passed since, or the phase timeout.
    std::optional<steady::time_point> all_sent;
    while (steady::now() - t0 < limit && client.is_open()) {
        web.read_for(100ms);
        if (web.in_time + web.late >= expected_values && web.discovered_s.size() >= n) {
            break;
        }
        if (!all_sent && fleet.nodes_done.load() >= n) {
            all_sent = steady::now();
        }
        if (all_sent && steady::now() - *all_sent >
                            std::chrono::duration<double>(o.loss_after + 0.5)) {
            break;
        }
    }
    fleet.stop();
    // Cut by the timeout: the values sent last get their loss_after too.
    const auto sent_total = fleet.values_sent.load();
    const auto grace = steady::now() + std::chrono::duration_cast<steady::duration>(
                                           std::chrono::duration<double>(o.loss_after));
    while (web.in_time + web.late < sent_total && steady::now() < grace && client.is_open()) {
        web.read_for(100ms);
    }
    const double total_s = seconds_since(t0);
    std::printf("burst of node/check from %zu nodes (QoS %d; then %d values each, %d ms apart, "
                "after its discovery; node/check every %d ms):\n",
                n, o.qos, o.burst_values, o.value_interval_ms, o.check_interval_ms);
    std::printf("  `new` at the web client: 50%% %s, 90%% %s, 100%% %s (%zu of %zu)\n",
                seconds_text(quantile_time(web.new_s, n, 0.5)).c_str(),
                seconds_text(quantile_time(web.new_s, n, 0.9)).c_str(),
                seconds_text(quantile_time(web.new_s, n, 1.0)).c_str(), web.new_s.size(), n);
    // The chain in between: when the gateway's requests reached the nodes.
    for (const auto& [what, times] :
         {std::pair{"resources", &fleet.resources_asked_s}, std::pair{"values", &fleet.values_asked_s}}) {
        std::printf("  discovery request '%s' at the nodes: 50%% %s, 90%% %s, 100%% %s (%zu)\n",
                    what, seconds_text(quantile_time(*times, n, 0.5)).c_str(),
                    seconds_text(quantile_time(*times, n, 0.9)).c_str(),
                    seconds_text(quantile_time(*times, n, 1.0)).c_str(), times->size());
    }
    std::printf("  discovered (first value seen): 50%% %s, 90%% %s, 100%% %s (%zu of %zu)\n",
                seconds_text(quantile_time(web.discovered_s, n, 0.5)).c_str(),
                seconds_text(quantile_time(web.discovered_s, n, 0.9)).c_str(),
                seconds_text(quantile_time(web.discovered_s, n, 1.0)).c_str(),
                web.discovered_s.size(), n);
    const auto sent = fleet.values_sent.load();
    std::printf("  values: %llu sent, %llu seen within %.0f s, %llu later, %llu lost (%.3f %%)\n",
                static_cast<unsigned long long>(sent),
                static_cast<unsigned long long>(web.in_time), o.loss_after,
                static_cast<unsigned long long>(web.late),
                static_cast<unsigned long long>(sent - std::min(sent, web.in_time)),
                sent == 0 ? 0.0
                          : 100.0 * static_cast<double>(sent - std::min(sent, web.in_time)) /
                                static_cast<double>(sent));
    print_latencies("  latency, values sent before every node was discovered", web.latency_during);
    print_latencies("  latency, values sent after", web.latency_after);
    std::printf("  node/check sent %llu, discovery requests received %llu, MQTT connections "
                "lost %llu; web client %s; run %.1f s\n",
                static_cast<unsigned long long>(fleet.checks_sent.load()),
                static_cast<unsigned long long>(fleet.discover_requests.load()),
                static_cast<unsigned long long>(fleet.connections_lost.load()),
                client.is_open() ? "still connected" : "DROPPED", total_s);
    print_usage("the burst", procs, before);
    std::printf("  gateway peak RSS %.1f MB\n", peak_rss_mb(gateway.pid()));
    const bool ok = web.new_s.size() >= n && web.discovered_s.size() >= n &&
                    web.in_time >= sent && client.is_open();
    return ok ? 0 : 2;
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
    app.add_flag("--burst", o.burst,
                 "Burst mode: every node its own MQTT connection, all publish node/check at "
                 "once, then values (the phases above are skipped)");
    app.add_option("--burst-values", o.burst_values, "Burst mode: values per node")
        ->check(CLI::Range(0, 100));
    app.add_option("--value-interval-ms", o.value_interval_ms,
                   "Burst mode: milliseconds between a node's values")
        ->check(CLI::Range(1, 60'000));
    app.add_option("--check-interval-ms", o.check_interval_ms,
                   "Burst mode: milliseconds between a node's node/check (0: only the first)")
        ->check(CLI::Range(0, 600'000));
    app.add_option("--loss-after", o.loss_after,
                   "Burst mode: a value not seen by the web client within this many seconds "
                   "is lost")
        ->check(CLI::Range(0.1, 600.0));
    app.add_option("--log-dir", o.log_dir, "Keep the daemons' logs in this folder");
    app.add_option("--gateway-arg", o.gateway_args,
                   "One more option for aiot-mqtt-gateway (repeatable)");
    app.add_option("--broker-arg", o.broker_args,
                   "One more option for aiot-broker, e.g. --broker-arg=--max-queue-messages=100000 "
                   "(repeatable)");
    CLI11_PARSE(app, argc, argv);
    common::init_logging(false);
    // One socket per node in burst mode (mosquitto inherits the limit).
    if (rlimit fds{}; ::getrlimit(RLIMIT_NOFILE, &fds) == 0) {
        const rlim_t want = static_cast<rlim_t>(o.nodes) * 2 + 1024;
        fds.rlim_max = std::max(fds.rlim_max, want); // allowed when privileged
        fds.rlim_cur = std::max(fds.rlim_cur, std::min(want, fds.rlim_max));
        if (::setrlimit(RLIMIT_NOFILE, &fds) != 0) {
            ::getrlimit(RLIMIT_NOFILE, &fds);
            fds.rlim_cur = fds.rlim_max;
            ::setrlimit(RLIMIT_NOFILE, &fds);
        }
    }

    test::temp_dir dir;
    const auto mqtt_port = test::free_tcp_port();
    const auto broker_port = test::free_tcp_port();
    auto mosquitto = test::start_mosquitto(
        AIOT_MOSQUITTO_EXE, mqtt_port, dir.path(), "mosquitto",
        "max_inflight_messages " + std::to_string(o.inflight));
    std::vector<std::string> broker_args = {"--broker-port", std::to_string(broker_port), "--bind",
                                            "127.0.0.1", "--key-file", o.key_file};
    broker_args.insert(broker_args.end(), o.broker_args.begin(), o.broker_args.end());
    auto broker = start(AIOT_BROKER_EXE, broker_args, dir, "broker");
    if (!broker->wait_for_tcp_port(broker_port)) {
        std::fprintf(stderr, "broker did not start:\n%s\n", broker->log().c_str());
        return 1;
    }
    std::vector<std::string> gateway_args = {
        "--broker-host", "127.0.0.1", "--broker-port", std::to_string(broker_port),
        "--key-file", o.key_file, "--mqtt-host", "127.0.0.1", "--mqtt-port",
        std::to_string(mqtt_port), "--max-time", "0"};
    gateway_args.insert(gateway_args.end(), o.gateway_args.begin(), o.gateway_args.end());
    auto gateway = start(AIOT_MQTT_GATEWAY_EXE, gateway_args, dir, "gateway");
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
    if (o.burst) {
        const int rc = run_burst(o, mqtt_port, *gateway, *broker, *mosquitto, client);
        if (!o.log_dir.empty()) {
            std::filesystem::create_directories(o.log_dir);
            for (const auto* name : {"gateway.log", "broker.log", "mosquitto.log"}) {
                std::filesystem::copy_file(dir / name, std::filesystem::path(o.log_dir) / name,
                                           std::filesystem::copy_options::overwrite_existing);
            }
        }
        return rc;
    }
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
