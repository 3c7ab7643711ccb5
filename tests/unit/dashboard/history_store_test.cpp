#include "dashboard/history/store.hpp"
#include "dashboard/history/writer.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <future>
#include <random>

using namespace aiot::dashboard::history;

namespace {

sample value(std::string node, std::string resource, millis at, std::string text)
{
    sample s{std::move(node), std::move(resource), at, std::move(text), std::nullopt};
    s.number = leading_number(s.text);
    return s;
}

struct temp_file {
    std::filesystem::path path;
    temp_file()
    {
        std::random_device rd;
        path = std::filesystem::temp_directory_path() /
               ("aiot-history-" + std::to_string(rd()) + ".db");
    }
    ~temp_file()
    {
        std::error_code ec;
        for (const char* suffix : {"", "-wal", "-shm"}) {
            std::filesystem::remove(path.string() + suffix, ec);
        }
    }
};

} // namespace

TEST(history_number, takes_the_number_at_the_start_of_a_value)
{
    EXPECT_EQ(leading_number("23.4°C"), 23.4);
    EXPECT_EQ(leading_number("1005hPa"), 1005.0);
    EXPECT_EQ(leading_number(" -3 dB"), -3.0);
    EXPECT_EQ(leading_number("+7"), 7.0);
    EXPECT_EQ(leading_number("1e3"), 1000.0);
    EXPECT_FALSE(leading_number("on"));
    EXPECT_FALSE(leading_number(""));
    EXPECT_FALSE(leading_number("{\"lat\":1}"));
    EXPECT_FALSE(leading_number("nan"));
    EXPECT_FALSE(leading_number("inf"));
    EXPECT_FALSE(leading_number("1e999"));
}

TEST(history_store, returns_a_window_newest_last_and_the_newest_when_limited)
{
    store db(":memory:");
    std::vector<sample> rows;
    for (int i = 0; i < 10; ++i) {
        rows.push_back(value("coap:A", "temperature", 1000 + i, std::to_string(20 + i) + "°C"));
        rows.push_back(value("coap:A", "led", 1000 + i, i % 2 ? "1" : "0"));
        rows.push_back(value("coap:B", "temperature", 1000 + i, "x"));
    }
    db.append(rows, {});
    const auto all = db.query("coap:A", "temperature", 0, 5000, 100);
    ASSERT_EQ(all.size(), 10u);
    EXPECT_EQ(all.front().at, 1000);
    EXPECT_EQ(all.front().text, "20°C");
    EXPECT_EQ(all.front().number, 20.0);
    EXPECT_EQ(all.back().at, 1009);

    const auto window = db.query("coap:A", "temperature", 1002, 1004, 100);
    ASSERT_EQ(window.size(), 3u);
    EXPECT_EQ(window[0].at, 1002);
    EXPECT_EQ(window[2].at, 1004);

    const auto newest = db.query("coap:A", "temperature", 0, 5000, 3);
    ASSERT_EQ(newest.size(), 3u);
    EXPECT_EQ(newest[0].at, 1007);
    EXPECT_EQ(newest[2].at, 1009);

    EXPECT_FALSE(db.query("coap:B", "temperature", 0, 5000, 10).front().number);
    EXPECT_TRUE(db.query("coap:C", "temperature", 0, 5000, 10).empty());
    EXPECT_TRUE(db.query("coap:A", "humidity", 0, 5000, 10).empty());
    EXPECT_TRUE(db.has_node("coap:B"));
    EXPECT_FALSE(db.has_node("coap:C"));
    EXPECT_EQ(db.stats().rows, 30u);
}

TEST(history_store, keeps_what_it_wrote_across_a_reopen)
{
    temp_file file;
    {
        store db(file.path.string());
        db.append({value("mqtt:n1", "temperature", 5, "21")}, {{"mqtt:n1", "u1", "new", 4}});
    }
    store db(file.path.string());
    const auto points = db.query("mqtt:n1", "temperature", 0, 10, 10);
    ASSERT_EQ(points.size(), 1u);
    EXPECT_EQ(points[0].text, "21");
    EXPECT_EQ(db.stats().rows, 1u);
}

TEST(history_store, keeps_every_value_of_the_same_millisecond_in_order_across_a_reopen)
{
    temp_file file;
    {
        store db(file.path.string());
        db.append({value("coap:A", "t", 7, "1"), value("coap:A", "t", 7, "2")}, {});
        db.append({value("coap:A", "t", 7, "3")}, {});
    }
    store db(file.path.string());
    db.append({value("coap:A", "t", 7, "4"), value("coap:A", "t", 8, "5")}, {});
    std::vector<std::string> texts;
    for (const auto& p : db.query("coap:A", "t", 0, 100, 100)) {
        texts.push_back(p.text);
    }
    EXPECT_EQ(texts, (std::vector<std::string>{"1", "2", "3", "4", "5"}));
    EXPECT_EQ(db.query("coap:A", "t", 0, 100, 2).front().text, "4");
}

TEST(history_store, cannot_open_a_file_in_a_missing_folder)
{
    try {
        store db("/nonexistent-folder/x/history.db");
        FAIL() << "opened";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("/nonexistent-folder/x/history.db"), std::string::npos)
            << e.what();
    }
}

TEST(history_store, retention_drops_old_rows_in_bounded_steps)
{
    store db(":memory:");
    std::vector<sample> rows;
    for (int i = 0; i < 1000; ++i) {
        rows.push_back(value("coap:A", "t", i, "1"));
    }
    db.append(rows, {{"coap:A", "u", "new", 0}, {"coap:A", "u", "out", 999}});
    EXPECT_EQ(db.prune(500, ~0ull, 100), 100u); // a step, not everything
    EXPECT_EQ(db.query("coap:A", "t", 0, 2000, 2000).front().at, 100);
    while (db.prune(500, ~0ull, 100) == 100) {
    }
    const auto left = db.query("coap:A", "t", 0, 2000, 2000);
    ASSERT_EQ(left.size(), 500u);
    EXPECT_EQ(left.front().at, 500);
    EXPECT_EQ(db.stats().rows, 500u);
}

TEST(history_store, retention_by_size_drops_the_oldest_rows_whatever_their_age)
{
    store db(":memory:");
    std::vector<sample> rows;
    for (int i = 0; i < 20000; ++i) {
        rows.push_back(value("coap:A", "t", i, std::string(40, 'x')));
    }
    db.append(rows, {});
    const auto before = db.stats().used_bytes;
    ASSERT_GT(before, 1'000'000u);
    const std::uint64_t limit = before / 2;
    while (db.stats().used_bytes > limit && db.prune(0, limit, 1000) > 0) {
    }
    EXPECT_LE(db.stats().used_bytes, limit);
    const auto left = db.query("coap:A", "t", 0, 100000, 100000);
    ASSERT_FALSE(left.empty());
    EXPECT_EQ(left.back().at, 19999);          // the newest stayed
    EXPECT_GT(left.front().at, 0);             // the oldest went
    EXPECT_EQ(db.stats().rows, left.size());
}

TEST(history_writer, writes_batches_on_its_thread_and_answers_queries_in_order)
{
    temp_file file;
    auto log = std::make_shared<spdlog::logger>("t", std::make_shared<spdlog::sinks::null_sink_mt>());
    writer w({file.path.string()}, log);
    batch b;
    for (int i = 0; i < 100; ++i) {
        b.samples.push_back(value("coap:A", "t", i, std::to_string(i)));
    }
    ASSERT_TRUE(w.append(std::move(b)));
    std::promise<std::size_t> answer;
    w.run([&](store& s) { answer.set_value(s.query("coap:A", "t", 0, 1000, 1000).size()); });
    auto f = answer.get_future();
    ASSERT_EQ(f.wait_for(std::chrono::seconds(10)), std::future_status::ready);
    EXPECT_EQ(f.get(), 100u);
    EXPECT_EQ(w.rows_written(), 100u);
}

TEST(history_writer, drops_and_counts_what_exceeds_its_queue)
{
    auto log = std::make_shared<spdlog::logger>("t", std::make_shared<spdlog::sinks::null_sink_mt>());
    writer_config cfg{":memory:"};
    cfg.max_queued_rows = 10;
    writer w(cfg, log);
    // Hold the thread so that the queue fills.
    std::promise<void> release;
    auto released = release.get_future().share();
    w.run([released](store&) { released.wait(); });
    batch small;
    for (int i = 0; i < 8; ++i) {
        small.samples.push_back(value("coap:A", "t", i, "1"));
    }
    EXPECT_TRUE(w.append(small));
    EXPECT_FALSE(w.append(small)); // 16 > 10
    EXPECT_EQ(w.rows_dropped(), 8u);
    release.set_value();
}
