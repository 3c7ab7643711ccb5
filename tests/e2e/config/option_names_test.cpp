// The collision rule of the config file (issue 11 item 6), checked on the
// real daemons: a key that several daemons read is listed by each of them
// under a shared heading ("Every aiot service", "Every aiot gateway");
// every other key belongs to one daemon alone.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct option_entry {
    std::string key;   // as in a config file: gateway_max_message_size
    std::string group; // the --help heading it is listed under
    bool command_line_only = false;
};

std::string run(const std::string& command)
{
    std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(command.c_str(), "r"), ::pclose);
    std::string out;
    if (!pipe) {
        return out;
    }
    std::array<char, 4096> buf{};
    for (std::size_t n; (n = std::fread(buf.data(), 1, buf.size(), pipe.get())) > 0;) {
        out.append(buf.data(), n);
    }
    return out;
}

// CLI11's help: "<heading>:" lines, then "  --name TYPE=default  text"
// (the text may go on over the next, deeper indented, lines).
std::vector<option_entry> read_help(const std::string& help)
{
    std::vector<option_entry> out;
    std::string group;
    std::istringstream lines(help);
    for (std::string line; std::getline(lines, line);) {
        if (!line.empty() && line[0] != ' ' && line.back() == ':') {
            group = line.substr(0, line.size() - 1);
            continue;
        }
        const auto first = line.find_first_not_of(' ');
        if (first == std::string::npos) {
            continue;
        }
        if (line[first] != '-') {
            if (!out.empty() && line.find("command line only") != std::string::npos) {
                out.back().command_line_only = true; // a continued description
            }
            continue;
        }
        std::string names = line.substr(first, line.find(' ', first) - first);
        std::string key;
        std::istringstream parts(names);
        for (std::string name; std::getline(parts, name, ',');) {
            if (name.rfind("--", 0) == 0) {
                key = name.substr(2);
            }
        }
        for (auto& c : key) {
            c = c == '-' ? '_' : c;
        }
        if (key.empty() || key == "help" || key == "config") {
            continue;
        }
        out.push_back({key, group, line.find("command line only") != std::string::npos});
    }
    return out;
}

const std::map<std::string, std::string>& daemons()
{
    static const std::map<std::string, std::string> all = {
        {"aiot-broker", AIOT_BROKER_EXE},
        {"aiot-dashboard", AIOT_DASHBOARD_EXE},
        {"aiot-coap-gateway", AIOT_COAP_GATEWAY_EXE},
        {"aiot-mqtt-gateway", AIOT_MQTT_GATEWAY_EXE},
        {"aiot-ws-gateway", AIOT_WS_GATEWAY_EXE},
    };
    return all;
}

const std::set<std::string> shared_groups = {"Every aiot service", "Every aiot gateway"};

// Keys two daemons read on purpose, each under its own heading: the host
// certificate of the broker (wss) and of the dashboard (https) is one and
// the same (docs/deployment.md); any other daemon reading them is an error.
const std::map<std::string, std::set<std::string>> shared_on_purpose = {
    {"tls_cert", {"aiot-broker", "aiot-dashboard"}},
    {"tls_key", {"aiot-broker", "aiot-dashboard"}},
};

} // namespace

TEST(option_names, a_config_key_is_shared_or_belongs_to_one_daemon)
{
    std::map<std::string, std::set<std::string>> readers; // key -> daemons
    std::map<std::string, std::set<std::string>> groups;  // key -> headings
    for (const auto& [name, exe] : daemons()) {
        const auto help = run("'" + exe + "' --help");
        const auto options = read_help(help);
        ASSERT_GT(options.size(), 4u) << name << ":\n" << help;
        bool own = false;
        for (const auto& o : options) {
            if (o.command_line_only) {
                continue; // not read from a config file
            }
            readers[o.key].insert(name);
            groups[o.key].insert(o.group);
            if (o.group == name + " only") {
                own = true;
            } else {
                EXPECT_TRUE(shared_groups.count(o.group))
                    << name << " lists " << o.key << " under '" << o.group
                    << "': neither shared nor its own";
            }
        }
        EXPECT_TRUE(own) << name << " has no \"" << name << " only\" heading:\n" << help;
    }
    for (const auto& [key, who] : readers) {
        if (who.size() < 2) {
            continue;
        }
        if (const auto it = shared_on_purpose.find(key); it != shared_on_purpose.end()) {
            for (const auto& d : who) {
                EXPECT_TRUE(it->second.count(d)) << key << " is read by " << d;
            }
            continue;
        }
        for (const auto& g : groups[key]) {
            EXPECT_TRUE(shared_groups.count(g))
                << key << " is read by " << who.size() << " daemons but listed under '" << g
                << "': a key meant for one daemon would change another";
        }
    }
    // The keys of pyaiot's config-example.py keep their names.
    for (const auto* key : {"broker_host", "broker_port", "key_file", "debug", "max_time",
                            "coap_port", "interface", "mqtt_host", "mqtt_port", "gateway_port",
                            "web_port", "static_path", "title", "logo", "favicon",
                            "camera_url", "map_api_key", "broker_ssl"}) {
        EXPECT_TRUE(readers.count(key)) << key;
    }
    // The limit that collided (1 MiB for the broker, 64 KiB for nodes).
    EXPECT_EQ(readers["max_message_size"], std::set<std::string>{"aiot-broker"});
    EXPECT_EQ(readers["gateway_max_message_size"], std::set<std::string>{"aiot-ws-gateway"});
    // The dashboard's https (the broker's --tls-cert comes with its wss).
    EXPECT_TRUE(readers["tls_cert"].count("aiot-dashboard"));
    EXPECT_TRUE(readers["tls_key"].count("aiot-dashboard"));
}
