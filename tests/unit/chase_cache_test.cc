#include <cppunit/extensions/HelperMacros.h>

#include <atomic>
#include <thread>
#include <vector>

#include "chase/key_cache.h"

namespace keydir {
namespace {

MailAddress Addr(const std::string& text) {
    MailAddress a;
    Status s = MailAddress::Parse(text, &a);
    if (!s.ok())
        throw std::runtime_error(s.ToString());
    return a;
}

// A clock that many threads may read while the test moves it.
class ThreadSafeClock : public FakeClockEnv {
  public:
    int64_t NowMonotonicMicros() override { return micros_.load(); }
    int64_t NowUnixSeconds() override { return 1700000000 + micros_.load() / 1000000; }
    void Advance(int64_t micros) { micros_ += micros; }

  private:
    std::atomic<int64_t> micros_{1000000};
};

}  // namespace

class ChaseCacheTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(ChaseCacheTest);
    CPPUNIT_TEST(testPositiveTtl);
    CPPUNIT_TEST(testNegativeTtl);
    CPPUNIT_TEST(testTtlIsMinimumOfThree);
    CPPUNIT_TEST(testExpiredCertificateNotCached);
    CPPUNIT_TEST(testKeyIsNormalisedAddress);
    CPPUNIT_TEST(testLruOrder);
    CPPUNIT_TEST(testCapacityEviction);
    CPPUNIT_TEST(testStaleWindowBounds);
    CPPUNIT_TEST(testStaleNeverPastCertificate);
    CPPUNIT_TEST(testStaleOffAndNegativeNeverStale);
    CPPUNIT_TEST(testFreshAnswerReplacesStale);
    CPPUNIT_TEST(testFlush);
    CPPUNIT_TEST(testSweep);
    CPPUNIT_TEST(testDisabled);
    CPPUNIT_TEST(testReconfigureShrinks);
    CPPUNIT_TEST(testConcurrentUse);
    CPPUNIT_TEST_SUITE_END();

    FakeClockEnv env_;

    KeyCacheOptions Options(size_t n = 100, int64_t ttl = 600, int64_t neg = 60,
                            int64_t stale = 0) {
        KeyCacheOptions o;
        o.max_entries = n;
        o.ttl_seconds = ttl;
        o.negative_ttl_seconds = neg;
        o.stale_seconds = stale;
        return o;
    }

  public:
    void testPositiveTtl() {
        KeyCache cache(Options(), &env_);
        MailAddress a = Addr("a@x.com");
        CPPUNIT_ASSERT(cache.Lookup(a).hit == CacheHit::kMiss);
        CPPUNIT_ASSERT_EQUAL(int64_t(600), cache.PutPositive(a, "entry-a", PositiveTtl()));
        CacheAnswer r = cache.Lookup(a);
        CPPUNIT_ASSERT(r.hit == CacheHit::kPositive);
        CPPUNIT_ASSERT_EQUAL(std::string("entry-a"), *r.record);
        CPPUNIT_ASSERT(!r.stale);
        CPPUNIT_ASSERT_EQUAL(int64_t(600), r.ttl_left_seconds);
        env_.AdvanceSeconds(599);
        CPPUNIT_ASSERT(cache.Lookup(a).hit == CacheHit::kPositive);
        CPPUNIT_ASSERT_EQUAL(int64_t(1), cache.Lookup(a).ttl_left_seconds);
        env_.AdvanceSeconds(1);
        CPPUNIT_ASSERT(cache.Lookup(a).hit == CacheHit::kMiss);
        KeyCacheCounters c = cache.Counters();
        CPPUNIT_ASSERT_EQUAL(uint64_t(5), c.lookups);
        CPPUNIT_ASSERT_EQUAL(uint64_t(3), c.hits);
        CPPUNIT_ASSERT_EQUAL(uint64_t(2), c.misses);
        CPPUNIT_ASSERT_EQUAL(uint64_t(1), c.expirations);
        CPPUNIT_ASSERT_EQUAL(uint64_t(0), c.size);  // no stale window: removed
    }
    void testNegativeTtl() {
        KeyCache cache(Options(), &env_);
        MailAddress a = Addr("nobody@x.com");
        CPPUNIT_ASSERT_EQUAL(int64_t(60), cache.PutNegative(a));
        CacheAnswer r = cache.Lookup(a);
        CPPUNIT_ASSERT(r.hit == CacheHit::kNegative);
        CPPUNIT_ASSERT(!r.record);
        env_.AdvanceSeconds(59);
        CPPUNIT_ASSERT(cache.Lookup(a).hit == CacheHit::kNegative);
        env_.AdvanceSeconds(1);
        CPPUNIT_ASSERT(cache.Lookup(a).hit == CacheHit::kMiss);
        KeyCacheCounters c = cache.Counters();
        CPPUNIT_ASSERT_EQUAL(uint64_t(2), c.negative_hits);
        CPPUNIT_ASSERT_EQUAL(uint64_t(1), c.misses);
        CPPUNIT_ASSERT_EQUAL(uint64_t(1), c.expirations);
    }
    void testTtlIsMinimumOfThree() {
        KeyCache cache(Options(100, 600), &env_);
        MailAddress a = Addr("a@x.com");
        PositiveTtl t;
        t.zone_ttl_seconds = 300;
        t.not_after_unix = env_.NowUnixSeconds() + 1000;
        CPPUNIT_ASSERT_EQUAL(int64_t(300), cache.PutPositive(a, "r", t));  // zone
        t.not_after_unix = env_.NowUnixSeconds() + 120;
        CPPUNIT_ASSERT_EQUAL(int64_t(120), cache.PutPositive(a, "r", t));  // certificate
        t.zone_ttl_seconds = 5000;
        t.not_after_unix = env_.NowUnixSeconds() + 100000;
        CPPUNIT_ASSERT_EQUAL(int64_t(600), cache.PutPositive(a, "r", t));  // configured
        t.zone_ttl_seconds = 30;
        t.not_after_unix.reset();
        CPPUNIT_ASSERT_EQUAL(int64_t(30), cache.PutPositive(a, "r", t));
        env_.AdvanceSeconds(29);
        CPPUNIT_ASSERT(cache.Lookup(a).hit == CacheHit::kPositive);
        env_.AdvanceSeconds(1);
        CPPUNIT_ASSERT(cache.Lookup(a).hit == CacheHit::kMiss);
        // the certificate's limit, checked by the clock rather than the return value
        t.zone_ttl_seconds.reset();
        t.not_after_unix = env_.NowUnixSeconds() + 10;
        cache.PutPositive(a, "r", t);
        env_.AdvanceSeconds(9);
        CPPUNIT_ASSERT(cache.Lookup(a).hit == CacheHit::kPositive);
        env_.AdvanceSeconds(1);
        CPPUNIT_ASSERT(cache.Lookup(a).hit == CacheHit::kMiss);
    }
    void testExpiredCertificateNotCached() {
        KeyCache cache(Options(), &env_);
        MailAddress a = Addr("a@x.com");
        PositiveTtl t;
        t.not_after_unix = env_.NowUnixSeconds();
        CPPUNIT_ASSERT_EQUAL(int64_t(0), cache.PutPositive(a, "r", t));
        t.not_after_unix = env_.NowUnixSeconds() - 100;
        CPPUNIT_ASSERT_EQUAL(int64_t(0), cache.PutPositive(a, "r", t));
        t.not_after_unix.reset();
        t.zone_ttl_seconds = 0;  // the zone forbids caching
        CPPUNIT_ASSERT_EQUAL(int64_t(0), cache.PutPositive(a, "r", t));
        CPPUNIT_ASSERT(cache.Lookup(a).hit == CacheHit::kMiss);
        CPPUNIT_ASSERT_EQUAL(uint64_t(0), cache.Counters().size);
    }
    void testKeyIsNormalisedAddress() {
        KeyCache cache(Options(), &env_);
        cache.PutPositive(Addr("KConley@Tovaris.COM"), "k", PositiveTtl());
        CPPUNIT_ASSERT(cache.Lookup(Addr("kconley@tovaris.com")).hit == CacheHit::kPositive);
        CPPUNIT_ASSERT(cache.Lookup(Addr("kconley@tovaris.co")).hit == CacheHit::kMiss);
    }
    void testLruOrder() {
        KeyCache cache(Options(3), &env_);
        MailAddress a = Addr("a@x.com"), b = Addr("b@x.com"), c = Addr("c@x.com"),
                    d = Addr("d@x.com");
        cache.PutPositive(a, "a", PositiveTtl());
        cache.PutPositive(b, "b", PositiveTtl());
        cache.PutNegative(c);
        CPPUNIT_ASSERT(cache.Lookup(a).hit == CacheHit::kPositive);  // a is now most recent
        cache.PutPositive(d, "d", PositiveTtl());                    // evicts b, the LRU
        CPPUNIT_ASSERT(cache.Lookup(b).hit == CacheHit::kMiss);
        CPPUNIT_ASSERT(cache.Lookup(a).hit == CacheHit::kPositive);
        CPPUNIT_ASSERT(cache.Lookup(c).hit == CacheHit::kNegative);
        CPPUNIT_ASSERT(cache.Lookup(d).hit == CacheHit::kPositive);
        // order now (most recent first): d c a; a new entry evicts a
        cache.PutNegative(b);
        CPPUNIT_ASSERT(cache.Lookup(a).hit == CacheHit::kMiss);
        CPPUNIT_ASSERT_EQUAL(uint64_t(2), cache.Counters().evictions);
        // replacing an entry refreshes its place and does not evict
        cache.PutPositive(c, "c", PositiveTtl());
        CPPUNIT_ASSERT_EQUAL(uint64_t(2), cache.Counters().evictions);
        CPPUNIT_ASSERT_EQUAL(uint64_t(3), cache.Counters().size);
    }
    void testCapacityEviction() {
        KeyCache cache(Options(50), &env_);
        for (int i = 0; i < 200; ++i)
            cache.PutPositive(Addr("u" + std::to_string(i) + "@x.com"), "r", PositiveTtl());
        KeyCacheCounters c = cache.Counters();
        CPPUNIT_ASSERT_EQUAL(uint64_t(50), c.size);
        CPPUNIT_ASSERT_EQUAL(uint64_t(150), c.evictions);
        CPPUNIT_ASSERT_EQUAL(uint64_t(200), c.inserts);
        CPPUNIT_ASSERT(cache.Lookup(Addr("u149@x.com")).hit == CacheHit::kMiss);
        CPPUNIT_ASSERT(cache.Lookup(Addr("u150@x.com")).hit == CacheHit::kPositive);
        CPPUNIT_ASSERT(cache.Lookup(Addr("u199@x.com")).hit == CacheHit::kPositive);
    }
    void testStaleWindowBounds() {
        KeyCache cache(Options(100, 600, 60, 3600), &env_);
        MailAddress a = Addr("a@x.com");
        cache.PutPositive(a, "old", PositiveTtl());
        // fresh: LookupStale returns it as fresh
        CacheAnswer r = cache.LookupStale(a);
        CPPUNIT_ASSERT(r.hit == CacheHit::kPositive && !r.stale);
        env_.AdvanceSeconds(600);
        CPPUNIT_ASSERT(cache.Lookup(a).hit == CacheHit::kMiss);  // never served past TTL
        r = cache.LookupStale(a);
        CPPUNIT_ASSERT(r.hit == CacheHit::kPositive);
        CPPUNIT_ASSERT(r.stale);
        CPPUNIT_ASSERT_EQUAL(std::string("old"), *r.record);
        CPPUNIT_ASSERT_EQUAL(int64_t(0), r.ttl_left_seconds);
        env_.AdvanceSeconds(3599);
        CPPUNIT_ASSERT(cache.LookupStale(a).stale);
        env_.AdvanceSeconds(1);  // the window is over
        CPPUNIT_ASSERT(cache.LookupStale(a).hit == CacheHit::kMiss);
        CPPUNIT_ASSERT(cache.LookupStale(a).hit == CacheHit::kMiss);
        KeyCacheCounters c = cache.Counters();
        CPPUNIT_ASSERT_EQUAL(uint64_t(2), c.stale_answers);
        CPPUNIT_ASSERT_EQUAL(uint64_t(5), c.stale_lookups);
        CPPUNIT_ASSERT_EQUAL(uint64_t(1), c.expirations);  // counted once
        CPPUNIT_ASSERT_EQUAL(uint64_t(0), c.size);
    }
    void testStaleNeverPastCertificate() {
        KeyCache cache(Options(100, 600, 60, 3600), &env_);
        MailAddress a = Addr("a@x.com");
        PositiveTtl t;
        t.not_after_unix = env_.NowUnixSeconds() + 1000;
        CPPUNIT_ASSERT_EQUAL(int64_t(600), cache.PutPositive(a, "r", t));
        env_.AdvanceSeconds(999);
        CPPUNIT_ASSERT(cache.LookupStale(a).stale);
        env_.AdvanceSeconds(1);  // the certificate expired: not even stale
        CPPUNIT_ASSERT(cache.LookupStale(a).hit == CacheHit::kMiss);
    }
    void testStaleOffAndNegativeNeverStale() {
        KeyCache off(Options(100, 600, 60, 0), &env_);
        MailAddress a = Addr("a@x.com"), n = Addr("n@x.com");
        off.PutPositive(a, "r", PositiveTtl());
        env_.AdvanceSeconds(600);
        CPPUNIT_ASSERT(off.LookupStale(a).hit == CacheHit::kMiss);
        KeyCache on(Options(100, 600, 60, 3600), &env_);
        on.PutNegative(n);
        CPPUNIT_ASSERT(on.LookupStale(n).hit == CacheHit::kNegative);  // fresh
        env_.AdvanceSeconds(60);
        CPPUNIT_ASSERT(on.LookupStale(n).hit == CacheHit::kMiss);
    }
    void testFreshAnswerReplacesStale() {
        KeyCache cache(Options(100, 600, 60, 3600), &env_);
        MailAddress a = Addr("a@x.com");
        cache.PutPositive(a, "old", PositiveTtl());
        env_.AdvanceSeconds(700);
        cache.PutNegative(a);  // the key was revoked upstream
        CPPUNIT_ASSERT(cache.LookupStale(a).hit == CacheHit::kNegative);
        env_.AdvanceSeconds(60);
        CPPUNIT_ASSERT(cache.LookupStale(a).hit == CacheHit::kMiss);
        cache.PutPositive(a, "old", PositiveTtl());
        env_.AdvanceSeconds(700);
        PositiveTtl expired;
        expired.not_after_unix = env_.NowUnixSeconds() - 1;
        CPPUNIT_ASSERT_EQUAL(int64_t(0), cache.PutPositive(a, "new", expired));
        CPPUNIT_ASSERT(cache.LookupStale(a).hit == CacheHit::kMiss);  // the old one is gone
    }
    void testFlush() {
        KeyCache cache(Options(), &env_);
        cache.PutPositive(Addr("a@tovaris.com"), "r", PositiveTtl());
        cache.PutPositive(Addr("b@tovaris.com"), "r", PositiveTtl());
        cache.PutNegative(Addr("c@tovaris.com"));
        cache.PutPositive(Addr("a@sub.tovaris.com"), "r", PositiveTtl());
        cache.PutPositive(Addr("a@xtovaris.com"), "r", PositiveTtl());
        cache.PutPositive(Addr("a@example.com"), "r", PositiveTtl());
        CPPUNIT_ASSERT(cache.Flush(Addr("A@Example.com")));
        CPPUNIT_ASSERT(!cache.Flush(Addr("A@Example.com")));
        CPPUNIT_ASSERT(cache.Lookup(Addr("a@example.com")).hit == CacheHit::kMiss);
        CPPUNIT_ASSERT_EQUAL(size_t(3), cache.FlushDomain("Tovaris.COM"));
        CPPUNIT_ASSERT(cache.Lookup(Addr("a@sub.tovaris.com")).hit == CacheHit::kPositive);
        CPPUNIT_ASSERT(cache.Lookup(Addr("a@xtovaris.com")).hit == CacheHit::kPositive);
        CPPUNIT_ASSERT(cache.Lookup(Addr("c@tovaris.com")).hit == CacheHit::kMiss);
        CPPUNIT_ASSERT_EQUAL(size_t(2), cache.FlushAll());
        CPPUNIT_ASSERT_EQUAL(uint64_t(0), cache.Counters().size);
        CPPUNIT_ASSERT_EQUAL(uint64_t(6), cache.Counters().flushed);
    }
    void testSweep() {
        KeyCache cache(Options(100, 600, 60, 100), &env_);
        cache.PutPositive(Addr("a@x.com"), "r", PositiveTtl());
        cache.PutNegative(Addr("n@x.com"));
        env_.AdvanceSeconds(60);
        CPPUNIT_ASSERT_EQUAL(size_t(1), cache.Sweep());  // the negative one
        env_.AdvanceSeconds(600);
        CPPUNIT_ASSERT_EQUAL(size_t(0), cache.Sweep());  // a is stale-servable until 700
        env_.AdvanceSeconds(40);
        CPPUNIT_ASSERT_EQUAL(size_t(1), cache.Sweep());
        CPPUNIT_ASSERT_EQUAL(uint64_t(0), cache.Counters().size);
        CPPUNIT_ASSERT_EQUAL(uint64_t(2), cache.Counters().expirations);
    }
    void testDisabled() {
        KeyCache cache(Options(0), &env_);
        CPPUNIT_ASSERT_EQUAL(int64_t(0), cache.PutPositive(Addr("a@x.com"), "r", PositiveTtl()));
        CPPUNIT_ASSERT_EQUAL(int64_t(0), cache.PutNegative(Addr("b@x.com")));
        CPPUNIT_ASSERT(cache.Lookup(Addr("a@x.com")).hit == CacheHit::kMiss);
        KeyCache no_ttl(Options(10, 0, 0), &env_);
        CPPUNIT_ASSERT_EQUAL(int64_t(0), no_ttl.PutPositive(Addr("a@x.com"), "r", PositiveTtl()));
        CPPUNIT_ASSERT_EQUAL(int64_t(0), no_ttl.PutNegative(Addr("b@x.com")));
        CPPUNIT_ASSERT_EQUAL(uint64_t(0), no_ttl.Counters().size);
    }
    void testReconfigureShrinks() {
        KeyCache cache(Options(10), &env_);
        for (int i = 0; i < 10; ++i)
            cache.PutPositive(Addr("u" + std::to_string(i) + "@x.com"), "r", PositiveTtl());
        cache.Reconfigure(Options(4, 30));
        CPPUNIT_ASSERT_EQUAL(uint64_t(4), cache.Counters().size);
        CPPUNIT_ASSERT(cache.Lookup(Addr("u9@x.com")).hit == CacheHit::kPositive);
        CPPUNIT_ASSERT(cache.Lookup(Addr("u5@x.com")).hit == CacheHit::kMiss);
        CPPUNIT_ASSERT_EQUAL(int64_t(30), cache.PutPositive(Addr("n@x.com"), "r", PositiveTtl()));
        CPPUNIT_ASSERT_EQUAL(size_t(4), cache.options().max_entries);
    }
    void testConcurrentUse() {
        ThreadSafeClock clock;
        KeyCache cache(Options(500, 5, 2, 5), &clock);
        std::vector<MailAddress> addrs;
        for (int i = 0; i < 1000; ++i)
            addrs.push_back(Addr("u" + std::to_string(i) + "@x.com"));
        std::atomic<bool> wrong{false};
        std::vector<std::thread> threads;
        const int kThreads = 8, kOps = 20000;
        for (int t = 0; t < kThreads; ++t) {
            threads.emplace_back([&, t] {
                unsigned seed = 12345u + t;
                for (int i = 0; i < kOps; ++i) {
                    seed = seed * 1103515245u + 12345u;
                    const MailAddress& a = addrs[(seed >> 8) % addrs.size()];
                    switch ((seed >> 4) % 8) {
                        case 0:
                            cache.PutPositive(a, a.normalized(), PositiveTtl());
                            break;
                        case 1:
                            cache.PutNegative(a);
                            break;
                        case 2:
                            cache.Flush(a);
                            break;
                        case 3: {
                            CacheAnswer r = cache.LookupStale(a);
                            if (r.hit == CacheHit::kPositive && *r.record != a.normalized())
                                wrong = true;
                            break;
                        }
                        default: {
                            CacheAnswer r = cache.Lookup(a);
                            if (r.hit == CacheHit::kPositive && *r.record != a.normalized())
                                wrong = true;
                        }
                    }
                    if (t == 0 && i % 1000 == 0)
                        clock.Advance(1000000);
                    if (t == 1 && i % 5000 == 0)
                        cache.FlushDomain("x.com");
                    if (t == 2 && i % 3000 == 0)
                        cache.Sweep();
                }
            });
        }
        for (auto& th : threads)
            th.join();
        CPPUNIT_ASSERT(!wrong);
        KeyCacheCounters c = cache.Counters();
        CPPUNIT_ASSERT(c.size <= 500);
        CPPUNIT_ASSERT_EQUAL(c.lookups, c.hits + c.negative_hits + c.misses);
        CPPUNIT_ASSERT(c.lookups > 0 && c.inserts > 0);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ChaseCacheTest);

}  // namespace keydir
