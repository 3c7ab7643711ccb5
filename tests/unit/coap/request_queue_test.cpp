#include "gateways/coap/request_queue.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

using namespace aiot::gw::coap;

namespace {

coap_request get(const std::string& uid, const std::string& path,
                 request_kind kind = request_kind::resource)
{
    coap_request r;
    r.uid = uid;
    r.kind = kind;
    r.path = path;
    return r;
}

coap_request write(const std::string& uid)
{
    return get(uid, "led", request_kind::write);
}

using uids = std::vector<std::string>;

uids uids_of(const std::vector<coap_request>& requests)
{
    uids out;
    for (const auto& r : requests) {
        out.push_back(r.uid);
    }
    return out;
}

} // namespace

TEST(coap_request_queue, ids_and_completion)
{
    request_queue q;
    ASSERT_TRUE(q.push(get("a", "x")));
    ASSERT_TRUE(q.push(get("b", "y")));
    const auto ready = q.take_ready();
    ASSERT_EQ(ready.size(), 2u);
    EXPECT_LT(ready[0].id, ready[1].id);
    EXPECT_EQ(q.in_flight(), 2u);
    EXPECT_TRUE(q.take_ready().empty());
    const auto done = q.complete(ready[0].id);
    ASSERT_TRUE(done);
    EXPECT_EQ(done->path, "x");
    EXPECT_FALSE(q.complete(ready[0].id)); // once
    EXPECT_FALSE(q.complete(12345));
    EXPECT_EQ(q.in_flight(), 1u);
}

TEST(coap_request_queue, per_node_cap)
{
    request_queue q({.max_in_flight = 100, .max_in_flight_per_node = 2, .max_queued_per_node = 10});
    for (int i = 0; i < 5; ++i) {
        q.push(get("a", std::to_string(i)));
    }
    auto ready = q.take_ready();
    ASSERT_EQ(ready.size(), 2u);
    EXPECT_EQ(q.queued(), 3u);
    q.complete(ready[0].id);
    ready = q.take_ready();
    ASSERT_EQ(ready.size(), 1u);
    EXPECT_EQ(ready[0].path, "2"); // in order
}

TEST(coap_request_queue, total_cap_and_turns)
{
    request_queue q({.max_in_flight = 3, .max_in_flight_per_node = 3, .max_queued_per_node = 10});
    for (int i = 0; i < 3; ++i) {
        q.push(get("slow", "s" + std::to_string(i)));
    }
    q.push(get("b", "b0"));
    q.push(get("c", "c0"));
    // Turns alternate between nodes: the slow node does not take every slot.
    auto ready = q.take_ready();
    ASSERT_EQ(ready.size(), 3u);
    std::set<std::string> uids;
    for (const auto& r : ready) {
        uids.insert(r.uid);
    }
    EXPECT_EQ(uids, (std::set<std::string>{"slow", "b", "c"}));
    EXPECT_TRUE(q.take_ready().empty());
    for (const auto& r : ready) {
        q.complete(r.id);
    }
    EXPECT_EQ(q.take_ready().size(), 2u); // the rest of "slow"
}

TEST(coap_request_queue, bounded_per_node)
{
    request_queue q({.max_in_flight = 1, .max_in_flight_per_node = 1, .max_queued_per_node = 2});
    EXPECT_TRUE(q.push(get("a", "1")));
    EXPECT_TRUE(q.push(get("a", "2")));
    EXPECT_FALSE(q.push(get("a", "3")));
    EXPECT_TRUE(q.push(get("b", "1")));
    EXPECT_EQ(q.queued(), 3u);
}

TEST(coap_request_queue, dropping_keeps_writes_or_not)
{
    request_queue q({.max_in_flight = 1, .max_in_flight_per_node = 1, .max_queued_per_node = 10});
    q.push(get("a", "block"));
    const auto first = q.take_ready();
    q.push(get("a", ".well-known/core", request_kind::well_known));
    q.push(get("a", "led", request_kind::write));
    q.push(get("a", "board"));
    q.drop_discovery("a");
    EXPECT_EQ(q.queued(), 1u);
    q.complete(first[0].id);
    auto ready = q.take_ready();
    ASSERT_EQ(ready.size(), 1u);
    EXPECT_EQ(ready[0].kind, request_kind::write);

    q.push(get("a", "x", request_kind::write));
    q.drop_all("a");
    EXPECT_EQ(q.queued(), 0u);
    q.complete(ready[0].id);
    EXPECT_TRUE(q.take_ready().empty());
    EXPECT_EQ(q.in_flight(), 0u);
}

TEST(coap_request_queue, discovery_reads_counted_per_call_writes_not)
{
    request_queue q;
    for (int i = 0; i < 4; ++i) {
        q.push(get("n" + std::to_string(i), ".well-known/core", request_kind::well_known));
    }
    q.push(write("w"));
    EXPECT_EQ(q.writes_queued(), 1u);
    // Behind on the nodes' packets: one read per round, and the write.
    auto ready = q.take_ready(1);
    ASSERT_EQ(ready.size(), 2u);
    EXPECT_EQ(ready[0].kind, request_kind::write);
    EXPECT_EQ(ready[1].uid, "n0"); // the turns' order is kept
    EXPECT_EQ(q.writes_queued(), 0u);
    ready = q.take_ready(0);
    EXPECT_TRUE(ready.empty());
    ready = q.take_ready(1);
    ASSERT_EQ(ready.size(), 1u);
    EXPECT_EQ(ready[0].uid, "n1");
    ready = q.take_ready(); // caught up: everything
    ASSERT_EQ(ready.size(), 2u);
    EXPECT_EQ(ready[0].uid, "n2");
    EXPECT_EQ(ready[1].uid, "n3");
    EXPECT_EQ(q.queued(), 0u);
}

TEST(coap_request_queue, a_write_behind_a_read_of_its_node_waits_for_it)
{
    request_queue q({.max_in_flight = 100, .max_in_flight_per_node = 4, .max_queued_per_node = 10});
    q.push(get("a", ".well-known/core", request_kind::well_known));
    for (const char* uid : {"a", "b", "b"}) {
        q.push(write(uid));
    }
    EXPECT_EQ(uids_of(q.take_ready(0)), (uids{"b", "b"})); // not a's (behind its read)
    EXPECT_EQ(q.writes_queued(), 1u);
    auto ready = q.take_ready(1);
    ASSERT_EQ(ready.size(), 1u);
    EXPECT_EQ(ready[0].kind, request_kind::well_known);
    ready = q.take_ready(0);
    ASSERT_EQ(ready.size(), 1u); // now a's write is at its front
    EXPECT_EQ(ready[0].kind, request_kind::write);
    EXPECT_EQ(q.writes_queued(), 0u);
}

TEST(coap_request_queue, writes_respect_the_caps)
{
    request_queue q({.max_in_flight = 2, .max_in_flight_per_node = 1, .max_queued_per_node = 10});
    for (const char* uid : {"a", "a", "b", "c"}) {
        q.push(write(uid));
    }
    auto ready = q.take_ready(0);
    EXPECT_EQ(uids_of(ready), (uids{"a", "b"})); // a once (per node); c waits for room
    q.complete(ready[0].id);
    ready = q.take_ready(0);
    EXPECT_EQ(uids_of(ready), (uids{"c"})); // its turn came before a's second
    q.complete(ready[0].id);
    EXPECT_EQ(uids_of(q.take_ready(0)), (uids{"a"}));
    EXPECT_EQ(q.writes_queued(), 0u);
    q.drop_all("a");
    EXPECT_EQ(q.writes_queued(), 0u);
}
