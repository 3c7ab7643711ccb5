#include "tls_probe.hpp"

#include "common/net.hpp"

#include <boost/asio/ssl.hpp>
#include <fmt/format.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <exception>
#include <memory>

namespace aiot::gw::mqtt {

namespace {

namespace ssl = net::ssl;

// OpenSSL's text, with the certificate check's own reason when that failed.
std::string reason(const error_code& ec, SSL* handle)
{
    auto text = ec.message();
    if (handle != nullptr) {
        if (const auto verify = SSL_get_verify_result(handle); verify != X509_V_OK) {
            text += fmt::format(" ({})", X509_verify_cert_error_string(verify));
        }
    }
    return text;
}

net::awaitable<std::string> run_probe(std::string host, std::uint16_t port, tls_config tls,
                                      std::chrono::milliseconds timeout,
                                      std::chrono::milliseconds linger)
{
    auto ex = co_await net::this_coro::executor;
    ssl::context ctx(ssl::context::tls_client);
    SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
    error_code ec;
    if (tls.ca_file.empty()) {
        ctx.set_default_verify_paths(ec);
    } else {
        ctx.load_verify_file(tls.ca_file, ec);
    }
    if (ec) {
        co_return "--mqtt-ca " + tls.ca_file + ": " + ec.message();
    }
    if (!tls.cert_file.empty()) {
        ctx.use_certificate_chain_file(tls.cert_file, ec);
        if (!ec) {
            ctx.use_private_key_file(tls.key_file.empty() ? tls.cert_file : tls.key_file,
                                     ssl::context::pem, ec);
        }
        if (ec) {
            co_return "client certificate or key: " + ec.message();
        }
    }
    ctx.set_verify_mode(ssl::verify_peer);
    ctx.set_verify_callback(ssl::host_name_verification(host));

    // One timer bounds the whole probe: it closes the socket.
    net::steady_timer deadline(ex, timeout);
    ssl::stream<tcp::socket> stream(ex, ctx);
    deadline.async_wait([&stream](const error_code& e) {
        if (!e) {
            error_code ignored;
            stream.lowest_layer().close(ignored);
        }
    });
    SSL_set_tlsext_host_name(stream.native_handle(), host.c_str());
    tcp::resolver resolver(ex);
    const auto endpoints = co_await resolver.async_resolve(
        host, std::to_string(port), net::redirect_error(net::use_awaitable, ec));
    if (!ec) {
        co_await net::async_connect(stream.lowest_layer(), endpoints,
                                    net::redirect_error(net::use_awaitable, ec));
    }
    if (ec) {
        co_return ec == net::error::operation_aborted ? "no TCP connection within the timeout"
                                                      : "TCP: " + ec.message();
    }
    co_await stream.async_handshake(ssl::stream_base::client,
                                    net::redirect_error(net::use_awaitable, ec));
    if (ec) {
        co_return ec == net::error::operation_aborted ? "no TLS handshake within the timeout"
                                                      : reason(ec, stream.native_handle());
    }
    // The broker may still refuse us (a client certificate it requires).
    deadline.expires_after(linger);
    deadline.async_wait([&stream](const error_code& e) {
        if (!e) {
            error_code ignored;
            stream.lowest_layer().cancel(ignored);
        }
    });
    char byte = 0;
    co_await stream.async_read_some(net::buffer(&byte, 1),
                                    net::redirect_error(net::use_awaitable, ec));
    deadline.cancel();
    if (ec && ec != net::error::operation_aborted && ec != net::error::eof &&
        ec != ssl::error::stream_truncated) {
        co_return "after the handshake: " + ec.message();
    }
    co_return std::string();
}

} // namespace

void probe_tls(net::io_context& ioc, const std::string& host, std::uint16_t port,
               const tls_config& tls, std::chrono::milliseconds timeout,
               std::chrono::milliseconds linger, std::function<void(std::string)> done)
{
    net::co_spawn(ioc, run_probe(host, port, tls, timeout, linger),
                  [done = std::move(done)](std::exception_ptr e, std::string r) {
                      if (e) {
                          try {
                              std::rethrow_exception(e);
                          } catch (const std::exception& x) {
                              r = std::string("probe failed: ") + x.what();
                          }
                      }
                      done(std::move(r));
                  });
}

} // namespace aiot::gw::mqtt
