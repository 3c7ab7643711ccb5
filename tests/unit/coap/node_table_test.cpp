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

TEST(coap_node_table, an_alive_from_another_address_never_moves_a_live_node)
{
    node_table t(10);
    t.alive("n1", false, "127.0.0.2");
    const auto gen = t.start_discovery("n1");
    t.discovery_listed("n1", gen, 0);
    const auto hijack = t.alive("n1", false, "127.0.0.66");
    EXPECT_EQ(hijack.action, alive_action::move_refused);
    EXPECT_FALSE(hijack.discover);
    EXPECT_EQ(t.find("n1")->address, "127.0.0.2");
    EXPECT_EQ(t.find_by_address("127.0.0.2")->uid, "n1");
    EXPECT_EQ(t.find_by_address("127.0.0.66"), nullptr);
}

TEST(coap_node_table, a_reset_from_another_address_moves_only_once_confirmed)
{
    node_table t(10);
    t.alive("n1", false, "127.0.0.2");
    const auto pending = t.alive("n1", true, "127.0.0.3");
    EXPECT_EQ(pending.action, alive_action::move_pending);
    EXPECT_EQ(t.find("n1")->address, "127.0.0.2") << "not before the probe";
    EXPECT_EQ(t.find("n1")->pending_address, "127.0.0.3");

    // The old address answered: nothing moves.
    t.cancel_move("n1");
    EXPECT_EQ(t.find("n1")->address, "127.0.0.2");
    EXPECT_EQ(t.confirm_move("n1").action, alive_action::refused) << "nothing pending";

    // It did not answer: the node moves, as after a reset.
    t.alive("n1", true, "127.0.0.4");
    const auto moved = t.confirm_move("n1");
    EXPECT_EQ(moved.action, alive_action::reset);
    EXPECT_TRUE(moved.discover);
    EXPECT_TRUE(moved.address_changed);
    EXPECT_EQ(t.find("n1")->address, "127.0.0.4");
    EXPECT_EQ(t.find_by_address("127.0.0.2"), nullptr);
    EXPECT_EQ(t.find_by_address("127.0.0.4")->uid, "n1");
}

TEST(coap_node_table, an_address_holds_a_bounded_number_of_nodes)
{
    node_table t(100, 4);
    for (int i = 0; i < 4; ++i) {
        EXPECT_EQ(t.alive("u" + std::to_string(i), false, "10.0.0.9").action,
                  alive_action::created);
    }
    EXPECT_EQ(t.alive("u4", false, "10.0.0.9").action, alive_action::address_full);
    EXPECT_EQ(t.size(), 4u);
    EXPECT_EQ(t.alive("v", false, "10.0.0.10").action, alive_action::created)
        << "other addresses are not limited";
    t.forget("u0");
    EXPECT_EQ(t.alive("u4", false, "10.0.0.9").action, alive_action::created);
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
