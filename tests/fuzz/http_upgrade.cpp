// The broker's opening handshake: Beast's request parser with the broker's
// limits (as http_session reads it), then the checks and the answer the
// broker builds from the request (path, upgrade, version, key, the
// gateway's token header, the browser's subprotocol). The 101 answer must
// stay one well-formed HTTP head whatever the request held.
#include "broker/ws/handshake.hpp"
#include "common/net_http.hpp"
#include "broker/ws/frame.hpp"
#include "fuzz_check.hpp"
#include "broker/ws/client_handshake.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

using namespace aiot;

namespace {

std::string_view sv(boost::beast::string_view s) { return {s.data(), s.size()}; }

// Every line ends with CRLF, no CR or LF elsewhere, one empty line at the end.
bool well_formed_head(std::string_view head)
{
    if (!head.ends_with("\r\n\r\n")) {
        return false;
    }
    const auto body = head.substr(0, head.size() - 4);
    for (std::size_t i = 0; i < body.size(); ++i) {
        if (body[i] == '\n') {
            return false; // every LF in the head is part of a CRLF checked below
        }
        if (body[i] == '\r') {
            if (i + 1 >= body.size() || body[i + 1] != '\n') {
                return false;
            }
            if (i + 2 < body.size() && body[i + 2] == '\r') {
                return false; // an empty line inside the head
            }
            ++i;
        }
    }
    return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    namespace ws = broker::ws;
    http::request_parser<http::string_body> parser;
    parser.body_limit(4096); // http_session's max_request_body
    beast::error_code ec;
    std::size_t pos = 0;
    // Beast is given the bytes as a socket read would: whatever is left.
    while (pos < size && !parser.is_done()) {
        const auto used = parser.put(net::buffer(data + pos, size - pos), ec);
        pos += used;
        if (ec == http::error::need_more) {
            ec = {};
            break;
        }
        if (ec || used == 0) {
            break;
        }
    }
    if (!ec && !parser.is_done()) {
        parser.put_eof(ec);
    }
    if (ec || !parser.is_done()) {
        return 0;
    }
    const auto& req = parser.get();
    const auto target = sv(req.target());
    const auto path = target.substr(0, target.find('?'));
    if (path != "/ws" && path != "/gw") {
        return 0;
    }
    if (!websocket::is_upgrade(req) || req[http::field::sec_websocket_version] != "13") {
        return 0;
    }
    const auto key = sv(req[http::field::sec_websocket_key]);
    if (!ws::valid_client_key(key)) {
        return 0;
    }
    const auto protocols = sv(req[http::field::sec_websocket_protocol]);
    std::string_view subprotocol = "token";
    if (path == "/ws") {
        subprotocol = aiot::broker::first_subprotocol(protocols);
        AIOT_FUZZ_CHECK(subprotocol.size() <= protocols.size());
        const auto window = aiot::broker::client_batch_window(target);
        AIOT_FUZZ_CHECK(window.count() >= 0 && window <= aiot::broker::max_batch_window);
    } else if (const auto token = aiot::broker::gateway_token(protocols)) {
        AIOT_FUZZ_CHECK(!token->empty() && token->find(',') == std::string_view::npos);
        AIOT_FUZZ_CHECK(token->front() != ' ' && token->back() != ' ');
    }
    const auto answer = aiot::broker::switching_protocols(key, subprotocol);
    AIOT_FUZZ_CHECK(answer.starts_with("HTTP/1.1 101 Switching Protocols\r\n"));
    AIOT_FUZZ_CHECK(answer.find("Sec-WebSocket-Accept: " + ws::accept_key(key) + "\r\n") !=
                    std::string::npos);
    AIOT_FUZZ_CHECK(well_formed_head(answer));
    // A client checking that answer with its own key accepts it.
    AIOT_FUZZ_CHECK(broker::ws::client_handshake_accepted(answer, key));
    return 0;
}
