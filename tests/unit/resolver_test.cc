#include <cppunit/extensions/HelperMacros.h>
#include <ldap.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "upstream/resolver.h"
#include "upstream/upstream_entry.h"

namespace keydir {
namespace {

// Answers searches from a table of server -> behaviour, counting calls.
class FakeUpstream : public Upstream {
  public:
    using Handler = std::function<Status(const UpstreamRequest&, UpstreamResponse*)>;
    void On(const std::string& server, Handler h) { handlers_[server] = std::move(h); }
    Status Search(const UpstreamRequest& req, UpstreamResponse* resp) override {
        {
            std::lock_guard<std::mutex> lock(mu_);
            ++calls_[req.server];
        }
        auto it = handlers_.find(req.server);
        if (it == handlers_.end())
            return Status::Unavailable("connection refused");
        return it->second(req, resp);
    }
    int calls(const std::string& server) {
        std::lock_guard<std::mutex> lock(mu_);
        return calls_[server];
    }

  private:
    std::map<std::string, Handler> handlers_;
    std::mutex mu_;
    std::map<std::string, int> calls_;
};

UpstreamEntry Member(const std::string& address, const std::string& extra_attr = "",
                     const std::string& extra_value = "") {
    MailAddress a;
    MailAddress::Parse(address, &a);
    UpstreamEntry e;
    e.dn = a.MemberDn();
    e.attributes.push_back({"objectClass", {"keydirMember"}});
    e.attributes.push_back({"mail", {address}});
    e.attributes.push_back({"userCertificate;binary", {std::string("\x30\x82\x01\x00", 4)}});
    if (!extra_attr.empty())
        e.attributes.push_back({extra_attr, {extra_value}});
    return e;
}

FakeUpstream::Handler Answer(UpstreamEntry e) {
    return [e](const UpstreamRequest&, UpstreamResponse* r) {
        r->result_code = LDAP_SUCCESS;
        r->entries.push_back(e);
        r->order.push_back({false, 0});
        return Status::OK();
    };
}

FakeUpstream::Handler Refer(const std::string& url) {
    return [url](const UpstreamRequest&, UpstreamResponse* r) {
        r->result_code = LDAP_REFERRAL;
        r->referrals = {url};
        return Status::OK();
    };
}

FakeUpstream::Handler NotFound() {
    return [](const UpstreamRequest&, UpstreamResponse* r) {
        r->result_code = LDAP_NO_SUCH_OBJECT;
        return Status::OK();
    };
}

MailAddress Addr(const std::string& s) {
    MailAddress a;
    CPPUNIT_ASSERT(MailAddress::Parse(s, &a).ok());
    return a;
}

LdapUrl Url(const std::string& s) {
    LdapUrl u;
    CPPUNIT_ASSERT(ParseServerUrl(s, &u).ok());
    return u;
}

class Refuse : public HopCheck {
  public:
    Status Verify(const UpstreamResponse&) override { return Status::PermissionDenied("bad MAC"); }
};

class RejectFrom : public HopSecurity {
  public:
    explicit RejectFrom(std::string server) : server_(std::move(server)) {}
    Status Prepare(const ChaseStep& step, UpstreamRequest*,
                   std::unique_ptr<HopCheck>* check) override {
        if (step.server.ServerUrl() == server_)
            check->reset(new Refuse);
        return Status::OK();
    }

  private:
    std::string server_;
};

}  // namespace

class ResolverTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(ResolverTest);
    CPPUNIT_TEST(testParentThenRootPointerThenHolder);
    CPPUNIT_TEST(testSecondLookupFromCache);
    CPPUNIT_TEST(testNotFoundIsCachedNegatively);
    CPPUNIT_TEST(testAllUpstreamsDownIsUnavailable);
    CPPUNIT_TEST(testStaleEntryServedWhenUpstreamsFail);
    CPPUNIT_TEST(testZoneTtlBoundsCacheTtl);
    CPPUNIT_TEST(testConcurrentLookupsShareOneChase);
    CPPUNIT_TEST(testRejectedAnswerFallsToNextServer);
    CPPUNIT_TEST(testFullQueueRefusesAtOnce);
    CPPUNIT_TEST(testShutdownAnswersQueuedLookups);
    CPPUNIT_TEST(testExceptionInChaseIsUnavailable);
    CPPUNIT_TEST(testExceptionInCallbackKeepsTheThread);
    CPPUNIT_TEST(testRequestsAskForOneEntry);
    CPPUNIT_TEST(testQueuedPastItsDeadlineAsksNobody);
    CPPUNIT_TEST(testWaitersOfOneChaseAreBounded);
    CPPUNIT_TEST(testEntryCodecRoundTrip);
    CPPUNIT_TEST(testEntryCodecRejectsTruncated);
    CPPUNIT_TEST(testNotAfterBound);
    CPPUNIT_TEST(testPrivateKeysAreNeitherAskedForNorKept);
    CPPUNIT_TEST_SUITE_END();

    FakeClockEnv env_;
    std::unique_ptr<FakeUpstream> upstream_;
    std::unique_ptr<KeyCache> cache_;
    FakeUpstream& up() { return *upstream_; }

    ResolverOptions Options(size_t threads = 2) {
        ResolverOptions o;
        o.threads = threads;
        o.chase.upstreams = {Url("ldap://parent:389")};
        o.chase.roots = {Url("ldap://root1:389"), Url("ldap://root2:389")};
        // The fake servers' names resolve nowhere.
        CPPUNIT_ASSERT(ReferralPolicy::Parse({"any"}, &o.chase.referral_policy).ok());
        return o;
    }

  public:
    void setUp() override {
        KeyCacheOptions co;
        co.ttl_seconds = 3600;
        co.negative_ttl_seconds = 60;
        co.stale_seconds = 600;
        cache_ = std::make_unique<KeyCache>(co, &env_);
        upstream_ = std::make_unique<FakeUpstream>();
    }

    void testParentThenRootPointerThenHolder() {
        up().On("ldap://parent:389", NotFound());
        up().On("ldap://root1:389",
                Refer("ldap://holder:389/mail=k@tovaris.com,dc=tovaris,dc=com"));
        up().On("ldap://holder:389", Answer(Member("k@tovaris.com")));
        Resolver r(Options(), &up(), cache_.get(), nullptr, &env_);
        Resolution res = r.ResolveNow(Addr("k@tovaris.com"));
        CPPUNIT_ASSERT(res.kind == Resolution::Kind::kFound);
        CPPUNIT_ASSERT_EQUAL(size_t(3), res.path.size());
        CPPUNIT_ASSERT_EQUAL(std::string("ldap://holder:389"), res.answered_by);
        UpstreamEntry e;
        CPPUNIT_ASSERT(DecodeUpstreamEntry(*res.record, &e).ok());
        CPPUNIT_ASSERT_EQUAL(std::string("mail=k@tovaris.com,dc=tovaris,dc=com"), e.dn);
        CPPUNIT_ASSERT(res.ttl_seconds > 0);
    }

    void testSecondLookupFromCache() {
        up().On("ldap://parent:389", Answer(Member("k@tovaris.com")));
        Resolver r(Options(), &up(), cache_.get(), nullptr, &env_);
        r.ResolveNow(Addr("k@tovaris.com"));
        Resolution now;
        bool at_once = r.Resolve(
            Addr("K@Tovaris.com"), 0, [](const Resolution&) {}, &now);
        CPPUNIT_ASSERT(at_once);
        CPPUNIT_ASSERT(now.from_cache);
        CPPUNIT_ASSERT(now.kind == Resolution::Kind::kFound);
        CPPUNIT_ASSERT_EQUAL(1, up().calls("ldap://parent:389"));
    }

    void testNotFoundIsCachedNegatively() {
        up().On("ldap://parent:389", NotFound());
        up().On("ldap://root1:389", NotFound());
        Resolver r(Options(), &up(), cache_.get(), nullptr, &env_);
        Resolution res = r.ResolveNow(Addr("nobody@tovaris.com"));
        CPPUNIT_ASSERT(res.kind == Resolution::Kind::kNotFound);
        CPPUNIT_ASSERT_EQUAL(int64_t(60), res.ttl_seconds);
        res = r.ResolveNow(Addr("nobody@tovaris.com"));
        CPPUNIT_ASSERT(res.from_cache && res.kind == Resolution::Kind::kNotFound);
        env_.AdvanceSeconds(61);
        r.ResolveNow(Addr("nobody@tovaris.com"));
        CPPUNIT_ASSERT_EQUAL(2, up().calls("ldap://root1:389"));
    }

    void testAllUpstreamsDownIsUnavailable() {
        Resolver r(Options(), &up(), cache_.get(), nullptr, &env_);
        Resolution res = r.ResolveNow(Addr("k@tovaris.com"));
        CPPUNIT_ASSERT(res.kind == Resolution::Kind::kUnavailable);
        CPPUNIT_ASSERT(!res.reason.empty());
        CPPUNIT_ASSERT_EQUAL(size_t(3), res.path.size());
        CPPUNIT_ASSERT_EQUAL(uint64_t(1), r.Counters().unavailable);
    }

    void testStaleEntryServedWhenUpstreamsFail() {
        FakeUpstream healthy;
        healthy.On("ldap://parent:389", Answer(Member("k@tovaris.com")));
        {
            Resolver r(Options(), &healthy, cache_.get(), nullptr, &env_);
            r.ResolveNow(Addr("k@tovaris.com"));
        }
        env_.AdvanceSeconds(3700);  // past the TTL, inside the stale window
        Resolver r(Options(), &up(), cache_.get(), nullptr, &env_);  // everything down
        Resolution res = r.ResolveNow(Addr("k@tovaris.com"));
        CPPUNIT_ASSERT(res.kind == Resolution::Kind::kFound);
        CPPUNIT_ASSERT(res.stale);
        env_.AdvanceSeconds(700);  // past the stale window
        res = r.ResolveNow(Addr("k@tovaris.com"));
        CPPUNIT_ASSERT(res.kind == Resolution::Kind::kUnavailable);
    }

    void testZoneTtlBoundsCacheTtl() {
        up().On("ldap://parent:389", Answer(Member("k@tovaris.com", "keydirTTL", "5")));
        Resolver r(Options(), &up(), cache_.get(), nullptr, &env_);
        Resolution res = r.ResolveNow(Addr("k@tovaris.com"));
        CPPUNIT_ASSERT_EQUAL(int64_t(5), res.ttl_seconds);
        env_.AdvanceSeconds(6);
        Resolution now;
        CPPUNIT_ASSERT(!r.Resolve(
            Addr("k@tovaris.com"), 0, [](const Resolution&) {}, &now));
    }

    void testConcurrentLookupsShareOneChase() {
        std::mutex gate;
        std::condition_variable cv;
        bool open = false;
        up().On("ldap://parent:389", [&](const UpstreamRequest& q, UpstreamResponse* resp) {
            std::unique_lock<std::mutex> lock(gate);
            cv.wait(lock, [&] { return open; });
            return Answer(Member("k@tovaris.com"))(q, resp);
        });
        Resolver r(Options(4), &up(), cache_.get(), nullptr, &env_);
        std::atomic<int> answered{0};
        for (int i = 0; i < 10; ++i) {
            Resolution now;
            CPPUNIT_ASSERT(!r.Resolve(
                Addr("k@tovaris.com"), 0,
                [&](const Resolution& res) {
                    if (res.kind == Resolution::Kind::kFound)
                        ++answered;
                },
                &now));
        }
        {
            std::lock_guard<std::mutex> lock(gate);
            open = true;
        }
        cv.notify_all();
        for (int i = 0; i < 200 && answered < 10; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        CPPUNIT_ASSERT_EQUAL(10, answered.load());
        CPPUNIT_ASSERT_EQUAL(1, up().calls("ldap://parent:389"));
        CPPUNIT_ASSERT_EQUAL(uint64_t(9), r.Counters().coalesced);
    }

    void testRejectedAnswerFallsToNextServer() {
        up().On("ldap://parent:389", Answer(Member("k@tovaris.com", "description", "forged")));
        up().On("ldap://root1:389", Answer(Member("k@tovaris.com")));
        RejectFrom reject("ldap://parent:389");
        Resolver r(Options(), &up(), cache_.get(), &reject, &env_);
        Resolution res = r.ResolveNow(Addr("k@tovaris.com"));
        CPPUNIT_ASSERT(res.kind == Resolution::Kind::kFound);
        UpstreamEntry e;
        DecodeUpstreamEntry(*res.record, &e);
        CPPUNIT_ASSERT(FindAttribute(e, "description") == nullptr);
        CPPUNIT_ASSERT_EQUAL(uint64_t(1), r.Counters().rejected);
    }

    void testFullQueueRefusesAtOnce() {
        std::mutex gate;
        std::condition_variable cv;
        bool open = false;
        up().On("ldap://parent:389", [&](const UpstreamRequest& q, UpstreamResponse* resp) {
            std::unique_lock<std::mutex> lock(gate);
            cv.wait(lock, [&] { return open; });
            return NotFound()(q, resp);
        });
        ResolverOptions o = Options(1);
        o.max_queued = 2;
        Resolver r(o, &up(), cache_.get(), nullptr, &env_);
        Resolution now;
        int refused = 0;
        for (int i = 0; i < 6; ++i) {
            if (r.Resolve(
                    Addr("u" + std::to_string(i) + "@x.com"), 0, [](const Resolution&) {}, &now)) {
                CPPUNIT_ASSERT(now.kind == Resolution::Kind::kUnavailable);
                ++refused;
            }
        }
        CPPUNIT_ASSERT(refused >= 3);
        {
            std::lock_guard<std::mutex> lock(gate);
            open = true;
        }
        cv.notify_all();
    }

    // Waits until `n` reaches `want` (at most 2 s).
    static void WaitFor(const std::atomic<int>& n, int want) {
        for (int i = 0; i < 200 && n.load() < want; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }

    void testExceptionInChaseIsUnavailable() {
        up().On("ldap://parent:389", [](const UpstreamRequest&, UpstreamResponse*) -> Status {
            throw std::bad_alloc();
        });
        up().On("ldap://root1:389", Answer(Member("k@tovaris.com")));
        Resolver r(Options(1), &up(), cache_.get(), nullptr, &env_);
        std::atomic<int> unavailable{0};
        Resolution now;
        CPPUNIT_ASSERT(!r.Resolve(
            Addr("k@tovaris.com"), 0,
            [&](const Resolution& res) {
                if (res.kind == Resolution::Kind::kUnavailable)
                    ++unavailable;
            },
            &now));
        WaitFor(unavailable, 1);
        CPPUNIT_ASSERT_EQUAL(1, unavailable.load());
        // The thread lives on, and nothing was cached.
        std::atomic<int> found{0};
        up().On("ldap://parent:389", Answer(Member("k@tovaris.com")));
        CPPUNIT_ASSERT(!r.Resolve(
            Addr("k@tovaris.com"), 0,
            [&](const Resolution& res) {
                if (res.kind == Resolution::Kind::kFound)
                    ++found;
            },
            &now));
        WaitFor(found, 1);
        CPPUNIT_ASSERT_EQUAL(1, found.load());
    }

    void testExceptionInCallbackKeepsTheThread() {
        up().On("ldap://parent:389", Answer(Member("k@tovaris.com")));
        up().On("ldap://root1:389", Answer(Member("j@tovaris.com")));
        Resolver r(Options(1), &up(), cache_.get(), nullptr, &env_);
        std::atomic<int> calls{0};
        Resolution now;
        r.Resolve(
            Addr("k@tovaris.com"), 0,
            [&](const Resolution&) {
                ++calls;
                throw std::runtime_error("callback failed");
            },
            &now);
        WaitFor(calls, 1);
        r.Resolve(
            Addr("j@tovaris.com"), 0, [&](const Resolution&) { ++calls; }, &now);
        WaitFor(calls, 2);
        CPPUNIT_ASSERT_EQUAL(2, calls.load());
    }

    void testRequestsAskForOneEntry() {
        size_t max_entries = 0;
        up().On("ldap://parent:389", [&](const UpstreamRequest& q, UpstreamResponse* resp) {
            max_entries = q.max_entries;
            return Answer(Member("k@tovaris.com"))(q, resp);
        });
        Resolver r(Options(), &up(), cache_.get(), nullptr, &env_);
        CPPUNIT_ASSERT(r.ResolveNow(Addr("k@tovaris.com")).kind == Resolution::Kind::kFound);
        CPPUNIT_ASSERT_EQUAL(size_t(1), max_entries);
    }

    void testQueuedPastItsDeadlineAsksNobody() {
        // One thread, held by a chase to a hung parent while the clock runs
        // past the total timeout: the lookup queued behind it ends without
        // asking anyone.
        std::mutex gate;
        std::condition_variable cv;
        bool open = false;
        std::atomic<int> entered{0};
        up().On("ldap://parent:389", [&](const UpstreamRequest& q, UpstreamResponse* resp) {
            if (q.base_dn.find("hung") != std::string::npos) {
                ++entered;
                std::unique_lock<std::mutex> lock(gate);
                cv.wait(lock, [&] { return open; });
            }
            return NotFound()(q, resp);
        });
        ResolverOptions o = Options(1);
        o.chase.total_timeout_micros = 4000000;
        Resolver r(o, &up(), cache_.get(), nullptr, &env_);
        Resolution now;
        std::atomic<int> done{0};
        Resolution late;
        std::mutex late_mu;
        r.Resolve(
            Addr("hung@x.com"), 0, [&](const Resolution&) { ++done; }, &now);
        WaitFor(entered, 1);
        CPPUNIT_ASSERT(!r.Resolve(
            Addr("late@y.com"), 0,
            [&](const Resolution& res) {
                std::lock_guard<std::mutex> lock(late_mu);
                late = res;
                ++done;
            },
            &now));
        env_.SleepMicros(4000001);
        {
            std::lock_guard<std::mutex> lock(gate);
            open = true;
        }
        cv.notify_all();
        WaitFor(done, 2);
        CPPUNIT_ASSERT_EQUAL(2, done.load());
        std::lock_guard<std::mutex> lock(late_mu);
        CPPUNIT_ASSERT(late.kind == Resolution::Kind::kUnavailable);
        CPPUNIT_ASSERT(late.chase == ChaseResult::kTimedOut);
        CPPUNIT_ASSERT_MESSAGE(late.reason,
                               late.reason.find("no server asked") != std::string::npos);
        CPPUNIT_ASSERT(late.path.empty());
        CPPUNIT_ASSERT_EQUAL(1, up().calls("ldap://parent:389"));
        CPPUNIT_ASSERT_EQUAL(0, up().calls("ldap://root1:389"));
        CPPUNIT_ASSERT_EQUAL(uint64_t(1), r.Counters().expired);
    }

    void testWaitersOfOneChaseAreBounded() {
        std::mutex gate;
        std::condition_variable cv;
        bool open = false;
        up().On("ldap://parent:389", [&](const UpstreamRequest& q, UpstreamResponse* resp) {
            std::unique_lock<std::mutex> lock(gate);
            cv.wait(lock, [&] { return open; });
            return NotFound()(q, resp);
        });
        ResolverOptions o = Options(1);
        o.max_waiters = 3;
        Resolver r(o, &up(), cache_.get(), nullptr, &env_);
        Resolution now;
        int refused = 0;
        for (int i = 0; i < 5; ++i) {
            if (r.Resolve(
                    Addr("k@tovaris.com"), 0, [](const Resolution&) {}, &now)) {
                CPPUNIT_ASSERT(now.kind == Resolution::Kind::kUnavailable);
                ++refused;
            }
        }
        CPPUNIT_ASSERT_EQUAL(2, refused);
        CPPUNIT_ASSERT_EQUAL(uint64_t(2), r.Counters().waiters_full);
        {
            std::lock_guard<std::mutex> lock(gate);
            open = true;
        }
        cv.notify_all();
    }

    void testShutdownAnswersQueuedLookups() {
        std::mutex gate;
        std::condition_variable cv;
        bool open = false;
        up().On("ldap://parent:389", [&](const UpstreamRequest& q, UpstreamResponse* resp) {
            std::unique_lock<std::mutex> lock(gate);
            cv.wait_for(lock, std::chrono::milliseconds(200), [&] { return open; });
            return NotFound()(q, resp);
        });
        auto r = std::make_unique<Resolver>(Options(1), &up(), cache_.get(), nullptr, &env_);
        std::atomic<int> unavailable{0}, answered{0};
        Resolution now;
        for (int i = 0; i < 4; ++i)
            r->Resolve(
                Addr("u" + std::to_string(i) + "@x.com"), 0,
                [&](const Resolution& res) {
                    ++answered;
                    if (res.kind == Resolution::Kind::kUnavailable)
                        ++unavailable;
                },
                &now);
        r->Shutdown();
        CPPUNIT_ASSERT_EQUAL(4, answered.load());
        CPPUNIT_ASSERT(unavailable >= 3);
    }

    void testEntryCodecRoundTrip() {
        UpstreamEntry e = Member("k@tovaris.com", "keydirTTL", "60");
        UpstreamEntry back;
        CPPUNIT_ASSERT(DecodeUpstreamEntry(EncodeUpstreamEntry(e), &back).ok());
        CPPUNIT_ASSERT_EQUAL(e.dn, back.dn);
        CPPUNIT_ASSERT_EQUAL(e.attributes.size(), back.attributes.size());
        CPPUNIT_ASSERT(back.attributes[2].values[0] == e.attributes[2].values[0]);
        CPPUNIT_ASSERT_EQUAL(int64_t(60), *EntryZoneTtl(back));
    }

    void testEntryCodecRejectsTruncated() {
        std::string rec = EncodeUpstreamEntry(Member("k@tovaris.com"));
        UpstreamEntry back;
        for (size_t n = 0; n < rec.size(); ++n)
            CPPUNIT_ASSERT(!DecodeUpstreamEntry(rec.substr(0, n), &back).ok());
        CPPUNIT_ASSERT(!DecodeUpstreamEntry(rec + "x", &back).ok());
    }

    void testNotAfterBound() {
        UpstreamEntry e = Member("k@x.com");
        e.attributes.push_back({"keydirNotAfter", {"20300101000000Z", "20200101000000Z"}});
        CPPUNIT_ASSERT_EQUAL(int64_t(1893456000), *EntryNotAfter(e, 1700000000));
    }

    // A lax holder may answer with userPKCS12: the chase neither asks for
    // it nor keeps it (security review, finding 12).
    void testPrivateKeysAreNeitherAskedForNorKept() {
        std::vector<std::string> asked;
        UpstreamEntry lax = Member("k@tovaris.com", "userPKCS12;binary", "private key");
        lax.attributes.push_back({"userPassword", {"secret"}});
        lax.attributes.push_back({"keydirStatus", {"active"}});
        up().On("ldap://parent:389", [&](const UpstreamRequest& req, UpstreamResponse* r) {
            asked = req.attributes;
            return Answer(lax)(req, r);
        });
        Resolver r(Options(), &up(), cache_.get(), nullptr, &env_);
        Resolution res = r.ResolveNow(Addr("k@tovaris.com"));
        CPPUNIT_ASSERT(res.kind == Resolution::Kind::kFound);
        for (const std::string& a : asked) {
            CPPUNIT_ASSERT(a != "*" && a != "+");
            CPPUNIT_ASSERT(IsChasedAttribute(a));
        }
        CPPUNIT_ASSERT(!IsChasedAttribute("userPKCS12"));
        CPPUNIT_ASSERT(!IsChasedAttribute("USERPKCS12;binary"));
        CPPUNIT_ASSERT(IsChasedAttribute("userCertificate;binary"));
        UpstreamEntry kept;
        CPPUNIT_ASSERT(DecodeUpstreamEntry(*res.record, &kept).ok());
        CPPUNIT_ASSERT(FindAttribute(kept, "userPKCS12") == nullptr);
        CPPUNIT_ASSERT(FindAttribute(kept, "userPassword") == nullptr);
        CPPUNIT_ASSERT(FindAttribute(kept, "userCertificate") != nullptr);
        CPPUNIT_ASSERT(FindAttribute(kept, "keydirStatus") != nullptr);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ResolverTest);

}  // namespace keydir
