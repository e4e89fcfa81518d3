#include <cppunit/extensions/HelperMacros.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "tools/bench/histogram.h"

namespace keydir {
namespace bench {

class BenchHistogramTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(BenchHistogramTest);
    CPPUNIT_TEST(testEmpty);
    CPPUNIT_TEST(testSmallValuesAreExact);
    CPPUNIT_TEST(testBucketsTileTheRange);
    CPPUNIT_TEST(testRelativeErrorBound);
    CPPUNIT_TEST(testPercentilesAgainstSortedSample);
    CPPUNIT_TEST(testPercentilesOrdered);
    CPPUNIT_TEST(testExtremes);
    CPPUNIT_TEST(testMergeEqualsCombined);
    CPPUNIT_TEST(testRecordN);
    CPPUNIT_TEST(testClear);
    CPPUNIT_TEST_SUITE_END();

  public:
    void testEmpty() {
        LatencyHistogram h;
        CPPUNIT_ASSERT_EQUAL(uint64_t{0}, h.count());
        CPPUNIT_ASSERT_EQUAL(uint64_t{0}, h.Percentile(50));
        CPPUNIT_ASSERT_EQUAL(uint64_t{0}, h.min());
        CPPUNIT_ASSERT_EQUAL(uint64_t{0}, h.max());
        CPPUNIT_ASSERT_EQUAL(0.0, h.mean());
    }

    void testSmallValuesAreExact() {
        for (uint64_t v = 0; v < (1u << LatencyHistogram::kPrecisionBits); ++v) {
            CPPUNIT_ASSERT_EQUAL(static_cast<size_t>(v), LatencyHistogram::BucketIndex(v));
            CPPUNIT_ASSERT_EQUAL(v, LatencyHistogram::BucketLowest(v));
            CPPUNIT_ASSERT_EQUAL(v, LatencyHistogram::BucketHighest(v));
        }
        LatencyHistogram h;
        for (uint64_t v = 1; v <= 100; ++v)
            h.Record(v);
        CPPUNIT_ASSERT_EQUAL(uint64_t{50}, h.Percentile(50));
        CPPUNIT_ASSERT_EQUAL(uint64_t{90}, h.Percentile(90));
        CPPUNIT_ASSERT_EQUAL(uint64_t{99}, h.Percentile(99));
        CPPUNIT_ASSERT_EQUAL(uint64_t{100}, h.Percentile(99.9));
        CPPUNIT_ASSERT_DOUBLES_EQUAL(50.5, h.mean(), 1e-9);
    }

    // Consecutive buckets are adjacent and every value maps into the
    // bucket whose bounds hold it, from 0 to 2^64-1.
    void testBucketsTileTheRange() {
        size_t n = LatencyHistogram::BucketCount();
        CPPUNIT_ASSERT_EQUAL(uint64_t{0}, LatencyHistogram::BucketLowest(0));
        for (size_t i = 0; i + 1 < n; ++i) {
            CPPUNIT_ASSERT(LatencyHistogram::BucketHighest(i) >= LatencyHistogram::BucketLowest(i));
            CPPUNIT_ASSERT_EQUAL(LatencyHistogram::BucketHighest(i) + 1,
                                 LatencyHistogram::BucketLowest(i + 1));
        }
        CPPUNIT_ASSERT_EQUAL(~uint64_t{0}, LatencyHistogram::BucketHighest(n - 1));
        CPPUNIT_ASSERT_EQUAL(n - 1, LatencyHistogram::BucketIndex(~uint64_t{0}));
        std::mt19937_64 rng(7);
        for (int i = 0; i < 100000; ++i) {
            uint64_t v = rng() >> (rng() % 64);
            size_t b = LatencyHistogram::BucketIndex(v);
            CPPUNIT_ASSERT(b < n);
            CPPUNIT_ASSERT(LatencyHistogram::BucketLowest(b) <= v);
            CPPUNIT_ASSERT(v <= LatencyHistogram::BucketHighest(b));
        }
    }

    // A bucket is never wider than 1/64 of its lowest value.
    void testRelativeErrorBound() {
        for (size_t i = 1u << LatencyHistogram::kPrecisionBits; i < LatencyHistogram::BucketCount();
             ++i) {
            uint64_t lo = LatencyHistogram::BucketLowest(i),
                     hi = LatencyHistogram::BucketHighest(i);
            CPPUNIT_ASSERT(static_cast<double>(hi - lo + 1) / static_cast<double>(lo) <=
                           1.0 / 64 + 1e-12);
        }
    }

    // Against the exact percentiles of a skewed sample (log-normal, like
    // latencies): never below the true value, at most 1/64 above it.
    void testPercentilesAgainstSortedSample() {
        std::mt19937_64 rng(42);
        std::lognormal_distribution<double> dist(5.0, 1.2);
        std::vector<uint64_t> values;
        LatencyHistogram h;
        for (int i = 0; i < 200000; ++i) {
            uint64_t v = static_cast<uint64_t>(dist(rng));
            values.push_back(v);
            h.Record(v);
        }
        std::sort(values.begin(), values.end());
        for (double p : {1.0, 10.0, 50.0, 90.0, 99.0, 99.9, 99.99}) {
            // 1-based rank; the epsilon keeps 99.9% of 200000 at 199800.
            size_t rank = static_cast<size_t>(std::ceil(p / 100 * values.size() - 1e-9));
            uint64_t exact = values[rank - 1];
            uint64_t got = h.Percentile(p);
            CPPUNIT_ASSERT_MESSAGE("p" + std::to_string(p), got >= exact);
            CPPUNIT_ASSERT_MESSAGE(
                "p" + std::to_string(p),
                static_cast<double>(got) <= static_cast<double>(exact) * (1 + 1.0 / 64) + 1);
        }
        CPPUNIT_ASSERT_EQUAL(values.front(), h.min());
        CPPUNIT_ASSERT_EQUAL(values.back(), h.max());
    }

    void testPercentilesOrdered() {
        std::mt19937_64 rng(3);
        std::exponential_distribution<double> dist(1.0 / 300);
        LatencyHistogram h;
        for (int i = 0; i < 50000; ++i)
            h.Record(static_cast<uint64_t>(dist(rng)));
        uint64_t prev = h.min();
        for (double p = 0.5; p < 100; p += 0.5) {
            uint64_t v = h.Percentile(p);
            CPPUNIT_ASSERT(v >= prev);
            prev = v;
        }
        CPPUNIT_ASSERT(h.max() >= prev);
    }

    // A single huge outlier is kept, not clipped; percentiles never exceed max.
    void testExtremes() {
        LatencyHistogram h;
        h.Record(1000);
        h.Record(~uint64_t{0});
        CPPUNIT_ASSERT_EQUAL(~uint64_t{0}, h.max());
        CPPUNIT_ASSERT_EQUAL(~uint64_t{0}, h.Percentile(100));
        CPPUNIT_ASSERT_EQUAL(uint64_t{1000}, h.Percentile(0));
        uint64_t p50 = h.Percentile(50);
        CPPUNIT_ASSERT(p50 >= 1000 && p50 <= 1000 + 1000 / 64);
        LatencyHistogram one;
        one.Record(123456);
        CPPUNIT_ASSERT_EQUAL(uint64_t{123456}, one.Percentile(50));  // clipped to max
        CPPUNIT_ASSERT_EQUAL(uint64_t{123456}, one.Percentile(99.9));
    }

    void testMergeEqualsCombined() {
        std::mt19937_64 rng(11);
        LatencyHistogram a, b, both;
        for (int i = 0; i < 10000; ++i) {
            uint64_t v = rng() % 1000000;
            (i % 3 ? a : b).Record(v);
            both.Record(v);
        }
        LatencyHistogram merged;
        merged.Merge(a);
        merged.Merge(b);
        merged.Merge(LatencyHistogram());  // an empty one changes nothing
        CPPUNIT_ASSERT_EQUAL(both.count(), merged.count());
        CPPUNIT_ASSERT_EQUAL(both.min(), merged.min());
        CPPUNIT_ASSERT_EQUAL(both.max(), merged.max());
        CPPUNIT_ASSERT_DOUBLES_EQUAL(both.mean(), merged.mean(), 1e-9);
        for (double p : {50.0, 90.0, 99.0, 99.9})
            CPPUNIT_ASSERT_EQUAL(both.Percentile(p), merged.Percentile(p));
    }

    void testRecordN() {
        LatencyHistogram h;
        h.RecordN(10, 99);
        h.RecordN(5000, 1);
        h.RecordN(7, 0);  // nothing
        CPPUNIT_ASSERT_EQUAL(uint64_t{100}, h.count());
        CPPUNIT_ASSERT_EQUAL(uint64_t{10}, h.Percentile(99));
        CPPUNIT_ASSERT_EQUAL(uint64_t{5000}, h.Percentile(99.9));
        CPPUNIT_ASSERT_EQUAL(uint64_t{10}, h.min());
    }

    void testClear() {
        LatencyHistogram h;
        h.Record(5);
        h.Clear();
        CPPUNIT_ASSERT_EQUAL(uint64_t{0}, h.count());
        CPPUNIT_ASSERT_EQUAL(uint64_t{0}, h.Percentile(50));
        h.Record(9);
        CPPUNIT_ASSERT_EQUAL(uint64_t{9}, h.min());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(BenchHistogramTest);

}  // namespace bench
}  // namespace keydir
