#pragma once
// Beast's websocket stream, for its users alone: the gateways' broker
// uplink and websocket node server, and test and bench peers.
#include "common/net_http.hpp"

#include <boost/beast/websocket.hpp>
