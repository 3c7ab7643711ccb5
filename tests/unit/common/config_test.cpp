#include "common/cli.hpp"
#include "common/config_file.hpp"

#include <CLI/CLI.hpp>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

using namespace aiot::common;

TEST(config_file, reads_python_assignments)
{
    const auto e = parse_config("# comment\n"
                                "broker_port = 8020\n"
                                "title = 'IoT Dashboard'  # trailing\n"
                                "logo = \"it's\"\n"
                                "debug = True\n"
                                "quiet = False\n"
                                "camera_url = None\n"
                                "ratio = -1.5\n"
                                "\n",
                                "f");
    ASSERT_EQ(e.size(), 7u);
    EXPECT_EQ(e[0].name, "broker_port");
    EXPECT_EQ(e[0].value, "8020");
    EXPECT_EQ(e[1].value, "IoT Dashboard");
    EXPECT_EQ(e[2].value, "it's");
    EXPECT_EQ(e[3].value, "true");
    EXPECT_EQ(e[4].value, "false");
    EXPECT_FALSE(e[5].value);
    EXPECT_EQ(e[6].value, "-1.5");
    EXPECT_EQ(e[6].line, 8);
}

TEST(config_file, names_the_bad_line)
{
    auto error = [](const char* text) {
        try {
            parse_config(text, "cfg");
        } catch (const config_error& e) {
            return std::string(e.what());
        }
        return std::string();
    };
    EXPECT_EQ(error("a = 1\nb 2\n"), "cfg:2: expected 'name = value'");
    EXPECT_EQ(error("title = 'open\n"), "cfg:1: unterminated string");
    EXPECT_EQ(error("x = bare\n"),
              "cfg:1: cannot read value 'bare' (use 'text', a number, True, False or None)");
    EXPECT_EQ(error("9x = 1\n"), "cfg:1: '9x' is not an option name");
    EXPECT_EQ(error("x = 'a' b\n"), "cfg:1: unexpected text after the value: 'b'");
}

namespace {

struct cli_fixture : ::testing::Test {
    std::string path = "/tmp/aiot-config-test-" + std::to_string(::getpid()) + ".py";
    ~cli_fixture() override { std::remove(path.c_str()); }

    void write(const std::string& text)
    {
        std::ofstream(path) << text;
    }

    std::optional<int> parse(CLI::App& app, std::vector<std::string> args)
    {
        std::vector<char*> argv{const_cast<char*>("prog")};
        for (auto& a : args) {
            argv.push_back(a.data());
        }
        return parse_command_line(app, static_cast<int>(argv.size()), argv.data());
    }
};

} // namespace

TEST_F(cli_fixture, command_line_beats_file_beats_default)
{
    write("broker_port = 8020\nbroker_host = 'example.org'\ndebug = True\n"
          "camera_url = None\nunknown_option = 3\ntitle = 'From file'\n");
    CLI::App app;
    common_options opts;
    add_common_options(app, opts);
    std::string title = "Default";
    std::string camera = "cam";
    app.add_option("--title", title);
    app.add_option("--camera-url", camera);
    EXPECT_FALSE(parse(app, {"--config", path, "--broker-port", "9000"}));
    EXPECT_EQ(opts.broker_port, 9000);          // command line
    EXPECT_EQ(opts.broker_host, "example.org"); // file
    EXPECT_TRUE(opts.debug);
    EXPECT_EQ(title, "From file");
    EXPECT_EQ(camera, "cam"); // None keeps the default
    EXPECT_NE(opts.key_file.find(".pyaiot/keys"), std::string::npos);
}

TEST_F(cli_fixture, bad_file_is_an_error)
{
    write("broker_port = = 3\n");
    CLI::App app;
    common_options opts;
    add_common_options(app, opts);
    testing::internal::CaptureStderr();
    const auto code = parse(app, {"--config", path});
    testing::internal::GetCapturedStderr();
    ASSERT_TRUE(code);
    EXPECT_NE(*code, 0);
}

// A gateway's or the dashboard's --broker-host list is checked once the
// port is known (command line or file): a bad one is exit code 2.
TEST_F(cli_fixture, broker_list_is_checked_at_start)
{
    {
        write("broker_host = 'a:8001, b'\nbroker_port = 8002\n");
        CLI::App app;
        common_options opts;
        add_common_options(app, opts);
        add_uplink_options(app, opts);
        EXPECT_FALSE(parse(app, {"--config", path}));
        EXPECT_EQ(brokers(opts), (std::vector<broker_address>{{"a", 8001}, {"b", 8002}}));
    }
    for (const char* bad : {"a:8000,,b", "a:99999", "a,::1"}) {
        CLI::App app;
        common_options opts;
        add_common_options(app, opts);
        add_uplink_options(app, opts);
        testing::internal::CaptureStderr();
        const auto code = parse(app, {"--broker-host", bad});
        const auto err = testing::internal::GetCapturedStderr();
        ASSERT_TRUE(code) << bad;
        EXPECT_EQ(*code, 2) << bad;
        EXPECT_NE(err.find("--broker-host: "), std::string::npos) << err;
        EXPECT_THROW(brokers(opts), std::invalid_argument);
    }
}

TEST_F(cli_fixture, help_lists_defaults)
{
    CLI::App app;
    common_options opts;
    add_common_options(app, opts);
    const auto help = app.help();
    EXPECT_NE(help.find("--broker-port"), std::string::npos);
    EXPECT_NE(help.find("8000"), std::string::npos);
    EXPECT_NE(help.find("localhost"), std::string::npos);
}

// Issue 11 item 6: one file serves every daemon, so a key meant for one
// daemon must not change another. Two apps built like the broker and the
// ws gateway read the same file.
TEST_F(cli_fixture, a_key_of_one_daemon_does_not_change_another)
{
    write("bind = '127.0.0.9'\nmax_message_size = 1048576\nbroker_port = 8020\n");

    CLI::App broker;
    common_options broker_opts;
    add_common_options(broker, broker_opts, "aiot-broker");
    std::string broker_bind = "::";
    std::size_t broker_max = 1;
    broker.add_option("--bind", broker_bind);
    broker.add_option("--max-message-size", broker_max);
    EXPECT_FALSE(parse(broker, {"--config", path}));
    EXPECT_EQ(broker_bind, "127.0.0.9");
    EXPECT_EQ(broker_max, 1048576u);

    CLI::App gateway;
    common_options gateway_opts;
    add_common_options(gateway, gateway_opts, "aiot-ws-gateway");
    std::string gateway_bind = "::";
    std::size_t gateway_max = 65536;
    gateway.add_option("--gateway-bind", gateway_bind);
    command_line_only(gateway.add_option("--bind", gateway_bind), "gateway_bind");
    gateway.add_option("--gateway-max-message-size", gateway_max);
    command_line_only(gateway.add_option("--max-message-size", gateway_max),
                      "gateway_max_message_size");
    EXPECT_FALSE(parse(gateway, {"--config", path}));
    EXPECT_EQ(gateway_bind, "::");
    EXPECT_EQ(gateway_max, 65536u);
    EXPECT_EQ(gateway_opts.broker_port, 8020); // a shared key reaches both
    EXPECT_EQ(broker_opts.broker_port, 8020);
}

TEST_F(cli_fixture, a_daemon_reads_its_own_keys_and_its_command_line_spellings)
{
    write("gateway_bind = '127.0.0.9'\ngateway_max_message_size = 4096\n");
    const auto make = [](CLI::App& app, common_options& opts, std::string& bind,
                         std::size_t& max) {
        add_common_options(app, opts, "aiot-ws-gateway");
        app.add_option("--gateway-bind", bind);
        command_line_only(app.add_option("--bind", bind), "gateway_bind");
        app.add_option("--gateway-max-message-size", max);
        command_line_only(app.add_option("--max-message-size", max), "gateway_max_message_size");
    };
    {
        CLI::App app;
        common_options opts;
        std::string bind = "::";
        std::size_t max = 65536;
        make(app, opts, bind, max);
        EXPECT_FALSE(parse(app, {"--config", path}));
        EXPECT_EQ(bind, "127.0.0.9");
        EXPECT_EQ(max, 4096u);
    }
    {
        CLI::App app; // the command line's short spelling wins over the file
        common_options opts;
        std::string bind = "::";
        std::size_t max = 65536;
        make(app, opts, bind, max);
        EXPECT_FALSE(parse(app, {"--config", path, "--bind", "127.0.0.1",
                                 "--max-message-size", "100"}));
        EXPECT_EQ(bind, "127.0.0.1");
        EXPECT_EQ(max, 100u);
    }
}

TEST_F(cli_fixture, help_says_which_options_apply_to_which_daemon)
{
    CLI::App app;
    common_options opts;
    add_common_options(app, opts, "aiot-ws-gateway");
    std::string bind;
    app.add_option("--gateway-bind", bind);
    command_line_only(app.add_option("--bind", bind, "Same as --gateway-bind"), "gateway_bind");
    const auto help = app.help();
    const auto shared = help.find(std::string(every_service) + ":");
    const auto own = help.find("aiot-ws-gateway only:");
    ASSERT_NE(shared, std::string::npos) << help;
    ASSERT_NE(own, std::string::npos) << help;
    EXPECT_LT(shared, help.find("--broker-port"));
    EXPECT_LT(help.find("--broker-port"), own);
    EXPECT_LT(own, help.find("--gateway-bind"));
    EXPECT_NE(help.find("command line only; in a config file: gateway_bind"), std::string::npos)
        << help;
}
