#include "broker/client_session.hpp"

#include "broker/server.hpp"

namespace aiot::broker {

client_session::client_session(server& srv, peer_id id, tcp::socket socket,
                               std::string peer_name, std::string uuid)
    : ws_session(srv, id, std::move(socket), std::move(peer_name)), uuid_(std::move(uuid))
{
    client_role_ = true;
}

void client_session::on_open() { server_.client_opened(*this); }

void client_session::on_message(std::string_view text) { server_.client_message(*this, text); }

void client_session::on_closed() { server_.client_closed(*this); }

std::string client_session::describe() const { return "client " + uuid_; }

} // namespace aiot::broker
