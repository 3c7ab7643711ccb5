#pragma once
// A gateway on /gw (its token was checked during the upgrade).
#include "broker/ws_session.hpp"

namespace aiot::broker {

class gateway_session : public ws_session {
public:
    using ws_session::ws_session;

    std::string describe() const override;

protected:
    void on_open() override;
    void on_message(std::string_view text) override;
    void on_closed() override;
};

} // namespace aiot::broker
