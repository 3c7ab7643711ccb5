#pragma once
// The texts CoAP nodes post to the gateway (PROTOCOL.md section 4), parsed
// without I/O, and small text helpers for what comes off the network.
#include "common/text.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace aiot::gw::coap {

using common::printable;
using common::to_valid_utf8;

// POST /alive: `alive:<uid>` or `reset:<uid>`.
struct alive_payload {
    bool reset = false; // the payload starts with "reset"
    std::string uid;    // the text after the last ':', blanks trimmed
};

// POST /server: `<resource>:<value>`, split at the first ':'.
struct server_payload {
    std::string resource; // blanks trimmed
    std::string value;    // as sent (may be empty)
};

// A parsed value, or why the text was refused.
template <class T>
struct parsed {
    std::optional<T> value;
    std::string error;

    explicit operator bool() const { return value.has_value(); }
};

// Refused: no ':', an empty uid, a uid that is not UTF-8 or holds control
// characters. Anything not starting with "reset" is an alive ("Alive:12").
parsed<alive_payload> parse_alive(std::string_view payload);

// Refused: no ':', an empty resource name, a name that is not UTF-8 or holds
// control characters. The value is not checked (see common::to_valid_utf8).
parsed<server_payload> parse_server(std::string_view payload);

// A resource path ("sensors/temp%20c") as Uri-Path segments, each
// percent-decoded; empty segments are dropped.
std::vector<std::string> split_path(std::string_view path);

} // namespace aiot::gw::coap
