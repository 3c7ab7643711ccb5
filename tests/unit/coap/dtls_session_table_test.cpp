// dtls_session_table: which DTLS session reaches a node, what an ended
// session changes, and its bounds. Sessions are plain ints owned by
// unique_ptrs (the endpoint's are libcoap sessions).
#include "gateways/coap/dtls_session_table.hpp"

#include <gtest/gtest.h>

#include <memory>

using namespace aiot::gw::coap;

namespace {

using handle = std::unique_ptr<int>;
using table = dtls_session_table<handle>;
using route = table::route;

// Takes a session into a new handle (the endpoint takes a libcoap
// reference) and counts how often the table asked for one.
struct fake_sessions {
    int made = 0;
    auto maker()
    {
        return [this](int* s) {
            ++made;
            return handle(s);
        };
    }
};

} // namespace

TEST(dtls_session_table, a_node_that_posted_over_dtls_is_reached_over_its_session)
{
    table t(8);
    fake_sessions f;
    auto* a = new int(1);
    t.posted_dtls("10.0.0.1%0", a, f.maker());
    EXPECT_EQ(t.find("10.0.0.1%0").how, route::session);
    EXPECT_EQ(t.find("10.0.0.1%0").session, a);
    EXPECT_EQ(t.find("10.0.0.2%0").how, route::clear);
    // The same session again: no second reference.
    t.posted_dtls("10.0.0.1%0", a, f.maker());
    EXPECT_EQ(f.made, 1);
    // A new session from the node replaces the old one.
    auto* b = new int(2);
    t.posted_dtls("10.0.0.1%0", b, f.maker());
    EXPECT_EQ(t.find("10.0.0.1%0").session, b);
    EXPECT_EQ(f.made, 2);
    EXPECT_EQ(t.live(), 1u);
}

TEST(dtls_session_table, an_ended_session_is_handed_back_and_its_node_refused_until_it_posts)
{
    table t(8);
    fake_sessions f;
    auto* a = new int(1);
    t.posted_dtls("10.0.0.1%0", a, f.maker());
    int stranger = 0; // a session no node posted over (a one-shot client)
    EXPECT_FALSE(t.ended(&stranger));
    auto ended = t.ended(a);
    ASSERT_TRUE(ended);
    EXPECT_EQ(ended->key, "10.0.0.1%0");
    EXPECT_EQ(ended->handle.get(), a); // released by the caller, not the table
    EXPECT_EQ(t.live(), 0u);
    EXPECT_EQ(t.find("10.0.0.1%0").how, route::ended);
    EXPECT_FALSE(t.ended(a)); // told once
    // It posts again over a new session: reached over that one.
    auto* b = new int(2);
    t.posted_dtls("10.0.0.1%0", b, f.maker());
    EXPECT_EQ(t.find("10.0.0.1%0").how, route::session);
    EXPECT_EQ(t.ended_count(), 0u);
}

TEST(dtls_session_table, a_plain_post_forgets_the_session_and_the_ended_mark)
{
    table t(8);
    fake_sessions f;
    t.posted_dtls("10.0.0.1%0", new int(1), f.maker());
    t.posted_plain("10.0.0.1%0");
    EXPECT_EQ(t.find("10.0.0.1%0").how, route::clear);
    auto* b = new int(2);
    t.posted_dtls("10.0.0.2%0", b, f.maker());
    t.ended(b); // the handle is dropped here: freed
    t.posted_plain("10.0.0.2%0");
    EXPECT_EQ(t.find("10.0.0.2%0").how, route::clear);
}

TEST(dtls_session_table, holds_at_most_max_entries_sessions_and_ended_addresses)
{
    table t(2);
    fake_sessions f;
    int* s[4];
    for (int i = 0; i < 4; ++i) {
        s[i] = new int(i);
        t.posted_dtls("10.0.0." + std::to_string(i) + "%0", s[i], f.maker());
        EXPECT_LE(t.live(), 2u);
    }
    EXPECT_EQ(t.live(), 2u);
    EXPECT_EQ(t.find("10.0.0.3%0").how, route::session); // the newest is kept
    t.ended(s[3]);
    auto* again = new int(9);
    t.posted_dtls("10.0.0.5%0", again, f.maker());
    t.ended(again);
    for (int i = 0; i < 3; ++i) {
        auto* more = new int(10 + i);
        t.posted_dtls("10.0.1." + std::to_string(i) + "%0", more, f.maker());
        t.ended(more);
        EXPECT_LE(t.ended_count(), 2u);
    }
}
