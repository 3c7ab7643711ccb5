// The uplink's log text for a failed TLS handshake (no connection).
#include "gateways/core/broker_uplink.hpp"

#include <gtest/gtest.h>

#include <openssl/x509_vfy.h>

namespace aiot::gw {
namespace {

TEST(tls_failure_text, untrusted_certificate_says_why)
{
    EXPECT_EQ(tls_failure_text(X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
                               "certificate verify failed"),
              "broker certificate not trusted: unable to get local issuer certificate");
    EXPECT_EQ(tls_failure_text(X509_V_ERR_HOSTNAME_MISMATCH, "certificate verify failed"),
              "broker certificate not trusted: hostname mismatch");
    EXPECT_EQ(tls_failure_text(X509_V_ERR_CERT_HAS_EXPIRED, "x"),
              "broker certificate not trusted: certificate has expired");
}

TEST(tls_failure_text, other_failures_name_the_handshake_error)
{
    EXPECT_EQ(tls_failure_text(X509_V_OK, "wrong version number"),
              "TLS handshake: wrong version number");
}

} // namespace
} // namespace aiot::gw
