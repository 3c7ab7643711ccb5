#include "latency_histogram.hpp"

#include <algorithm>

namespace aiot::bench {

void latency_histogram::add(std::uint64_t ns)
{
    ++counts_[std::min<std::uint64_t>(ns / 1000, buckets)];
    ++count_;
    max_ns_ = std::max(max_ns_, ns);
}

void latency_histogram::clear()
{
    std::fill(counts_.begin(), counts_.end(), 0);
    count_ = 0;
    max_ns_ = 0;
}

double latency_histogram::percentile_us(double p) const
{
    if (count_ == 0) {
        return 0;
    }
    const auto rank = static_cast<std::uint64_t>(p * static_cast<double>(count_ - 1)) + 1;
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i <= buckets; ++i) {
        seen += counts_[i];
        if (seen >= rank) {
            return i == buckets ? max_us() : static_cast<double>(i) + 1.0; // bucket's upper bound
        }
    }
    return max_us();
}

} // namespace aiot::bench
