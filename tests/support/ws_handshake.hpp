#pragma once
// The client's side of the websocket opening handshake for the raw-socket
// test and bench clients: the codec's own (broker/ws/client_handshake.hpp).
#include "broker/ws/client_handshake.hpp"

namespace aiot::test {

using broker::ws::client_handshake_accepted;
using broker::ws::client_handshake_request;

} // namespace aiot::test
