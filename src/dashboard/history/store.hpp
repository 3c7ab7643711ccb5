#pragma once
// The history database: one SQLite file (WAL) of timestamped resource
// values per node, and the nodes' new/out/reset events. Synchronous and
// single-threaded: the dashboard gives it a thread of its own (writer.hpp)
// so that a slow disk never holds up the event loop.
//
// A series is one resource of one node, named by the node's stable key
// (recorder.hpp says how it is chosen) so that it survives a gateway
// restart. Values are kept as the text the node sent, with the number at
// its start when there is one ("23.4°C" -> 23.4) for charts and queries.
//
// Retention is by age and by size: prune() deletes the oldest rows, a
// bounded number per call, so that a large clean-up never blocks writes
// for long; pages freed this way are reused, so the file stops growing.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace aiot::dashboard::history {

// Milliseconds since the Unix epoch.
using millis = std::int64_t;

struct sample {
    std::string node; // stable key
    std::string resource;
    millis at = 0;
    std::string text;
    std::optional<double> number;
};

struct event {
    std::string node; // stable key
    std::string uid;  // the broker's uid at the time
    std::string kind; // "new", "out", "reset"
    millis at = 0;
};

struct point {
    millis at = 0;
    std::string text;
    std::optional<double> number;
};

struct stats {
    std::uint64_t rows = 0;       // samples
    std::uint64_t used_bytes = 0; // pages in use (the file may be larger)
    std::uint64_t file_bytes = 0;
};

// The number at the start of a value: "23.4°C" -> 23.4, " -3 dB" -> -3,
// "1e3" -> 1000; nothing for "on", "", "{...}", NaN or infinity.
std::optional<double> leading_number(std::string_view text);

class store {
public:
    // Opens (creating if needed) the database file; ":memory:" for tests.
    // Throws std::runtime_error with SQLite's reason when it cannot.
    explicit store(const std::string& path);
    ~store();
    store(const store&) = delete;
    store& operator=(const store&) = delete;

    // Writes a batch in one transaction. Throws std::runtime_error on a
    // database error (the batch is then rolled back).
    void append(const std::vector<sample>& samples, const std::vector<event>& events);

    // The values of one series with since <= at <= until, newest last: the
    // newest `limit` of them when there are more.
    std::vector<point> query(std::string_view node, std::string_view resource, millis since,
                             millis until, std::size_t limit);

    // Whether any value was ever recorded for that node key.
    bool has_node(std::string_view node);

    // Deletes at most max_rows of the oldest samples (and events) older than
    // `before`, then, while the pages in use exceed max_bytes, at most
    // max_rows more of the oldest samples. Returns the samples deleted.
    std::uint64_t prune(millis before, std::uint64_t max_bytes, std::uint64_t max_rows);

    history::stats stats();

private:
    void close();
    sqlite3_stmt* prepare(const char* sql);
    std::int64_t single_value(const char* sql);
    void exec(const char* sql);
    std::int64_t series_id(std::string_view node, std::string_view resource, bool create);
    std::uint64_t delete_oldest(const char* where_sql, millis before, std::uint64_t max_rows);

    std::string path_;
    sqlite3* db_ = nullptr;
    std::uint64_t rows_ = 0; // samples, counted at open and kept up to date
    // node + '\n' + resource -> series id; cleared when it passes a bound.
    std::unordered_map<std::string, std::int64_t> series_cache_;
    // series id -> (time, seq) of the last value written to it.
    std::unordered_map<std::int64_t, std::pair<millis, std::int64_t>> last_at_;
    sqlite3_stmt* insert_sample_ = nullptr;
    sqlite3_stmt* insert_event_ = nullptr;
    sqlite3_stmt* find_series_ = nullptr;
    sqlite3_stmt* insert_series_ = nullptr;
    sqlite3_stmt* select_points_ = nullptr;
};

} // namespace aiot::dashboard::history
