#include "gateways/coap/node_table.hpp"

#include <gtest/gtest.h>

using namespace aiot::gw::coap;

TEST(coap_node_table, new_node_then_refresh)
{
    node_table t(10);
    const auto first = t.alive("n1", false, "127.0.0.2");
    EXPECT_EQ(first.action, alive_action::created);
    EXPECT_TRUE(first.discover);
    ASSERT_NE(t.find("n1"), nullptr);
    EXPECT_EQ(t.find_by_address("127.0.0.2")->uid, "n1");
    EXPECT_EQ(t.find("n1")->discovery, discovery_state::none);

    const auto gen = t.start_discovery("n1");
    EXPECT_NE(gen, 0u);
    EXPECT_EQ(t.find("n1")->discovery, discovery_state::running);
    const auto again = t.alive("n1", false, "127.0.0.2");
    EXPECT_EQ(again.action, alive_action::refreshed);
    EXPECT_FALSE(again.discover); // running
    EXPECT_FALSE(again.address_changed);
}

TEST(coap_node_table, discovery_done_failed_and_retry)
{
    node_table t(10);
    t.alive("n1", false, "::1");
    auto gen = t.start_discovery("n1");
    EXPECT_EQ(t.discovery_listed("n1", gen, 2), discovery_state::running);
    EXPECT_EQ(t.discovery_read("n1", gen, true, true), discovery_state::running);
    EXPECT_EQ(t.discovery_read("n1", gen, true, false), discovery_state::done); // a 4.04 is fine
    EXPECT_EQ(t.find("n1")->found, 1u);
    EXPECT_FALSE(t.alive("n1", false, "::1").discover);

    gen = t.start_discovery("n1");
    t.discovery_listed("n1", gen, 1);
    EXPECT_EQ(t.discovery_read("n1", gen, false, false), discovery_state::failed); // timed out
    EXPECT_TRUE(t.alive("n1", false, "::1").discover);

    gen = t.start_discovery("n1");
    EXPECT_EQ(t.discovery_failed("n1", gen), discovery_state::failed);
    EXPECT_TRUE(t.alive("n1", false, "::1").discover);

    gen = t.start_discovery("n1");
    EXPECT_EQ(t.discovery_listed("n1", gen, 0), discovery_state::done);
}

TEST(coap_node_table, results_of_an_older_discovery_are_ignored)
{
    node_table t(10);
    t.alive("n1", false, "127.0.0.2");
    const auto old = t.start_discovery("n1");
    const auto reset = t.alive("n1", true, "127.0.0.2");
    EXPECT_EQ(reset.action, alive_action::reset);
    EXPECT_TRUE(reset.discover);
    const auto current = t.start_discovery("n1");
    EXPECT_NE(old, current);
    EXPECT_FALSE(t.running("n1", old));
    EXPECT_FALSE(t.discovery_listed("n1", old, 3));
    EXPECT_FALSE(t.discovery_failed("n1", old));
    EXPECT_TRUE(t.running("n1", current));

    // A forgotten and re-created uid does not take old results either.
    t.forget("n1");
    t.alive("n1", false, "127.0.0.2");
    const auto fresh = t.start_discovery("n1");
    EXPECT_FALSE(t.discovery_read("n1", current, true, true));
    EXPECT_TRUE(t.running("n1", fresh));
}

TEST(coap_node_table, a_node_that_moves_is_updated)
{
    node_table t(10);
    t.alive("n1", false, "127.0.0.2");
    const auto gen = t.start_discovery("n1");
    t.discovery_listed("n1", gen, 0);
    const auto moved = t.alive("n1", false, "127.0.0.3");
    EXPECT_EQ(moved.action, alive_action::moved);
    EXPECT_TRUE(moved.discover);
    EXPECT_TRUE(moved.address_changed);
    EXPECT_EQ(t.find("n1")->address, "127.0.0.3");
    EXPECT_EQ(t.find_by_address("127.0.0.2"), nullptr);
    EXPECT_EQ(t.find_by_address("127.0.0.3")->uid, "n1");

    const auto reset_elsewhere = t.alive("n1", true, "127.0.0.4");
    EXPECT_EQ(reset_elsewhere.action, alive_action::reset);
    EXPECT_TRUE(reset_elsewhere.address_changed);
    EXPECT_EQ(t.find_by_address("127.0.0.4")->uid, "n1");
}

TEST(coap_node_table, an_address_belongs_to_the_last_node_that_used_it)
{
    node_table t(10);
    t.alive("a", false, "127.0.0.1");
    const auto b = t.alive("b", false, "127.0.0.1");
    EXPECT_EQ(b.displaced, "a");
    EXPECT_EQ(t.find_by_address("127.0.0.1")->uid, "b");
    EXPECT_EQ(t.find("a")->address, "127.0.0.1"); // still known, not reachable by address

    // a posts again from there: it takes the address back.
    const auto a = t.alive("a", false, "127.0.0.1");
    EXPECT_EQ(a.action, alive_action::refreshed);
    EXPECT_EQ(a.displaced, "b");
    EXPECT_EQ(t.find_by_address("127.0.0.1")->uid, "a");

    // Forgetting b does not unbind a's address.
    t.forget("b");
    EXPECT_EQ(t.find_by_address("127.0.0.1")->uid, "a");
    t.forget("a");
    EXPECT_EQ(t.find_by_address("127.0.0.1"), nullptr);
    EXPECT_EQ(t.size(), 0u);
}

TEST(coap_node_table, full_table_refuses_new_uids_only)
{
    node_table t(2);
    t.alive("a", false, "127.0.0.1");
    t.alive("b", false, "127.0.0.2");
    EXPECT_EQ(t.alive("c", false, "127.0.0.3").action, alive_action::refused);
    EXPECT_EQ(t.find("c"), nullptr);
    EXPECT_EQ(t.alive("a", false, "127.0.0.1").action, alive_action::refreshed);
    EXPECT_EQ(t.start_discovery("zzz"), 0u);
}
