#include "common/write_queue.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using aiot::common::queue_refusal;
using aiot::common::write_queue;

TEST(write_queue, bounded_by_count_and_bytes)
{
    write_queue<std::string> q(2, 10);
    EXPECT_EQ(q.push("abcd", 4), queue_refusal::none);
    EXPECT_EQ(q.push("abcdefg", 7), queue_refusal::too_many_bytes);
    EXPECT_EQ(q.push("ab", 2), queue_refusal::none);
    EXPECT_EQ(q.push("a", 1), queue_refusal::too_many_messages);
    EXPECT_EQ(q.size(), 2u);
    EXPECT_EQ(q.bytes(), 6u);
}

TEST(write_queue, one_write_at_a_time)
{
    write_queue<std::string> q(10, 100);
    EXPECT_EQ(q.start_write(), nullptr);
    q.push("a", 1);
    q.push("b", 1);
    auto* first = q.start_write();
    ASSERT_NE(first, nullptr);
    EXPECT_EQ(*first, "a");
    EXPECT_EQ(q.start_write(), nullptr); // in flight
    EXPECT_EQ(q.start_write_batch(10, 100, [](const std::string&) {}), 0u);
    q.end_write();
    EXPECT_EQ(q.size(), 1u);
    EXPECT_EQ(*q.start_write(), "b");
}

TEST(write_queue, a_batch_takes_the_front_within_its_limits)
{
    write_queue<std::string> q(10, 100);
    for (const char* m : {"one", "two", "three", "four"}) {
        q.push(m, std::string(m).size());
    }
    std::vector<std::string> seen;
    const auto take = [&seen](const std::string& m) { seen.push_back(m); };
    EXPECT_EQ(q.start_write_batch(10, 8, take), 2u); // 3 + 3 bytes; "three" would pass 8
    EXPECT_EQ(seen, (std::vector<std::string>{"one", "two"}));
    EXPECT_TRUE(q.writing());
    q.push("five", 4); // queued behind the write
    q.drop_waiting();  // keeps what is being written
    EXPECT_EQ(q.size(), 2u);
    q.end_write();
    EXPECT_TRUE(q.empty());
    EXPECT_EQ(q.bytes(), 0u);
    EXPECT_FALSE(q.writing());

    q.push("a-message-larger-than-the-limit", 31);
    q.push("b", 1);
    seen.clear();
    EXPECT_EQ(q.start_write_batch(10, 8, take), 1u); // at least one, however large
    q.end_write();
    seen.clear();
    q.push("c", 1);
    q.push("d", 1);
    EXPECT_EQ(q.start_write_batch(2, 100, take), 2u); // at most max_messages
    EXPECT_EQ(seen, (std::vector<std::string>{"b", "c"}));
    q.end_write();
    EXPECT_EQ(q.size(), 1u);
    EXPECT_EQ(q.bytes(), 1u);
}
