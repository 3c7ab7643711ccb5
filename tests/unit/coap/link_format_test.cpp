#include "gateways/coap/link_format.hpp"

#include <gtest/gtest.h>

using namespace aiot::gw::coap;

namespace {

std::vector<std::string> targets(const link_list& list)
{
    std::vector<std::string> t;
    for (const auto& l : list.links) {
        t.push_back(l.target);
    }
    return t;
}

} // namespace

TEST(coap_link_format, riot_style_list)
{
    const auto list = parse_link_format(
        "</.well-known/core>,</board>,</name>;ct=0,</led>;rt=\"actuator\";if=core.a");
    EXPECT_EQ(list.errors, 0u);
    EXPECT_EQ(targets(list),
              (std::vector<std::string>{"/.well-known/core", "/board", "/name", "/led"}));
    ASSERT_NE(list.links[3].param("rt"), nullptr);
    EXPECT_EQ(*list.links[3].param("rt"), "actuator");
    EXPECT_EQ(*list.links[3].param("if"), "core.a");
    EXPECT_EQ(*list.links[2].param("ct"), "0");
}

TEST(coap_link_format, quoted_values_keep_commas_semicolons_and_escapes)
{
    const auto list =
        parse_link_format(R"(</a>;title="x, y; z";rt="say \"hi\"",</b>;title="",</c>)");
    EXPECT_EQ(list.errors, 0u);
    ASSERT_EQ(list.links.size(), 3u);
    EXPECT_EQ(*list.links[0].param("title"), "x, y; z");
    EXPECT_EQ(*list.links[0].param("rt"), "say \"hi\"");
    EXPECT_EQ(*list.links[1].param("title"), "");
    EXPECT_EQ(list.links[2].target, "/c");
}

TEST(coap_link_format, blanks_newlines_bare_and_empty_attributes)
{
    const auto list = parse_link_format(" </a> ; obs ;; ct = 50 ,\n\t</b>;rt=,\r\n< /c >\n");
    EXPECT_EQ(list.errors, 0u);
    EXPECT_EQ(targets(list), (std::vector<std::string>{"/a", "/b", "/c"}));
    ASSERT_EQ(list.links[0].params.size(), 2u);
    EXPECT_EQ(list.links[0].params[0].name, "obs");
    EXPECT_FALSE(list.links[0].params[0].value);
    EXPECT_EQ(list.links[0].param("obs"), nullptr); // bare: no value
    EXPECT_EQ(*list.links[0].param("ct"), "50");
    EXPECT_EQ(*list.links[1].param("rt"), "");
}

TEST(coap_link_format, damaged_items_are_skipped_and_counted)
{
    const auto list = parse_link_format("garbage,</a>;x=1 junk,</b>,</c;rt=1");
    EXPECT_EQ(targets(list), (std::vector<std::string>{"/b"}));
    EXPECT_EQ(list.errors, 3u);

    const auto unterminated = parse_link_format("</a>;title=\"open, </b>");
    ASSERT_EQ(unterminated.links.size(), 1u);
    EXPECT_EQ(unterminated.errors, 1u);

    EXPECT_TRUE(parse_link_format("").links.empty());
    EXPECT_TRUE(parse_link_format(" , ,").links.empty());
    EXPECT_EQ(parse_link_format(" , ,").errors, 0u);
}

TEST(coap_link_format, at_most_max_links)
{
    std::string text;
    for (int i = 0; i < 10; ++i) {
        text += "</r" + std::to_string(i) + ">,";
    }
    const auto list = parse_link_format(text, 4);
    EXPECT_EQ(list.links.size(), 4u);
    EXPECT_EQ(list.errors, 6u);
}

TEST(coap_local_paths, only_paths_on_the_node_itself)
{
    const auto list = parse_link_format(
        "</.well-known/core>;ct=40,<https://christian.amsuess.com/tools/aiocoap/#version-0.4.7>;"
        "rel=\"impl-info\",</board>,<coap://other/x>,<//host/y>,<relative>,</q?x=1>,</f#g>,"
        "</>,</sensors/temp/>,</board>,</name>");
    EXPECT_EQ(local_paths(list.links, 64),
              (std::vector<std::string>{"board", "sensors/temp", "name"}));
    EXPECT_EQ(local_paths(list.links, 2), (std::vector<std::string>{"board", "sensors/temp"}));
}

// Issue 9 item 9: a node's link-format reached logs and pages raw.
TEST(coap_local_paths, names_with_control_characters_or_invalid_utf8_are_skipped)
{
    const auto list = parse_link_format("</led>,</x\x1b[31mred>,</fake\nline>,</bad\xff>,</t\xc3\xa9>");
    EXPECT_EQ(local_paths(list.links, 64), (std::vector<std::string>{"led", "t\xc3\xa9"}));
}
