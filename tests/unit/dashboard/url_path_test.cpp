#include "dashboard/url_path.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using aiot::dashboard::parse_url_path;
using aiot::dashboard::path_status;

TEST(UrlPath, SplitsAndDecodes)
{
    auto p = parse_url_path("/node_modules/chart.js/dist/chart.umd.min.js?v=1#x");
    ASSERT_EQ(p.status, path_status::ok);
    EXPECT_EQ(p.segments, (std::vector<std::string>{"node_modules", "chart.js", "dist",
                                                    "chart.umd.min.js"}));
    p = parse_url_path("/a%20b/%C3%A9t%c3%a9.css");
    ASSERT_EQ(p.status, path_status::ok);
    EXPECT_EQ(p.segments, (std::vector<std::string>{"a b", "\xC3\xA9t\xC3\xA9.css"}));
    EXPECT_TRUE(parse_url_path("/").segments.empty());
    EXPECT_TRUE(parse_url_path("/?x=/../..").segments.empty());
}

TEST(UrlPath, DoubleSlashesNeverMakeAnAbsolutePath)
{
    const auto p = parse_url_path("//etc//passwd");
    ASSERT_EQ(p.status, path_status::ok);
    EXPECT_EQ(p.segments, (std::vector<std::string>{"etc", "passwd"}));
}

TEST(UrlPath, RefusesTraversal)
{
    for (const char* target :
         {"/../etc/passwd", "/a/../../b", "/%2e%2e/x", "/%2E%2E/x", "/.%2e/x", "/a/./b",
          "/a/%2e", "/a%2fb", "/..%2F..%2Fetc", "/a%5cb", "/a\\b", "/.git/config",
          "/.env"}) {
        const auto p = parse_url_path(target);
        EXPECT_EQ(p.status, path_status::forbidden) << target;
        EXPECT_FALSE(p.reason.empty()) << target;
    }
}

TEST(UrlPath, RefusesMalformed)
{
    for (const char* target : {"", "index.html", "http://example.com/", "*", "/a%", "/a%4",
                               "/a%zz", "/a%00b", "/a%0ab", "/a%7f"}) {
        EXPECT_EQ(parse_url_path(target).status, path_status::bad_request) << target;
    }
    const std::string with_nul{"/a\0b", 4};
    EXPECT_EQ(parse_url_path(with_nul).status, path_status::bad_request);
}
