#pragma once
// CoRE link format (RFC 6690), as a node answers GET /.well-known/core:
//   </board>;rt="x",</led>;if=actuator;title="a, b";obs
// Tolerant of blanks and newlines between items, quoted values (commas and
// semicolons inside quotes, backslash escapes) and empty attributes. Damaged
// items are skipped and counted; the rest is kept. No I/O.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace aiot::gw::coap {

struct link_param {
    std::string name;
    std::optional<std::string> value; // nullopt: a bare attribute (";obs")
};

struct link {
    std::string target; // what stood between '<' and '>', blanks trimmed
    std::vector<link_param> params;

    // The first value of attribute `name`; nullptr if absent or bare.
    const std::string* param(std::string_view name) const;
};

struct link_list {
    std::vector<link> links;
    std::size_t errors = 0; // damaged items that were skipped
};

// At most max_links links are kept (later ones are counted as errors).
link_list parse_link_format(std::string_view text, std::size_t max_links = 256);

// The resource paths to read from a discovery answer, without the leading
// '/': only targets that are absolute paths on the node itself ("</board>"),
// not "/.well-known/core", not links elsewhere ("<coap://other/x>",
// "<//host/x>", "<https://...>"), not relative references ("<x>"), not
// targets with a query or fragment; no duplicates; at most max_paths.
std::vector<std::string> local_paths(const std::vector<link>& links, std::size_t max_paths);

} // namespace aiot::gw::coap
