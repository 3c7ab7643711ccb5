#include "ws_test_node.hpp"

#include "common/logging.hpp"
#include "common/message.hpp"
#include "common/net_ws.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <deque>
#include <random>

namespace aiot::utils {

using json = nlohmann::json;

class ws_test_node::impl : public std::enable_shared_from_this<impl> {
public:
    impl(net::io_context& ioc, ws_test_node_config config, std::shared_ptr<spdlog::logger> log)
        : ioc_(ioc),
          config_(std::move(config)),
          log_(log ? std::move(log) : common::get_logger("ws-test-node")),
          resolver_(ioc),
          retry_timer_(ioc),
          temperature_timer_(ioc)
    {
    }

    void start()
    {
        stopping_ = false;
        connect();
        schedule_temperature();
    }

    void stop()
    {
        stopping_ = true;
        retry_timer_.cancel();
        temperature_timer_.cancel();
        resolver_.cancel();
        if (conn_ && open_) {
            open_ = false;
            auto c = conn_;
            c->ws.async_close(websocket::close_code::normal, [c](beast::error_code) {});
        } else if (conn_) {
            beast::get_lowest_layer(conn_->ws).close();
        }
    }

private:
    struct connection {
        explicit connection(net::io_context& ioc) : ws(ioc) {}
        websocket::stream<beast::tcp_stream> ws;
        beast::flat_buffer buffer;
        std::deque<std::string> queue;
        bool writing = false;
    };
    using connection_ptr = std::shared_ptr<connection>;

    std::string url() const
    {
        return fmt::format("ws://{}:{}/node", config_.host, config_.port);
    }

    void connect()
    {
        if (stopping_) {
            return;
        }
        auto c = std::make_shared<connection>(ioc_);
        conn_ = c;
        resolver_.async_resolve(
            config_.host, std::to_string(config_.port),
            [self = shared_from_this(), c](beast::error_code ec,
                                           tcp::resolver::results_type results) {
                if (ec) {
                    return self->failed(c, "resolve: " + ec.message());
                }
                beast::get_lowest_layer(c->ws).expires_after(std::chrono::seconds(10));
                beast::get_lowest_layer(c->ws).async_connect(
                    results, [self, c](beast::error_code e, const tcp::endpoint&) {
                        if (e) {
                            return self->failed(c, "connect: " + e.message());
                        }
                        c->ws.async_handshake(
                            self->config_.host + ":" + std::to_string(self->config_.port), "/node",
                            [self, c](beast::error_code e2) { self->on_handshake(c, e2); });
                    });
            });
    }

    void on_handshake(const connection_ptr& c, beast::error_code ec)
    {
        if (ec) {
            return failed(c, "handshake: " + ec.message());
        }
        beast::get_lowest_layer(c->ws).expires_never();
        c->ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
        c->ws.text(true);
        open_ = true;
        last_failure_.clear();
        log_->info("connected to {}", url());
        do_read(c);
    }

    void failed(const connection_ptr& c, const std::string& why)
    {
        if (c != conn_) {
            return;
        }
        open_ = false;
        conn_.reset();
        if (stopping_) {
            return;
        }
        if (why != last_failure_) {
            log_->warn("no connection to {}: {}; retrying every {} ms", url(), why,
                       config_.retry_delay.count());
            last_failure_ = why;
        }
        retry_timer_.expires_after(config_.retry_delay);
        retry_timer_.async_wait([self = shared_from_this()](beast::error_code e) {
            if (!e) {
                self->connect();
            }
        });
    }

    void do_read(const connection_ptr& c)
    {
        c->ws.async_read(c->buffer, [self = shared_from_this(), c](beast::error_code ec,
                                                                   std::size_t) {
            if (ec) {
                return self->failed(c, ec == websocket::error::closed
                                           ? fmt::format("closed by the gateway ({} {})",
                                                         c->ws.reason().code,
                                                         std::string(c->ws.reason().reason.c_str()))
                                           : ec.message());
            }
            const auto text = beast::buffers_to_string(c->buffer.data());
            c->buffer.consume(c->buffer.size());
            self->on_message(text);
            if (c == self->conn_) {
                self->do_read(c);
            }
        });
    }

    void on_message(const std::string& text)
    {
        const auto j = json::parse(text, nullptr, false);
        if (!j.is_object()) {
            log_->warn("ignored a message that is not a JSON object: {}", text);
            return;
        }
        if (j.value("request", "") == "discover") {
            log_->debug("discovery request: sending resources");
            send_update({{"name", config_.name},
                         {"os", "Linux"},
                         {"board", "native"},
                         {"led", led_},
                         {"temperature", temperature()}});
            return;
        }
        const auto endpoint = j.value("endpoint", "");
        const auto payload = j.contains("payload") ? common::value_text(j["payload"]) : "";
        if (endpoint == "led") {
            if (payload != "0" && payload != "1") {
                log_->warn("LED value '{}' ignored (expected 0 or 1)", payload);
                return;
            }
            led_ = payload;
            log_->info("LED {}", led_ == "1" ? "on" : "off");
            send_update({{"led", led_}});
            return;
        }
        log_->debug("ignored message: {}", text);
    }

    std::string temperature()
    {
        return fmt::format("{}°C", std::uniform_int_distribution<int>(20, 29)(random_));
    }

    void schedule_temperature()
    {
        temperature_timer_.expires_after(config_.temperature_interval);
        temperature_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
            if (ec || self->stopping_) {
                return;
            }
            if (self->open_) {
                self->send_update({{"temperature", self->temperature()}});
            }
            self->schedule_temperature();
        });
    }

    void send_update(json data)
    {
        if (!conn_ || !open_) {
            return;
        }
        auto c = conn_;
        if (c->queue.size() >= 1000) {
            log_->warn("gateway not reading: update dropped");
            return;
        }
        c->queue.push_back(common::serialize(json{{"type", "update"}, {"data", std::move(data)}}));
        if (!c->writing) {
            do_write(c);
        }
    }

    void do_write(const connection_ptr& c)
    {
        c->writing = true;
        c->ws.async_write(net::buffer(c->queue.front()),
                          [self = shared_from_this(), c](beast::error_code ec, std::size_t) {
                              c->writing = false;
                              c->queue.pop_front();
                              if (!ec && !c->queue.empty()) {
                                  self->do_write(c);
                              }
                          });
    }

    net::io_context& ioc_;
    ws_test_node_config config_;
    std::shared_ptr<spdlog::logger> log_;
    tcp::resolver resolver_;
    net::steady_timer retry_timer_;
    net::steady_timer temperature_timer_;
    connection_ptr conn_;
    bool open_ = false;
    bool stopping_ = false;
    std::string last_failure_;
    std::string led_ = "0";
    std::mt19937 random_{std::random_device{}()};
};

ws_test_node::ws_test_node(net::io_context& ioc, ws_test_node_config config,
                           std::shared_ptr<spdlog::logger> log)
    : impl_(std::make_shared<impl>(ioc, std::move(config), std::move(log)))
{
}

ws_test_node::~ws_test_node()
{
    impl_->stop();
}

void ws_test_node::start()
{
    impl_->start();
}

void ws_test_node::stop()
{
    impl_->stop();
}

} // namespace aiot::utils
