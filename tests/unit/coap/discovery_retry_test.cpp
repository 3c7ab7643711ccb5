// discovery_retry: the backoff of failed discoveries, its bounds (retries
// per node, retried discoveries running at once) and what clears a node.
// No clock: time is passed in.
#include "gateways/coap/discovery_retry.hpp"

#include <gtest/gtest.h>

using namespace aiot::gw::coap;
using namespace std::chrono_literals;

namespace {

const discovery_retry::time_point t0{};

} // namespace

TEST(discovery_retry, backs_off_from_half_a_second_then_leaves_it_to_the_next_alive)
{
    discovery_retry r({.first = 500ms, .factor = 2, .max_delay = 3s, .max_retries = 4,
                       .max_running = 8});
    auto now = t0;
    std::vector<long long> delays;
    while (const auto next = r.failed("n", now)) {
        EXPECT_EQ(next->retry, delays.size() + 1);
        delays.push_back(next->delay.count());
        EXPECT_FALSE(r.take_due(next->at - 1ms).size()); // not before its time
        EXPECT_EQ(r.take_due(next->at), std::vector<std::string>{"n"});
        now = next->at;
    }
    EXPECT_EQ(delays, (std::vector<long long>{500, 1000, 2000, 3000})); // capped at 3 s
    EXPECT_EQ(r.scheduled(), 0u);
    EXPECT_EQ(r.running(), 0u);
    EXPECT_FALSE(r.next_due());
    // A fresh failure (after an alive restarted it) starts over.
    EXPECT_EQ(r.failed("n", now)->delay, 500ms);
}

TEST(discovery_retry, default_schedule_tries_three_times_within_the_first_three_seconds)
{
    discovery_retry r;
    auto now = t0;
    std::vector<long long> at;
    while (const auto next = r.failed("n", now)) {
        at.push_back((next->at - t0) / 1ms);
        r.take_due(next->at);
        now = next->at;
    }
    EXPECT_EQ(at, (std::vector<long long>{500, 1250, 2375, 4062, 6593, 10389, 16084, 24084}));
}

TEST(discovery_retry, an_alive_or_success_clears_the_node)
{
    discovery_retry r;
    r.failed("a", t0);
    r.failed("b", t0 + 10ms);
    EXPECT_EQ(r.next_due(), t0 + 500ms);
    r.reset("a"); // an alive started its discovery afresh
    EXPECT_EQ(r.next_due(), t0 + 510ms);
    EXPECT_EQ(r.take_due(t0 + 1s), std::vector<std::string>{"b"});
    EXPECT_EQ(r.running(), 1u);
    r.reset("b"); // done
    EXPECT_EQ(r.running(), 0u);
    EXPECT_EQ(r.scheduled(), 0u);
    r.reset("unknown"); // harmless
    // Its count started again.
    EXPECT_EQ(r.failed("b", t0 + 2s)->retry, 1u);
}

TEST(discovery_retry, a_burst_of_failures_runs_a_bounded_number_at_once)
{
    discovery_retry r({.first = 500ms, .factor = 2, .max_delay = 8s, .max_retries = 3,
                       .max_running = 4});
    for (int i = 0; i < 100; ++i) {
        r.failed("n" + std::to_string(i), t0);
    }
    EXPECT_EQ(r.scheduled(), 100u);
    auto due = r.take_due(t0 + 1s);
    EXPECT_EQ(due.size(), 4u);
    EXPECT_EQ(due.front(), "n0");
    EXPECT_FALSE(r.next_due()); // every slot taken: nothing until one frees
    EXPECT_TRUE(r.take_due(t0 + 1s).empty());
    // One fails again: its slot goes to the next due node.
    EXPECT_EQ(r.failed("n0", t0 + 1s)->delay, 1000ms);
    EXPECT_EQ(r.next_due(), t0 + 500ms);
    due = r.take_due(t0 + 1s);
    ASSERT_EQ(due.size(), 1u);
    EXPECT_NE(due.front(), "n0");
    EXPECT_EQ(r.running(), 4u);
    EXPECT_EQ(r.scheduled(), 96u);
}
