#include <cppunit/extensions/HelperMacros.h>

#include <cmath>
#include <set>
#include <vector>

#include "tools/bench/key_chooser.h"

namespace keydir {
namespace bench {

class BenchKeyChooserTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(BenchKeyChooserTest);
    CPPUNIT_TEST(testZipfProbabilities);
    CPPUNIT_TEST(testZipfRankRatios);
    CPPUNIT_TEST(testZipfHeadShare);
    CPPUNIT_TEST(testZipfExponentZeroIsUniform);
    CPPUNIT_TEST(testZipfRankForEdges);
    CPPUNIT_TEST(testZipfBadArguments);
    CPPUNIT_TEST(testScatterIsBijection);
    CPPUNIT_TEST(testScatterSpreadsNeighbours);
    CPPUNIT_TEST(testUniformCoversRange);
    CPPUNIT_TEST(testSequentialStreamsVisitEachOnce);
    CPPUNIT_TEST(testSeedsReproduceAndStreamsDiffer);
    CPPUNIT_TEST(testParseDistribution);
    CPPUNIT_TEST_SUITE_END();

    static std::vector<uint64_t> Counts(KeyChooser* c, uint64_t n, int samples) {
        std::vector<uint64_t> counts(n, 0);
        for (int i = 0; i < samples; ++i) {
            uint64_t k = c->Next();
            CPPUNIT_ASSERT(k < n);
            ++counts[k];
        }
        return counts;
    }

  public:
    // P(k) = k^-s / H(n,s), summing to 1.
    void testZipfProbabilities() {
        std::unique_ptr<ZipfDistribution> z;
        CPPUNIT_ASSERT(ZipfDistribution::Make(1000, 1.0, &z).ok());
        double h = 0;
        for (int k = 1; k <= 1000; ++k)
            h += 1.0 / k;
        double sum = 0;
        for (uint64_t k = 1; k <= 1000; ++k) {
            CPPUNIT_ASSERT_DOUBLES_EQUAL(1.0 / k / h, z->Probability(k), 1e-12);
            sum += z->Probability(k);
        }
        CPPUNIT_ASSERT_DOUBLES_EQUAL(1.0, sum, 1e-9);
        CPPUNIT_ASSERT_EQUAL(0.0, z->Probability(0));
        CPPUNIT_ASSERT_EQUAL(0.0, z->Probability(1001));
    }

    // Sampled frequencies follow the law: f(1)/f(k) = k^s, within the
    // statistical error of 400,000 samples.
    void testZipfRankRatios() {
        for (double s : {0.8, 1.0, 1.2}) {
            std::unique_ptr<ZipfDistribution> z;
            CPPUNIT_ASSERT(ZipfDistribution::Make(500, s, &z).ok());
            std::mt19937_64 rng(1234);
            std::vector<uint64_t> counts(501, 0);
            const int kSamples = 400000;
            for (int i = 0; i < kSamples; ++i)
                ++counts[z->Sample(&rng)];
            CPPUNIT_ASSERT_EQUAL(uint64_t{0}, counts[0]);
            for (int k : {2, 3, 5, 10}) {
                double ratio = static_cast<double>(counts[1]) / counts[k];
                double expected = std::pow(k, s);
                CPPUNIT_ASSERT_DOUBLES_EQUAL(expected, ratio, expected * 0.05);
            }
            // Frequencies of the first ranks within 4 standard deviations.
            for (uint64_t k = 1; k <= 20; ++k) {
                double p = z->Probability(k);
                double mean = p * kSamples, sd = std::sqrt(kSamples * p * (1 - p));
                CPPUNIT_ASSERT(std::fabs(counts[k] - mean) <= 4 * sd);
            }
        }
    }

    // With s = 1 over 10,000 keys the top 1% of keys take ~52% of requests
    // (H(100)/H(10000)); a uniform draw would give them 1%.
    void testZipfHeadShare() {
        std::unique_ptr<KeyChooser> c;
        CPPUNIT_ASSERT(KeyChooser::Make(Distribution::kZipf, 10000, 1.0, 9, 0, 1, &c).ok());
        std::vector<uint64_t> counts = Counts(c.get(), 10000, 200000);
        std::sort(counts.rbegin(), counts.rend());
        uint64_t head = 0;
        for (int i = 0; i < 100; ++i)
            head += counts[i];
        double h100 = 0, h10000 = 0;
        for (int k = 1; k <= 10000; ++k)
            (k <= 100 ? h100 : h10000) += 1.0 / k;
        h10000 += h100;
        CPPUNIT_ASSERT_DOUBLES_EQUAL(h100 / h10000, head / 200000.0, 0.01);
    }

    void testZipfExponentZeroIsUniform() {
        std::unique_ptr<ZipfDistribution> z;
        CPPUNIT_ASSERT(ZipfDistribution::Make(10, 0.0, &z).ok());
        for (uint64_t k = 1; k <= 10; ++k)
            CPPUNIT_ASSERT_DOUBLES_EQUAL(0.1, z->Probability(k), 1e-12);
        std::mt19937_64 rng(5);
        std::vector<int> counts(11, 0);
        for (int i = 0; i < 100000; ++i)
            ++counts[z->Sample(&rng)];
        // Chi-square with 9 degrees of freedom; 27.9 is its 0.999 quantile.
        double chi2 = 0;
        for (int k = 1; k <= 10; ++k)
            chi2 += std::pow(counts[k] - 10000.0, 2) / 10000.0;
        CPPUNIT_ASSERT(chi2 < 27.9);
    }

    void testZipfRankForEdges() {
        std::unique_ptr<ZipfDistribution> z;
        CPPUNIT_ASSERT(ZipfDistribution::Make(3, 1.0, &z).ok());
        CPPUNIT_ASSERT_EQUAL(uint64_t{1}, z->RankFor(0.0));
        CPPUNIT_ASSERT_EQUAL(uint64_t{3}, z->RankFor(0.999999999));
        CPPUNIT_ASSERT_EQUAL(uint64_t{3}, z->RankFor(1.0));  // clamped
        std::unique_ptr<ZipfDistribution> one;
        CPPUNIT_ASSERT(ZipfDistribution::Make(1, 1.0, &one).ok());
        CPPUNIT_ASSERT_EQUAL(uint64_t{1}, one->RankFor(0.5));
    }

    void testZipfBadArguments() {
        std::unique_ptr<ZipfDistribution> z;
        CPPUNIT_ASSERT(ZipfDistribution::Make(0, 1.0, &z).IsInvalidArgument());
        CPPUNIT_ASSERT(ZipfDistribution::Make(10, -1.0, &z).IsInvalidArgument());
        CPPUNIT_ASSERT(ZipfDistribution::Make(10, NAN, &z).IsInvalidArgument());
        CPPUNIT_ASSERT(
            ZipfDistribution::Make(ZipfDistribution::kMaxKeys + 1, 1.0, &z).IsInvalidArgument());
        std::unique_ptr<KeyChooser> c;
        CPPUNIT_ASSERT(
            KeyChooser::Make(Distribution::kUniform, 0, 1.0, 1, 0, 1, &c).IsInvalidArgument());
        CPPUNIT_ASSERT(
            KeyChooser::Make(Distribution::kUniform, 5, 1.0, 1, 2, 2, &c).IsInvalidArgument());
    }

    void testScatterIsBijection() {
        for (uint64_t n : {1ull, 2ull, 3ull, 10ull, 64ull, 1000ull, 1024ull, 9973ull, 100000ull}) {
            RankScatter s(n);
            std::vector<bool> seen(n, false);
            for (uint64_t r = 1; r <= n; ++r) {
                uint64_t i = s.IndexOf(r);
                CPPUNIT_ASSERT(i < n);
                CPPUNIT_ASSERT(!seen[i]);
                seen[i] = true;
            }
        }
    }

    // The ten hottest ranks do not land next to each other.
    void testScatterSpreadsNeighbours() {
        RankScatter s(100000);
        std::set<uint64_t> idx;
        for (uint64_t r = 1; r <= 10; ++r)
            idx.insert(s.IndexOf(r));
        uint64_t prev = *idx.begin();
        for (auto it = std::next(idx.begin()); it != idx.end(); ++it) {
            CPPUNIT_ASSERT(*it - prev > 1000);
            prev = *it;
        }
    }

    void testUniformCoversRange() {
        std::unique_ptr<KeyChooser> c;
        CPPUNIT_ASSERT(KeyChooser::Make(Distribution::kUniform, 20, 1.0, 3, 0, 1, &c).ok());
        std::vector<uint64_t> counts = Counts(c.get(), 20, 100000);
        for (uint64_t n : counts)
            CPPUNIT_ASSERT(n > 4000 && n < 6000);
    }

    void testSequentialStreamsVisitEachOnce() {
        const uint64_t n = 103;
        std::vector<int> seen(n, 0);
        for (uint64_t stream = 0; stream < 3; ++stream) {
            std::unique_ptr<KeyChooser> c;
            CPPUNIT_ASSERT(
                KeyChooser::Make(Distribution::kSequential, n, 1.0, 1, stream, 3, &c).ok());
            uint64_t take = n / 3 + (stream < n % 3);
            for (uint64_t i = 0; i < take; ++i)
                ++seen[c->Next()];
        }
        for (int v : seen)
            CPPUNIT_ASSERT_EQUAL(1, v);
        std::unique_ptr<KeyChooser> c;
        CPPUNIT_ASSERT(KeyChooser::Make(Distribution::kSequential, 3, 1.0, 1, 0, 1, &c).ok());
        CPPUNIT_ASSERT_EQUAL(uint64_t{0}, c->Next());
        CPPUNIT_ASSERT_EQUAL(uint64_t{1}, c->Next());
        CPPUNIT_ASSERT_EQUAL(uint64_t{2}, c->Next());
        CPPUNIT_ASSERT_EQUAL(uint64_t{0}, c->Next());  // wraps around
    }

    void testSeedsReproduceAndStreamsDiffer() {
        for (Distribution d : {Distribution::kUniform, Distribution::kZipf}) {
            std::unique_ptr<KeyChooser> a, b, other;
            CPPUNIT_ASSERT(KeyChooser::Make(d, 100000, 1.0, 77, 0, 2, &a).ok());
            CPPUNIT_ASSERT(KeyChooser::Make(d, 100000, 1.0, 77, 0, 2, &b).ok());
            CPPUNIT_ASSERT(KeyChooser::Make(d, 100000, 1.0, 77, 1, 2, &other).ok());
            int same = 0, differ = 0;
            for (int i = 0; i < 1000; ++i) {
                uint64_t x = a->Next();
                same += x == b->Next();
                differ += x != other->Next();
            }
            CPPUNIT_ASSERT_EQUAL(1000, same);
            CPPUNIT_ASSERT(differ > 500);
        }
    }

    void testParseDistribution() {
        Distribution d;
        CPPUNIT_ASSERT(ParseDistribution("zipf", &d).ok());
        CPPUNIT_ASSERT(d == Distribution::kZipf);
        CPPUNIT_ASSERT(ParseDistribution("sequential", &d).ok());
        CPPUNIT_ASSERT(d == Distribution::kSequential);
        CPPUNIT_ASSERT(ParseDistribution("normal", &d).IsInvalidArgument());
        CPPUNIT_ASSERT_EQUAL(std::string("uniform"),
                             std::string(DistributionName(Distribution::kUniform)));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(BenchKeyChooserTest);

}  // namespace bench
}  // namespace keydir
