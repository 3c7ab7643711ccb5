#pragma once
// A base fixture for the gateways' end-to-end tests (header-only; the test
// links GoogleTest): a temp folder, an aiot-broker on a port of its choice
// that can be killed and restarted on that port, dashboard-like web
// clients, and every process's log for failure messages.
#include "support/node_view.hpp"
#include "support/process.hpp"
#include "support/system_helpers.hpp"
#include "support/ws_client.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

namespace aiot::test {

// A web client's write: {"type":"update","data":{"uid","endpoint","payload"}}.
inline nlohmann::json write_request(const std::string& uid, const std::string& endpoint,
                                    const std::string& payload)
{
    return {{"type", "update"},
            {"data", {{"uid", uid}, {"endpoint", endpoint}, {"payload", payload}}}};
}

class gateway_e2e : public ::testing::Test {
protected:
    gateway_e2e(std::string broker_exe, std::string key_file)
        : broker_exe_(std::move(broker_exe)),
          key_file_(std::move(key_file))
    {
    }

    // A child whose output goes to <name>.log in the temp folder.
    std::unique_ptr<process> start(const std::string& exe, std::vector<std::string> args,
                                   const std::string& name)
    {
        return std::make_unique<process>(exe, std::move(args), dir_ / (name + ".log"));
    }

    // The first broker listens on port 0 (the port it bound is read from
    // its log); a restarted one takes the same port again, where the
    // gateways look for it.
    void start_broker()
    {
        broker_ = start(broker_exe_,
                        {"--broker-port", std::to_string(broker_port_), "--bind", "127.0.0.1",
                         "--key-file", key_file_},
                        "broker" + std::to_string(++broker_runs_));
        const auto port = broker_->wait_for_bound_port("listening on");
        ASSERT_NE(port, 0) << broker_->log();
        ASSERT_TRUE(broker_port_ == 0 || port == broker_port_) << broker_->log();
        broker_port_ = port;
    }

    // Kills the broker (no clean close) and starts another on the same port.
    void restart_broker()
    {
        broker_->signal(SIGKILL);
        broker_->terminate();
        start_broker();
    }

    // A dashboard-like client: /ws, then `new`.
    std::unique_ptr<ws_client> open_client()
    {
        auto c = std::make_unique<ws_client>();
        const auto r = c->connect("127.0.0.1", broker_port_, "/ws");
        EXPECT_TRUE(r) << r.error;
        EXPECT_TRUE(c->send(R"({"type":"new","data":"client"})"));
        return c;
    }

    // The gateway options every gateway shares, for this broker.
    std::vector<std::string> broker_options() const
    {
        return {"--broker-host", "127.0.0.1", "--broker-port", std::to_string(broker_port_),
                "--key-file", key_file_};
    }

    // client_ writes the LED of node uid and sees the node echo it.
    bool toggle_led(const std::string& uid, const std::string& value)
    {
        return client_->send_json(write_request(uid, "led", value)) &&
               view_.wait_value(*client_, uid, "led", value);
    }

    // The broker dies and comes back: a new web client sees node uid
    // announced again with its resources, live `temperature` values, and
    // its LED following a write.
    void check_broker_restart(const std::string& uid)
    {
        restart_broker();
        client_ = open_client();
        view_ = {};
        ASSERT_TRUE(view_.watch(
            *client_,
            [&](const node_view& v) {
                return v.resource(uid, "protocol") && v.resource(uid, "name") &&
                       v.resource(uid, "led");
            },
            std::chrono::seconds(15)))
            << diagnostics();
        EXPECT_TRUE(view_.wait_updates(*client_, uid, "temperature"));
        EXPECT_TRUE(toggle_led(uid, "1")) << diagnostics();
    }

    // Every log in the temp folder, for a failure message.
    std::string diagnostics() const
    {
        std::string text;
        for (const auto& entry : std::filesystem::directory_iterator(dir_.path())) {
            if (entry.path().extension() == ".log") {
                std::ifstream in(entry.path());
                text += "---- " + entry.path().filename().string() + "\n" +
                        std::string(std::istreambuf_iterator<char>(in), {});
            }
        }
        return text;
    }

    temp_dir dir_;
    std::string broker_exe_;
    std::string key_file_;
    std::uint16_t broker_port_ = 0; // known once start_broker() ran
    int broker_runs_ = 0;
    std::unique_ptr<process> broker_;
    std::unique_ptr<ws_client> client_; // the test's web client
    node_view view_;                    // what client_ has seen
};

} // namespace aiot::test
