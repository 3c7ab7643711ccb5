#pragma once
// Turns a request target into the path segments of a file under the web
// root, refusing anything that could leave it.
#include <string>
#include <string_view>
#include <vector>

namespace aiot::dashboard {

enum class path_status {
    ok,
    bad_request, // not origin-form, bad percent escape, NUL or control byte
    forbidden,   // "." / ".." segment, encoded slash, backslash, hidden name
};

struct url_path {
    path_status status = path_status::ok;
    std::vector<std::string> segments; // decoded, none empty; empty for "/"
    std::string reason;                // why it was refused (for the log)
    bool trailing_slash = false;
};

// Parses the path of an origin-form target ("/a/b%20c.js?x=1#y"): the query
// and fragment are dropped, each segment is percent-decoded on its own.
url_path parse_url_path(std::string_view target);

} // namespace aiot::dashboard
