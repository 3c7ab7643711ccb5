#pragma once
// Asio's OpenSSL stream, for the TLS users alone (the broker's listener,
// the broker uplink, test and bench peers): they link OpenSSL::SSL.
#include "common/net.hpp"

#include <boost/asio/ssl.hpp>

namespace aiot {
namespace ssl = boost::asio::ssl;
} // namespace aiot
