#pragma once
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

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

// Writes the file (parent folder created 0700, file 0600). Refuses to
// replace an existing file unless overwrite is true.
void save_keys(const key_pair& keys, const std::filesystem::path& path, bool overwrite);

// Gateway token: Fernet(private).encrypt(secret).
std::string make_gateway_token(const key_pair& keys);

// The broker's check: token is a valid Fernet token under `private` whose
// plaintext equals `secret` (constant-time compare). With max_age_s, older
// tokens are refused too (the original never checks the age).
bool verify_gateway_token(const key_pair& keys, std::string_view token,
                          std::optional<std::uint64_t> max_age_s = {});

} // namespace aiot::common
