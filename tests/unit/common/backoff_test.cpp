#include "common/backoff.hpp"

#include <gtest/gtest.h>

#include <set>

using namespace aiot::common;
using namespace std::chrono_literals;

TEST(backoff, quick_first_retry_then_growing_delays_up_to_the_cap)
{
    backoff b({250ms, 1000ms, 10000ms}, 42);
    EXPECT_LE(b.next(), 250ms);
    const auto second = b.next();
    EXPECT_GE(second, 500ms);
    EXPECT_LE(second, 1000ms);
    const auto third = b.next();
    EXPECT_GE(third, 1000ms);
    EXPECT_LE(third, 2000ms);
    for (int i = 0; i < 10; ++i) {
        EXPECT_LE(b.next(), 10000ms);
    }
    for (int i = 0; i < 100; ++i) {
        const auto d = b.next();
        EXPECT_LE(d, 10000ms);
        EXPECT_GE(d, 5000ms) << "capped delays stay in the upper half";
    }
    b.reset();
    EXPECT_LE(b.next(), 250ms);
}

TEST(backoff, gateways_that_lost_the_same_broker_spread_out)
{
    // 100 gateways, different seeds: their third attempts do not coincide.
    std::set<long long> thirds;
    for (std::uint64_t seed = 1; seed <= 100; ++seed) {
        backoff b({250ms, 1000ms, 10000ms}, seed);
        b.next();
        b.next();
        thirds.insert(b.next().count());
    }
    EXPECT_GT(thirds.size(), 80u);
}

TEST(backoff, a_repeated_failure_is_new_only_once_until_forgotten)
{
    backoff b;
    EXPECT_TRUE(b.note_failure("connection refused"));
    EXPECT_FALSE(b.note_failure("connection refused"));
    EXPECT_TRUE(b.note_failure("timed out"));
    EXPECT_TRUE(b.note_failure("connection refused"));
    b.forget_failure();
    EXPECT_TRUE(b.note_failure("connection refused"));
}
