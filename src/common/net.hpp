#pragma once
// The one way into Asio and Beast for the whole project.
// <utility> first: Boost 1.74's awaitable.hpp needs std::exchange (asio #944).
#include <utility>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

namespace aiot {
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace websocket = boost::beast::websocket;
using tcp = boost::asio::ip::tcp;
} // namespace aiot
