#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace aiot::common {

// URL-safe base64 ('-' and '_') with '=' padding, as Python's
// base64.urlsafe_b64encode writes it.
std::string base64url_encode(std::span<const std::uint8_t> bytes);

// Decodes the way Python's base64.urlsafe_b64decode does: characters outside
// the alphabet are skipped, '+' and '/' are accepted as well, and the data
// must be padded to a whole quantum with '='. std::nullopt on bad padding.
std::optional<std::vector<std::uint8_t>> base64url_decode(std::string_view text);

// Standard base64 (RFC 4648 section 4), used by the websocket handshake.
std::string base64_encode(std::span<const std::uint8_t> bytes);

} // namespace aiot::common
