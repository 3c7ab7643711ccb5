#include "broker/backpressure.hpp"

#include <gtest/gtest.h>

namespace aiot::broker {
namespace {

using namespace std::chrono_literals;
using change = backpressure::change;
using clock = backpressure::clock;

backpressure make(std::size_t high = 1000, std::size_t low = 500)
{
    return backpressure({high, low, 1000ms});
}

TEST(backpressure, pauses_above_the_high_mark_and_resumes_under_the_low_mark)
{
    auto bp = make();
    EXPECT_EQ(bp.grew(1000), change::none); // at the mark is not above it
    EXPECT_FALSE(bp.paused());
    EXPECT_EQ(bp.grew(1), change::pause);
    EXPECT_TRUE(bp.paused());
    EXPECT_EQ(bp.grew(100), change::none); // already paused: said once
    EXPECT_EQ(bp.shrank(400), change::none); // 701: between the marks
    EXPECT_TRUE(bp.paused());
    EXPECT_EQ(bp.shrank(201), change::none); // 500 is not under 500
    EXPECT_EQ(bp.shrank(1), change::resume);
    EXPECT_FALSE(bp.paused());
    EXPECT_EQ(bp.total(), 499u);
    EXPECT_EQ(bp.shrank(499), change::none);
    EXPECT_EQ(bp.total(), 0u);
}

TEST(backpressure, closes_nobody_before_the_stall_time_has_passed)
{
    auto bp = make();
    bp.grew(2000);
    const auto t0 = clock::now();
    const std::vector<backpressure::client> clients{{1, 2000, t0 - 10s}};
    EXPECT_EQ(bp.to_close(clients, t0, t0 + 999ms), std::nullopt);
    EXPECT_EQ(bp.to_close(clients, t0, t0 + 1000ms), peer_id{1});
}

TEST(backpressure, closes_nobody_while_not_paused)
{
    auto bp = make();
    bp.grew(900);
    const auto t0 = clock::now();
    EXPECT_EQ(bp.to_close({{1, 900, t0 - 10s}}, t0 - 10s, t0), std::nullopt);
}

TEST(backpressure, closes_the_largest_queue_without_progress_one_at_a_time)
{
    auto bp = make();
    bp.grew(1700);
    const auto t0 = clock::now();
    const auto now = t0 + 2s;
    std::vector<backpressure::client> clients{
        {1, 300, t0},         // stuck, smaller
        {2, 600, now - 10ms}, // the largest, but it wrote just now: reading
        {3, 500, t0},         // stuck, the largest of the stuck
        {4, 0, t0},           // nothing queued: not stuck
    };
    EXPECT_EQ(bp.to_close(clients, t0, now), peer_id{3});
    // The next one only after another full stall time (the server restarts
    // the clock after each close).
    clients.erase(clients.begin() + 2);
    clients[1].last_progress = now + 500ms; // client 2 keeps reading
    EXPECT_EQ(bp.to_close(clients, now, now + 999ms), std::nullopt);
    EXPECT_EQ(bp.to_close(clients, now, now + 1s), peer_id{1});
}

TEST(backpressure, equal_queues_close_the_lower_id_first)
{
    auto bp = make();
    bp.grew(1200);
    const auto t0 = clock::now();
    EXPECT_EQ(bp.to_close({{9, 600, t0}, {7, 600, t0}}, t0, t0 + 5s), peer_id{7});
}

TEST(backpressure, readers_that_progress_are_never_closed)
{
    auto bp = make();
    bp.grew(5000);
    const auto t0 = clock::now();
    EXPECT_EQ(bp.to_close({{1, 2500, t0 + 9100ms}, {2, 2500, t0 + 9500ms}}, t0, t0 + 10s),
              std::nullopt);
}

} // namespace
} // namespace aiot::broker
