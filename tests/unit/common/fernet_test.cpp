#include "common/fernet.hpp"
#include "common/keys.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

using aiot::common::fernet;
using nlohmann::json;

namespace {

json load_cases()
{
    std::ifstream in(std::string(AIOT_TEST_DATA_DIR) + "/fernet_vectors.json");
    return json::parse(in).at("cases");
}

fernet::iv_type iv_from_hex(const std::string& hex)
{
    fernet::iv_type iv{};
    for (std::size_t i = 0; i < iv.size(); ++i) {
        iv[i] = static_cast<std::uint8_t>(std::stoi(hex.substr(2 * i, 2), nullptr, 16));
    }
    return iv;
}

} // namespace

TEST(fernet, vectors_decrypt_as_python_cryptography)
{
    const auto cases = load_cases();
    ASSERT_GE(cases.size(), 11u);
    for (const auto& c : cases) {
        SCOPED_TRACE(c.at("name").get<std::string>());
        const auto f = fernet::from_key(c.at("key").get<std::string>());
        ASSERT_TRUE(f);
        const auto plain = f->decrypt(c.at("token").get<std::string>());
        EXPECT_EQ(plain.has_value(), c.at("fernet_valid").get<bool>());
        const aiot::common::key_pair keys{c.at("secret"), c.at("key")};
        EXPECT_EQ(aiot::common::check_gateway_token(keys, c.at("token").get<std::string>()) ==
                      aiot::common::token_check::valid,
                  c.at("pyaiot_accepts").get<bool>());
        if (plain && c.contains("plaintext")) {
            EXPECT_EQ(*plain, c.at("plaintext").get<std::string>());
        }
    }
}

TEST(fernet, vectors_encrypt_byte_for_byte)
{
    int checked = 0;
    for (const auto& c : load_cases()) {
        if (!c.contains("iv_hex") || !c.at("fernet_valid").get<bool>()) {
            continue;
        }
        SCOPED_TRACE(c.at("name").get<std::string>());
        const auto f = fernet::from_key(c.at("key").get<std::string>());
        ASSERT_TRUE(f);
        const std::string plaintext =
            c.value("plaintext", c.at("secret").get<std::string>());
        EXPECT_EQ(f->encrypt(plaintext, c.at("timestamp").get<std::uint64_t>(),
                             iv_from_hex(c.at("iv_hex"))),
                  c.at("token").get<std::string>());
        ++checked;
    }
    EXPECT_EQ(checked, 4);
}

TEST(fernet, random_tokens_round_trip_and_differ)
{
    const auto keys = aiot::common::generate_keys();
    const auto t1 = aiot::common::make_gateway_token(keys);
    const auto t2 = aiot::common::make_gateway_token(keys);
    EXPECT_NE(t1, t2);
    EXPECT_EQ(t1.size(), 140u); // 105 bytes for a 32-character secret
    using aiot::common::token_check;
    EXPECT_EQ(aiot::common::check_gateway_token(keys, t1), token_check::valid);
    EXPECT_EQ(aiot::common::check_gateway_token(keys, t2), token_check::valid);
    const auto other = aiot::common::generate_keys();
    EXPECT_EQ(aiot::common::check_gateway_token(other, t1), token_check::invalid);
}

TEST(fernet, lenient_base64_like_python)
{
    const auto c = load_cases().at(1); // fixed_parts_ts1700000000_iv00to0f
    const auto f = fernet::from_key(c.at("key").get<std::string>());
    std::string token = c.at("token");
    token.insert(10, "!"); // Python drops characters outside the alphabet
    EXPECT_TRUE(f->decrypt(token));
    const auto unpadded = c.at("token").get<std::string>();
    EXPECT_TRUE(f->decrypt(unpadded)); // 140 characters: no padding needed
    EXPECT_FALSE(f->decrypt(unpadded.substr(0, 139))); // incorrect padding
    EXPECT_FALSE(f->decrypt(""));
    EXPECT_FALSE(f->decrypt("gAAAAA=="));
}

TEST(fernet, optional_maximum_age)
{
    const auto c = load_cases().at(1); // timestamp 1700000000
    const auto f = fernet::from_key(c.at("key").get<std::string>());
    const std::string token = c.at("token");
    EXPECT_TRUE(f->decrypt(token, 100, 1700000050));
    EXPECT_FALSE(f->decrypt(token, 10, 1700000050));
}

TEST(fernet, rejects_bad_keys)
{
    EXPECT_FALSE(fernet::from_key("short"));
    EXPECT_FALSE(fernet::from_key("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8")); // no padding
    EXPECT_TRUE(fernet::from_key("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="));
}
