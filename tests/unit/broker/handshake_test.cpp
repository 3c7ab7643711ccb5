#include "broker/ws/handshake.hpp"

#include "broker/ws/frame.hpp"
#include "broker/ws/client_handshake.hpp"

#include <gtest/gtest.h>

using aiot::broker::first_subprotocol;
using aiot::broker::gateway_token;
using aiot::broker::switching_protocols;

TEST(handshake, gateway_token_is_the_second_of_exactly_two_items)
{
    EXPECT_EQ(gateway_token("token, gAAAA=="), "gAAAA==");
    EXPECT_EQ(gateway_token("token,gAAAA=="), "gAAAA==");
    EXPECT_EQ(gateway_token(" \ttoken ,  gAAAA==\t "), "gAAAA==");
}

TEST(handshake, malformed_protocol_headers_have_no_token)
{
    for (const char* bad : {"", "token", "gAAAA==", "token,", "token, ", "Token, abc", "bearer, abc",
                            ", abc", "token, abc, def", "token,,abc", "tokens, abc"}) {
        EXPECT_FALSE(gateway_token(bad)) << "'" << bad << "'";
    }
}

TEST(handshake, first_offered_subprotocol_is_echoed)
{
    EXPECT_EQ(first_subprotocol(""), "");
    EXPECT_EQ(first_subprotocol("chat"), "chat");
    EXPECT_EQ(first_subprotocol(" chat , superchat"), "chat");
    EXPECT_EQ(first_subprotocol("token, gAAAA"), "token");
}

TEST(handshake, switching_protocols_answer)
{
    const auto r = switching_protocols("dGhlIHNhbXBsZSBub25jZQ==", "token");
    EXPECT_TRUE(r.starts_with("HTTP/1.1 101 Switching Protocols\r\n"));
    EXPECT_NE(r.find("Sec-WebSocket-Protocol: token\r\n"), std::string::npos);
    EXPECT_TRUE(r.ends_with("\r\n\r\n"));
    EXPECT_TRUE(aiot::broker::ws::client_handshake_accepted(r, "dGhlIHNhbXBsZSBub25jZQ=="));

    const auto plain = switching_protocols("dGhlIHNhbXBsZSBub25jZQ==", "");
    EXPECT_EQ(plain.find("Sec-WebSocket-Protocol"), std::string::npos);
}

TEST(handshake, a_client_asks_for_batches_in_the_query)
{
    using std::chrono::milliseconds;
    using aiot::broker::client_batch_window;
    EXPECT_EQ(client_batch_window("/ws"), milliseconds(0));
    EXPECT_EQ(client_batch_window("/ws?"), milliseconds(0));
    EXPECT_EQ(client_batch_window("/ws?batch=16"), milliseconds(16));
    EXPECT_EQ(client_batch_window("/ws?x=1&batch=25&y"), milliseconds(25));
    EXPECT_EQ(client_batch_window("/ws?batch=0"), milliseconds(0));
    // Bounded (however large), and only a whole number counts.
    EXPECT_EQ(client_batch_window("/ws?batch=5000"), aiot::broker::max_batch_window);
    EXPECT_EQ(client_batch_window("/ws?batch=99999999999"), aiot::broker::max_batch_window);
    EXPECT_EQ(client_batch_window("/ws?batch=999999999999999999999999"), aiot::broker::max_batch_window);
    EXPECT_EQ(client_batch_window("/ws?batch=16#frag"), milliseconds(16));
    EXPECT_EQ(client_batch_window("/ws?batch=-5"), milliseconds(0));
    EXPECT_EQ(client_batch_window("/ws?batch=16ms"), milliseconds(0));
    EXPECT_EQ(client_batch_window("/ws?batch="), milliseconds(0));
    EXPECT_EQ(client_batch_window("/ws?nobatch=16"), milliseconds(0));
}
