#include "common/listener.hpp"
#include "common/text.hpp"

#include <chrono>
#include <stdexcept>

namespace aiot::common {

namespace {

constexpr auto accept_retry_delay = std::chrono::milliseconds(100);

void bind_and_listen(tcp::acceptor& acceptor, const tcp::endpoint& endpoint)
{
    acceptor.open(endpoint.protocol());
    if (endpoint.address().is_v6()) {
        acceptor.set_option(net::ip::v6_only(false)); // IPv4 too
    }
    acceptor.set_option(tcp::acceptor::reuse_address(true));
    acceptor.bind(endpoint);
    acceptor.listen(net::socket_base::max_listen_connections);
}

} // namespace

struct listener::state : std::enable_shared_from_this<listener::state> {
    state(net::io_context& ioc, std::shared_ptr<spdlog::logger> l)
        : acceptor(ioc), retry(ioc), log(std::move(l))
    {
    }

    void do_accept()
    {
        acceptor.async_accept([self = shared_from_this()](const error_code& ec, tcp::socket s) {
            self->on_accept(ec, std::move(s));
        });
    }

    void on_accept(const error_code& ec, tcp::socket socket)
    {
        if (!on_accept_fn || ec == net::error::operation_aborted) {
            return; // closed
        }
        if (ec) {
            // EMFILE and friends: keep listening, try again shortly. Logged
            // once per episode, not once per retry.
            if (!failing) {
                log->warn("accept failed: {}; retrying every {} ms", ec.message(),
                          accept_retry_delay.count());
                failing = true;
            }
            retry.expires_after(accept_retry_delay);
            retry.async_wait([self = shared_from_this()](const error_code& wait_ec) {
                if (!wait_ec && self->on_accept_fn) {
                    self->do_accept();
                }
            });
            return;
        }
        if (failing) {
            failing = false;
            log->info("accepting connections again");
        }
        // on_accept may close the listener: keep the handler alive for the
        // call, and accept again only if it did not.
        const auto handler = on_accept_fn;
        handler(std::move(socket));
        if (on_accept_fn) {
            do_accept();
        }
    }

    tcp::acceptor acceptor;
    net::steady_timer retry;
    std::shared_ptr<spdlog::logger> log;
    accept_handler on_accept_fn;
    bool failing = false;
};

listener::listener(net::io_context& ioc, std::shared_ptr<spdlog::logger> log)
    : state_(std::make_shared<state>(ioc, std::move(log)))
{
}

listener::~listener() { close(); }

tcp::endpoint listener::open(const std::string& address_text, std::uint16_t port)
{
    const auto fail = [&](const std::string& why) {
        return std::runtime_error("cannot listen on " + address_text + " port " +
                                  std::to_string(port) + ": " + why);
    };
    error_code ec;
    auto address = net::ip::make_address(address_text, ec);
    if (ec) {
        tcp::resolver resolver(state_->acceptor.get_executor());
        const auto results = resolver.resolve(address_text, std::to_string(port), ec);
        if (ec || results.empty()) {
            throw fail("cannot resolve " + address_text + ": " + ec.message());
        }
        address = results.begin()->endpoint().address();
    }
    auto& acceptor = state_->acceptor;
    try {
        bind_and_listen(acceptor, {address, port});
    } catch (const boost::system::system_error& e) {
        // Only a host without IPv6 is worth the fallback, not a port in use.
        const bool any_v6 = address.is_v6() && address.is_unspecified();
        if (!any_v6 || e.code() == net::error::address_in_use) {
            acceptor.close(ec);
            throw fail(e.code().message());
        }
        state_->log->warn("cannot listen on [::]:{} ({}); using 0.0.0.0 (IPv4 only)", port,
                          e.code().message());
        acceptor.close(ec);
        try {
            bind_and_listen(acceptor, {net::ip::address_v4::any(), port});
        } catch (const boost::system::system_error& e4) {
            acceptor.close(ec);
            throw fail(e4.code().message());
        }
    }
    return acceptor.local_endpoint();
}

void listener::start(accept_handler on_accept)
{
    state_->on_accept_fn = std::move(on_accept);
    state_->do_accept();
}

void listener::close()
{
    state_->on_accept_fn = nullptr;
    error_code ignored;
    state_->acceptor.close(ignored);
    state_->retry.cancel();
}

tcp::endpoint listener::local_endpoint() const
{
    error_code ec;
    return state_->acceptor.local_endpoint(ec);
}

std::string address_text(net::ip::address address)
{
    if (address.is_v6() && address.to_v6().is_v4_mapped()) {
        address = net::ip::make_address_v4(net::ip::v4_mapped, address.to_v6());
    }
    return address.to_string();
}

std::string endpoint_text(const tcp::endpoint& endpoint)
{
    return host_port(address_text(endpoint.address()), endpoint.port());
}

} // namespace aiot::common
