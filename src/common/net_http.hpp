#pragma once
// Asio and Beast's core and HTTP, without Beast's websocket stream (which
// costs every translation unit that includes it several seconds of
// compiling: only net_ws.hpp brings it). websocket::is_upgrade and the
// close codes (rfc6455.hpp, small) are here for HTTP servers that upgrade.
#include "common/net.hpp"

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

namespace aiot {
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace websocket = boost::beast::websocket;
} // namespace aiot
