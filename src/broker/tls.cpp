#include "broker/tls.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <spdlog/fmt/fmt.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace aiot::broker {

namespace {

void check_readable(std::string_view option, const std::string& file)
{
    std::ifstream in(file);
    if (!in) {
        throw std::runtime_error(fmt::format("cannot read {} '{}': {}", option, file,
                                             std::strerror(errno)));
    }
}

} // namespace

std::optional<std::string> tls_options_problem(const std::string& cert_file,
                                               const std::string& key_file)
{
    if (cert_file.empty() == key_file.empty()) {
        return std::nullopt;
    }
    return cert_file.empty() ? "--tls-key is set but --tls-cert is not: give both (TLS) or "
                               "neither (plain ws://)"
                             : "--tls-cert is set but --tls-key is not: give both (TLS) or "
                               "neither (plain ws://)";
}

std::unique_ptr<ssl::context> make_server_tls_context(const std::string& cert_file,
                                                      const std::string& key_file)
{
    check_readable("--tls-cert", cert_file);
    check_readable("--tls-key", key_file);
    auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                     ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                     ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
    SSL_CTX* native = ctx->native_handle();
    if (SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1) {
        throw std::runtime_error("cannot set TLS 1.2 as the minimum version");
    }
    SSL_CTX_set_mode(native, SSL_MODE_RELEASE_BUFFERS);
    // An encrypted key would make OpenSSL ask on the terminal: refuse it.
    ctx->set_password_callback(
        [](std::size_t, ssl::context::password_purpose) { return std::string(); });
    error_code ec;
    ctx->use_certificate_chain_file(cert_file, ec);
    if (ec) {
        throw std::runtime_error(fmt::format(
            "cannot use --tls-cert '{}': {} (a PEM certificate, the chain after it)", cert_file,
            ec.message()));
    }
    ctx->use_private_key_file(key_file, ssl::context::pem, ec);
    if (ec) {
        throw std::runtime_error(fmt::format(
            "cannot use --tls-key '{}': {} (an unencrypted PEM private key)", key_file,
            ec.message()));
    }
    if (SSL_CTX_check_private_key(native) != 1) {
        ERR_clear_error();
        throw std::runtime_error(fmt::format("--tls-key '{}' is not the key of --tls-cert '{}'",
                                             key_file, cert_file));
    }
    return ctx;
}

std::string_view tls_refusal_reason(const error_code& ec, bool timed_out)
{
    if (timed_out) {
        return "timeout";
    }
    if (ec == net::error::eof || ec == net::error::connection_reset ||
        ec == ssl::error::stream_truncated) {
        return "closed";
    }
    if (ec.category() != net::error::get_ssl_category()) {
        return "other";
    }
    switch (ERR_GET_REASON(static_cast<unsigned long>(ec.value()))) {
    case SSL_R_HTTP_REQUEST:
    case SSL_R_HTTPS_PROXY_REQUEST:
    case SSL_R_WRONG_VERSION_NUMBER:
    case SSL_R_UNKNOWN_PROTOCOL:
    case SSL_R_PACKET_LENGTH_TOO_LONG:
    case SSL_R_RECORD_LENGTH_MISMATCH:
        return "not_tls";
    case SSL_R_UNSUPPORTED_PROTOCOL:
    case SSL_R_VERSION_TOO_LOW:
    case SSL_R_TLSV1_ALERT_PROTOCOL_VERSION:
        return "protocol_version";
    case SSL_R_NO_SHARED_CIPHER:
    case SSL_R_NO_SHARED_GROUPS:
        return "no_shared_cipher";
    case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
    case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
    case SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
        return "certificate_refused";
    default:
        return "other";
    }
}

} // namespace aiot::broker
