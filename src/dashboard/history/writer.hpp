#pragma once
// The history database's own thread: SQLite calls block (disk, fsync), so
// they run here and never on the dashboard's event loop. The loop hands
// over whole batches and queries as jobs; a job that answers posts its
// result back to the loop itself. Retention runs here too, in bounded
// steps between jobs.
//
// Bounded: at most max_queued_rows rows wait; a batch beyond that is
// dropped and counted (the live view is not affected, only the history).
#include "dashboard/history/recorder.hpp"
#include "dashboard/history/store.hpp"

#include <spdlog/logger.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace aiot::dashboard::history {

struct writer_config {
    std::string path;                        // the database file
    std::chrono::hours keep{7 * 24};         // --history-days
    std::uint64_t max_bytes = 256ull << 20;  // --history-max-mb
    std::size_t max_queued_rows = 2'000'000;
    std::chrono::milliseconds prune_every{10000};
};

class writer {
public:
    // Opens the database on the calling thread (so that a bad path fails
    // at start, with SQLite's reason), then starts the thread.
    writer(writer_config config, std::shared_ptr<spdlog::logger> log);
    ~writer(); // writes what is queued, then stops
    writer(const writer&) = delete;
    writer& operator=(const writer&) = delete;

    // Queues a batch for writing; false when it was dropped (queue full).
    bool append(batch b);
    // Runs job(store) on the database thread, after every batch queued
    // before it.
    void run(std::function<void(store&)> job);

    // Figures for metrics and logs (updated by the thread).
    std::uint64_t rows_written() const { return written_.load(); }
    std::uint64_t rows_dropped() const { return dropped_.load(); }
    std::uint64_t rows_stored() const { return stored_rows_.load(); }
    std::uint64_t bytes_used() const { return used_bytes_.load(); }

private:
    void loop();
    // One retention pass; true when it stopped early with more to delete.
    bool prune();

    writer_config config_;
    std::shared_ptr<spdlog::logger> log_;
    store store_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<std::function<void(store&)>> jobs_;
    std::size_t queued_rows_ = 0;
    bool stopping_ = false;
    std::atomic<std::uint64_t> written_{0};
    std::atomic<std::uint64_t> dropped_{0};
    std::atomic<std::uint64_t> stored_rows_{0};
    std::atomic<std::uint64_t> used_bytes_{0};
    std::thread thread_; // last: started when everything above exists
};

} // namespace aiot::dashboard::history
