// gateway_service on one io_context with a fake broker (a small Beast
// websocket server) on 127.0.0.1 and a free port. The test thread runs the
// io_context until an expected event has happened, with a deadline.
#include "common/keys.hpp"
#include "common/net_ws.hpp"
#include "gateways/core/gateway_service.hpp"
#include "support/run_until.hpp"
#include "support/system_helpers.hpp"

#include <gtest/gtest.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/ostream_sink.h>

#include <atomic>
#include <csignal>
#include <deque>
#include <sstream>
#include <thread>

using namespace aiot;
using namespace aiot::gw;
using namespace std::chrono_literals;
using json = aiot::common::json; // as the gateway sends it: keys in order

namespace {

const std::string key_file = std::string(AIOT_TEST_DATA_DIR) + "/keys.ini";

using ws_stream = websocket::stream<beast::tcp_stream>;

// Accepts gateways on /gw, checks the token, records what they send.
class fake_broker {
public:
    fake_broker(net::io_context& ioc, std::uint16_t port)
        : ioc_(ioc), port_(port), keys_(common::load_keys(key_file))
    {
        listen();
    }

    void listen()
    {
        // Port 0 the first time: the kernel picks a free port, so no other
        // test can take it between choosing and binding; later listens
        // (after kill()) reuse it.
        acceptor_ = std::make_unique<tcp::acceptor>(
            ioc_, tcp::endpoint(net::ip::make_address("127.0.0.1"), port_));
        port_ = acceptor_->local_endpoint().port();
        net::co_spawn(ioc_, accept_loop(), [](std::exception_ptr) {});
    }

    void stop_listening() { acceptor_->close(); }

    std::uint16_t port() const { return port_; }

    // The broker goes away: no listener, current session closed.
    void kill()
    {
        acceptor_->close();
        if (session_) {
            beast::get_lowest_layer(*session_).socket().close();
            session_.reset();
        }
    }

    // Queued: one write at a time.
    void send(std::string text)
    {
        outbox_.push_back(std::move(text));
        if (outbox_.size() > 1) {
            return;
        }
        net::co_spawn(
            ioc_,
            [this, ws = session_]() -> net::awaitable<void> {
                while (!outbox_.empty()) {
                    beast::error_code ec;
                    co_await ws->async_write(net::buffer(outbox_.front()),
                                             net::redirect_error(net::use_awaitable, ec));
                    outbox_.pop_front();
                }
            },
            [](std::exception_ptr) {});
    }

    // Messages received, parsed, in order.
    std::vector<json> received;
    int accepted = 0; // handshakes accepted
    int refused = 0;  // handshakes answered 401
    bool refuse_all = false;
    std::string last_subprotocol;

private:
    net::awaitable<void> accept_loop()
    {
        for (;;) {
            beast::error_code ec;
            auto socket =
                co_await acceptor_->async_accept(net::redirect_error(net::use_awaitable, ec));
            if (ec) {
                co_return;
            }
            net::co_spawn(ioc_, session(std::move(socket)), [](std::exception_ptr) {});
        }
    }

    net::awaitable<void> session(tcp::socket socket)
    {
        beast::error_code ec;
        beast::tcp_stream stream(std::move(socket));
        beast::flat_buffer buffer;
        http::request<http::string_body> req;
        co_await http::async_read(stream, buffer, req, net::redirect_error(net::use_awaitable, ec));
        if (ec) {
            co_return;
        }
        last_subprotocol = std::string(req[http::field::sec_websocket_protocol]);
        const auto comma = last_subprotocol.find(',');
        const bool token_ok = req.target() == "/gw" && comma != std::string::npos &&
                              last_subprotocol.substr(0, comma) == "token" &&
                              common::check_gateway_token(
                                  keys_, last_subprotocol.substr(comma + 2)) ==
                                  common::token_check::valid;
        if (refuse_all || !token_ok) {
            ++refused;
            http::response<http::string_body> res{http::status::unauthorized, req.version()};
            res.body() = "Unauthorized";
            res.prepare_payload();
            co_await http::async_write(stream, res, net::redirect_error(net::use_awaitable, ec));
            co_return;
        }
        auto ws = std::make_shared<ws_stream>(std::move(stream));
        ws->set_option(websocket::stream_base::decorator(
            [](websocket::response_type& res) { res.set(http::field::sec_websocket_protocol, "token"); }));
        co_await ws->async_accept(req, net::redirect_error(net::use_awaitable, ec));
        if (ec) {
            co_return;
        }
        ++accepted;
        session_ = ws;
        for (;;) {
            beast::flat_buffer b;
            co_await ws->async_read(b, net::redirect_error(net::use_awaitable, ec));
            if (ec) {
                co_return;
            }
            received.push_back(json::parse(beast::buffers_to_string(b.data())));
        }
    }

    net::io_context& ioc_;
    std::uint16_t port_;
    common::key_pair keys_;
    std::unique_ptr<tcp::acceptor> acceptor_;
    std::shared_ptr<ws_stream> session_;
    std::deque<std::string> outbox_;
};

class gateway_service_test : public ::testing::Test {
protected:
    gateway_service_test()
        : port_(0),
          log_(std::make_shared<spdlog::logger>(
              "gw.test", std::make_shared<spdlog::sinks::ostream_sink_st>(log_text_))),
          broker_(ioc_, port_)
    {
        port_ = broker_.port();
        log_->set_level(spdlog::level::debug);
        log_->set_pattern("%l %v");
        config_.common.broker_host = "127.0.0.1";
        config_.common.broker_port = port_;
        config_.common.key_file = key_file;
        config_.retry = {0ms, 100ms, 100ms};
        config_.tick_interval = 50ms;
    }

    void make_service()
    {
        service_ = std::make_unique<gateway_service>(ioc_, config_, "CoAP", log_);
    }

    // Runs the io_context until pred holds (true) or 5 s pass (false).
    bool run_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 5s)
    {
        return aiot::test::run_until(ioc_, pred, timeout, 10ms);
    }

    // Runs the io_context until run() returns by itself (nothing pending),
    // or stops it after `limit`; returns how long it ran.
    std::chrono::steady_clock::duration run_to_the_end(std::chrono::seconds limit)
    {
        std::atomic<bool> returned = false;
        std::thread guard([&] {
            if (!test::eventually([&] { return returned.load(); }, limit)) {
                ioc_.stop();
            }
        });
        const auto start = std::chrono::steady_clock::now();
        ioc_.run();
        returned = true;
        guard.join();
        return std::chrono::steady_clock::now() - start;
    }

    // Index of the first received message equal to m, or -1.
    long find(const json& m, std::size_t from = 0) const
    {
        for (auto i = from; i < broker_.received.size(); ++i) {
            if (broker_.received[i] == m) {
                return static_cast<long>(i);
            }
        }
        return -1;
    }

    bool got(const json& m, std::size_t from = 0) const { return find(m, from) >= 0; }

    std::string log() const { return log_text_.str(); }

    std::size_t count(const std::string& text) const
    {
        const auto all = log();
        std::size_t n = 0;
        for (auto at = all.find(text); at != std::string::npos; at = all.find(text, at + 1)) {
            ++n;
        }
        return n;
    }

    net::io_context ioc_;
    std::uint16_t port_;
    std::ostringstream log_text_;
    std::shared_ptr<spdlog::logger> log_;
    gateway_config config_;
    fake_broker broker_;
    std::unique_ptr<gateway_service> service_;
};

json new_all(const std::string& uid)
{
    return {{"type", "new"}, {"uid", uid}, {"dst", "all"}};
}

json update(const std::string& uid, const std::string& e, const json& v, const std::string& dst)
{
    return {{"type", "update"}, {"uid", uid}, {"endpoint", e}, {"data", v}, {"dst", dst}};
}

} // namespace

TEST_F(gateway_service_test, connects_with_the_token_and_announces_the_cache)
{
    make_service();
    EXPECT_EQ(service_->add_node("n1", {{"ip", "::1"}}), registry_status::ok);
    service_->start();
    ASSERT_TRUE(run_until([&] { return broker_.received.size() >= 3; })) << log();
    EXPECT_EQ(broker_.accepted, 1);
    EXPECT_EQ(broker_.last_subprotocol.rfind("token, ", 0), 0u);
    const std::vector<json> expected = {new_all("n1"), update("n1", "protocol", "CoAP", "all"),
                                        update("n1", "ip", "::1", "all")};
    EXPECT_EQ(broker_.received, expected);
    EXPECT_TRUE(service_->broker_connected());

    // Live changes follow.
    service_->set_resource("n1", "temperature", "23°C");
    service_->add_node("n2");
    service_->remove_node("n2");
    ASSERT_TRUE(run_until([&] { return got({{"type", "out"}, {"uid", "n2"}}); })) << log();
    EXPECT_LT(find(update("n1", "temperature", "23°C", "all")), find(new_all("n2")));
}

TEST_F(gateway_service_test, replays_to_clients_and_routes_writes)
{
    make_service();
    std::vector<write_command> writes;
    service_->on_write([&](const write_command& w) { writes.push_back(w); });
    service_->add_node("n1", {{"led", "0"}});
    service_->start();
    ASSERT_TRUE(run_until([&] { return broker_.received.size() >= 3; }));

    broker_.send(R"({"type":"new","data":"client","src":"c-7"})");
    ASSERT_TRUE(run_until([&] { return got(update("n1", "led", "0", "c-7")); })) << log();
    EXPECT_TRUE(got({{"type", "new"}, {"uid", "n1"}, {"dst", "c-7"}}));

    broker_.send(R"({"type":"update","data":{"uid":"other","endpoint":"led","payload":"1"},"src":"c-7"})");
    broker_.send("garbage");
    broker_.send(R"({"type":"update","data":{"uid":"n1","endpoint":"led","payload":"1"},"src":"c-7"})");
    ASSERT_TRUE(run_until([&] { return !writes.empty(); })) << log();
    ASSERT_EQ(writes.size(), 1u);
    EXPECT_EQ(writes[0].uid, "n1");
    EXPECT_EQ(writes[0].endpoint, "led");
    EXPECT_EQ(writes[0].payload, "1");
    EXPECT_EQ(writes[0].src, "c-7");
    EXPECT_TRUE(service_->broker_connected()); // bad input does not cost the connection
    EXPECT_NE(log().find("Invalid message 'garbage'."), std::string::npos);
}

TEST_F(gateway_service_test, reconnects_after_the_broker_restarts_and_reannounces)
{
    make_service();
    service_->add_node("n1");
    service_->start();
    ASSERT_TRUE(run_until([&] { return broker_.received.size() >= 2; }));

    broker_.kill();
    ASSERT_TRUE(run_until([&] { return !service_->broker_connected(); })) << log();
    // Changes while the broker is away are kept in the cache, not queued.
    service_->set_resource("n1", "led", "1");
    service_->add_node("n2");
    // Several failed attempts (refused), logged once at warning level and
    // then at debug only (checked below): wait for the third attempt. The
    // log is the behaviour under test here (issue 11 item 3).
    ASSERT_TRUE(run_until([&] { return count("debug cannot connect to broker") >= 2; }))
        << log();
    EXPECT_EQ(broker_.accepted, 1);

    const auto before = broker_.received.size();
    broker_.listen();
    ASSERT_TRUE(run_until([&] { return broker_.accepted == 2 && got(update("n2", "protocol", "CoAP", "all"), before); }))
        << log();
    const auto n1 = find(new_all("n1"), before);
    ASSERT_GE(n1, 0);
    EXPECT_LT(n1, find(update("n1", "led", "1", "all"), before));
    EXPECT_EQ(broker_.received.size() - before, 5u); // new+protocol+led, new+protocol
    EXPECT_NE(log().find("lost the broker connection"), std::string::npos);
    // Logged at warn once per state change, then at debug.
    EXPECT_EQ(count("warning cannot connect to broker"), 1u) << log();
    EXPECT_GE(count("debug cannot connect to broker"), 1u) << log();
}

TEST_F(gateway_service_test, keeps_retrying_when_the_broker_refuses_the_token)
{
    broker_.refuse_all = true;
    make_service();
    service_->start();
    ASSERT_TRUE(run_until([&] { return broker_.refused >= 3; })) << log();
    EXPECT_FALSE(service_->broker_connected());
    EXPECT_EQ(count("error cannot connect to broker"), 1u) << log();
    EXPECT_NE(log().find("HTTP 401"), std::string::npos) << log();
    EXPECT_NE(log().find(key_file), std::string::npos);

    broker_.refuse_all = false;
    ASSERT_TRUE(run_until([&] { return service_->broker_connected(); })) << log();
}

TEST_F(gateway_service_test, sends_keepalives_and_expires_silent_nodes)
{
    config_.keepalive_interval = 1s;
    config_.max_time = 1;
    make_service();
    std::vector<std::string> expired;
    service_->on_node_expired([&](const std::string& uid) { expired.push_back(uid); });
    service_->add_node("n1");
    service_->start();
    const json keepalive = {{"type", "update"}, {"uid", "alive"}};
    ASSERT_TRUE(run_until([&] { return got(keepalive); })) << log();
    ASSERT_TRUE(run_until([&] { return got({{"type", "out"}, {"uid", "n1"}}); })) << log();
    EXPECT_EQ(expired, std::vector<std::string>{"n1"});
    EXPECT_EQ(service_->find("n1"), nullptr);
}

TEST_F(gateway_service_test, a_full_queue_reconnects_and_resends_the_cache)
{
    config_.max_queued_messages = 10;
    make_service();
    service_->add_node("n1");
    service_->start();
    ASSERT_TRUE(run_until([&] { return broker_.received.size() >= 2; }));
    // A burst faster than the socket drains (nothing runs in between).
    for (int i = 0; i < 50; ++i) {
        service_->set_resource("n1", "count", i);
    }
    EXPECT_EQ(count("broker too slow"), 1u) << log();
    ASSERT_TRUE(run_until([&] { return broker_.accepted == 2 && got(update("n1", "count", 49, "all")); }))
        << log();
    EXPECT_TRUE(service_->broker_connected());
}

TEST_F(gateway_service_test, stop_lets_run_return)
{
    make_service();
    service_->start();
    ASSERT_TRUE(run_until([&] { return service_->broker_connected(); }));
    service_->stop();
    broker_.stop_listening(); // the session stays: the close handshake runs
    // Nothing is left pending: run() returns by itself.
    EXPECT_LT(run_to_the_end(8s), 4s) << log();
}

// A tick already due when stop() comes (the loop was busy past it) runs
// with no error despite the cancel; it must not arm the timer again, or
// run() never returns (seen as a gateway that did not exit after SIGTERM
// under load).
TEST_F(gateway_service_test, a_tick_due_at_stop_does_not_keep_run_going)
{
    make_service();
    service_->start();
    ASSERT_TRUE(run_until([&] { return service_->broker_connected(); }));
    broker_.stop_listening();
    net::post(ioc_, [&] {
        // Busy past the next tick: the timer expires meanwhile, and its
        // completion is queued behind the stop posted here.
        std::this_thread::sleep_for(config_.tick_interval + 30ms);
        net::post(ioc_, [&] { service_->stop(); });
    });
    EXPECT_LT(run_to_the_end(5s), 3s) << log();
}

TEST(gateway_service, missing_key_file_is_a_clear_startup_error)
{
    net::io_context ioc;
    gateway_config config;
    config.common.key_file = "/nonexistent/aiot/keys";
    EXPECT_THROW(gateway_service(ioc, config, "CoAP", nullptr), common::key_error);
}
