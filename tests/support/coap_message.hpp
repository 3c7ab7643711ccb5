#pragma once
// Just enough CoAP (RFC 7252) for simulated nodes (tests, load tools): encode
// a request or response with Uri-Path options and a payload, and decode
// what the gateway sends. The gateway itself uses libcoap.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace aiot::test {

enum class coap_type : std::uint8_t { con = 0, non = 1, ack = 2, rst = 3 };

struct coap_message {
    coap_type type = coap_type::non;
    std::uint8_t code = 0; // class << 5 | detail; 0.01 GET = 1, 0.02 POST = 2
    std::uint16_t mid = 0;
    std::string token;
    std::vector<std::string> path; // Uri-Path segments
    std::string payload;

    bool is_request() const { return code >= 1 && code <= 31; }
    bool is_response() const { return code >= 64; }
};

std::string encode(const coap_message& m);
std::optional<coap_message> decode(std::string_view bytes);

} // namespace aiot::test
