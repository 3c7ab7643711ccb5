// The broker's TLS setup without sockets: the options' check, the startup
// errors, and the reason a failed handshake is counted under.
#include "broker/tls.hpp"

#include <gtest/gtest.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <stdexcept>

namespace aiot::broker {
namespace {

error_code ssl_error(int reason)
{
    return {static_cast<int>(ERR_PACK(ERR_LIB_SSL, 0, reason)), net::error::get_ssl_category()};
}

TEST(tls_options, both_or_neither)
{
    EXPECT_FALSE(tls_options_problem("", ""));
    EXPECT_FALSE(tls_options_problem("c.pem", "k.pem"));
    const auto no_key = tls_options_problem("c.pem", "");
    ASSERT_TRUE(no_key);
    EXPECT_NE(no_key->find("--tls-key is not"), std::string::npos) << *no_key;
    const auto no_cert = tls_options_problem("", "k.pem");
    ASSERT_TRUE(no_cert);
    EXPECT_NE(no_cert->find("--tls-cert is not"), std::string::npos) << *no_cert;
}

TEST(tls_context, missing_file_names_option_and_file)
{
    try {
        make_server_tls_context("/nonexistent/cert.pem", "/nonexistent/key.pem");
        FAIL() << "no exception";
    } catch (const std::runtime_error& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("--tls-cert '/nonexistent/cert.pem'"), std::string::npos) << what;
        EXPECT_NE(what.find("No such file"), std::string::npos) << what;
    }
}

TEST(tls_context, file_that_is_not_pem_is_refused)
{
    const std::string junk = AIOT_TEST_DATA_DIR "/../unit/broker/tls_test.cpp"; // any text
    try {
        make_server_tls_context(junk, junk);
        FAIL() << "no exception";
    } catch (const std::runtime_error& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("cannot use --tls-cert"), std::string::npos) << what;
    }
}

TEST(tls_refusal_reason, by_openssl_reason)
{
    EXPECT_EQ(tls_refusal_reason(ssl_error(SSL_R_HTTP_REQUEST), false), "not_tls");
    EXPECT_EQ(tls_refusal_reason(ssl_error(SSL_R_WRONG_VERSION_NUMBER), false), "not_tls");
    EXPECT_EQ(tls_refusal_reason(ssl_error(SSL_R_UNSUPPORTED_PROTOCOL), false),
              "protocol_version");
    EXPECT_EQ(tls_refusal_reason(ssl_error(SSL_R_VERSION_TOO_LOW), false), "protocol_version");
    EXPECT_EQ(tls_refusal_reason(ssl_error(SSL_R_NO_SHARED_CIPHER), false), "no_shared_cipher");
    EXPECT_EQ(tls_refusal_reason(ssl_error(SSL_R_TLSV1_ALERT_UNKNOWN_CA), false),
              "certificate_refused");
    EXPECT_EQ(tls_refusal_reason(ssl_error(SSL_R_BAD_SIGNATURE), false), "other");
}

TEST(tls_refusal_reason, timeout_and_closed)
{
    // The deadline closes the socket: whatever error follows, it timed out.
    EXPECT_EQ(tls_refusal_reason(net::error::operation_aborted, true), "timeout");
    EXPECT_EQ(tls_refusal_reason(net::error::eof, false), "closed");
    EXPECT_EQ(tls_refusal_reason(net::error::connection_reset, false), "closed");
    EXPECT_EQ(tls_refusal_reason(ssl::error::stream_truncated, false), "closed");
    EXPECT_EQ(tls_refusal_reason(net::error::host_unreachable, false), "other");
}

} // namespace
} // namespace aiot::broker
