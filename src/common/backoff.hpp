#pragma once
// Reconnection delays (PROTOCOL.md section 3): a quick first retry, then
// exponential growth up to a cap, each delay drawn at random in its upper
// half ("equal jitter"), so that peers who lost the same server at the same
// moment do not all come back in the same millisecond. Sans-I/O: the
// random source is passed in, no clock is read.
#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>

namespace aiot::common {

struct backoff_config {
    std::chrono::milliseconds first{250};  // the first retry: in [0, first]
    std::chrono::milliseconds base{1000};  // the second: in [base/2, base]
    std::chrono::milliseconds cap{10000};  // never more than this
};

class backoff {
public:
    explicit backoff(backoff_config config = {}, std::uint64_t seed = std::random_device{}());

    // The delay before the next attempt; each call counts one failure.
    std::chrono::milliseconds next();
    // A connection held long enough: the next failure starts over.
    void reset() { failures_ = 0; }

    // Whether why differs from the last failure noted: a new reason is worth
    // a warning, a repeat only a debug line, so a peer that stays down is
    // logged once. forget_failure() (on success) makes the next one new.
    bool note_failure(std::string_view why);
    void forget_failure() { last_failure_.clear(); }
    const backoff_config& config() const { return config_; }

private:
    backoff_config config_;
    std::mt19937_64 rng_;
    unsigned failures_ = 0;
    std::string last_failure_;
};

} // namespace aiot::common
