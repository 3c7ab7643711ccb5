#pragma once
// Which broker of the list to try next, and whether to wait first
// (sans-I/O: the uplink carries the decisions out, with its backoff).
//
//   start at the first (preferred) broker
//   connected            -> stay on it for as long as it lasts (no return
//                           to the preferred one while this one works)
//   lost (was connected) -> the next broker, after the backoff delay
//   attempt failed       -> the next broker at once, unless every broker of
//                           the list failed in a row since the last
//                           connection: then the next one (the first of
//                           the round again) after the backoff delay
//
// With one broker this is the behaviour before lists existed: every
// failure waits the backoff delay, then tries the same broker again.
#include <cstddef>

namespace aiot::common {

class broker_rotation {
public:
    enum class next_step { now, after_backoff };

    explicit broker_rotation(std::size_t count); // count >= 1

    std::size_t current() const { return current_; }
    std::size_t count() const { return count_; }
    // Attempts that failed in a row in the round under way.
    std::size_t failed_in_round() const { return failed_; }

    void connected();
    next_step lost();
    next_step attempt_failed();

private:
    void advance();

    std::size_t count_;
    std::size_t current_ = 0;
    std::size_t failed_ = 0;
};

} // namespace aiot::common
