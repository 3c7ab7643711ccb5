#include "gateways/core/node_registry.hpp"

#include <gtest/gtest.h>

using namespace aiot::gw;
using namespace std::chrono_literals;

namespace {
const time_point t0{};
}

TEST(node_registry, adds_touches_and_removes)
{
    node_registry r;
    EXPECT_EQ(r.add("n1", t0), registry_status::ok);
    EXPECT_EQ(r.add("n1", t0 + 1s), registry_status::exists);
    EXPECT_EQ(r.find("n1")->last_seen, t0);
    EXPECT_EQ(r.touch("n1", t0 + 5s), registry_status::ok);
    EXPECT_EQ(r.find("n1")->last_seen, t0 + 5s);
    EXPECT_EQ(r.touch("nope", t0), registry_status::unknown_node);
    EXPECT_TRUE(r.remove("n1"));
    EXPECT_FALSE(r.remove("n1"));
    EXPECT_EQ(r.size(), 0u);
}

TEST(node_registry, keeps_resources_in_first_set_order)
{
    node_registry r;
    r.add("n1", t0);
    EXPECT_EQ(r.set_resource("n1", "protocol", "CoAP"), registry_status::ok);
    EXPECT_EQ(r.set_resource("n1", "temperature", "20°C"), registry_status::ok);
    EXPECT_EQ(r.set_resource("n1", "led", "0"), registry_status::ok);
    EXPECT_EQ(r.set_resource("n1", "temperature", "21°C"), registry_status::ok);
    const auto& res = r.find("n1")->resources;
    ASSERT_EQ(res.size(), 3u);
    EXPECT_EQ(res[0].name, "protocol");
    EXPECT_EQ(res[1].name, "temperature");
    EXPECT_EQ(res[1].value, "21°C");
    EXPECT_EQ(res[2].name, "led");
    EXPECT_EQ(*r.find("n1")->find("led"), "0");
    EXPECT_EQ(r.find("n1")->find("nope"), nullptr);
    EXPECT_EQ(r.set_resource("nope", "x", 1), registry_status::unknown_node);
}

TEST(node_registry, clears_resources_but_the_kept_ones)
{
    node_registry r;
    r.add("n1", t0);
    r.set_resource("n1", "protocol", "CoAP");
    r.set_resource("n1", "ip", "::1");
    r.set_resource("n1", "name", "riot");
    r.set_resource("n1", "temperature", "1");
    EXPECT_EQ(r.clear_resources("n1", {"protocol", "ip"}), registry_status::ok);
    const auto& res = r.find("n1")->resources;
    ASSERT_EQ(res.size(), 2u);
    EXPECT_EQ(res[0].name, "protocol");
    EXPECT_EQ(res[1].name, "ip");
    EXPECT_EQ(r.clear_resources("nope", {}), registry_status::unknown_node);
}

TEST(node_registry, expires_nodes_silent_for_longer_than_max_age)
{
    node_registry r;
    r.add("old", t0);
    r.add("young", t0 + 50s);
    EXPECT_TRUE(r.expire(t0 + 120s, 120s).empty()); // exactly max age: kept
    const auto gone = r.expire(t0 + 121s, 120s);
    ASSERT_EQ(gone.size(), 1u);
    EXPECT_EQ(gone[0], "old");
    EXPECT_FALSE(r.contains("old"));
    EXPECT_TRUE(r.contains("young"));
}

TEST(node_registry, refuses_beyond_its_limits)
{
    registry_limits limits;
    limits.max_nodes = 2;
    limits.max_resources = 2;
    limits.max_value_bytes = 10;
    limits.max_name_bytes = 8;
    node_registry r(limits);
    EXPECT_EQ(r.add("a", t0), registry_status::ok);
    EXPECT_EQ(r.add("b", t0), registry_status::ok);
    EXPECT_EQ(r.add("c", t0), registry_status::too_many_nodes);
    EXPECT_EQ(r.size(), 2u);
    EXPECT_EQ(r.add("", t0), registry_status::invalid_name);
    r.remove("b");
    EXPECT_EQ(r.add("123456789", t0), registry_status::invalid_name);

    EXPECT_EQ(r.set_resource("a", "x", "1"), registry_status::ok);
    EXPECT_EQ(r.set_resource("a", "y", "2"), registry_status::ok);
    EXPECT_EQ(r.set_resource("a", "z", "3"), registry_status::too_many_resources);
    EXPECT_EQ(r.set_resource("a", "x", "replaced"), registry_status::ok); // replacing is fine
    EXPECT_EQ(r.set_resource("a", "x", std::string(20, 'v')), registry_status::value_too_large);
    EXPECT_EQ(*r.find("a")->find("x"), "replaced");
    EXPECT_EQ(r.set_resource("a", "", "1"), registry_status::invalid_name);
    EXPECT_EQ(to_string(registry_status::too_many_nodes), "too many nodes");
}
