#include "dashboard/history/store.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace aiot::dashboard::history {

namespace {

constexpr std::size_t series_cache_limit = 100'000;

std::string error_text(sqlite3* db, std::string_view what)
{
    return std::string(what) + ": " + (db ? sqlite3_errmsg(db) : "out of memory");
}

// Resets a prepared statement when the scope ends, however it ends.
class reset_on_exit {
public:
    explicit reset_on_exit(sqlite3_stmt* s) : s_(s) {}
    ~reset_on_exit()
    {
        sqlite3_reset(s_);
        sqlite3_clear_bindings(s_);
    }
    reset_on_exit(const reset_on_exit&) = delete;
    reset_on_exit& operator=(const reset_on_exit&) = delete;

private:
    sqlite3_stmt* s_;
};

void bind_text(sqlite3_stmt* s, int i, std::string_view text)
{
    sqlite3_bind_text(s, i, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
}

std::string column_text(sqlite3_stmt* s, int i)
{
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(s, i))) : std::string();
}

} // namespace

std::optional<double> leading_number(std::string_view text)
{
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
        text.remove_prefix(1);
    }
    if (!text.empty() && text.front() == '+') {
        text.remove_prefix(1);
    }
    double value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || !std::isfinite(value)) {
        return std::nullopt;
    }
    // "inf"/"nan" are refused above; a bare "." or "e5" never parses.
    (void)end;
    return value;
}

store::store(const std::string& path) : path_(path)
{
    if (sqlite3_open_v2(path.c_str(), &db_,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK) {
        const auto why = error_text(db_, "cannot open history database " + path);
        sqlite3_close(db_);
        db_ = nullptr;
        throw std::runtime_error(why);
    }
    try {
        sqlite3_busy_timeout(db_, 2000);
        exec("PRAGMA journal_mode=WAL");
        exec("PRAGMA synchronous=NORMAL");
        // 64 MiB of page cache (the default is 2 MiB): index pages of every
        // series stay in memory while batches interleave them.
        exec("PRAGMA cache_size=-65536");
        // Checkpoints (which sync the file) every 16 MiB of WAL, not 4 MiB.
        exec("PRAGMA wal_autocheckpoint=4096");
        exec("CREATE TABLE IF NOT EXISTS series("
             " id INTEGER PRIMARY KEY, node TEXT NOT NULL, resource TEXT NOT NULL,"
             " UNIQUE(node, resource))");
        // An older layout (a rowid table) is not converted: say so.
        if (single_value("PRAGMA user_version") == 0 &&
            single_value("SELECT count(*) FROM sqlite_master WHERE name='samples'") > 0) {
            throw std::runtime_error("history database " + path +
                                     " has an older layout: move it away (or use another "
                                     "--history-db) and a new one is made");
        }
        // Clustered by series and time: the values of one series over an
        // hour sit in a few consecutive pages, so a query reads those and
        // no more. seq tells apart values of the same millisecond. The
        // index by time serves retention (it grows at its end only).
        exec("CREATE TABLE IF NOT EXISTS samples("
             " series INTEGER NOT NULL, at INTEGER NOT NULL, seq INTEGER NOT NULL DEFAULT 0,"
             " number REAL, text TEXT NOT NULL, PRIMARY KEY(series, at, seq)) WITHOUT ROWID");
        exec("CREATE INDEX IF NOT EXISTS samples_by_time ON samples(at)");
        exec("PRAGMA user_version=1");
        exec("CREATE TABLE IF NOT EXISTS events("
             " node TEXT NOT NULL, uid TEXT NOT NULL, kind TEXT NOT NULL, at INTEGER NOT NULL)");
        insert_sample_ =
            prepare("INSERT INTO samples(series, at, seq, number, text) VALUES(?,?,?,?,?)");
        insert_event_ = prepare("INSERT INTO events(node, uid, kind, at) VALUES(?,?,?,?)");
        find_series_ = prepare("SELECT id FROM series WHERE node=? AND resource=?");
        insert_series_ = prepare("INSERT INTO series(node, resource) VALUES(?,?)");
        // The newest `limit` in the window, returned oldest first.
        select_points_ = prepare("SELECT at, number, text FROM ("
                                 " SELECT at, seq, number, text FROM samples"
                                 " WHERE series=? AND at>=? AND at<=?"
                                 " ORDER BY at DESC, seq DESC LIMIT ?)"
                                 " ORDER BY at, seq");
        rows_ = static_cast<std::uint64_t>(single_value("SELECT count(*) FROM samples"));
    } catch (...) {
        close();
        throw;
    }
}

store::~store()
{
    close();
}

void store::close()
{
    for (auto* s : {insert_sample_, insert_event_, find_series_, insert_series_, select_points_}) {
        sqlite3_finalize(s);
    }
    insert_sample_ = insert_event_ = find_series_ = insert_series_ = select_points_ = nullptr;
    if (db_) {
        sqlite3_close(db_);
        db_ = nullptr;
    }
}

sqlite3_stmt* store::prepare(const char* sql)
{
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK) {
        throw std::runtime_error(error_text(db_, "history database"));
    }
    return s;
}

void store::exec(const char* sql)
{
    char* message = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) != SQLITE_OK) {
        std::string why = "history database: ";
        why += message ? message : "error";
        sqlite3_free(message);
        throw std::runtime_error(why);
    }
}

std::int64_t store::series_id(std::string_view node, std::string_view resource, bool create)
{
    std::string cache_key;
    cache_key.reserve(node.size() + resource.size() + 1);
    cache_key.append(node).append(1, '\n').append(resource);
    if (const auto it = series_cache_.find(cache_key); it != series_cache_.end()) {
        return it->second;
    }
    std::int64_t id = 0;
    {
        reset_on_exit reset(find_series_);
        bind_text(find_series_, 1, node);
        bind_text(find_series_, 2, resource);
        if (sqlite3_step(find_series_) == SQLITE_ROW) {
            id = sqlite3_column_int64(find_series_, 0);
        }
    }
    if (id == 0) {
        if (!create) {
            return 0;
        }
        reset_on_exit reset(insert_series_);
        bind_text(insert_series_, 1, node);
        bind_text(insert_series_, 2, resource);
        if (sqlite3_step(insert_series_) != SQLITE_DONE) {
            throw std::runtime_error(error_text(db_, "history database"));
        }
        id = sqlite3_last_insert_rowid(db_);
    }
    if (series_cache_.size() >= series_cache_limit) {
        series_cache_.clear();
        last_at_.clear();
    }
    series_cache_.emplace(std::move(cache_key), id);
    return id;
}

void store::append(const std::vector<sample>& samples, const std::vector<event>& events)
{
    if (samples.empty() && events.empty()) {
        return;
    }
    exec("BEGIN");
    try {
        for (const auto& s : samples) {
            const auto id = series_id(s.node, s.resource, true);
            // Values of one series in the same millisecond get seq 0, 1,
            // 2...; after a restart the first such clash finds the next
            // free seq by trying.
            auto& last = last_at_[id];
            std::int64_t seq = last.first == s.at ? last.second + 1 : 0;
            for (int attempt = 0;; ++attempt, ++seq) {
                reset_on_exit reset(insert_sample_);
                sqlite3_bind_int64(insert_sample_, 1, id);
                sqlite3_bind_int64(insert_sample_, 2, s.at);
                sqlite3_bind_int64(insert_sample_, 3, seq);
                if (s.number) {
                    sqlite3_bind_double(insert_sample_, 4, *s.number);
                } else {
                    sqlite3_bind_null(insert_sample_, 4);
                }
                bind_text(insert_sample_, 5, s.text);
                const int rc = sqlite3_step(insert_sample_);
                if (rc == SQLITE_DONE) {
                    break;
                }
                if (rc != SQLITE_CONSTRAINT || attempt >= 10'000) {
                    throw std::runtime_error(error_text(db_, "history database"));
                }
            }
            last = {s.at, seq};
        }
        rows_ += samples.size();
        for (const auto& e : events) {
            reset_on_exit reset(insert_event_);
            bind_text(insert_event_, 1, e.node);
            bind_text(insert_event_, 2, e.uid);
            bind_text(insert_event_, 3, e.kind);
            sqlite3_bind_int64(insert_event_, 4, e.at);
            if (sqlite3_step(insert_event_) != SQLITE_DONE) {
                throw std::runtime_error(error_text(db_, "history database"));
            }
        }
        exec("COMMIT");
    } catch (...) {
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        series_cache_.clear(); // ids made in the rolled-back transaction are gone
        last_at_.clear();
        rows_ = static_cast<std::uint64_t>(single_value("SELECT count(*) FROM samples"));
        throw;
    }
}

std::vector<point> store::query(std::string_view node, std::string_view resource, millis since,
                                millis until, std::size_t limit)
{
    std::vector<point> out;
    const auto id = series_id(node, resource, false);
    if (id == 0 || limit == 0) {
        return out;
    }
    reset_on_exit reset(select_points_);
    sqlite3_bind_int64(select_points_, 1, id);
    sqlite3_bind_int64(select_points_, 2, since);
    sqlite3_bind_int64(select_points_, 3, until);
    sqlite3_bind_int64(select_points_, 4, static_cast<sqlite3_int64>(limit));
    int rc;
    while ((rc = sqlite3_step(select_points_)) == SQLITE_ROW) {
        point p;
        p.at = sqlite3_column_int64(select_points_, 0);
        if (sqlite3_column_type(select_points_, 1) != SQLITE_NULL) {
            p.number = sqlite3_column_double(select_points_, 1);
        }
        p.text = column_text(select_points_, 2);
        out.push_back(std::move(p));
    }
    if (rc != SQLITE_DONE) {
        throw std::runtime_error(error_text(db_, "history query"));
    }
    return out;
}

bool store::has_node(std::string_view node)
{
    auto* s = prepare("SELECT 1 FROM series WHERE node=? LIMIT 1");
    bind_text(s, 1, node);
    const bool found = sqlite3_step(s) == SQLITE_ROW;
    sqlite3_finalize(s);
    return found;
}

std::uint64_t store::delete_oldest(const char* table_where, millis before, std::uint64_t max_rows)
{
    // The oldest first, by the time index: the scan stops after max_rows.
    const std::string sql = std::string("DELETE FROM ") + table_where;
    auto* s = prepare(sql.c_str());
    sqlite3_bind_int64(s, 1, before);
    sqlite3_bind_int64(s, 2, static_cast<sqlite3_int64>(max_rows));
    const int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) {
        throw std::runtime_error(error_text(db_, "history retention"));
    }
    return static_cast<std::uint64_t>(sqlite3_changes(db_));
}

std::int64_t store::single_value(const char* sql)
{
    auto* s = prepare(sql);
    const std::int64_t v = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    sqlite3_finalize(s);
    return v;
}

std::uint64_t store::prune(millis before, std::uint64_t max_bytes, std::uint64_t max_rows)
{
    std::uint64_t deleted = delete_oldest(
        "samples WHERE (series, at, seq) IN"
        " (SELECT series, at, seq FROM samples WHERE at<?1 ORDER BY at LIMIT ?2)",
        before, max_rows);
    delete_oldest(
        "events WHERE rowid IN (SELECT rowid FROM events WHERE at<?1 ORDER BY rowid LIMIT ?2)",
        before, max_rows);
    if (stats().used_bytes > max_bytes) {
        // Too large: the oldest rows go whatever their age.
        deleted += delete_oldest(
            "samples WHERE (series, at, seq) IN"
            " (SELECT series, at, seq FROM samples WHERE at<?1 ORDER BY at LIMIT ?2)",
            std::numeric_limits<millis>::max(), max_rows);
    }
    rows_ -= std::min(rows_, deleted);
    return deleted;
}

history::stats store::stats()
{
    history::stats st;
    const auto page_size = single_value("PRAGMA page_size");
    const auto pages = single_value("PRAGMA page_count");
    const auto free_pages = single_value("PRAGMA freelist_count");
    st.file_bytes = static_cast<std::uint64_t>(pages * page_size);
    st.used_bytes = static_cast<std::uint64_t>((pages - free_pages) * page_size);
    st.rows = rows_;
    return st;
}

} // namespace aiot::dashboard::history
