#include "keys.hpp"

#include "base64.hpp"
#include "fernet.hpp"
#include "text.hpp"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <array>
#include <chrono>
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
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0) {
        if (!overwrite) {
            throw key_error("key file " + path.string() +
                            " already exists (use --force to replace it)");
        }
        if (!S_ISREG(st.st_mode)) {
            throw key_error("key file " + path.string() +
                            " is not a regular file (a symbolic link?); refusing to replace it");
        }
    }
    // Written beside the target, then renamed over it: a full disk or a
    // crash never leaves a half-written key file, and a symbolic link at
    // the path is never followed.
    std::string tmp = (dir.empty() ? std::filesystem::path(".") : dir).string() +
                      "/.keys-XXXXXX";
    const int fd = ::mkstemp(tmp.data());
    if (fd < 0) {
        throw key_error("cannot write key file " + path.string() + ": " + std::strerror(errno));
    }
    ::fchmod(fd, 0600);
    const std::string text =
        "[keys]\nsecret = " + keys.secret + "\nprivate = " + keys.private_key + "\n\n";
    const auto written = ::write(fd, text.data(), text.size());
    bool ok = written == static_cast<ssize_t>(text.size());
    int err = ok ? 0 : (written < 0 ? errno : ENOSPC);
    if (ok && ::fsync(fd) != 0) {
        ok = false;
        err = errno;
    }
    ::close(fd);
    if (ok) {
        const int r = overwrite ? ::rename(tmp.c_str(), path.c_str())
                                : ::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, path.c_str(),
                                              RENAME_NOREPLACE);
        if (r != 0) {
            ok = false;
            err = errno;
        }
    }
    if (!ok) {
        ::unlink(tmp.c_str());
        if (err == EEXIST) {
            throw key_error("key file " + path.string() +
                            " already exists (use --force to replace it)");
        }
        throw key_error("cannot write key file " + path.string() + ": " + std::strerror(err));
    }
}

std::vector<std::string> key_permission_warnings(const std::filesystem::path& path)
{
    std::vector<std::string> warnings;
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 0077) != 0) {
        warnings.push_back(fmt::format("key file {} has mode {:03o}: other users may read the "
                                       "secret (chmod 600 it)",
                                       path.string(), st.st_mode & 0777));
    }
    const auto dir = path.parent_path();
    if (!dir.empty() && ::stat(dir.c_str(), &st) == 0 && (st.st_mode & 0077) != 0) {
        warnings.push_back(fmt::format("key folder {} has mode {:03o}: other users may reach the "
                                       "key file (chmod 700 it)",
                                       dir.string(), st.st_mode & 0777));
    }
    return warnings;
}

std::string make_gateway_token(const key_pair& keys)
{
    const auto f = fernet::from_key(keys.private_key);
    if (!f) {
        throw key_error("keys.private is not a Fernet key");
    }
    return f->encrypt(keys.secret);
}

token_check check_gateway_token(const key_pair& keys, std::string_view token,
                                std::optional<std::uint64_t> max_age_s,
                                std::optional<std::uint64_t> now)
{
    const auto f = fernet::from_key(keys.private_key);
    if (!f) {
        return token_check::invalid;
    }
    // Authenticity first, age after: "expired" then always means a genuine
    // token (a clock or age problem, not a key mismatch).
    const auto plain = f->decrypt(token);
    if (!plain || plain->size() != keys.secret.size() ||
        CRYPTO_memcmp(plain->data(), keys.secret.data(), plain->size()) != 0) {
        return token_check::invalid;
    }
    if (max_age_s) {
        const auto ts = fernet::timestamp(token).value_or(0);
        const auto t = now.value_or(static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::seconds>(
                std::chrono::system_clock::now().time_since_epoch())
                .count()));
        if (ts + *max_age_s < t) {
            return token_check::expired;
        }
        if (ts > t + fernet::max_clock_skew_s) {
            return token_check::from_future;
        }
    }
    return token_check::valid;
}

std::string_view to_string(token_check c)
{
    switch (c) {
    case token_check::valid: return "valid";
    case token_check::invalid: return "invalid token (wrong key or secret, or damaged)";
    case token_check::expired: return "expired token (older than --token-max-age)";
    case token_check::from_future: return "token dated in the future (clock skew over 60 s)";
    }
    return "?";
}

} // namespace aiot::common
