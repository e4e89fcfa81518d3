#include <cppunit/extensions/HelperMacros.h>

#include "store/dn_key.h"

namespace keydir {

class DnKeyTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(DnKeyTest);
    CPPUNIT_TEST(testSplitPlain);
    CPPUNIT_TEST(testSplitEscapedComma);
    CPPUNIT_TEST(testSplitRejectsMalformed);
    CPPUNIT_TEST(testKeyIsRootFirst);
    CPPUNIT_TEST(testNullDn);
    CPPUNIT_TEST(testParentAndDepth);
    CPPUNIT_TEST(testDescendants);
    CPPUNIT_TEST(testSubtreeSortsTogether);
    CPPUNIT_TEST_SUITE_END();

    static std::string Key(const std::string& dn) {
        std::string k;
        Status s = DnKeyFromDn(dn, &k);
        CPPUNIT_ASSERT_MESSAGE(s.ToString(), s.ok());
        return k;
    }

  public:
    void testSplitPlain() {
        std::vector<std::string_view> rdns;
        CPPUNIT_ASSERT(SplitDn("mail=a@x.com,dc=x,dc=com", &rdns).ok());
        CPPUNIT_ASSERT_EQUAL(size_t(3), rdns.size());
        CPPUNIT_ASSERT(rdns[0] == "mail=a@x.com");
        CPPUNIT_ASSERT(rdns[2] == "dc=com");
    }
    void testSplitEscapedComma() {
        std::vector<std::string_view> rdns;
        CPPUNIT_ASSERT(SplitDn("cn=a\\,b,o=x\\2Cy,dc=com", &rdns).ok());
        CPPUNIT_ASSERT_EQUAL(size_t(3), rdns.size());
        CPPUNIT_ASSERT(rdns[0] == "cn=a\\,b");
        CPPUNIT_ASSERT(rdns[1] == "o=x\\2Cy");
        // An escaped backslash before a separator: the comma splits.
        CPPUNIT_ASSERT(SplitDn("cn=a\\\\,dc=com", &rdns).ok());
        CPPUNIT_ASSERT_EQUAL(size_t(2), rdns.size());
    }
    void testSplitRejectsMalformed() {
        std::vector<std::string_view> rdns;
        CPPUNIT_ASSERT(SplitDn("a=b,,c=d", &rdns).IsInvalidArgument());
        CPPUNIT_ASSERT(SplitDn("a=b,", &rdns).IsInvalidArgument());
        CPPUNIT_ASSERT(SplitDn(",a=b", &rdns).IsInvalidArgument());
        CPPUNIT_ASSERT(SplitDn("a=b\\", &rdns).IsInvalidArgument());
    }
    void testKeyIsRootFirst() {
        CPPUNIT_ASSERT(Key("mail=a@x.com,dc=x,dc=com") ==
                       std::string("dc=com\0dc=x\0mail=a@x.com", 24));
        CPPUNIT_ASSERT(Key("dc=com") == "dc=com");
    }
    void testNullDn() {
        CPPUNIT_ASSERT(Key("").empty());
        CPPUNIT_ASSERT_EQUAL(size_t(0), DnKeyDepth(""));
        CPPUNIT_ASSERT(IsDescendantKey("", Key("dc=com")));
        CPPUNIT_ASSERT(!IsDescendantKey("", ""));
        CPPUNIT_ASSERT(DescendantPrefix("").empty());
    }
    void testParentAndDepth() {
        std::string k = Key("mail=a@x.com,dc=x,dc=com");
        CPPUNIT_ASSERT_EQUAL(size_t(3), DnKeyDepth(k));
        CPPUNIT_ASSERT(ParentDnKey(k) == Key("dc=x,dc=com"));
        CPPUNIT_ASSERT(ParentDnKey(Key("dc=com")).empty());
    }
    void testDescendants() {
        std::string zone = Key("dc=x,dc=com");
        CPPUNIT_ASSERT(IsDescendantKey(zone, Key("mail=a@x.com,dc=x,dc=com")));
        CPPUNIT_ASSERT(IsDescendantKey(zone, Key("cn=b,ou=p,dc=x,dc=com")));
        CPPUNIT_ASSERT(!IsDescendantKey(zone, zone));
        // "dc=xy" shares a byte prefix with "dc=x" but is not below it.
        CPPUNIT_ASSERT(!IsDescendantKey(zone, Key("dc=xy,dc=com")));
        CPPUNIT_ASSERT(!IsDescendantKey(zone, Key("dc=com")));
    }
    void testSubtreeSortsTogether() {
        std::string zone = Key("dc=x,dc=com");
        std::string inside = Key("mail=zzz,dc=x,dc=com");
        std::string sibling = Key("dc=x-y,dc=com");  // '-' sorts after NUL and \x01
        CPPUNIT_ASSERT(zone < inside);
        CPPUNIT_ASSERT(inside < SubtreeEnd(zone));
        CPPUNIT_ASSERT(SubtreeEnd(zone) <= sibling);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(DnKeyTest);

}  // namespace keydir
