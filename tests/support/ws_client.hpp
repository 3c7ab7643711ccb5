#pragma once
// A websocket client for end-to-end tests (Beast, its own io_context, every
// call bounded by a timeout). A read is always pending in the background, so
// messages and the peer's close are seen whenever the client runs.
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace aiot::test {

class ws_client {
public:
    using json = nlohmann::json;
    using milliseconds = std::chrono::milliseconds;

    struct handshake_result {
        bool ok = false;
        unsigned status = 0;     // HTTP status of the answer (101 when accepted, 0 if none)
        std::string subprotocol; // the answer's Sec-WebSocket-Protocol
        std::string body;        // the answer's body when refused
        std::string error;       // what went wrong when !ok
        explicit operator bool() const { return ok; }
    };

    ws_client();
    ~ws_client();
    ws_client(const ws_client&) = delete;
    ws_client& operator=(const ws_client&) = delete;

    // Connections made from now on leave from this local IP address (e.g.
    // "127.0.0.2", to play a second peer on loopback).
    void set_local_address(std::string address) { local_address_ = std::move(address); }

    // Connects to ws://host:port<target>. subprotocol, when given, is sent
    // verbatim as Sec-WebSocket-Protocol (e.g. "token, gAAAA..."). May be
    // called again (after a refusal or a close) to start a new connection.
    handshake_result connect(const std::string& host, std::uint16_t port,
                             const std::string& target = "/ws",
                             std::optional<std::string> subprotocol = std::nullopt,
                             milliseconds timeout = std::chrono::seconds(5));

    // Sends one text message; false if not sent within the timeout.
    bool send(std::string_view text, milliseconds timeout = std::chrono::seconds(5));
    bool send_json(const json& value, milliseconds timeout = std::chrono::seconds(5));

    // The next text message, or std::nullopt on timeout or close.
    std::optional<std::string> receive(milliseconds timeout = std::chrono::seconds(5));
    // The next message parsed as JSON (std::nullopt also if it is not JSON).
    std::optional<json> receive_json(milliseconds timeout = std::chrono::seconds(5));
    // Skips messages until one satisfies pred.
    std::optional<json> wait_for(const std::function<bool(const json&)>& pred,
                                 milliseconds timeout = std::chrono::seconds(5));
    // Messages already received and not read yet (runs ready handlers first).
    std::size_t pending();

    // Waits until the connection has ended (messages stay readable).
    bool wait_closed(milliseconds timeout = std::chrono::seconds(5));
    bool is_open() const;
    // After the connection ended: the peer's close code (1006 when it ended
    // without a close frame) and reason. std::nullopt while open.
    std::optional<std::uint16_t> close_code() const;
    std::string close_reason() const;

    // Starts a clean close (code 1000) and waits for it to finish.
    void close(milliseconds timeout = std::chrono::seconds(5));

private:
    struct impl;
    std::unique_ptr<impl> impl_;
    std::string local_address_;
};

} // namespace aiot::test
