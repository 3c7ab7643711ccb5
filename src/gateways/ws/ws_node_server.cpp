#include "ws_node_server.hpp"

#include "common/listener.hpp"
#include "common/logging.hpp"
#include "common/metrics.hpp"
#include "common/message.hpp"
#include "common/net_ws.hpp"
#include "common/refusal_log.hpp"
#include "common/system.hpp"
#include "common/text.hpp"
#include "common/write_queue.hpp"
#include "gateways/core/gateway_service.hpp"
#include "gateways/ws/node_message.hpp"

#include <spdlog/spdlog.h>

#include <map>
#include <optional>
#include <utility>

namespace aiot::gw::ws {

namespace {
class node_connection;
}

// The listener and the registry of connections and nodes, shared by the
// connections (so it outlives the last one).
class detail::node_hub : public std::enable_shared_from_this<node_hub> {
public:
    node_hub(net::io_context& ioc, gateway_service& service, server_config config,
         std::shared_ptr<spdlog::logger> log)
        : ioc_(ioc),
          service_(service),
          config_(std::move(config)),
          log_(log ? std::move(log) : common::get_logger("gw.ws")),
          listener_(ioc, log_),
          summary_timer_(ioc)
    {
    }

    void start();
    void stop();
    void write(const write_command& w);

    // Connection bookkeeping (node_connection calls these).
    std::uint64_t connection_opened(const std::shared_ptr<node_connection>& c,
                                    const net::ip::address& address);
    void connection_gone(std::uint64_t id);
    // Logs a refusal of what `address` sent, aggregated per address
    // (common::refusal_log): a flood from one peer costs a few lines.
    // A refused handshake (connection) or message counts in the metrics.
    enum class refusal { handshake, message };
    void refused(const net::ip::address& address, std::string_view what, refusal kind);
    // Counts a refusal logged elsewhere (or not at all).
    void count(refusal kind) { ++(kind == refusal::handshake ? handshakes_refused_ : messages_refused_); }
    std::uint64_t refusals(refusal kind) const
    {
        return kind == refusal::handshake ? handshakes_refused_ : messages_refused_;
    }
    registry_status node_opened(const std::string& uid, const std::shared_ptr<node_connection>& c);
    void node_closed(const std::string& uid);

    gateway_service& service() { return service_; }
    const server_config& config() const { return config_; }
    spdlog::logger& log() { return *log_; }
    std::uint16_t port() const { return listener_.local_endpoint().port(); }
    std::size_t connection_count() const { return connections_.size(); }

private:
    void on_accept(tcp::socket socket);
    void schedule_summaries();

    struct connection_entry {
        std::weak_ptr<node_connection> connection;
        net::ip::address address;
    };

    net::io_context& ioc_;
    gateway_service& service_;
    server_config config_;
    std::shared_ptr<spdlog::logger> log_;
    common::listener listener_;
    net::steady_timer summary_timer_;
    common::refusal_log refusals_;
    bool started_ = false;
    bool stopping_ = false;
    bool full_ = false;
    std::uint64_t next_id_ = 0;
    std::uint64_t handshakes_refused_ = 0;
    std::uint64_t messages_refused_ = 0;
    std::map<std::uint64_t, connection_entry> connections_;
    std::map<net::ip::address, std::size_t> per_address_; // open connections
    std::map<std::string, std::weak_ptr<node_connection>, std::less<>> nodes_; // uid ->
};

namespace {

// One TCP connection: the HTTP upgrade request, then the node's websocket.
class node_connection : public std::enable_shared_from_this<node_connection> {
public:
    node_connection(std::shared_ptr<detail::node_hub> server, tcp::socket socket)
        : server_(std::move(server)),
          ws_(std::move(socket)),
          close_timer_(ws_.get_executor()),
          queue_(server_->config().max_queued_messages, server_->config().max_queued_bytes)
    {
        beast::error_code ec;
        const auto ep = beast::get_lowest_layer(ws_).socket().remote_endpoint(ec);
        peer_ = ec ? std::string("?") : fmt::format("{}:{}", ep.address().to_string(), ep.port());
        if (!ec) {
            address_ = ep.address();
        }
    }

    ~node_connection() { server_->connection_gone(id_); }

    void start()
    {
        id_ = server_->connection_opened(shared_from_this(), address_);
        parser_.emplace();
        parser_->header_limit(8 * 1024);
        parser_->body_limit(4 * 1024);
        beast::get_lowest_layer(ws_).expires_after(server_->config().handshake_timeout);
        http::async_read(ws_.next_layer(), buffer_, *parser_,
                         [self = shared_from_this()](beast::error_code ec, std::size_t) {
                             self->on_request(ec);
                         });
    }

    // A write from a web client (or the discovery request).
    void send(std::string text)
    {
        if (closing_) {
            return;
        }
        const auto size = text.size();
        if (const auto refused = queue_.push(std::move(text), size);
            refused != common::queue_refusal::none) {
            server_->log().warn("node '{}' ({}): {} ({} messages, {} bytes not read); closing "
                                "(1013)",
                                uid_, peer_, to_string(refused), queue_.size(), queue_.bytes());
            close_with(websocket::close_code::try_again_later, "Too many messages queued.");
            return;
        }
        do_write();
    }

    // Server shutdown.
    void shut_down()
    {
        if (open_) {
            close_with(websocket::close_code::going_away, "Gateway shutting down.",
                       server_->config().shutdown_close_timeout);
        } else {
            beast::error_code ec;
            beast::get_lowest_layer(ws_).socket().close(ec);
        }
    }

private:
    void on_request(beast::error_code ec)
    {
        if (ec) {
            server_->log().debug("{}: no valid HTTP request: {}", peer_, ec.message());
            return finish();
        }
        auto req = parser_->release();
        const std::string_view target(req.target().data(), req.target().size());
        const auto path = target.substr(0, target.find('?'));
        if (path != "/node") {
            server_->log().debug("{}: {} {} -> 404", peer_,
                                 common::printable(std::string(req.method_string()), 16),
                                 common::printable(target, 100));
            return respond(http::status::not_found, req.version(),
                           "Not found: nodes connect to /node.\n");
        }
        if (!websocket::is_upgrade(req)) {
            return respond(http::status::bad_request, req.version(),
                           "This is a websocket endpoint: upgrade expected.\n");
        }
        beast::get_lowest_layer(ws_).expires_never();
        auto timeouts = websocket::stream_base::timeout::suggested(beast::role_type::server);
        timeouts.handshake_timeout = server_->config().handshake_timeout;
        timeouts.keep_alive_pings = true; // finds dead peers within the idle timeout
        ws_.set_option(timeouts);
        ws_.read_message_max(server_->config().max_message_bytes);
        ws_.set_option(websocket::stream_base::decorator([](websocket::response_type& res) {
            res.set(http::field::server, "aiot-ws-gateway");
        }));
        ws_.async_accept(req, [self = shared_from_this()](beast::error_code e) {
            self->on_accept(e);
        });
    }

    // A refusal of the HTTP request (not a websocket upgrade, wrong path).
    void respond(http::status status, unsigned version, std::string body)
    {
        server_->count(detail::node_hub::refusal::handshake);
        auto res = std::make_shared<http::response<http::string_body>>(status, version);
        res->set(http::field::server, "aiot-ws-gateway");
        res->set(http::field::content_type, "text/plain; charset=utf-8");
        res->keep_alive(false);
        res->body() = std::move(body);
        res->prepare_payload();
        http::async_write(ws_.next_layer(), *res,
                          [self = shared_from_this(), res](beast::error_code, std::size_t) {
                              beast::error_code ignored;
                              auto& socket = beast::get_lowest_layer(self->ws_).socket();
                              socket.shutdown(tcp::socket::shutdown_send, ignored);
                              self->finish();
                          });
    }

    void on_accept(beast::error_code ec)
    {
        if (ec) {
            server_->refused(address_,
                             fmt::format("{}: websocket handshake failed: {}", peer_, ec.message()),
                             detail::node_hub::refusal::handshake);
            return finish();
        }
        open_ = true;
        ws_.text(true);
        const auto uid = common::make_uuid();
        const auto status = server_->node_opened(uid, shared_from_this());
        if (status != registry_status::ok) {
            // The service has logged why (e.g. too many nodes).
            close_with(websocket::close_code::try_again_later,
                       fmt::format("Node refused: {}.", to_string(status)));
            return;
        }
        uid_ = uid;
        server_->log().info("node '{}': connected from {}", uid_, peer_);
        send(make_discover_request());
        do_read();
    }

    void do_read()
    {
        ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
            self->on_read(ec);
        });
    }

    void on_read(beast::error_code ec)
    {
        if (ec) {
            auto& log = server_->log();
            if (ec == websocket::error::closed) {
                log.info("node '{}': closed by the node ({})", uid_, ws_.reason().code);
            } else if (ec == websocket::error::message_too_big) {
                server_->refused(address_,
                                 fmt::format("node '{}' ({}): message larger than {} bytes: closed "
                                             "with 1009",
                                             uid_, peer_, server_->config().max_message_bytes),
                                 detail::node_hub::refusal::message);
            } else if (ec == net::error::operation_aborted || closing_) {
                log.debug("node '{}': read ended: {}", uid_, ec.message());
            } else {
                log.info("node '{}': connection lost: {}", uid_, ec.message());
            }
            return finish();
        }
        if (closing_) {
            return; // the close handshake reads on its own
        }
        if (ws_.got_binary()) {
            server_->refused(address_, fmt::format("node '{}' ({}): binary message of {} bytes; "
                                                   "closing (1003)",
                                                   uid_, peer_, buffer_.size()),
                             detail::node_hub::refusal::message);
            buffer_.consume(buffer_.size());
            close_with(websocket::close_code::unknown_data, "Binary messages are not accepted.");
            return;
        }
        const auto text = beast::buffers_to_string(buffer_.data());
        buffer_.consume(buffer_.size());
        auto msg = parse_node_message(text, server_->config().max_updates_per_message);
        if (!msg.valid()) {
            server_->refused(address_, fmt::format("node '{}' ({}): {} Closing (1003).", uid_,
                                                   peer_, common::printable(msg.error, 200)),
                             detail::node_hub::refusal::message);
            close_with(websocket::close_code::unknown_data, msg.error);
            return;
        }
        if (msg.skipped > 0) {
            server_->log().warn("node '{}': {} resources beyond {} in one message ignored", uid_,
                                msg.skipped, msg.updates.size());
        }
        for (auto& r : msg.updates) {
            server_->service().set_resource(uid_, r.name, std::move(r.value));
        }
        do_read();
    }

    // Starts writing the front message unless a write is in flight.
    void do_write()
    {
        const auto* text = queue_.start_write();
        if (!text) {
            return;
        }
        ws_.async_write(net::buffer(*text),
                        [self = shared_from_this()](beast::error_code ec, std::size_t) {
                            self->on_write(ec);
                        });
    }

    void on_write(beast::error_code ec)
    {
        queue_.end_write();
        if (ec) {
            server_->log().debug("node '{}': write failed: {}", uid_, ec.message());
            beast::error_code ignored;
            beast::get_lowest_layer(ws_).socket().close(ignored); // ends a pending read
            close_timer_.cancel();
            if (closing_) {
                finish(); // no read is pending after an invalid message
            }
            return;
        }
        if (closing_) {
            return do_close(); // the write close_with() waited for is done
        }
        do_write();
    }

    void close_with(websocket::close_code code, std::string reason)
    {
        close_with(code, std::move(reason), server_->config().close_timeout);
    }

    void close_with(websocket::close_code code, std::string reason,
                    std::chrono::milliseconds deadline)
    {
        bound_close(deadline);
        if (closing_) {
            return;
        }
        closing_ = true;
        close_reason_ = websocket::close_reason(code, common::truncate_close_reason(reason));
        // Drop what waits; the message being written must live until it completes.
        queue_.drop_waiting();
        if (!queue_.writing()) {
            do_close(); // else on_write() does, once the message is out
        }
    }

    // Bounds the whole close: the write in flight may never end if the
    // node stopped reading (its TCP window is full), and nothing else would
    // time it out. A later, shorter bound (stop() during a close) wins.
    void bound_close(std::chrono::milliseconds deadline)
    {
        auto& socket = beast::get_lowest_layer(ws_).socket();
        const auto at = std::chrono::steady_clock::now() + deadline;
        if (!socket.is_open() || (closing_ && close_timer_.expiry() <= at)) {
            return;
        }
        close_timer_.expires_at(at);
        close_timer_.async_wait([self = shared_from_this(), ms = deadline.count()](
                                    beast::error_code ec) {
            if (ec) {
                return; // the close ended in time, or the bound moved
            }
            self->server_->log().info("node '{}' ({}): close not done after {} ms; socket closed",
                                      self->uid_, self->peer_, ms);
            beast::error_code ignored;
            beast::get_lowest_layer(self->ws_).socket().close(ignored);
        });
    }

    void do_close()
    {
        ws_.async_close(close_reason_, [self = shared_from_this()](beast::error_code ec) {
            self->close_timer_.cancel();
            if (ec && ec != net::error::operation_aborted) {
                self->server_->log().debug("node '{}': close: {}", self->uid_, ec.message());
            }
            self->finish();
        });
    }

    // The node is gone: `out` (once).
    void finish()
    {
        if (finished_) {
            return;
        }
        finished_ = true;
        if (!uid_.empty()) {
            server_->node_closed(uid_);
        }
    }

    std::shared_ptr<detail::node_hub> server_;
    websocket::stream<beast::tcp_stream> ws_;
    net::steady_timer close_timer_; // bounds close_with()
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    std::string peer_;
    net::ip::address address_;
    std::uint64_t id_ = 0;
    std::string uid_; // empty until the node is created
    common::write_queue<std::string> queue_;
    bool open_ = false;
    bool closing_ = false;
    bool finished_ = false;
    websocket::close_reason close_reason_;
};

} // namespace

void detail::node_hub::start()
{
    const auto bound = listener_.open(config_.bind_address, config_.port);
    stopping_ = false;
    started_ = true;
    log_->info("listening for websocket nodes on ws://{}/node", common::endpoint_text(bound));
    listener_.start([this](tcp::socket socket) { on_accept(std::move(socket)); });
    schedule_summaries();
}

void detail::node_hub::on_accept(tcp::socket socket)
{
    beast::error_code ep_ec;
    const auto address = socket.remote_endpoint(ep_ec).address();
    const auto it = per_address_.find(address);
    const std::size_t from_address = it == per_address_.end() ? 0 : it->second;
    if (ep_ec) {
        log_->debug("accepted connection already gone: {}", ep_ec.message());
    } else if (connections_.size() >= config_.max_connections) {
        count(refusal::handshake);
        if (!full_) {
            log_->warn("{} connections already (limit): refusing new ones until one ends",
                       connections_.size());
            full_ = true;
        }
    } else if (config_.max_connections_per_address > 0 &&
               from_address >= config_.max_connections_per_address) {
        // One address cannot take the whole table (issue: node-table lockout).
        refused(address, fmt::format("{}: connection refused: {} connections from this address "
                                     "already (--max-nodes-per-address)",
                                     address.to_string(), from_address),
                refusal::handshake);
    } else {
        full_ = false;
        std::make_shared<node_connection>(shared_from_this(), std::move(socket))->start();
        return;
    }
    beast::error_code ignored;
    socket.close(ignored);
}

void detail::node_hub::refused(const net::ip::address& address, std::string_view what,
                               refusal kind)
{
    count(kind);
    const auto decision = refusals_.refused(address.to_string(), std::chrono::steady_clock::now());
    log_->log(decision.log ? spdlog::level::warn : spdlog::level::debug, "{}", what);
}

void detail::node_hub::schedule_summaries()
{
    summary_timer_.expires_after(std::chrono::seconds(10));
    summary_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
        if (ec || self->stopping_) {
            return;
        }
        for (const auto& s : self->refusals_.take_summaries(std::chrono::steady_clock::now())) {
            self->log_->warn("{}: {} more refusals in the last interval (not logged one by one)",
                             s.address, s.count);
        }
        self->schedule_summaries();
    });
}

void detail::node_hub::stop()
{
    if (std::exchange(stopping_, true) || !started_) {
        return;
    }
    listener_.close();
    summary_timer_.cancel();
    log_->info("stopping: closing {} connections", connections_.size());
    const auto connections = connections_; // closing may remove entries
    for (const auto& [id, entry] : connections) {
        if (auto c = entry.connection.lock()) {
            c->shut_down();
        }
    }
}

void detail::node_hub::write(const write_command& w)
{
    const auto it = nodes_.find(w.uid);
    auto c = it == nodes_.end() ? nullptr : it->second.lock();
    if (!c) {
        log_->warn("write to '{}' of node '{}' dropped: no such websocket node", w.endpoint, w.uid);
        return;
    }
    log_->debug("node '{}': {} <- '{}' (client '{}')", w.uid, w.endpoint, w.payload, w.src);
    c->send(make_node_write(w.endpoint, w.payload));
}

std::uint64_t detail::node_hub::connection_opened(const std::shared_ptr<node_connection>& c,
                                                  const net::ip::address& address)
{
    const auto id = ++next_id_;
    connections_[id] = {c, address};
    ++per_address_[address];
    return id;
}

void detail::node_hub::connection_gone(std::uint64_t id)
{
    const auto it = connections_.find(id);
    if (it == connections_.end()) {
        return;
    }
    const auto count = per_address_.find(it->second.address);
    if (count != per_address_.end() && --count->second == 0) {
        per_address_.erase(count);
    }
    connections_.erase(it);
}

registry_status detail::node_hub::node_opened(const std::string& uid,
                                                  const std::shared_ptr<node_connection>& c)
{
    const auto status = service_.add_node(uid);
    if (status == registry_status::ok) {
        nodes_[uid] = c;
    }
    return status;
}

void detail::node_hub::node_closed(const std::string& uid)
{
    nodes_.erase(uid);
    service_.remove_node(uid);
}

ws_node_server::ws_node_server(net::io_context& ioc, gateway_service& service,
                               server_config config, std::shared_ptr<spdlog::logger> log)
    : hub_(std::make_shared<detail::node_hub>(ioc, service, std::move(config), std::move(log)))
{
    service.on_write([w = std::weak_ptr<detail::node_hub>(hub_)](const write_command& cmd) {
        if (auto self = w.lock()) {
            self->write(cmd);
        }
    });
}

ws_node_server::~ws_node_server()
{
    hub_->service().on_write({});
    hub_->stop();
}

void ws_node_server::start()
{
    hub_->start();
}

void ws_node_server::stop()
{
    hub_->stop();
}

void ws_node_server::add_metrics(common::metrics& registry, const std::string& prefix)
{
    using kind = common::metrics::kind;
    using refusal = detail::node_hub::refusal;
    const auto* hub = hub_.get();
    registry.computed(prefix + "handshakes_refused_total",
                      "Connections refused before a node was admitted (not an upgrade, wrong "
                      "path, failed handshake, per-address or table limit)",
                      kind::counter,
                      [hub] { return static_cast<double>(hub->refusals(refusal::handshake)); });
    registry.computed(prefix + "messages_refused_total",
                      "Node messages refused (invalid, binary, too large); the node is closed",
                      kind::counter,
                      [hub] { return static_cast<double>(hub->refusals(refusal::message)); });
}

std::uint16_t ws_node_server::port() const
{
    return hub_->port();
}

std::size_t ws_node_server::connection_count() const
{
    return hub_->connection_count();
}

} // namespace aiot::gw::ws
