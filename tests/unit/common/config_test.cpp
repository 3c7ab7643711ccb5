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
