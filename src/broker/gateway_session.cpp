#include "broker/gateway_session.hpp"

#include "broker/server.hpp"

namespace aiot::broker {

void gateway_session::on_open() { server_.gateway_opened(*this); }

void gateway_session::on_message(std::string_view text) { server_.gateway_message(*this, text); }

void gateway_session::on_closed() { server_.gateway_closed(*this); }

std::string gateway_session::describe() const { return "gateway #" + std::to_string(id()); }

} // namespace aiot::broker
