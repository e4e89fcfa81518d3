// Which of n keys (addresses) a benchmark asks for next: uniformly at
// random, by a Zipf law (a few keys are asked for far more often than the
// rest, as real lookups are), or each in turn (every key exactly once, for
// cold-cache runs).
#ifndef KEYDIR_TOOLS_BENCH_KEY_CHOOSER_H
#define KEYDIR_TOOLS_BENCH_KEY_CHOOSER_H

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "base/status.h"

namespace keydir {
namespace bench {

enum class Distribution { kUniform, kZipf, kSequential };

// "uniform", "zipf", "sequential" -> Distribution.
Status ParseDistribution(const std::string& name, Distribution* out);
const char* DistributionName(Distribution d);

// Zipf's law over ranks 1..n: P(rank k) = k^-s / H(n,s). Sampled by
// inverting a table of the cumulative distribution (n doubles), which is
// exact for any s >= 0 and costs one binary search per sample.
class ZipfDistribution {
  public:
    static constexpr uint64_t kMaxKeys = 50'000'000;  // 400 MB of table

    static Status Make(uint64_t n, double s, std::unique_ptr<ZipfDistribution>* out);

    // The rank (1..n) whose cumulative probability interval holds u in [0,1).
    uint64_t RankFor(double u) const;
    uint64_t Sample(std::mt19937_64* rng) const;
    // Exact probability of rank k, for tests and reports.
    double Probability(uint64_t rank) const;
    uint64_t size() const { return cdf_.size(); }
    double exponent() const { return s_; }

  private:
    ZipfDistribution(double s, std::vector<double> cdf) : s_(s), cdf_(std::move(cdf)) {}
    double s_;
    std::vector<double> cdf_;  // cdf_[k-1] = P(rank <= k); cdf_.back() == 1
};

// Maps Zipf ranks onto key indices by a fixed bijection of [0,n), so that
// the popular keys are spread over the whole key space instead of being
// neighbours in every index (which would flatter any B-tree's cache).
class RankScatter {
  public:
    explicit RankScatter(uint64_t n);
    uint64_t IndexOf(uint64_t rank) const;  // rank 1..n -> index 0..n-1
    uint64_t multiplier() const { return multiplier_; }

  private:
    uint64_t n_;
    uint64_t multiplier_;  // coprime with n_, so i -> i*m mod n is a bijection
};

// Draws key indices in [0, n).
class KeyChooser {
  public:
    virtual ~KeyChooser() = default;
    virtual uint64_t Next() = 0;

    // `stream` separates independent choosers (one per thread): random
    // choosers seed with (seed, stream); sequential ones start at `stream`
    // and step by `streams`, so that together they visit each key once.
    static Status Make(Distribution d, uint64_t n, double zipf_s, uint64_t seed, uint64_t stream,
                       uint64_t streams, std::unique_ptr<KeyChooser>* out);
    // Like Make, sharing one Zipf table between choosers.
    static std::unique_ptr<KeyChooser> MakeZipf(std::shared_ptr<const ZipfDistribution> zipf,
                                                uint64_t seed, uint64_t stream);
};

}  // namespace bench
}  // namespace keydir

#endif  // KEYDIR_TOOLS_BENCH_KEY_CHOOSER_H
