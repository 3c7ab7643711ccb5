// Address helpers of the libcoap adapter (no sockets).
#include "gateways/coap/coap_io.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>

using namespace aiot::gw::coap;

TEST(coap_address, numeric_addresses_round_trip)
{
    const auto v4 = make_address("127.0.0.2", 5683);
    ASSERT_TRUE(v4);
    EXPECT_EQ(v4->addr.sa.sa_family, AF_INET);
    EXPECT_EQ(address_text(*v4), "127.0.0.2");
    EXPECT_EQ(address_port(*v4), 5683);

    const auto v6 = make_address("[::1]", 7);
    ASSERT_TRUE(v6);
    EXPECT_EQ(v6->addr.sa.sa_family, AF_INET6);
    EXPECT_EQ(address_text(*v6), "::1");
    EXPECT_EQ(address_port(*v6), 7);
    EXPECT_FALSE(is_link_local(*v6));
}

TEST(coap_address, ipv4_mapped_is_written_as_ipv4)
{
    const auto mapped = make_address("::ffff:127.0.0.3", 1);
    ASSERT_TRUE(mapped);
    EXPECT_EQ(mapped->addr.sa.sa_family, AF_INET6);
    EXPECT_EQ(address_text(*mapped), "127.0.0.3");
}

TEST(coap_address, link_local_scope)
{
    const auto ll = make_address("fe80::1", 5683, 3);
    ASSERT_TRUE(ll);
    EXPECT_TRUE(is_link_local(*ll));
    EXPECT_EQ(address_scope(*ll), 3u);
    EXPECT_EQ(address_text(*ll), "fe80::1");

    const auto lo = make_address("fe80::1%lo", 5683);
    ASSERT_TRUE(lo);
    EXPECT_NE(address_scope(*lo), 0u);
    EXPECT_FALSE(make_address("fe80::1%no-such-interface", 5683));
}

TEST(coap_address, names_need_resolving)
{
    EXPECT_FALSE(make_address("localhost", 1));
    EXPECT_FALSE(make_address("", 1));
    EXPECT_FALSE(make_address("127.0.0.300", 1));
    const auto resolved = resolve_address("localhost", 5683, AF_INET);
    ASSERT_TRUE(resolved);
    EXPECT_EQ(address_text(*resolved), "127.0.0.1");
    EXPECT_FALSE(resolve_address("127.0.0.1", 1, AF_INET6));
}
