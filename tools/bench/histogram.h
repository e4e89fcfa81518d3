// LatencyHistogram: a log-linear histogram of non-negative integers
// (keydir-bench records microseconds), in the manner of HdrHistogram.
//
// Values below 2^kPrecisionBits are counted exactly. Above, every power of
// two is split into 2^(kPrecisionBits-1) equal buckets, so a bucket is never
// wider than 1/64 of the values in it: a percentile read back is at most
// 1.6% above the true one, and never above the largest value recorded.
// Memory is fixed (a few thousand counters) whatever the range, so a slow
// outlier of minutes costs nothing and is not clipped.
#ifndef KEYDIR_TOOLS_BENCH_HISTOGRAM_H
#define KEYDIR_TOOLS_BENCH_HISTOGRAM_H

#include <cstddef>
#include <cstdint>
#include <vector>

namespace keydir {
namespace bench {

class LatencyHistogram {
  public:
    static constexpr int kPrecisionBits = 7;

    LatencyHistogram();

    void Record(uint64_t value) { RecordN(value, 1); }
    void RecordN(uint64_t value, uint64_t n);
    // Adds every value recorded in `other`.
    void Merge(const LatencyHistogram& other);
    void Clear();

    uint64_t count() const { return count_; }
    uint64_t min() const { return count_ ? min_ : 0; }
    uint64_t max() const { return max_; }
    double mean() const { return count_ ? static_cast<double>(sum_) / count_ : 0.0; }

    // The smallest recorded value v (to the bucket's precision) such that at
    // least `percent`% of the values are <= v. 0 when empty; percent <= 0
    // gives min(), percent >= 100 gives max().
    uint64_t Percentile(double percent) const;

    // Bucket arithmetic, public for the unit tests.
    static size_t BucketIndex(uint64_t value);
    static uint64_t BucketLowest(size_t index);
    static uint64_t BucketHighest(size_t index);
    static size_t BucketCount();

  private:
    std::vector<uint64_t> counts_;
    uint64_t count_ = 0;
    uint64_t min_ = 0;
    uint64_t max_ = 0;
    // Sum of values for the mean; saturates instead of wrapping.
    uint64_t sum_ = 0;
};

}  // namespace bench
}  // namespace keydir

#endif  // KEYDIR_TOOLS_BENCH_HISTOGRAM_H
