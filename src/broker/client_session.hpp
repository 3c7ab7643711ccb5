#pragma once
// A web client (dashboard) on /ws.
#include "broker/ws_session.hpp"

namespace aiot::broker {

class client_session : public ws_session {
public:
    client_session(server& srv, peer_id id, tcp::socket socket, std::string peer_name,
                   std::string uuid);

    std::string describe() const override;
    // The id the protocol knows the client by ("src", "dst").
    const std::string& uuid() const { return uuid_; }

protected:
    void on_open() override;
    void on_message(std::string_view text) override;
    void on_closed() override;

private:
    std::string uuid_;
};

} // namespace aiot::broker
