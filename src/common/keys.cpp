#include "keys.hpp"

#include "base64.hpp"
#include "fernet.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace aiot::common {
namespace {

std::string_view trim(std::string_view s)
{
    const auto b = s.find_first_not_of(" \t\r\n");
    if (b == std::string_view::npos) {
        return {};
    }
    const auto e = s.find_last_not_of(" \t\r\n");
    return s.substr(b, e - b + 1);
}

void random_bytes(std::uint8_t* out, std::size_t n)
{
    if (RAND_bytes(out, static_cast<int>(n)) != 1) {
        throw key_error("cannot get random bytes from OpenSSL");
    }
}

} // namespace

std::filesystem::path default_key_path()
{
    const char* home = std::getenv("HOME");
    return std::filesystem::path(home != nullptr && *home != '\0' ? home : ".") / ".pyaiot" /
           "keys";
}

key_pair generate_keys()
{
    static constexpr std::string_view chars =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    key_pair keys;
    while (keys.secret.size() < 32) {
        std::uint8_t b = 0;
        random_bytes(&b, 1);
        if (b < 248) { // 248 = 4 * 62: no modulo bias
            keys.secret += chars[b % chars.size()];
        }
    }
    std::array<std::uint8_t, 32> key{};
    random_bytes(key.data(), key.size());
    keys.private_key = base64url_encode(key);
    return keys;
}

key_pair parse_keys(std::string_view text, const std::string& origin)
{
    std::optional<std::string> secret;
    std::optional<std::string> priv;
    bool in_keys = false;
    bool saw_section = false;
    std::size_t line_no = 0;
    while (!text.empty()) {
        const auto nl = text.find('\n');
        const auto line = trim(text.substr(0, nl));
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        ++line_no;
        if (line.empty() || line[0] == '#' || line[0] == ';') {
            continue;
        }
        if (line.front() == '[') {
            if (line.back() != ']') {
                throw key_error(origin + ":" + std::to_string(line_no) + ": malformed section header");
            }
            in_keys = trim(line.substr(1, line.size() - 2)) == "keys";
            saw_section = saw_section || in_keys;
            continue;
        }
        auto sep = line.find_first_of("=:");
        if (sep == std::string_view::npos) {
            throw key_error(origin + ":" + std::to_string(line_no) + ": expected 'name = value'");
        }
        if (!in_keys) {
            continue;
        }
        const auto name = trim(line.substr(0, sep));
        const auto value = std::string(trim(line.substr(sep + 1)));
        if (name == "secret") {
            secret = value;
        } else if (name == "private") {
            priv = value;
        }
    }
    if (!saw_section) {
        throw key_error(origin + ": no [keys] section (run aiot-generate-keys)");
    }
    if (!secret || secret->empty()) {
        throw key_error(origin + ": missing keys.secret (run aiot-generate-keys)");
    }
    if (!priv || priv->empty()) {
        throw key_error(origin + ": missing keys.private (run aiot-generate-keys)");
    }
    if (!fernet::from_key(*priv)) {
        throw key_error(origin + ": keys.private is not a Fernet key "
                                 "(URL-safe base64 of 32 bytes)");
    }
    return {*secret, *priv};
}

key_pair load_keys(const std::filesystem::path& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw key_error("cannot read key file " + path.string() + ": " + std::strerror(errno) +
                        " (run aiot-generate-keys)");
    }
    std::ostringstream text;
    text << in.rdbuf();
    return parse_keys(text.str(), path.string());
}

void save_keys(const key_pair& keys, const std::filesystem::path& path, bool overwrite)
{
    std::error_code ec;
    const auto dir = path.parent_path();
    if (!dir.empty() && !std::filesystem::exists(dir, ec)) {
        std::filesystem::create_directories(dir, ec);
        if (ec) {
            throw key_error("cannot create folder " + dir.string() + ": " + ec.message());
        }
        ::chmod(dir.c_str(), 0700);
    }
    const int flags = O_WRONLY | O_CREAT | (overwrite ? O_TRUNC : O_EXCL);
    const int fd = ::open(path.c_str(), flags, 0600);
    if (fd < 0) {
        if (errno == EEXIST) {
            throw key_error("key file " + path.string() +
                            " already exists (use --force to replace it)");
        }
        throw key_error("cannot write key file " + path.string() + ": " + std::strerror(errno));
    }
    ::fchmod(fd, 0600);
    const std::string text =
        "[keys]\nsecret = " + keys.secret + "\nprivate = " + keys.private_key + "\n\n";
    const auto written = ::write(fd, text.data(), text.size());
    const bool ok = written == static_cast<ssize_t>(text.size());
    const int err = errno;
    ::close(fd);
    if (!ok) {
        throw key_error("cannot write key file " + path.string() + ": " + std::strerror(err));
    }
}

std::string make_gateway_token(const key_pair& keys)
{
    const auto f = fernet::from_key(keys.private_key);
    if (!f) {
        throw key_error("keys.private is not a Fernet key");
    }
    return f->encrypt(keys.secret);
}

bool verify_gateway_token(const key_pair& keys, std::string_view token,
                          std::optional<std::uint64_t> max_age_s)
{
    const auto f = fernet::from_key(keys.private_key);
    if (!f) {
        return false;
    }
    const auto plain = f->decrypt(token, max_age_s);
    return plain && plain->size() == keys.secret.size() &&
           CRYPTO_memcmp(plain->data(), keys.secret.data(), plain->size()) == 0;
}

} // namespace aiot::common
