#pragma once
// Latencies in 1 µs buckets up to 100 ms (one overflow bucket above).
#include <cstdint>
#include <vector>

namespace aiot::bench {

class latency_histogram {
public:
    void add(std::uint64_t ns);
    void clear();
    std::uint64_t count() const { return count_; }
    // The latency in µs below which a fraction p (0..1) of the samples lie.
    double percentile_us(double p) const;
    double max_us() const { return static_cast<double>(max_ns_) / 1000.0; }

private:
    static constexpr std::size_t buckets = 100000;
    std::vector<std::uint64_t> counts_ = std::vector<std::uint64_t>(buckets + 1);
    std::uint64_t count_ = 0;
    std::uint64_t max_ns_ = 0;
};

} // namespace aiot::bench
