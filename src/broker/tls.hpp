#pragma once
// TLS for the broker's port (--tls-cert, --tls-key): the server context,
// the check of the options, and the reason a failed handshake is counted
// under (aiot_broker_handshake_refusals_total{status="tls",reason}).
#include "common/net_ssl.hpp"

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace aiot::broker {

// Both options or neither. The problem in words, std::nullopt if none.
std::optional<std::string> tls_options_problem(const std::string& cert_file,
                                               const std::string& key_file);

// A server context with the certificate chain (PEM, the server's
// certificate first) and its private key (PEM, unencrypted): TLS 1.2 and
// 1.3 only, OpenSSL's default ciphers, buffers given back while a
// connection is idle. Throws std::runtime_error naming the option, the file
// and OpenSSL's reason when a file is missing, unreadable, not PEM, or the
// key does not match the certificate.
std::unique_ptr<ssl::context> make_server_tls_context(const std::string& cert_file,
                                                      const std::string& key_file);

// Why a TLS handshake failed, as a label value: "timeout" (no handshake
// within --tls-handshake-timeout), "not_tls" (plain HTTP, a ws:// client,
// anything that is not a TLS record), "protocol_version" (SSL 3, TLS 1.0 or
// 1.1 offered), "no_shared_cipher", "certificate_refused" (the client does
// not trust our certificate: it says so with an alert), "closed" (the
// client went away during the handshake), "other".
std::string_view tls_refusal_reason(const error_code& ec, bool timed_out);

} // namespace aiot::broker
