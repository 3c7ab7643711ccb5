#include "common/refusal_log.hpp"

#include <gtest/gtest.h>

using namespace aiot::common;
using namespace std::chrono_literals;

TEST(refusal_log, logs_a_few_then_counts_then_sums_up)
{
    refusal_log r({10s, 3, 5, 100ms, 2000ms, 16});
    const auto t0 = std::chrono::steady_clock::time_point{} + 1h;
    int logged = 0;
    for (int i = 0; i < 20'000; ++i) {
        logged += r.refused("10.0.0.1", t0 + std::chrono::microseconds(i)).log ? 1 : 0;
    }
    EXPECT_EQ(logged, 3);
    EXPECT_TRUE(r.take_summaries(t0 + 1s).empty()) << "the interval is not over";
    const auto sums = r.take_summaries(t0 + 11s);
    ASSERT_EQ(sums.size(), 1u);
    EXPECT_EQ(sums[0].address, "10.0.0.1");
    EXPECT_EQ(sums[0].count, 19'997u);
    // Another address is not affected.
    EXPECT_TRUE(r.refused("10.0.0.2", t0 + 1s).log);
}

TEST(refusal_log, delays_grow_for_an_address_that_keeps_failing)
{
    refusal_log r({10s, 3, 5, 100ms, 2000ms, 16});
    const auto t0 = std::chrono::steady_clock::time_point{} + 1h;
    for (int i = 0; i < 5; ++i) {
        EXPECT_EQ(r.refused("a", t0).delay, 0ms);
    }
    EXPECT_EQ(r.refused("a", t0).delay, 100ms);
    EXPECT_EQ(r.refused("a", t0).delay, 200ms);
    for (int i = 0; i < 50; ++i) {
        EXPECT_LE(r.refused("a", t0).delay, 2000ms);
    }
    EXPECT_EQ(r.refused("a", t0).delay, 2000ms);
    EXPECT_EQ(r.refused("b", t0).delay, 0ms) << "others are not slowed";
    // A new interval starts afresh.
    EXPECT_EQ(r.refused("a", t0 + 11s).delay, 0ms);
}

TEST(refusal_log, tracks_a_bounded_number_of_addresses)
{
    refusal_log r({10s, 1, 5, 100ms, 2000ms, 16});
    const auto t0 = std::chrono::steady_clock::time_point{} + 1h;
    for (int i = 0; i < 10'000; ++i) {
        r.refused("addr-" + std::to_string(i), t0);
        r.refused("addr-" + std::to_string(i), t0); // one suppressed each
        EXPECT_LE(r.tracked(), 16u);
    }
    // Evicted addresses still have their counts summed up.
    EXPECT_EQ(r.take_summaries(t0).size(), 10'000u - 16u);
}
