#include "common/keys.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sys/stat.h>

using namespace aiot::common;
namespace fs = std::filesystem;

namespace {

class temp_dir {
public:
    temp_dir()
    {
        char tmpl[] = "/tmp/aiot-keys-XXXXXX";
        path_ = ::mkdtemp(tmpl);
    }
    ~temp_dir() { fs::remove_all(path_); }
    const fs::path& path() const { return path_; }

private:
    fs::path path_;
};

std::string error_of(const std::string& text)
{
    try {
        parse_keys(text, "keys");
    } catch (const key_error& e) {
        return e.what();
    }
    return {};
}

} // namespace

TEST(keys, generated_keys_have_the_original_shape)
{
    const auto k = generate_keys();
    EXPECT_EQ(k.secret.size(), 32u);
    for (const char c : k.secret) {
        EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)));
    }
    EXPECT_EQ(k.private_key.size(), 44u);
    EXPECT_EQ(k.private_key.back(), '=');
    EXPECT_NE(generate_keys().secret, k.secret);
}

TEST(keys, reads_the_vector_key_file)
{
    const auto k = load_keys(std::string(AIOT_TEST_DATA_DIR) + "/keys.ini");
    EXPECT_EQ(k.secret, "ECcNQf2suOoOOsgAwpIYiIP9K2zzSxxn");
    EXPECT_EQ(k.private_key, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=");
}

TEST(keys, save_then_load_with_private_modes)
{
    temp_dir tmp;
    const auto path = tmp.path() / "sub" / "keys";
    const auto k = generate_keys();
    save_keys(k, path, false);
    struct stat st{};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    ASSERT_EQ(::stat(path.parent_path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    const auto back = load_keys(path);
    EXPECT_EQ(back.secret, k.secret);
    EXPECT_EQ(back.private_key, k.private_key);
    EXPECT_THROW(save_keys(generate_keys(), path, false), key_error);
    const auto k2 = generate_keys();
    save_keys(k2, path, true);
    EXPECT_EQ(load_keys(path).secret, k2.secret);
}

TEST(keys, clear_errors_for_bad_files)
{
    EXPECT_NE(error_of("").find("no [keys] section"), std::string::npos);
    EXPECT_NE(error_of("[keys]\nprivate = AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n")
                  .find("missing keys.secret"),
              std::string::npos);
    EXPECT_NE(error_of("[keys]\nsecret = abc\n").find("missing keys.private"),
              std::string::npos);
    EXPECT_NE(error_of("[keys]\nsecret = abc\nprivate = nope\n").find("not a Fernet key"),
              std::string::npos);
    EXPECT_NE(error_of("[keys\n").find("malformed section"), std::string::npos);
    try {
        load_keys("/nonexistent/aiot/keys");
        FAIL();
    } catch (const key_error& e) {
        EXPECT_NE(std::string(e.what()).find("/nonexistent/aiot/keys"), std::string::npos);
    }
}
