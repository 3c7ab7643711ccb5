// Gateway token verification as the broker does it (check_gateway_token
// with the key file of tests/data/keys.ini), and Fernet keys as a key file
// gives them. Byte 0 picks the mode:
//   'T' the rest is a token's text (base64, version, length, HMAC);
//   'B' the rest is a token's bytes before its HMAC: the target signs them
//       with the right key, so that decryption and padding are reached;
//   'K' the rest is a Fernet key's text.
#include "common/base64.hpp"
#include "common/fernet.hpp"
#include "common/keys.hpp"
#include "fuzz_check.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace aiot::common;

const key_pair keys{"ECcNQf2suOoOOsgAwpIYiIP9K2zzSxxn",
                    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="};

void check_token(std::string_view token)
{
    static const auto f = fernet::from_key(keys.private_key);
    const auto plain = f->decrypt(token);
    const bool accepted = check_gateway_token(keys, token) == token_check::valid;
    AIOT_FUZZ_CHECK(accepted == (plain && *plain == keys.secret));
    const auto aged = f->decrypt(token, 60, 1'700'000'000);
    AIOT_FUZZ_CHECK(!aged || (plain && *aged == *plain));
    // An age limit only ever refuses more.
    AIOT_FUZZ_CHECK(accepted || check_gateway_token(keys, token, 60) != token_check::valid);
}

std::string signed_token(const std::uint8_t* data, std::size_t size)
{
    // The key's first 16 bytes sign (Fernet spec).
    const auto key = base64url_decode(keys.private_key);
    std::vector<std::uint8_t> token(data, data + size);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_size = 0;
    HMAC(EVP_sha256(), key->data(), 16, token.data(), token.size(), mac, &mac_size);
    token.insert(token.end(), mac, mac + mac_size);
    return base64url_encode(token);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size < 1) {
        return 0;
    }
    const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
    switch (data[0]) {
    case 'T':
        check_token(rest);
        break;
    case 'B':
        check_token(signed_token(data + 1, size - 1));
        break;
    case 'K':
        if (const auto f = fernet::from_key(rest)) {
            const fernet::iv_type iv{};
            const auto token = f->encrypt(rest, 1'700'000'000, iv);
            AIOT_FUZZ_CHECK(f->decrypt(token) == std::string(rest));
        }
        break;
    default:
        break;
    }
    return 0;
}
