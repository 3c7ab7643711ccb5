#pragma once
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace aiot::common {

// The pyaiot key file: INI with [keys] secret = ..., private = <Fernet key>.
struct key_pair {
    std::string secret;      // 32 ASCII letters and digits
    std::string private_key; // Fernet key (URL-safe base64 of 32 bytes)
};

// Thrown by load_keys/save_keys with a one-line, human-readable message.
class key_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// $HOME/.pyaiot/keys, as the original.
std::filesystem::path default_key_path();

key_pair generate_keys();

// Reads and checks the file: [keys] section, secret, private that is a
// valid Fernet key. Throws key_error naming the file and what is wrong.
key_pair load_keys(const std::filesystem::path& path);

// Parses the text of a key file (throws key_error; `origin` names it).
key_pair parse_keys(std::string_view text, const std::string& origin);

// Writes the file (parent folder created 0700, file 0600) through a
// temporary file renamed over the path: never half-written, never through
// a symbolic link. Refuses to replace an existing file unless overwrite
// is true, and never replaces anything but a regular file.
void save_keys(const key_pair& keys, const std::filesystem::path& path, bool overwrite);

// Warnings for a key file other users may read, or whose folder they may
// enter or list (empty when both are private). Log them at start.
std::vector<std::string> key_permission_warnings(const std::filesystem::path& path);

// Gateway token: Fernet(private).encrypt(secret).
std::string make_gateway_token(const key_pair& keys);

enum class token_check { valid, invalid, expired, from_future };
std::string_view to_string(token_check c);

// The broker's check with its reason: invalid (not a Fernet token under
// `private` with plaintext `secret`), or, for an authentic token with
// max_age_s set, expired or from_future (over 60 s ahead of now).
token_check check_gateway_token(const key_pair& keys, std::string_view token,
                                std::optional<std::uint64_t> max_age_s = {},
                                std::optional<std::uint64_t> now = {});

} // namespace aiot::common
