#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace aiot::common {

// Fernet (github.com/fernet/spec) on OpenSSL, byte for byte what Python's
// `cryptography` makes. A token is valid forever unless a maximum age is given.
class fernet {
public:
    using iv_type = std::array<std::uint8_t, 16>;

    // key: URL-safe base64 of 32 bytes. std::nullopt if it is not one.
    static std::optional<fernet> from_key(std::string_view key_b64);

    // Random IV, current time.
    std::string encrypt(std::string_view plaintext) const;
    // Fixed parts, for tests and reproducible tokens.
    std::string encrypt(std::string_view plaintext, std::uint64_t timestamp,
                        const iv_type& iv) const;

    // Python's cryptography refuses, when a ttl is given, tokens dated more
    // than this many seconds in the future.
    static constexpr std::uint64_t max_clock_skew_s = 60;

    // The plaintext, or std::nullopt for any invalid token (bad base64,
    // version, length, HMAC or padding). With max_age_s, a token whose
    // timestamp is older than now - max_age_s, or later than now +
    // max_clock_skew_s, is also invalid.
    std::optional<std::string> decrypt(std::string_view token,
                                       std::optional<std::uint64_t> max_age_s = {},
                                       std::optional<std::uint64_t> now = {}) const;

    // The timestamp written in a token (not verified: check it with decrypt).
    static std::optional<std::uint64_t> timestamp(std::string_view token);

private:
    std::array<std::uint8_t, 16> signing_key_{};
    std::array<std::uint8_t, 16> encryption_key_{};
};

} // namespace aiot::common
