#pragma once
// The brokers a gateway or the dashboard may use (--broker-host), in the
// order they are tried: "host", "host:port", "[v6]:port" entries separated
// by commas. Plain text in, plain data out: no resolution, no sockets.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace aiot::common {

struct broker_address {
    std::string host; // a name or an address; an IPv6 address without brackets
    std::uint16_t port = 8000;

    bool operator==(const broker_address&) const = default;
};

// More entries than this are refused (each is tried in turn, so a longer
// list only delays the failover).
inline constexpr std::size_t max_brokers = 16;

struct broker_list_result {
    std::vector<broker_address> brokers; // empty when error is set
    std::string error;                   // why the text was refused
    bool ok() const { return error.empty(); }
};

// Parses --broker-host. An entry without a port takes default_port. A lone
// IPv6 address without brackets ("::1", "fd00::1") is one host, as it was
// before lists existed; in a list, or with a port, it needs brackets
// ("[::1]:8000"). Spaces around entries are ignored. Refused, with the
// entry named in `error`: an empty list or entry, a port that is not a
// number in 1..65535, a host with characters no host name or address has
// ('/', '@', spaces, ...), a URL instead of a host, unbalanced brackets, the same broker twice, and
// more than max_brokers entries.
broker_list_result parse_broker_list(std::string_view text, std::uint16_t default_port);

// "host:port", or "[v6]:port": the authority of a URL (and the Host header).
std::string authority(const broker_address& broker);

} // namespace aiot::common
