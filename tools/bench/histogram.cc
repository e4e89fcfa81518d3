#include "histogram.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace keydir {
namespace bench {
namespace {

constexpr int kP = LatencyHistogram::kPrecisionBits;
constexpr uint64_t kExact = uint64_t{1} << kP;       // values counted exactly
constexpr uint64_t kHalf = uint64_t{1} << (kP - 1);  // buckets per power of two

// Index of the highest set bit (value > 0).
int HighBit(uint64_t value) {
    return 63 - __builtin_clzll(value);
}

}  // namespace

size_t LatencyHistogram::BucketCount() {
    // Exact part, then one group of kHalf buckets for each shift 1..64-kP.
    return kExact + static_cast<size_t>(64 - kP) * kHalf;
}

size_t LatencyHistogram::BucketIndex(uint64_t value) {
    if (value < kExact)
        return static_cast<size_t>(value);
    // value >> shift lies in [kHalf, 2*kHalf): the kP-1 bits below the top one.
    int shift = HighBit(value) - (kP - 1);
    uint64_t sub = (value >> shift) - kHalf;
    return kExact + static_cast<size_t>(shift - 1) * kHalf + static_cast<size_t>(sub);
}

uint64_t LatencyHistogram::BucketLowest(size_t index) {
    if (index < kExact)
        return index;
    size_t group = (index - kExact) / kHalf;  // shift - 1
    uint64_t sub = (index - kExact) % kHalf;
    return (kHalf + sub) << (group + 1);
}

uint64_t LatencyHistogram::BucketHighest(size_t index) {
    if (index < kExact)
        return index;
    size_t group = (index - kExact) / kHalf;
    uint64_t width = uint64_t{1} << (group + 1);
    uint64_t low = BucketLowest(index);
    // The very last bucket ends at the largest uint64_t.
    return low + (width - 1);
}

LatencyHistogram::LatencyHistogram() : counts_(BucketCount(), 0) {}

void LatencyHistogram::RecordN(uint64_t value, uint64_t n) {
    if (n == 0)
        return;
    counts_[BucketIndex(value)] += n;
    if (count_ == 0 || value < min_)
        min_ = value;
    if (value > max_)
        max_ = value;
    count_ += n;
    uint64_t add = value;
    if (n > 1 && add > std::numeric_limits<uint64_t>::max() / n)
        add = std::numeric_limits<uint64_t>::max();
    else
        add *= n;
    sum_ = (sum_ > std::numeric_limits<uint64_t>::max() - add)
               ? std::numeric_limits<uint64_t>::max()
               : sum_ + add;
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
    if (other.count_ == 0)
        return;
    for (size_t i = 0; i < counts_.size(); ++i)
        counts_[i] += other.counts_[i];
    if (count_ == 0 || other.min_ < min_)
        min_ = other.min_;
    max_ = std::max(max_, other.max_);
    count_ += other.count_;
    sum_ = (sum_ > std::numeric_limits<uint64_t>::max() - other.sum_)
               ? std::numeric_limits<uint64_t>::max()
               : sum_ + other.sum_;
}

void LatencyHistogram::Clear() {
    std::fill(counts_.begin(), counts_.end(), 0);
    count_ = min_ = max_ = sum_ = 0;
}

uint64_t LatencyHistogram::Percentile(double percent) const {
    if (count_ == 0)
        return 0;
    if (percent <= 0)
        return min_;
    if (percent >= 100)
        return max_;
    // The rank (1-based) of the value asked for.
    double exact_rank = percent / 100.0 * static_cast<double>(count_);
    uint64_t rank = static_cast<uint64_t>(std::ceil(exact_rank - 1e-9));
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    for (size_t i = 0; i < counts_.size(); ++i) {
        seen += counts_[i];
        if (seen >= rank)
            return std::min(std::max(BucketHighest(i), min_), max_);
    }
    return max_;
}

}  // namespace bench
}  // namespace keydir
