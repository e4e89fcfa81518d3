#include <cppunit/extensions/HelperMacros.h>

#include <functional>
#include <map>

#include "chase/chase_plan.h"

namespace keydir {
namespace {

LdapUrl Server(const std::string& host_port) {
    LdapUrl u;
    Status s = ParseServerUrl("ldap://" + host_port, &u);
    if (!s.ok())
        throw std::runtime_error(s.ToString());
    return u;
}

const char kMember[] = "mail=kconley@tovaris.com,dc=tovaris,dc=com";

// A network of fake servers: each answers with a fixed outcome, and the
// test records who was asked.
struct FakeNetwork {
    std::map<std::string, HopOutcome> answers;  // by host:port
    std::vector<ChaseStep> asked;
    FakeClockEnv* env = nullptr;
    int64_t micros_per_ask = 1000;

    void Set(const std::string& host_port, HopOutcome outcome) { answers[host_port] = outcome; }
    static HopOutcome RefTo(std::vector<std::string> host_ports, const std::string& dn = kMember) {
        std::vector<std::string> urls;
        for (const std::string& h : host_ports)
            urls.push_back("ldap://" + h + "/" + dn);
        return HopOutcome::Referral(urls);
    }

    ChaseResult Run(ChasePlan* plan) {
        ChaseStep step;
        while (plan->Next(&step)) {
            asked.push_back(step);
            if (env)
                env->SleepMicros(micros_per_ask);
            auto it = answers.find(step.server.ServerKey());
            plan->Report(it == answers.end() ? HopOutcome::Failed("connection refused")
                                             : it->second);
        }
        return plan->result();
    }
    std::string Order() const {
        std::string s;
        for (const ChaseStep& st : asked)
            s += (s.empty() ? "" : " ") + st.server.host;
        return s;
    }
};

}  // namespace

class ChasePlanTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(ChasePlanTest);
    CPPUNIT_TEST(testFig2ParentThenRootPointerThenHolder);
    CPPUNIT_TEST(testFig4MultiHop);
    CPPUNIT_TEST(testRootFailover);
    CPPUNIT_TEST(testRootNotFoundIsFinal);
    CPPUNIT_TEST(testReferralTargetNotFoundIsFinal);
    CPPUNIT_TEST(testParentNotFoundAndRootDownIsUnavailable);
    CPPUNIT_TEST(testParentNotFoundWithoutRootsIsNotFound);
    CPPUNIT_TEST(testAllDown);
    CPPUNIT_TEST(testNoUpstreams);
    CPPUNIT_TEST(testLoopRefused);
    CPPUNIT_TEST(testReferralToSelfIsLoop);
    CPPUNIT_TEST(testLoopFallsBackToNextFirstTier);
    CPPUNIT_TEST(testHopLimit);
    CPPUNIT_TEST(testHopLimitCountsIncomingHops);
    CPPUNIT_TEST(testAlternativesLikeNsRecords);
    CPPUNIT_TEST(testBadUrlsSkippedGoodOneUsed);
    CPPUNIT_TEST(testOnlyBadUrlsIsBadReferral);
    CPPUNIT_TEST(testReferralDnOutsideMemberRefused);
    CPPUNIT_TEST(testReferralToAncestorDnAsksMemberDn);
    CPPUNIT_TEST(testFailedServerNotAskedTwice);
    CPPUNIT_TEST(testDeadReferralFallsBackToRoot);
    CPPUNIT_TEST(testTotalBudget);
    CPPUNIT_TEST(testStepTimeoutIsWhatIsLeft);
    CPPUNIT_TEST(testBudgetStartedInTheQueue);
    CPPUNIT_TEST(testBudgetSpentInTheQueueAsksNobody);
    CPPUNIT_TEST(testReferralToUnlistedTargetIsNotAsked);
    CPPUNIT_TEST(testDefaultPolicyRefusesLoopback);
    CPPUNIT_TEST(testMaxAttempts);
    CPPUNIT_TEST(testNextIsIdempotentAndStrayReportIgnored);
    CPPUNIT_TEST(testRecursionFlagOnlyTowardsParents);
    CPPUNIT_TEST(testStepContents);
    CPPUNIT_TEST_SUITE_END();

    FakeClockEnv env_;
    MailAddress address_;

    ChaseConfig Config(std::vector<std::string> ups, std::vector<std::string> roots = {}) {
        ChaseConfig c;
        for (auto& u : ups)
            c.upstreams.push_back(Server(u));
        for (auto& r : roots)
            c.roots.push_back(Server(r));
        // The fake servers have names that resolve nowhere.
        CPPUNIT_ASSERT(ReferralPolicy::Parse({"any"}, &c.referral_policy).ok());
        return c;
    }

  public:
    void setUp() override {
        CPPUNIT_ASSERT(MailAddress::Parse("KConley@tovaris.com", &address_).ok());
    }

    void testFig2ParentThenRootPointerThenHolder() {
        FakeNetwork net;
        net.env = &env_;
        net.Set("p:1", HopOutcome::NotFound());
        net.Set("r:1", FakeNetwork::RefTo({"h:1"}));
        net.Set("h:1", HopOutcome::Entry());
        ChasePlan plan(Config({"p:1"}, {"r:1"}), address_, &env_);
        CPPUNIT_ASSERT(net.Run(&plan) == ChaseResult::kFound);
        CPPUNIT_ASSERT_EQUAL(std::string("p r h"), net.Order());
        CPPUNIT_ASSERT_EQUAL(std::string("h"), plan.answered_by().host);
        CPPUNIT_ASSERT_EQUAL(3, plan.attempts());
        CPPUNIT_ASSERT(plan.path()[0].tier == ServerTier::kUpstream);
        CPPUNIT_ASSERT(plan.path()[1].tier == ServerTier::kRoot);
        CPPUNIT_ASSERT(plan.path()[2].tier == ServerTier::kReferral);
        CPPUNIT_ASSERT(plan.path()[1].outcome == HopOutcome::Kind::kReferral);
        CPPUNIT_ASSERT_EQUAL(0, net.asked[1].hop_count);
        CPPUNIT_ASSERT_EQUAL(1, net.asked[2].hop_count);
        CPPUNIT_ASSERT_EQUAL(int64_t(1000), plan.path()[2].micros);
    }
    void testFig4MultiHop() {
        // local 50 -> root 36 (down) -> root 74 -> 76 -> 78 -> 80 (holder)
        FakeNetwork net;
        net.Set("r36:1", HopOutcome::TimedOut());
        net.Set("r74:1", FakeNetwork::RefTo({"s76:1"}));
        net.Set("s76:1", FakeNetwork::RefTo({"s78:1"}, "dc=tovaris,dc=com"));
        net.Set("s78:1", FakeNetwork::RefTo({"s80:1"}));
        net.Set("s80:1", HopOutcome::Entry());
        ChasePlan plan(Config({}, {"r36:1", "r74:1"}), address_, &env_);
        CPPUNIT_ASSERT(net.Run(&plan) == ChaseResult::kFound);
        CPPUNIT_ASSERT_EQUAL(std::string("r36 r74 s76 s78 s80"), net.Order());
        CPPUNIT_ASSERT_EQUAL(3, plan.max_hops_seen());
        CPPUNIT_ASSERT_EQUAL(3, net.asked.back().hop_count);
    }
    void testRootFailover() {
        FakeNetwork net;
        net.Set("r1:1", HopOutcome::Failed("connection refused"));
        net.Set("r2:1", HopOutcome::Entry());
        ChasePlan plan(Config({}, {"r1:1", "r2:1"}), address_, &env_);
        CPPUNIT_ASSERT(net.Run(&plan) == ChaseResult::kFound);
        CPPUNIT_ASSERT_EQUAL(std::string("r1 r2"), net.Order());
        CPPUNIT_ASSERT(plan.path()[0].detail == "connection refused");
    }
    void testRootNotFoundIsFinal() {
        FakeNetwork net;
        net.Set("r1:1", HopOutcome::NotFound());
        net.Set("r2:1", HopOutcome::Entry());
        ChasePlan plan(Config({}, {"r1:1", "r2:1"}), address_, &env_);
        CPPUNIT_ASSERT(net.Run(&plan) == ChaseResult::kNotFound);
        CPPUNIT_ASSERT_EQUAL(std::string("r1"), net.Order());
        CPPUNIT_ASSERT(plan.reason().find("r1:1") != std::string::npos);
    }
    void testReferralTargetNotFoundIsFinal() {
        FakeNetwork net;
        net.Set("r1:1", FakeNetwork::RefTo({"h:1"}));
        net.Set("h:1", HopOutcome::NotFound());
        net.Set("r2:1", HopOutcome::Entry());
        ChasePlan plan(Config({}, {"r1:1", "r2:1"}), address_, &env_);
        CPPUNIT_ASSERT(net.Run(&plan) == ChaseResult::kNotFound);
        CPPUNIT_ASSERT_EQUAL(std::string("r1 h"), net.Order());
        CPPUNIT_ASSERT_EQUAL(std::string("h"), plan.answered_by().host);
    }
    void testParentNotFoundAndRootDownIsUnavailable() {
        FakeNetwork net;
        net.Set("p:1", HopOutcome::NotFound());
        net.Set("r:1", HopOutcome::TimedOut());
        ChasePlan plan(Config({"p:1"}, {"r:1"}), address_, &env_);
        CPPUNIT_ASSERT(net.Run(&plan) == ChaseResult::kUnavailable);
        CPPUNIT_ASSERT(plan.reason().find("ldap://r:1 timed out") != std::string::npos);
    }
    void testParentNotFoundWithoutRootsIsNotFound() {
        FakeNetwork net;
        net.Set("p1:1", HopOutcome::NotFound());
        net.Set("p2:1", HopOutcome::NotFound());
        ChasePlan plan(Config({"p1:1", "p2:1"}), address_, &env_);
        CPPUNIT_ASSERT(net.Run(&plan) == ChaseResult::kNotFound);
        CPPUNIT_ASSERT_EQUAL(std::string("p1 p2"), net.Order());
    }
    void testAllDown() {
        FakeNetwork net;
        ChasePlan plan(Config({"p:1"}, {"r1:1", "r2:1"}), address_, &env_);
        CPPUNIT_ASSERT(net.Run(&plan) == ChaseResult::kUnavailable);
        CPPUNIT_ASSERT_EQUAL(std::string("p r1 r2"), net.Order());
        CPPUNIT_ASSERT(plan.reason().find("connection refused") != std::string::npos);
    }
    void testNoUpstreams() {
        FakeNetwork net;
        ChasePlan plan(ChaseConfig(), address_, &env_);
        CPPUNIT_ASSERT(net.Run(&plan) == ChaseResult::kUnavailable);
        CPPUNIT_ASSERT(plan.reason().find("no upstream") != std::string::npos);
        CPPUNIT_ASSERT_EQUAL(0, plan.attempts());
    }
    void testLoopRefused() {
        // r -> a -> b -> a: the second referral to a is a loop
        FakeNetwork net;
        net.Set("r:1", FakeNetwork::RefTo({"a:1"}));
        net.Set("a:1", FakeNetwork::RefTo({"b:1"}));
        net.Set("b:1", FakeNetwork::RefTo({"a:1"}));
        ChasePlan plan(Config({}, {"r:1"}), address_, &env_);
        CPPUNIT_ASSERT(net.Run(&plan) == ChaseResult::kLoop);
        CPPUNIT_ASSERT_EQUAL(std::string("r a b"), net.Order());
        CPPUNIT_ASSERT(plan.reason().find("referral loop") != std::string::npos);
        CPPUNIT_ASSERT(plan.reason().find("ldap://a:1") != std::string::npos);
    }
    void testReferralToSelfIsLoop() {
        FakeNetwork net;
        net.Set("r:1", FakeNetwork::RefTo({"me:1"}));
        ChaseConfig c = Config({}, {"r:1"});
        c.self.push_back(Server("me:1"));
        ChasePlan plan(c, address_, &env_);
        CPPUNIT_ASSERT(net.Run(&plan) == ChaseResult::kLoop);
        CPPUNIT_ASSERT_EQUAL(std::string("r"), net.Order());
    }
    void testLoopFallsBackToNextFirstTier() {
        FakeNetwork net;
        net.Set("p:1", FakeNetwork::RefTo({"p:1"}));  // a parent pointing at itself
        net.Set("r:1", FakeNetwork::RefTo({"h:1"}));
        net.Set("h:1", HopOutcome::Entry());
        ChasePlan plan(Config({"p:1"}, {"r:1"}), address_, &env_);
        CPPUNIT_ASSERT(net.Run(&plan) == ChaseResult::kFound);
        CPPUNIT_ASSERT_EQUAL(std::string("p r h"), net.Order());
    }
    void testHopLimit() {
        FakeNetwork net;
        net.Set("r:1", FakeNetwork::RefTo({"a:1"}));
        net.Set("a:1", FakeNetwork::RefTo({"b:1"}));
        net.Set("b:1", FakeNetwork::RefTo({"c:1"}));
        net.Set("c:1", HopOutcome::Entry());
        ChaseConfig c = Config({}, {"r:1"});
        c.max_hops = 2;
        ChasePlan plan(c, address_, &env_);
        CPPUNIT_ASSERT(net.Run(&plan) == ChaseResult::kHopLimit);
        CPPUNIT_ASSERT_EQUAL(std::string("r a b"), net.Order());
        CPPUNIT_ASSERT(plan.reason().find("more than 2 referrals") != std::string::npos);
        c.max_hops = 3;
        FakeNetwork net2 = net;
        net2.asked.clear();
        ChasePlan plan2(c, address_, &env_);
        CPPUNIT_ASSERT(net2.Run(&plan2) == ChaseResult::kFound);
    }
    void testHopLimitCountsIncomingHops() {
        FakeNetwork net;
        net.Set("r:1", FakeNetwork::RefTo({"a:1"}));
        net.Set("a:1", HopOutcome::Entry());
        ChaseConfig c = Config({}, {"r:1"});
        c.max_hops = 3;
        ChasePlan plan(c, address_, &env_, 3);
        CPPUNIT_ASSERT(net.Run(&plan) == ChaseResult::kHopLimit);
        CPPUNIT_ASSERT_EQUAL(3, net.asked[0].hop_count);
        ChasePlan plan2(c, address_, &env_, 2);
        net.asked.clear();
        CPPUNIT_ASSERT(net.Run(&plan2) == ChaseResult::kFound);
        CPPUNIT_ASSERT_EQUAL(3, net.asked[1].hop_count);
    }
    void testAlternativesLikeNsRecords() {
        FakeNetwork net;
        net.Set("r:1", FakeNetwork::RefTo({"z1:1", "z2:1", "z3:1"}));
        net.Set("z1:1", HopOutcome::TimedOut());
        net.Set("z2:1", HopOutcome::Entry());
        net.Set("z3:1", HopOutcome::Entry());
        ChasePlan plan(Config({}, {"r:1"}), address_, &env_);
        CPPUNIT_ASSERT(net.Run(&plan) == ChaseResult::kFound);
        CPPUNIT_ASSERT_EQUAL(std::string("r z1 z2"), net.Order());
        CPPUNIT_ASSERT_EQUAL(1, net.asked[1].hop_count);
        CPPUNIT_ASSERT_EQUAL(1, net.asked[2].hop_count);  // an alternative is not a hop
    }
    void testBadUrlsSkippedGoodOneUsed() {
        FakeNetwork net;
        net.Set("r:1", HopOutcome::Referral({"http://evil/", "ldapi://%2frun%2fs/",
                                             "ldap://h:1/" + std::string(kMember)}));
        net.Set("h:1", HopOutcome::Entry());
        ChasePlan plan(Config({}, {"r:1"}), address_, &env_);
        CPPUNIT_ASSERT(net.Run(&plan) == ChaseResult::kFound);
        CPPUNIT_ASSERT_EQUAL(std::string("r h"), net.Order());
    }
    void testOnlyBadUrlsIsBadReferral() {
        FakeNetwork net;
        net.Set("r:1", HopOutcome::Referral({"http://evil/"}));
        ChasePlan plan(Config({}, {"r:1"}), address_, &env_);
        CPPUNIT_ASSERT(net.Run(&plan) == ChaseResult::kBadReferral);
        CPPUNIT_ASSERT(plan.reason().find("only ldap:// and ldaps://") != std::string::npos);
        FakeNetwork net2;
        net2.Set("r:1", HopOutcome::Referral({}));
        ChasePlan plan2(Config({}, {"r:1"}), address_, &env_);
        CPPUNIT_ASSERT(net2.Run(&plan2) == ChaseResult::kBadReferral);
        CPPUNIT_ASSERT(plan2.reason().find("names no server") != std::string::npos);
    }
    void testReferralDnOutsideMemberRefused() {
        FakeNetwork net;
        net.Set("r:1", FakeNetwork::RefTo({"h:1"}, "mail=other@evil.com,dc=evil,dc=com"));
        net.Set("h:1", HopOutcome::Entry());
        ChasePlan plan(Config({}, {"r:1"}), address_, &env_);
        CPPUNIT_ASSERT(net.Run(&plan) == ChaseResult::kBadReferral);
        CPPUNIT_ASSERT(plan.reason().find("neither is nor contains") != std::string::npos);
    }
    void testReferralToAncestorDnAsksMemberDn() {
        FakeNetwork net;
        net.Set("r:1", FakeNetwork::RefTo({"z:1"}, "DC=Tovaris,DC=Com"));
        net.Set("z:1", HopOutcome::Entry());
        ChasePlan plan(Config({}, {"r:1"}), address_, &env_);
        CPPUNIT_ASSERT(net.Run(&plan) == ChaseResult::kFound);
        CPPUNIT_ASSERT_EQUAL(std::string(kMember), net.asked[1].base_dn);
        // a referral without a DN is followed too
        FakeNetwork net2;
        net2.Set("r:1", HopOutcome::Referral({"ldap://z:1"}));
        net2.Set("z:1", HopOutcome::Entry());
        ChasePlan plan2(Config({}, {"r:1"}), address_, &env_);
        CPPUNIT_ASSERT(net2.Run(&plan2) == ChaseResult::kFound);
    }
    void testFailedServerNotAskedTwice() {
        // r1 points to dead h; r1's path fails, r2 points to h again: h is
        // not asked again, the chase ends unavailable after r2.
        FakeNetwork net;
        net.Set("p:1", FakeNetwork::RefTo({"h:1"}));
        net.Set("r:1", FakeNetwork::RefTo({"h:1"}));
        net.Set("h:1", HopOutcome::TimedOut());
        ChasePlan plan(Config({"p:1"}, {"r:1"}), address_, &env_);
        CPPUNIT_ASSERT(net.Run(&plan) == ChaseResult::kUnavailable);
        CPPUNIT_ASSERT_EQUAL(std::string("p h r"), net.Order());
        CPPUNIT_ASSERT(plan.reason().find("failed already") != std::string::npos ||
                       plan.reason().find("timed out") != std::string::npos);
    }
    void testDeadReferralFallsBackToRoot() {
        FakeNetwork net;
        net.Set("p:1", FakeNetwork::RefTo({"stale:1"}));
        net.Set("stale:1", HopOutcome::Failed("connection refused"));
        net.Set("r:1", FakeNetwork::RefTo({"h:1"}));
        net.Set("h:1", HopOutcome::Entry());
        ChasePlan plan(Config({"p:1"}, {"r:1"}), address_, &env_);
        CPPUNIT_ASSERT(net.Run(&plan) == ChaseResult::kFound);
        CPPUNIT_ASSERT_EQUAL(std::string("p stale r h"), net.Order());
    }
    void testTotalBudget() {
        FakeNetwork net;
        net.env = &env_;
        net.micros_per_ask = 4000000;  // every server takes 4 s to time out
        ChaseConfig c = Config({"p:1"}, {"r1:1", "r2:1", "r3:1"});
        c.hop_timeout_micros = 4000000;
        c.total_timeout_micros = 10000000;
        ChasePlan plan(c, address_, &env_);
        CPPUNIT_ASSERT(net.Run(&plan) == ChaseResult::kTimedOut);
        CPPUNIT_ASSERT_EQUAL(std::string("p r1 r2"), net.Order());
        CPPUNIT_ASSERT_EQUAL(int64_t(2000000), net.asked[2].timeout_micros);
        CPPUNIT_ASSERT(plan.reason().find("within 10000 ms") != std::string::npos);
    }
    void testStepTimeoutIsWhatIsLeft() {
        ChaseConfig c = Config({"p:1"}, {});
        c.hop_timeout_micros = 3000000;
        c.total_timeout_micros = 5000000;
        ChasePlan plan(c, address_, &env_);
        ChaseStep step;
        CPPUNIT_ASSERT(plan.Next(&step));
        CPPUNIT_ASSERT_EQUAL(int64_t(3000000), step.timeout_micros);
    }
    void testBudgetStartedInTheQueue() {
        // Queued 4 s ago with a 5 s budget: 1 s is left for the first step.
        ChaseConfig c = Config({"p:1"}, {});
        c.hop_timeout_micros = 3000000;
        c.total_timeout_micros = 5000000;
        int64_t queued = env_.NowMonotonicMicros();
        env_.SleepMicros(4000000);
        ChasePlan plan(c, address_, &env_, 0, queued);
        ChaseStep step;
        CPPUNIT_ASSERT(plan.Next(&step));
        CPPUNIT_ASSERT_EQUAL(int64_t(1000000), step.timeout_micros);
    }
    void testBudgetSpentInTheQueueAsksNobody() {
        FakeNetwork net;
        net.Set("p:1", HopOutcome::Entry());
        ChaseConfig c = Config({"p:1"}, {});
        c.total_timeout_micros = 4000000;
        int64_t queued = env_.NowMonotonicMicros();
        env_.SleepMicros(4000001);
        ChasePlan plan(c, address_, &env_, 0, queued);
        CPPUNIT_ASSERT(net.Run(&plan) == ChaseResult::kTimedOut);
        CPPUNIT_ASSERT(net.asked.empty());
    }
    void testReferralToUnlistedTargetIsNotAsked() {
        FakeNetwork net;
        net.Set("r:1", FakeNetwork::RefTo({"10.1.2.3:389", "h.example.net:389"}));
        net.Set("10.1.2.3:389", HopOutcome::Entry());
        ChaseConfig c = Config({}, {"r:1"});
        CPPUNIT_ASSERT(ReferralPolicy::Parse({"*.example.net"}, &c.referral_policy).ok());
        ChasePlan plan(c, address_, &env_);
        net.Run(&plan);
        // The listed name is asked; the internal address never is.
        CPPUNIT_ASSERT_EQUAL(std::string("r h.example.net"), net.Order());
        ChaseConfig only = Config({}, {"r:1"});
        CPPUNIT_ASSERT(ReferralPolicy::Parse({"192.0.2.0/24"}, &only.referral_policy).ok());
        FakeNetwork net2;
        net2.Set("r:1", FakeNetwork::RefTo({"10.1.2.3:389"}));
        net2.Set("10.1.2.3:389", HopOutcome::Entry());
        ChasePlan plan2(only, address_, &env_);
        CPPUNIT_ASSERT(net2.Run(&plan2) == ChaseResult::kBadReferral);
        CPPUNIT_ASSERT_EQUAL(std::string("r"), net2.Order());
        CPPUNIT_ASSERT_MESSAGE(plan2.reason(),
                               plan2.reason().find("keychase-referral-allow") != std::string::npos);
    }
    void testDefaultPolicyRefusesLoopback() {
        FakeNetwork net;
        net.Set("r:1", FakeNetwork::RefTo({"127.0.0.1:10389"}));
        net.Set("127.0.0.1:10389", HopOutcome::Entry());
        ChaseConfig c = Config({}, {"r:1"});
        c.referral_policy = ReferralPolicy();  // the default: public addresses
        ChasePlan plan(c, address_, &env_);
        CPPUNIT_ASSERT(net.Run(&plan) == ChaseResult::kBadReferral);
        CPPUNIT_ASSERT_EQUAL(std::string("r"), net.Order());
    }
    void testMaxAttempts() {
        FakeNetwork net;
        ChaseConfig c = Config({"a:1", "b:1", "c:1", "d:1"}, {});
        c.max_attempts = 2;
        ChasePlan plan(c, address_, &env_);
        CPPUNIT_ASSERT(net.Run(&plan) == ChaseResult::kUnavailable);
        CPPUNIT_ASSERT_EQUAL(std::string("a b"), net.Order());
        CPPUNIT_ASSERT(plan.reason().find("after asking 2 servers") != std::string::npos);
    }
    void testNextIsIdempotentAndStrayReportIgnored() {
        ChasePlan plan(Config({"p:1", "q:1"}, {}), address_, &env_);
        plan.Report(HopOutcome::Entry());  // no step out: ignored
        CPPUNIT_ASSERT(plan.result() == ChaseResult::kPending);
        ChaseStep a, b;
        CPPUNIT_ASSERT(plan.Next(&a));
        CPPUNIT_ASSERT(plan.Next(&b));
        CPPUNIT_ASSERT_EQUAL(a.server.ServerKey(), b.server.ServerKey());
        plan.Report(HopOutcome::Entry());
        CPPUNIT_ASSERT(plan.result() == ChaseResult::kFound);
        CPPUNIT_ASSERT(!plan.Next(&a));
        plan.Report(HopOutcome::NotFound());  // after the end: ignored
        CPPUNIT_ASSERT(plan.result() == ChaseResult::kFound);
        CPPUNIT_ASSERT_EQUAL(1, plan.attempts());
    }
    void testRecursionFlagOnlyTowardsParents() {
        FakeNetwork net;
        net.Set("p:1", HopOutcome::NotFound());
        net.Set("r:1", FakeNetwork::RefTo({"h:1"}));
        net.Set("h:1", HopOutcome::Entry());
        ChaseConfig c = Config({"p:1"}, {"r:1"});
        c.ask_upstream_to_chase = true;
        ChasePlan plan(c, address_, &env_);
        CPPUNIT_ASSERT(net.Run(&plan) == ChaseResult::kFound);
        CPPUNIT_ASSERT(net.asked[0].recursion);
        CPPUNIT_ASSERT(!net.asked[1].recursion);
        CPPUNIT_ASSERT(!net.asked[2].recursion);
    }
    void testStepContents() {
        ChasePlan plan(Config({"P:7"}, {}), address_, &env_);
        ChaseStep step;
        CPPUNIT_ASSERT(plan.Next(&step));
        CPPUNIT_ASSERT_EQUAL(std::string("ldap://p:7"), step.server.ServerUrl());
        CPPUNIT_ASSERT(!step.server.has_dn);
        CPPUNIT_ASSERT_EQUAL(std::string(kMember), step.base_dn);
        CPPUNIT_ASSERT(step.scope == UrlScope::kBase);
        CPPUNIT_ASSERT_EQUAL(std::string("(mail=kconley@tovaris.com)"), step.filter);
        CPPUNIT_ASSERT(step.tier == ServerTier::kUpstream);
        CPPUNIT_ASSERT(!step.recursion);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ChasePlanTest);

}  // namespace keydir
