#pragma once
// Keeps refusals of bad input from flooding the log or being free for the
// sender (docs/deployment.md, "Refusals"). Per source address and per
// interval: the first refusals are logged one by one, the rest are counted
// and summed up in one line when the interval ends; an address that keeps
// failing gets a growing delay before its refusal is answered, which slows
// it without slowing anyone else (the caller waits asynchronously).
// Sans-I/O: time is passed in. Bounded: at most max_addresses are tracked;
// past that, the least recently seen address is forgotten.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace aiot::common {

struct refusal_log_config {
    std::chrono::steady_clock::duration interval = std::chrono::seconds(10);
    std::size_t logged_per_interval = 3;  // per address; the rest are counted
    std::size_t free_per_interval = 5;    // refusals before delays start
    std::chrono::milliseconds first_delay{100};
    std::chrono::milliseconds max_delay{2000};
    std::size_t max_addresses = 4096;
};

struct refusal_decision {
    bool log = true;                        // log this refusal itself
    std::chrono::milliseconds delay{0};     // answer it after this long
};

// A summary line to log: `count` refusals from `address` were not logged
// one by one.
struct refusal_summary {
    std::string address;
    std::uint64_t count = 0;
};

class refusal_log {
public:
    using time_point = std::chrono::steady_clock::time_point;

    explicit refusal_log(refusal_log_config config = {});

    refusal_decision refused(std::string_view address, time_point now);
    // Summaries of the intervals that have ended by `now` (call it about
    // once per interval).
    std::vector<refusal_summary> take_summaries(time_point now);

    std::size_t tracked() const { return entries_.size(); }

private:
    struct entry {
        std::string address;
        time_point window_start{};
        std::uint64_t count = 0;      // refusals in this window
        std::uint64_t suppressed = 0; // of which not logged
    };
    using list = std::list<entry>;

    void close_window(entry& e, time_point now);

    refusal_log_config config_;
    list entries_; // most recently refused first
    std::unordered_map<std::string, list::iterator> by_address_;
    std::vector<refusal_summary> pending_;
};

} // namespace aiot::common
