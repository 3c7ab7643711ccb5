#include "dashboard/history/writer.hpp"

#include <spdlog/spdlog.h>

namespace aiot::dashboard::history {

namespace {

constexpr std::uint64_t prune_step_rows = 20'000;

millis now_millis()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

} // namespace

writer::writer(writer_config config, std::shared_ptr<spdlog::logger> log)
    : config_(std::move(config)), log_(std::move(log)), store_(config_.path)
{
    const auto st = store_.stats();
    stored_rows_ = st.rows;
    used_bytes_ = st.used_bytes;
    log_->info("history: {} ({} values, {:.1f} MB in use); kept {} days, at most {} MB",
               config_.path, st.rows, static_cast<double>(st.used_bytes) / 1e6,
               config_.keep.count() / 24, config_.max_bytes >> 20);
    thread_ = std::thread([this] { loop(); });
}

writer::~writer()
{
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_one();
    if (thread_.joinable()) {
        thread_.join();
    }
}

bool writer::append(batch b)
{
    if (b.empty()) {
        return true;
    }
    const auto rows = b.size();
    {
        std::lock_guard lock(mutex_);
        if (queued_rows_ + rows > config_.max_queued_rows) {
            dropped_ += rows;
            return false;
        }
        queued_rows_ += rows;
        jobs_.emplace_back([this, rows, b = std::move(b)](store& s) {
            try {
                s.append(b.samples, b.events);
                written_ += rows;
                stored_rows_ += b.samples.size();
                used_bytes_ = s.stats().used_bytes;
            } catch (const std::exception& e) {
                dropped_ += rows;
                log_->error("history: {} values not written: {}", rows, e.what());
            }
            std::lock_guard done(mutex_);
            queued_rows_ -= rows;
        });
    }
    wake_.notify_one();
    return true;
}

void writer::run(std::function<void(store&)> job)
{
    {
        std::lock_guard lock(mutex_);
        jobs_.push_back(std::move(job));
    }
    wake_.notify_one();
}

void writer::loop()
{
    auto next_prune = std::chrono::steady_clock::now();
    std::unique_lock lock(mutex_);
    for (;;) {
        wake_.wait_until(lock, next_prune, [this] { return stopping_ || !jobs_.empty(); });
        while (!jobs_.empty()) {
            auto job = std::move(jobs_.front());
            jobs_.pop_front();
            lock.unlock();
            try {
                job(store_);
            } catch (const std::exception& e) {
                log_->error("history: {}", e.what());
            }
            lock.lock();
        }
        if (stopping_) {
            return;
        }
        if (std::chrono::steady_clock::now() >= next_prune) {
            lock.unlock();
            const bool more = prune();
            lock.lock();
            // Cut short to let batches go first: go on right after them.
            next_prune = std::chrono::steady_clock::now() +
                         (more ? std::chrono::milliseconds(0) : config_.prune_every);
        }
    }
}

bool writer::prune()
{
    bool more = false;
    const millis before =
        now_millis() - std::chrono::duration_cast<std::chrono::milliseconds>(config_.keep).count();
    try {
        std::uint64_t total = 0;
        for (;;) {
            const auto n = store_.prune(before, config_.max_bytes, prune_step_rows);
            total += n;
            if (n < prune_step_rows) {
                break;
            }
            // Let queued batches go first between steps.
            std::lock_guard lock(mutex_);
            if (!jobs_.empty() || stopping_) {
                more = true;
                break;
            }
        }
        const auto st = store_.stats();
        stored_rows_ = st.rows;
        used_bytes_ = st.used_bytes;
        if (total > 0) {
            log_->debug("history: retention deleted {} values ({} kept, {:.1f} MB in use)", total,
                        st.rows, static_cast<double>(st.used_bytes) / 1e6);
        }
    } catch (const std::exception& e) {
        log_->error("history retention: {}", e.what());
    }
    return more;
}

} // namespace aiot::dashboard::history
