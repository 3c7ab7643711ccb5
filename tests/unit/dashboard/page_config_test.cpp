#include "dashboard/page_config.hpp"

#include <gtest/gtest.h>

using namespace aiot::dashboard;

TEST(PageConfig, CarriesTheOptions)
{
    config cfg;
    cfg.title = "Lab";
    cfg.camera_url = "http://cam.local/stream";
    cfg.map_api_key = "k";
    cfg.broker_ssl = true;
    cfg.common.broker_host = "broker.example";
    cfg.common.broker_port = 8020;
    const auto j = page_config(cfg);
    EXPECT_EQ(j.at("title"), "Lab");
    EXPECT_EQ(j.at("camera_url"), "http://cam.local/stream");
    EXPECT_EQ(j.at("map_api_key"), "k");
    EXPECT_EQ(j.at("broker_ssl"), true);
    EXPECT_EQ(j.at("broker_host"), "broker.example");
    EXPECT_EQ(j.at("broker_port"), 8020);
    EXPECT_EQ(j.at("favicon"), "favicon.svg");
    EXPECT_EQ(j.at("logo"), "");
    EXPECT_EQ(j.at("map_tile_url"), "") << "by default no tile server: nothing leaves the machine";
    cfg.map_tile_url = "http://tiles.lan/{z}/{x}/{y}.png";
    EXPECT_EQ(page_config(cfg).at("map_tile_url"), "http://tiles.lan/{z}/{x}/{y}.png");
    cfg.map_tile_url = "none";
    cfg.logo = "https://example.com/logo.png";
    EXPECT_EQ(page_config(cfg).at("map_tile_url"), "");
    EXPECT_EQ(page_config(cfg).at("logo"), "https://example.com/logo.png");
}

TEST(PageConfig, CarriesTheBrokerList)
{
    config cfg;
    cfg.common.broker_port = 8020;
    cfg.common.broker_host = "broker.example";
    EXPECT_EQ(page_config(cfg).at("brokers"),
              aiot::common::json::parse(R"([{"host":"broker.example","port":8020}])"));
    cfg.common.broker_host = "localhost:8001, [::1], b.example:8003";
    const auto j = page_config(cfg);
    EXPECT_EQ(j.at("brokers"),
              aiot::common::json::parse(R"([{"host":"localhost","port":8001},
                                            {"host":"::1","port":8020},
                                            {"host":"b.example","port":8003}])"));
    // The first entry for a page that reads broker_host and broker_port.
    EXPECT_EQ(j.at("broker_host"), "localhost");
    EXPECT_EQ(j.at("broker_port"), 8001);
    // A refused list (the command line refuses it before): no list.
    cfg.common.broker_host = "a,,b";
    EXPECT_EQ(page_config(cfg).at("brokers"), aiot::common::json::array());
    EXPECT_EQ(page_config(cfg).at("broker_host"), "a,,b");
}

TEST(PageConfig, HtmlEscape)
{
    EXPECT_EQ(html_escape("<script>alert('x')</script> & \"q\""),
              "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;");
    EXPECT_EQ(html_escape("23°C"), "23°C");
}

TEST(PageConfig, JsonForScriptCannotCloseTheBlock)
{
    const aiot::common::json j = {{"title", "</script><script>alert(1)</script>&"}};
    const auto text = json_for_script(j);
    EXPECT_EQ(text.find('<'), std::string::npos);
    EXPECT_EQ(text.find('>'), std::string::npos);
    EXPECT_EQ(text.find('&'), std::string::npos);
    EXPECT_EQ(aiot::common::json::parse(text), j);
}

TEST(PageConfig, RenderIndexEscapesAndDoesNotRescan)
{
    config cfg;
    cfg.title = "<script>x</script> {{config}}";
    const auto page = render_index(
        "<title>{{title}}</title><link href=\"{{favicon}}\">"
        "<script type=\"application/json\">{{config}}</script>{{unknown}}",
        cfg);
    EXPECT_NE(page.find("<title>&lt;script&gt;x&lt;/script&gt; {{config}}</title>"),
              std::string::npos)
        << page;
    EXPECT_NE(page.find("href=\"favicon.svg\""), std::string::npos);
    EXPECT_NE(page.find("{{unknown}}"), std::string::npos);
    const auto start = page.find("application/json\">") + 18;
    const auto end = page.find("</script>", start);
    const auto data = aiot::common::json::parse(page.substr(start, end - start));
    EXPECT_EQ(data.at("title"), cfg.title);
}
