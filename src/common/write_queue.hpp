#pragma once
// A connection's outgoing messages, bounded by count and by bytes, with at
// most one write in flight: push() refuses (and says which limit) instead
// of growing, start_write() hands out the front message once, end_write()
// pops it. No I/O here: a session (Beast, a raw socket, the broker
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
        if (writing_ || items_.empty()) {
            return nullptr;
        }
        writing_ = true;
        return &items_.front().first;
    }

    // The write from start_write() completed (or failed): its message goes.
    void end_write()
    {
        if (!writing_) {
            return;
        }
        writing_ = false;
        bytes_ -= items_.front().second;
        items_.pop_front();
    }

    // Drops every message except the one being written.
    void drop_waiting()
    {
        while (items_.size() > (writing_ ? 1u : 0u)) {
            bytes_ -= items_.back().second;
            items_.pop_back();
        }
    }

    bool writing() const { return writing_; }
    bool empty() const { return items_.empty(); }
    std::size_t size() const { return items_.size(); }
    std::size_t bytes() const { return bytes_; }

private:
    std::deque<std::pair<T, std::size_t>> items_;
    std::size_t bytes_ = 0;
    std::size_t max_messages_;
    std::size_t max_bytes_;
    bool writing_ = false;
};

} // namespace aiot::common
