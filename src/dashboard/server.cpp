#include "server.hpp"

#include "common/logging.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace aiot::dashboard {
namespace {

bool is_quiet_error(const beast::error_code& ec)
{
    return ec == net::error::operation_aborted || ec == beast::error::timeout ||
           ec == net::error::eof || ec == net::error::connection_reset ||
           ec == http::error::end_of_stream || ec == http::error::partial_message;
}

// The status to answer a request that could not be read, 0 for none.
unsigned status_for_read_error(const beast::error_code& ec)
{
    if (ec.category() != make_error_code(http::error::bad_target).category() ||
        is_quiet_error(ec)) {
        return 0;
    }
    if (ec == http::error::body_limit) {
        return 413;
    }
    if (ec == http::error::header_limit) {
        return 431;
    }
    return 400;
}

template <class Body>
void copy_head(response& res, http::response<Body>& out, bool keep_alive)
{
    for (auto& [name, value] : res.headers) {
        out.insert(name, value);
    }
    out.keep_alive(keep_alive);
}

http::response<http::string_body> to_beast(response res, unsigned version, bool keep_alive)
{
    http::response<http::string_body> out{static_cast<http::status>(res.status), version};
    copy_head(res, out, keep_alive);
    out.body() = std::move(res.body);
    if (res.has_content_length) {
        out.content_length(res.content_length);
    }
    return out;
}

} // namespace

server::server(net::io_context& ioc, const config& cfg)
    : ioc_(ioc),
      cfg_(cfg),
      log_(common::get_logger("dashboard.http")),
      handler_(cfg, common::get_logger("dashboard")),
      listener_(ioc, log_)
{
}

void server::start()
{
    tcp::endpoint ep;
    try {
        ep = listener_.open(cfg_.bind, cfg_.web_port);
    } catch (const std::runtime_error& e) {
        throw std::runtime_error(std::string(e.what()) + " (--bind, --web-port)");
    }
    log_->info("listening on http://{}/, serving {}", common::endpoint_text(ep),
               handler_.root().string());
    listener_.start([this](tcp::socket socket) { on_accept(std::move(socket)); });
}

bool server::reload()
{
    return handler_.reload();
}

tcp::endpoint server::local_endpoint() const
{
    return listener_.local_endpoint();
}

void server::stop()
{
    if (stopping_) {
        return;
    }
    stopping_ = true;
    listener_.close();
    beast::error_code ec;
    for (auto& [id, stream] : sessions_) {
        stream->socket().shutdown(tcp::socket::shutdown_both, ec);
        stream->socket().close(ec);
    }
    log_->info("stopped ({} connections closed)", sessions_.size());
}

void server::on_finished(std::exception_ptr e, const char* what)
{
    if (!e) {
        return;
    }
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& ex) {
        log_->error("{} failed: {}", what, ex.what());
    }
}

void server::on_accept(tcp::socket socket)
{
    if (sessions_.size() >= cfg_.max_connections) {
        if (!at_capacity_) {
            log_->warn("{} connections open: refusing new ones", sessions_.size());
            at_capacity_ = true;
        }
        beast::error_code ignored;
        socket.close(ignored);
        return;
    }
    if (at_capacity_) {
        log_->info("accepting connections again");
        at_capacity_ = false;
    }
    const auto id = next_id_++;
    net::co_spawn(ioc_, run_session(std::move(socket), id),
                  [this](std::exception_ptr e) { on_finished(e, "session"); });
}

net::awaitable<void> server::run_session(tcp::socket socket, std::uint64_t id)
{
    beast::tcp_stream stream(std::move(socket));
    sessions_.emplace(id, &stream);
    struct leave {
        server& s;
        std::uint64_t id;
        ~leave() { s.sessions_.erase(id); }
    } guard{*this, id};

    beast::error_code ec;
    const auto peer = stream.socket().remote_endpoint(ec);
    log_->debug("connection {} from {}", id, ec ? "?" : peer.address().to_string());

    beast::flat_buffer buffer;
    while (!stopping_) {
        http::request_parser<http::string_body> parser;
        parser.header_limit(header_limit);
        parser.body_limit(body_limit);
        stream.expires_after(cfg_.http_timeout);
        co_await http::async_read(stream, buffer, parser,
                                  net::redirect_error(net::use_awaitable, ec));
        if (ec) {
            const auto status = status_for_read_error(ec);
            if (status == 0) {
                if (!is_quiet_error(ec)) {
                    log_->debug("connection {}: read: {}", id, ec.message());
                }
                break;
            }
            log_->warn("connection {}: bad request ({}): answering {}", id, ec.message(), status);
            response res;
            res.status = status;
            res.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
            res.body = std::to_string(status) + " " + ec.message() + "\n";
            res.content_length = res.body.size();
            auto out = to_beast(std::move(res), 11, false);
            stream.expires_after(cfg_.http_timeout);
            co_await http::async_write(stream, out, net::redirect_error(net::use_awaitable, ec));
            break;
        }
        const auto& req = parser.get();
        request r;
        r.method = std::string(req.method_string());
        r.target = std::string(req.target());
        r.if_none_match = std::string(req[http::field::if_none_match]);
        r.if_modified_since = std::string(req[http::field::if_modified_since]);
        r.accept_encoding = std::string(req[http::field::accept_encoding]);
        auto res = handler_.handle(r);
        log_->debug("connection {}: {} {} -> {}", id, r.method, r.target, res.status);
        const bool keep_alive = req.keep_alive() && !stopping_;
        const auto version = req.version();
        // A file is streamed from disk (file_body), never read whole.
        http::file_body::value_type file;
        if (!res.file.empty()) {
            file.open(res.file.c_str(), beast::file_mode::scan, ec);
            if (ec) {
                log_->error("cannot open {}: {}", res.file.string(), ec.message());
                res = response{};
                res.status = 500;
                res.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
                res.body = "500 Internal Server Error: cannot read file\n";
                res.content_length = res.body.size();
                ec = {};
            }
        }
        stream.expires_after(cfg_.http_timeout);
        if (file.is_open()) {
            http::response<http::file_body> out{static_cast<http::status>(res.status), version};
            copy_head(res, out, keep_alive);
            out.body() = std::move(file);
            out.prepare_payload(); // Content-Length: the size of the open file
            co_await http::async_write(stream, out, net::redirect_error(net::use_awaitable, ec));
        } else {
            auto out = to_beast(std::move(res), version, keep_alive);
            co_await http::async_write(stream, out, net::redirect_error(net::use_awaitable, ec));
        }
        if (ec) {
            if (!is_quiet_error(ec)) {
                log_->debug("connection {}: write: {}", id, ec.message());
            }
            break;
        }
        if (!keep_alive) {
            break;
        }
    }
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    log_->debug("connection {} closed", id);
}

} // namespace aiot::dashboard
