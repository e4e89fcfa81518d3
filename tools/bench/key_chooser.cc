#include "key_chooser.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace keydir {
namespace bench {
namespace {

class UniformChooser : public KeyChooser {
  public:
    UniformChooser(uint64_t n, uint64_t seed) : rng_(seed), dist_(0, n - 1) {}
    uint64_t Next() override { return dist_(rng_); }

  private:
    std::mt19937_64 rng_;
    std::uniform_int_distribution<uint64_t> dist_;
};

class SequentialChooser : public KeyChooser {
  public:
    SequentialChooser(uint64_t n, uint64_t start, uint64_t step)
        : n_(n), next_(start % n), step_(step) {}
    uint64_t Next() override {
        uint64_t k = next_;
        next_ = (next_ + step_) % n_;
        return k;
    }

  private:
    uint64_t n_, next_, step_;
};

class ZipfChooser : public KeyChooser {
  public:
    ZipfChooser(std::shared_ptr<const ZipfDistribution> zipf, uint64_t seed)
        : zipf_(std::move(zipf)), scatter_(zipf_->size()), rng_(seed) {}
    uint64_t Next() override { return scatter_.IndexOf(zipf_->Sample(&rng_)); }

  private:
    std::shared_ptr<const ZipfDistribution> zipf_;
    RankScatter scatter_;
    std::mt19937_64 rng_;
};

// Seeds that differ per stream but are reproducible from (seed, stream).
uint64_t StreamSeed(uint64_t seed, uint64_t stream) {
    std::seed_seq seq{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32),
                      static_cast<uint32_t>(stream), static_cast<uint32_t>(stream >> 32)};
    uint32_t words[2];
    seq.generate(words, words + 2);
    return (static_cast<uint64_t>(words[0]) << 32) | words[1];
}

}  // namespace

Status ParseDistribution(const std::string& name, Distribution* out) {
    if (name == "uniform") {
        *out = Distribution::kUniform;
    } else if (name == "zipf") {
        *out = Distribution::kZipf;
    } else if (name == "sequential") {
        *out = Distribution::kSequential;
    } else {
        return Status::InvalidArgument("unknown distribution '" + name +
                                       "' (expected uniform, zipf or sequential)");
    }
    return Status::OK();
}

const char* DistributionName(Distribution d) {
    switch (d) {
        case Distribution::kUniform:
            return "uniform";
        case Distribution::kZipf:
            return "zipf";
        case Distribution::kSequential:
            return "sequential";
    }
    return "?";
}

Status ZipfDistribution::Make(uint64_t n, double s, std::unique_ptr<ZipfDistribution>* out) {
    if (n == 0)
        return Status::InvalidArgument("a Zipf distribution needs at least one key");
    if (n > kMaxKeys)
        return Status::InvalidArgument("a Zipf distribution over more than " +
                                       std::to_string(kMaxKeys) + " keys is not supported");
    if (!(s >= 0) || !std::isfinite(s) || s > 10)
        return Status::InvalidArgument("the Zipf exponent must be between 0 and 10");
    std::vector<double> cdf(n);
    // Sum the smallest terms first: fewer rounding errors for large n.
    double total = 0;
    for (uint64_t k = n; k >= 1; --k)
        total += std::pow(static_cast<double>(k), -s);
    double acc = 0;
    for (uint64_t k = 1; k <= n; ++k) {
        acc += std::pow(static_cast<double>(k), -s) / total;
        cdf[k - 1] = acc;
    }
    cdf.back() = 1.0;  // whatever the rounding, every u < 1 finds a rank
    out->reset(new ZipfDistribution(s, std::move(cdf)));
    return Status::OK();
}

uint64_t ZipfDistribution::RankFor(double u) const {
    auto it = std::upper_bound(cdf_.begin(), cdf_.end(), u);
    if (it == cdf_.end())
        --it;
    return static_cast<uint64_t>(it - cdf_.begin()) + 1;
}

uint64_t ZipfDistribution::Sample(std::mt19937_64* rng) const {
    // 53 random bits -> [0, 1)
    double u = static_cast<double>((*rng)() >> 11) * (1.0 / 9007199254740992.0);
    return RankFor(u);
}

double ZipfDistribution::Probability(uint64_t rank) const {
    if (rank == 0 || rank > cdf_.size())
        return 0;
    return rank == 1 ? cdf_[0] : cdf_[rank - 1] - cdf_[rank - 2];
}

RankScatter::RankScatter(uint64_t n) : n_(n) {
    // A multiplier near n times the golden ratio's fraction spreads
    // neighbouring ranks far apart; step until it is coprime with n.
    uint64_t m = static_cast<uint64_t>(static_cast<double>(n) * 0.6180339887498949) | 1;
    if (m == 0)
        m = 1;
    while (std::gcd(m, n) != 1)
        ++m;
    multiplier_ = n <= 1 ? 1 : m % n == 0 ? 1 : m;
}

uint64_t RankScatter::IndexOf(uint64_t rank) const {
    // (rank-1) * m mod n without overflow for any n < 2^64.
    return static_cast<uint64_t>((static_cast<unsigned __int128>(rank - 1) * multiplier_) % n_);
}

Status KeyChooser::Make(Distribution d, uint64_t n, double zipf_s, uint64_t seed, uint64_t stream,
                        uint64_t streams, std::unique_ptr<KeyChooser>* out) {
    if (n == 0)
        return Status::InvalidArgument("there are no keys to choose from");
    if (streams == 0 || stream >= streams)
        return Status::InvalidArgument("stream must be below the number of streams");
    switch (d) {
        case Distribution::kUniform:
            out->reset(new UniformChooser(n, StreamSeed(seed, stream)));
            return Status::OK();
        case Distribution::kSequential:
            out->reset(new SequentialChooser(n, stream, streams));
            return Status::OK();
        case Distribution::kZipf: {
            std::unique_ptr<ZipfDistribution> zipf;
            Status s = ZipfDistribution::Make(n, zipf_s, &zipf);
            if (!s.ok())
                return s;
            *out = MakeZipf(std::shared_ptr<const ZipfDistribution>(std::move(zipf)), seed, stream);
            return Status::OK();
        }
    }
    return Status::InvalidArgument("unknown distribution");
}

std::unique_ptr<KeyChooser> KeyChooser::MakeZipf(std::shared_ptr<const ZipfDistribution> zipf,
                                                 uint64_t seed, uint64_t stream) {
    return std::unique_ptr<KeyChooser>(new ZipfChooser(std::move(zipf), StreamSeed(seed, stream)));
}

}  // namespace bench
}  // namespace keydir
