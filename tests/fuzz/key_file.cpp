// The key file (INI, [keys] secret and private): any text either gives
// a key pair whose private key is a Fernet key, or throws key_error.
#include "common/fernet.hpp"
#include "common/keys.hpp"
#include "fuzz_check.hpp"
#include "fuzz_util.hpp"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using namespace aiot::common;
    const auto text = aiot::fuzz::as_text(data, size);
    try {
        const auto keys = parse_keys(text, "fuzz-keys");
        AIOT_FUZZ_CHECK(!keys.secret.empty());
        AIOT_FUZZ_CHECK(fernet::from_key(keys.private_key).has_value());
        // The pair works for a gateway token.
        AIOT_FUZZ_CHECK(check_gateway_token(keys, make_gateway_token(keys)) == token_check::valid);
    } catch (const key_error& e) {
        AIOT_FUZZ_CHECK(std::string_view(e.what()).starts_with("fuzz-keys"));
    }
    return 0;
}
