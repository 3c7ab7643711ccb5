#pragma once
// A connection's outgoing messages, bounded by count and by bytes, with at
// most one write in flight: push() refuses (and says which limit) instead
// of growing, start_write() hands out the front message once (or
// start_write_batch() the front messages, for one gathered write),
// end_write() pops what was handed out. No I/O here: a session (Beast, a raw socket, the broker
// uplink) owns one and does the writing. T is anything movable, e.g.
// std::string or std::shared_ptr<const std::string>; its size in bytes is
// given to push(), so a shared message can be counted once per queue.
#include <cstddef>
#include <deque>
#include <string_view>
#include <utility>

namespace aiot::common {

enum class queue_refusal { none, too_many_messages, too_many_bytes };

// "too many messages queued", ...; empty for none.
constexpr std::string_view to_string(queue_refusal r)
{
    switch (r) {
    case queue_refusal::none: return {};
    case queue_refusal::too_many_messages: return "too many messages queued";
    case queue_refusal::too_many_bytes: return "too many bytes queued";
    }
    return {};
}

template <class T>
class write_queue {
public:
    write_queue(std::size_t max_messages, std::size_t max_bytes)
        : max_messages_(max_messages), max_bytes_(max_bytes)
    {
    }

    // Queues `item`, counted as `bytes`, unless that would pass a limit.
    queue_refusal push(T item, std::size_t bytes)
    {
        if (items_.size() >= max_messages_) {
            return queue_refusal::too_many_messages;
        }
        if (bytes > max_bytes_ - bytes_) {
            return queue_refusal::too_many_bytes;
        }
        bytes_ += bytes;
        items_.emplace_back(std::move(item), bytes);
        return queue_refusal::none;
    }

    // The message to write now, or nullptr if one is being written or none
    // waits. It stays valid (and counted) until end_write().
    T* start_write()
    {
        if (writing_ > 0 || items_.empty()) {
            return nullptr;
        }
        writing_ = 1;
        return &items_.front().first;
    }

    // Hands the front messages, up to max_messages and to max_bytes (at
    // least one), to visit(const T&) in order, for one write; returns how
    // many (0 if a write is in flight or none waits). They stay valid (and
    // counted) until end_write().
    template <class Visit>
    std::size_t start_write_batch(std::size_t max_messages, std::size_t max_bytes, Visit&& visit)
    {
        if (writing_ > 0) {
            return 0;
        }
        std::size_t bytes = 0;
        for (const auto& [item, size] : items_) {
            if (writing_ == max_messages || (writing_ > 0 && bytes + size > max_bytes)) {
                break;
            }
            visit(item);
            bytes += size;
            ++writing_;
        }
        return writing_;
    }

    // The write from start_write() or start_write_batch() completed (or
    // failed): its messages go.
    void end_write()
    {
        for (; writing_ > 0; --writing_) {
            bytes_ -= items_.front().second;
            items_.pop_front();
        }
    }

    // Drops every message except those being written.
    void drop_waiting()
    {
        while (items_.size() > writing_) {
            bytes_ -= items_.back().second;
            items_.pop_back();
        }
    }

    bool writing() const { return writing_ > 0; }
    bool empty() const { return items_.empty(); }
    std::size_t size() const { return items_.size(); }
    std::size_t bytes() const { return bytes_; }

private:
    std::deque<std::pair<T, std::size_t>> items_;
    std::size_t bytes_ = 0;
    std::size_t max_messages_;
    std::size_t max_bytes_;
    std::size_t writing_ = 0; // messages handed out for the write in flight
};

} // namespace aiot::common
