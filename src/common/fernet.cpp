#include "fernet.hpp"

#include "base64.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <vector>

namespace aiot::common {
namespace {

constexpr std::uint8_t version_byte = 0x80;
constexpr std::size_t header_size = 1 + 8 + 16; // version, timestamp, IV
constexpr std::size_t hmac_size = 32;

using cipher_ctx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

std::array<std::uint8_t, hmac_size> sign(const std::array<std::uint8_t, 16>& key,
                                         const std::uint8_t* data, std::size_t size)
{
    std::array<std::uint8_t, hmac_size> mac{};
    unsigned int len = 0;
    if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), data, size, mac.data(),
             &len) == nullptr ||
        len != mac.size()) {
        throw std::runtime_error("HMAC-SHA256 failed");
    }
    return mac;
}

std::uint64_t unix_now()
{
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
}

} // namespace

std::optional<fernet> fernet::from_key(std::string_view key_b64)
{
    const auto raw = base64url_decode(key_b64);
    if (!raw || raw->size() != 32) {
        return std::nullopt;
    }
    fernet f;
    std::copy(raw->begin(), raw->begin() + 16, f.signing_key_.begin());
    std::copy(raw->begin() + 16, raw->end(), f.encryption_key_.begin());
    return f;
}

std::string fernet::encrypt(std::string_view plaintext) const
{
    iv_type iv{};
    if (RAND_bytes(iv.data(), static_cast<int>(iv.size())) != 1) {
        throw std::runtime_error("RAND_bytes failed");
    }
    return encrypt(plaintext, unix_now(), iv);
}

std::string fernet::encrypt(std::string_view plaintext, std::uint64_t timestamp,
                            const iv_type& iv) const
{
    std::vector<std::uint8_t> token(header_size + plaintext.size() + 16 + hmac_size);
    token[0] = version_byte;
    for (int i = 0; i < 8; ++i) {
        token[1 + i] = static_cast<std::uint8_t>(timestamp >> (56 - 8 * i));
    }
    std::copy(iv.begin(), iv.end(), token.begin() + 9);

    cipher_ctx ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
    int out1 = 0;
    int out2 = 0;
    if (!ctx ||
        EVP_EncryptInit_ex(ctx.get(), EVP_aes_128_cbc(), nullptr, encryption_key_.data(),
                           iv.data()) != 1 ||
        EVP_EncryptUpdate(ctx.get(), token.data() + header_size, &out1,
                          reinterpret_cast<const unsigned char*>(plaintext.data()),
                          static_cast<int>(plaintext.size())) != 1 ||
        EVP_EncryptFinal_ex(ctx.get(), token.data() + header_size + out1, &out2) != 1) {
        throw std::runtime_error("AES-128-CBC encryption failed");
    }
    const std::size_t body = header_size + static_cast<std::size_t>(out1 + out2);
    const auto mac = sign(signing_key_, token.data(), body);
    std::copy(mac.begin(), mac.end(), token.begin() + static_cast<std::ptrdiff_t>(body));
    token.resize(body + hmac_size);
    return base64url_encode(token);
}

std::optional<std::uint64_t> fernet::timestamp(std::string_view token)
{
    const auto raw = base64url_decode(token);
    if (!raw || raw->size() < header_size || (*raw)[0] != version_byte) {
        return std::nullopt;
    }
    std::uint64_t ts = 0;
    for (int i = 0; i < 8; ++i) {
        ts = (ts << 8) | (*raw)[1 + i];
    }
    return ts;
}

std::optional<std::string> fernet::decrypt(std::string_view token,
                                           std::optional<std::uint64_t> max_age_s,
                                           std::optional<std::uint64_t> now) const
{
    const auto raw = base64url_decode(token);
    if (!raw || raw->size() < header_size + 16 + hmac_size || (*raw)[0] != version_byte ||
        (raw->size() - header_size - hmac_size) % 16 != 0) {
        return std::nullopt;
    }
    const auto& data = *raw;
    if (max_age_s) {
        std::uint64_t ts = 0;
        for (int i = 0; i < 8; ++i) {
            ts = (ts << 8) | data[1 + i];
        }
        const std::uint64_t t = now.value_or(unix_now());
        if (ts + *max_age_s < t || ts > t + max_clock_skew_s) {
            return std::nullopt;
        }
    }
    const std::size_t body = data.size() - hmac_size;
    const auto mac = sign(signing_key_, data.data(), body);
    if (CRYPTO_memcmp(mac.data(), data.data() + body, hmac_size) != 0) {
        return std::nullopt;
    }

    cipher_ctx ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
    std::string plain(body - header_size, '\0');
    int out1 = 0;
    int out2 = 0;
    auto* out = reinterpret_cast<unsigned char*>(plain.data());
    if (!ctx ||
        EVP_DecryptInit_ex(ctx.get(), EVP_aes_128_cbc(), nullptr, encryption_key_.data(),
                           data.data() + 9) != 1 ||
        EVP_DecryptUpdate(ctx.get(), out, &out1, data.data() + header_size,
                          static_cast<int>(body - header_size)) != 1 ||
        EVP_DecryptFinal_ex(ctx.get(), out + out1, &out2) != 1) {
        return std::nullopt; // bad PKCS#7 padding
    }
    plain.resize(static_cast<std::size_t>(out1 + out2));
    return plain;
}

} // namespace aiot::common
