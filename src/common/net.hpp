#pragma once
// The one way into Asio for the whole project (Beast: net_http.hpp, and
// net_ws.hpp for Beast's websocket stream).
// <utility> first: Boost 1.74's awaitable.hpp needs std::exchange (asio #944).
#include <utility>

#include <boost/asio.hpp>

namespace aiot {
namespace net = boost::asio;
using tcp = boost::asio::ip::tcp;
using error_code = boost::system::error_code;
} // namespace aiot
