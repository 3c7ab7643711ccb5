#include "common/metrics.hpp"
#include "common/metrics_http.hpp"

#include <gtest/gtest.h>

using aiot::common::metrics;

TEST(metrics, renders_families_sorted_with_help_type_and_labels)
{
    metrics m;
    m.counter("aiot_x_messages_total", "Messages", {{"direction", "in"}, {"type", "new"}}).inc();
    m.counter("aiot_x_messages_total", "ignored", {{"direction", "in"}, {"type", "new"}}).inc(2);
    m.counter("aiot_x_messages_total", "", {{"direction", "out"}, {"type", "update"}}).inc(0.5);
    m.gauge("aiot_a_nodes", "Nodes known").set(7);
    m.computed("aiot_b_rows", "Rows\nstored", metrics::kind::gauge, [] { return 1e20; });
    EXPECT_EQ(m.render(),
              "# HELP aiot_a_nodes Nodes known\n"
              "# TYPE aiot_a_nodes gauge\n"
              "aiot_a_nodes 7\n"
              "# HELP aiot_b_rows Rows\\nstored\n"
              "# TYPE aiot_b_rows gauge\n"
              "aiot_b_rows 1e+20\n"
              "# HELP aiot_x_messages_total Messages\n"
              "# TYPE aiot_x_messages_total counter\n"
              "aiot_x_messages_total{direction=\"in\",type=\"new\"} 3\n"
              "aiot_x_messages_total{direction=\"out\",type=\"update\"} 0.5\n");
}

TEST(metrics, escapes_label_values)
{
    EXPECT_EQ(metrics::escape_label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    metrics m;
    m.gauge("g", "h", {{"reason", "say \"hi\""}}).set(1);
    EXPECT_NE(m.render().find("g{reason=\"say \\\"hi\\\"\"} 1\n"), std::string::npos);
}

TEST(metrics_http, answers_get_and_head_of_metrics_only)
{
    metrics m;
    m.gauge("aiot_t", "t").set(3);
    const auto ok = aiot::common::metrics_http_answer("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", m);
    EXPECT_TRUE(ok.starts_with("HTTP/1.1 200 OK\r\n")) << ok;
    EXPECT_NE(ok.find("Content-Type: text/plain; version=0.0.4"), std::string::npos);
    EXPECT_TRUE(ok.ends_with("aiot_t 3\n")) << ok;
    const auto head = aiot::common::metrics_http_answer("HEAD /metrics HTTP/1.0\r\n\r\n", m);
    EXPECT_TRUE(head.ends_with("\r\n\r\n")) << head;
    EXPECT_TRUE(aiot::common::metrics_http_answer("GET / HTTP/1.1\r\n\r\n", m).starts_with("HTTP/1.1 404"));
    EXPECT_TRUE(aiot::common::metrics_http_answer("POST /metrics HTTP/1.1\r\n\r\n", m).starts_with("HTTP/1.1 405"));
    EXPECT_TRUE(aiot::common::metrics_http_answer("garbage\r\n\r\n", m).starts_with("HTTP/1.1 400"));
    EXPECT_TRUE(aiot::common::metrics_http_answer("GET /metrics HTTP/1.1\r\n", m).starts_with("HTTP/1.1 400"));
}
