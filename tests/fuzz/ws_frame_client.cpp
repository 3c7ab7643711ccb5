// A websocket client's view of a server (the gateways' uplink, the load
// tools): the handshake answer up to the first empty line, checked with
// client_handshake_accepted, then unmasked frames for the client decoder.
#include "broker/ws/frame.hpp"
#include "broker/ws/client_handshake.hpp"
#include "fuzz_check.hpp"
#include "ws_frame_checks.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ws = aiot::broker::ws;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto end = text.find("\r\n\r\n");
    if (end == std::string_view::npos) {
        aiot::broker::ws::client_handshake_accepted(text, "dGhlIHNhbXBsZSBub25jZQ==");
        return 0;
    }
    const auto head = text.substr(0, end + 2);
    if (aiot::broker::ws::client_handshake_accepted(head, "dGhlIHNhbXBsZSBub25jZQ==")) {
        // Only a 101 with the right accept key lets frames through.
        AIOT_FUZZ_CHECK(head.starts_with("HTTP/1.1 101"));
        AIOT_FUZZ_CHECK(head.find("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") != std::string_view::npos);
    }
    const std::size_t rest = end + 4;
    if (rest >= size) {
        return 0;
    }
    return aiot::fuzz::feed_decoder(ws::role::client, data + rest, size - rest);
}
