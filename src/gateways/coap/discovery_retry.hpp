#pragma once
// When to try a failed discovery again (no I/O, time passed in). A node
// whose discovery failed (a node that posts its first alive before its own
// CoAP server is up) is tried again after `first`, then after delays
// growing by `factor` up to `max_delay`, at most `max_retries` times; then
// its next alive starts it again, as before. An alive or a reset that
// starts a discovery, a discovery that succeeds and a forgotten node clear
// the node's count (reset()). Bounds, so that a burst of failures cannot
// become a storm of retries: at most `max_running` retried discoveries run
// at once (the others wait for a slot, in due order), and one entry per
// node (the node table bounds the nodes).
//
//   failed() -> scheduled --take_due()--> running --failed()--> scheduled
//                                              \--reset()--> (gone)
#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aiot::gw::coap {

struct retry_limits {
    std::chrono::milliseconds first{500};
    double factor = 1.5;
    std::chrono::milliseconds max_delay{8000};
    unsigned max_retries = 8; // 0.5 + 0.75 + ... + 8 s: about 25 s, then the next alive
    std::size_t max_running = 32;
};

class discovery_retry {
public:
    using time_point = std::chrono::steady_clock::time_point;

    explicit discovery_retry(retry_limits limits = {});

    struct decision {
        time_point at;       // when the node is tried again
        unsigned retry = 0;  // 1 for the first retry
        std::chrono::milliseconds delay{};
    };
    // The node's discovery failed at `now`: its next try, or nullopt when
    // its retries are used up (its next alive starts it again).
    std::optional<decision> failed(const std::string& uid, time_point now);
    // The node needs no retry (started afresh by an alive or a reset,
    // done, or forgotten): its count and schedule are dropped.
    void reset(std::string_view uid);

    // Nodes due at `now`, oldest first, at most as many as free running
    // slots; they count as running until failed() or reset().
    std::vector<std::string> take_due(time_point now);
    // When take_due() has something to hand out next (nullopt: nothing
    // scheduled, or every running slot taken: failed()/reset() free one).
    std::optional<time_point> next_due() const;

    std::size_t scheduled() const { return schedule_.size(); }
    std::size_t running() const { return running_; }
    const retry_limits& limits() const { return limits_; }

private:
    struct entry {
        unsigned retries = 0; // handed out so far
        std::optional<time_point> due;
        bool running = false;
    };

    retry_limits limits_;
    std::map<std::string, entry, std::less<>> nodes_;
    std::set<std::pair<time_point, std::string>> schedule_;
    std::size_t running_ = 0;
};

} // namespace aiot::gw::coap
