#include <cppunit/extensions/HelperMacros.h>

#include "gateway/policy.h"

#include <ostream>

namespace keydir {
namespace gateway {

// For CPPUNIT_ASSERT_EQUAL's messages.
inline std::ostream& operator<<(std::ostream& out, Policy p) {
    return out << PolicyName(p);
}

class GatewayPolicyTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(GatewayPolicyTest);
    CPPUNIT_TEST(testPrecedence);
    CPPUNIT_TEST(testRuleLines);
    CPPUNIT_TEST(testBadRules);
    CPPUNIT_TEST_SUITE_END();

  public:
    void testPrecedence() {
        PolicyTable t(Policy::kHold);
        CPPUNIT_ASSERT(t.AddRule("partner.test", Policy::kPlain).ok());
        CPPUNIT_ASSERT(t.AddRule(".gov.test", Policy::kReject).ok());
        CPPUNIT_ASSERT(t.AddRule("boss@partner.test", Policy::kReject).ok());
        CPPUNIT_ASSERT(t.AddRule("open.agency.gov.test", Policy::kPlain).ok());
        CPPUNIT_ASSERT_EQUAL(Policy::kPlain, t.For("anyone@partner.test"));
        CPPUNIT_ASSERT_EQUAL(Policy::kPlain, t.For("Anyone@PARTNER.test"));
        CPPUNIT_ASSERT_EQUAL(Policy::kReject, t.For("BOSS@partner.test"));
        CPPUNIT_ASSERT_EQUAL(Policy::kHold, t.For("x@sub.partner.test"));   // domain rule is exact
        CPPUNIT_ASSERT_EQUAL(Policy::kReject, t.For("x@agency.gov.test"));  // .gov.test covers it
        CPPUNIT_ASSERT_EQUAL(Policy::kReject, t.For("x@a.b.gov.test"));
        CPPUNIT_ASSERT_EQUAL(Policy::kHold, t.For("x@gov.test"));  // but not gov.test itself
        CPPUNIT_ASSERT_EQUAL(Policy::kPlain, t.For("x@open.agency.gov.test"));
        CPPUNIT_ASSERT_EQUAL(Policy::kHold, t.For("x@elsewhere.test"));
        CPPUNIT_ASSERT_EQUAL(size_t(4), t.rule_count());
    }
    void testRuleLines() {
        PolicyTable t(Policy::kPlain);
        CPPUNIT_ASSERT(t.AddRuleLine("  example.org   reject ").ok());
        CPPUNIT_ASSERT(t.AddRuleLine("a@example.org\tHOLD").ok());
        CPPUNIT_ASSERT_EQUAL(Policy::kReject, t.For("b@example.org"));
        CPPUNIT_ASSERT_EQUAL(Policy::kHold, t.For("a@example.org"));
        Policy p;
        CPPUNIT_ASSERT(ParsePolicy("Plain", &p).ok());
        CPPUNIT_ASSERT_EQUAL(Policy::kPlain, p);
        CPPUNIT_ASSERT_EQUAL(std::string("hold"), std::string(PolicyName(Policy::kHold)));
    }
    void testBadRules() {
        PolicyTable t;
        Policy p;
        CPPUNIT_ASSERT(ParsePolicy("encrypt", &p).IsInvalidArgument());
        CPPUNIT_ASSERT(t.AddRuleLine("example.org").IsInvalidArgument());
        CPPUNIT_ASSERT(t.AddRuleLine("example.org drop").IsInvalidArgument());
        CPPUNIT_ASSERT(t.AddRuleLine("example.org plain extra").IsInvalidArgument());
        CPPUNIT_ASSERT(t.AddRule("not a domain", Policy::kPlain).IsInvalidArgument());
        CPPUNIT_ASSERT(t.AddRule("a@@b", Policy::kPlain).IsInvalidArgument());
        CPPUNIT_ASSERT(t.AddRule(".", Policy::kPlain).IsInvalidArgument());
        CPPUNIT_ASSERT(t.AddRule("example.org", Policy::kPlain).ok());
        Status s = t.AddRule("EXAMPLE.org", Policy::kReject);
        CPPUNIT_ASSERT(s.IsInvalidArgument());
        CPPUNIT_ASSERT(s.message().find("twice") != std::string::npos);
        CPPUNIT_ASSERT_EQUAL(Policy::kPlain, t.For("x@example.org"));  // unchanged
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(GatewayPolicyTest);

}  // namespace gateway
}  // namespace keydir
