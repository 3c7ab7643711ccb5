#include "dashboard/mime_types.hpp"

#include <gtest/gtest.h>

using aiot::dashboard::mime_type;

TEST(MimeTypes, KnownExtensions)
{
    EXPECT_EQ(mime_type("index.html"), "text/html; charset=utf-8");
    EXPECT_EQ(mime_type("app.js"), "text/javascript; charset=utf-8");
    EXPECT_EQ(mime_type("app.mjs"), "text/javascript; charset=utf-8");
    EXPECT_EQ(mime_type("style.css"), "text/css; charset=utf-8");
    EXPECT_EQ(mime_type("logo.svg"), "image/svg+xml");
    EXPECT_EQ(mime_type("marker.png"), "image/png");
    EXPECT_EQ(mime_type("favicon.ico"), "image/x-icon");
    EXPECT_EQ(mime_type("config.json"), "application/json");
    EXPECT_EQ(mime_type("chart.umd.js.map"), "application/json");
    EXPECT_EQ(mime_type("font.woff2"), "font/woff2");
}

TEST(MimeTypes, CaseAndPathsAndUnknown)
{
    EXPECT_EQ(mime_type("PHOTO.JPG"), "image/jpeg");
    EXPECT_EQ(mime_type("dir.d/file.Css"), "text/css; charset=utf-8");
    EXPECT_EQ(mime_type("dir.js/README"), "application/octet-stream");
    EXPECT_EQ(mime_type("archive.xyz"), "application/octet-stream");
    EXPECT_EQ(mime_type(".hidden"), "application/octet-stream");
    EXPECT_EQ(mime_type(""), "application/octet-stream");
}
