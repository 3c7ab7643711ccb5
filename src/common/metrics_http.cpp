#include "common/metrics_http.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <array>

namespace aiot::common {

namespace {

constexpr std::size_t max_request = 8 * 1024;
constexpr std::chrono::seconds request_timeout{5};

std::string answer(unsigned status, std::string_view reason, std::string_view type,
                   const std::string& body, bool head = false)
{
    return fmt::format("HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n"
                       "Cache-Control: no-store\r\nConnection: close\r\n\r\n{}",
                       status, reason, type, body.size(), head ? std::string() : body);
}

// One connection: read the request head, answer, close.
class metrics_connection : public std::enable_shared_from_this<metrics_connection> {
public:
    metrics_connection(tcp::socket socket, const metrics& registry)
        : socket_(std::move(socket)), timer_(socket_.get_executor()), registry_(registry)
    {
    }

    void start()
    {
        timer_.expires_after(request_timeout);
        timer_.async_wait([self = shared_from_this()](const error_code& ec) {
            if (!ec) {
                error_code ignored;
                self->socket_.close(ignored);
            }
        });
        read();
    }

private:
    void read()
    {
        socket_.async_read_some(net::buffer(chunk_),
                                [self = shared_from_this()](const error_code& ec, std::size_t n) {
                                    self->on_read(ec, n);
                                });
    }

    void on_read(const error_code& ec, std::size_t n)
    {
        if (ec) {
            timer_.cancel();
            return;
        }
        request_.append(chunk_.data(), n);
        if (request_.find("\r\n\r\n") == std::string::npos && request_.size() < max_request) {
            read();
            return;
        }
        response_ = metrics_http_answer(request_, registry_);
        net::async_write(socket_, net::buffer(response_),
                         [self = shared_from_this()](const error_code&, std::size_t) {
                             error_code ignored;
                             self->socket_.shutdown(tcp::socket::shutdown_send, ignored);
                             self->socket_.close(ignored);
                             self->timer_.cancel();
                         });
    }

    tcp::socket socket_;
    net::steady_timer timer_;
    const metrics& registry_;
    std::array<char, 2048> chunk_{};
    std::string request_;
    std::string response_;
};

} // namespace

std::string metrics_http_answer(std::string_view request, const metrics& registry)
{
    const auto end = request.find("\r\n\r\n");
    if (end == std::string_view::npos) {
        return answer(request.size() >= max_request ? 431 : 400,
                      request.size() >= max_request ? "Request Header Fields Too Large"
                                                    : "Bad Request",
                      "text/plain; charset=utf-8", "incomplete request\n");
    }
    const auto line = request.substr(0, request.find("\r\n"));
    const auto sp1 = line.find(' ');
    const auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos || !line.substr(sp2 + 1).starts_with("HTTP/1.")) {
        return answer(400, "Bad Request", "text/plain; charset=utf-8", "bad request line\n");
    }
    const auto method = line.substr(0, sp1);
    auto target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    target = target.substr(0, target.find('?'));
    if (target != "/metrics") {
        return answer(404, "Not Found", "text/plain; charset=utf-8",
                      "only /metrics is served here\n");
    }
    if (method != "GET" && method != "HEAD") {
        return answer(405, "Method Not Allowed", "text/plain; charset=utf-8", "GET /metrics\n");
    }
    return answer(200, "OK", metrics_content_type, registry.render(), method == "HEAD");
}

metrics_http::metrics_http(net::io_context& ioc, const metrics& registry,
                           std::shared_ptr<spdlog::logger> log)
    : ioc_(ioc), registry_(registry), log_(std::move(log)), listener_(ioc, log_)
{
}

tcp::endpoint metrics_http::start(const std::string& address, std::uint16_t port)
{
    const auto ep = listener_.open(address, port);
    listener_.start([this](tcp::socket socket) {
        std::make_shared<metrics_connection>(std::move(socket), registry_)->start();
    });
    log_->info("metrics on http://{}/metrics", endpoint_text(ep));
    return ep;
}

void metrics_http::stop()
{
    listener_.close();
}

loop_lag::loop_lag(net::io_context& ioc, metric_cell& gauge, std::chrono::milliseconds every)
    : timer_(ioc), gauge_(gauge), every_(every)
{
}

loop_lag::~loop_lag()
{
    stop();
}

void loop_lag::start()
{
    window_start_ = std::chrono::steady_clock::now();
    arm();
}

void loop_lag::stop()
{
    stopped_ = true;
    timer_.cancel();
}

void loop_lag::arm()
{
    due_ = std::chrono::steady_clock::now() + every_;
    timer_.expires_at(due_);
    timer_.async_wait([this](const error_code& ec) {
        if (ec || stopped_) {
            return;
        }
        const auto now = std::chrono::steady_clock::now();
        window_max_ = std::max(window_max_, std::chrono::duration<double>(now - due_).count());
        if (now - window_start_ >= std::chrono::seconds(1)) {
            gauge_.set(window_max_);
            window_max_ = 0;
            window_start_ = now;
        }
        arm();
    });
}

} // namespace aiot::common
