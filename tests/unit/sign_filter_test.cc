#include <cppunit/extensions/HelperMacros.h>

#include "sign/ldap_filter.h"
#include "sign_test_util.h"

namespace keydir {

class SignFilterTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(SignFilterTest);
    CPPUNIT_TEST(testParseKinds);
    CPPUNIT_TEST(testSubstrings);
    CPPUNIT_TEST(testExtensible);
    CPPUNIT_TEST(testEscapes);
    CPPUNIT_TEST(testWhiteSpace);
    CPPUNIT_TEST(testFormatRoundTrip);
    CPPUNIT_TEST(testAgreesWithSlapdFilterStrings);
    CPPUNIT_TEST(testOrderOfAndOrMembers);
    CPPUNIT_TEST(testOptionsAndCase);
    CPPUNIT_TEST(testDistinguishesDifferentFilters);
    CPPUNIT_TEST(testKnownBytes);
    CPPUNIT_TEST(testRejects);
    CPPUNIT_TEST(testDepthAndLength);
    CPPUNIT_TEST_SUITE_END();

    static FilterNode P(const std::string& text) {
        FilterNode f;
        Status s = ParseFilter(text, &f);
        CPPUNIT_ASSERT_MESSAGE(text + ": " + s.ToString(), s.ok());
        return f;
    }
    static std::string C(const std::string& text) {
        std::string c;
        Status s = CanonicalFilter(text, &c);
        CPPUNIT_ASSERT_MESSAGE(text + ": " + s.ToString(), s.ok());
        return c;
    }
    static void Same(const std::string& a, const std::string& b) {
        CPPUNIT_ASSERT_MESSAGE(a + " and " + b + " differ", C(a) == C(b));
    }
    static void Differ(const std::string& a, const std::string& b) {
        CPPUNIT_ASSERT_MESSAGE(a + " and " + b + " are the same", C(a) != C(b));
    }
    static void Rejected(const std::string& text, const std::string& fragment) {
        FilterNode f;
        Status s = ParseFilter(text, &f);
        CPPUNIT_ASSERT_MESSAGE(text + " was accepted", !s.ok());
        CPPUNIT_ASSERT_MESSAGE(s.message() + " lacks " + fragment,
                               s.message().find(fragment) != std::string::npos);
    }

  public:
    void testParseKinds() {
        FilterNode f = P("(&(mail=a@x.com)(|(objectClass=*)(!(cn~=b)))(n>=1)(n<=2))");
        CPPUNIT_ASSERT(f.kind == FilterNode::Kind::kAnd);
        CPPUNIT_ASSERT_EQUAL(size_t(4), f.children.size());
        CPPUNIT_ASSERT(f.children[0].kind == FilterNode::Kind::kEquality);
        CPPUNIT_ASSERT_EQUAL(std::string("mail"), f.children[0].attribute);
        CPPUNIT_ASSERT_EQUAL(std::string("a@x.com"), f.children[0].value);
        const FilterNode& o = f.children[1];
        CPPUNIT_ASSERT(o.kind == FilterNode::Kind::kOr);
        CPPUNIT_ASSERT(o.children[0].kind == FilterNode::Kind::kPresent);
        CPPUNIT_ASSERT(o.children[1].kind == FilterNode::Kind::kNot);
        CPPUNIT_ASSERT(o.children[1].children[0].kind == FilterNode::Kind::kApprox);
        CPPUNIT_ASSERT(f.children[2].kind == FilterNode::Kind::kGreaterOrEqual);
        CPPUNIT_ASSERT(f.children[3].kind == FilterNode::Kind::kLessOrEqual);
        CPPUNIT_ASSERT(P("(&)").children.empty());
        CPPUNIT_ASSERT(P("(|)").kind == FilterNode::Kind::kOr);
        CPPUNIT_ASSERT_EQUAL(std::string(""), P("(cn=)").value);
        CPPUNIT_ASSERT_EQUAL(std::string("2.5.4.3"), P("(2.5.4.3=x)").attribute);
    }
    void testSubstrings() {
        FilterNode f = P("(mail=ab*c d*ef)");
        CPPUNIT_ASSERT(f.kind == FilterNode::Kind::kSubstrings);
        CPPUNIT_ASSERT_EQUAL(std::string("ab"), *f.initial);
        CPPUNIT_ASSERT_EQUAL(size_t(1), f.any.size());
        CPPUNIT_ASSERT_EQUAL(std::string("c d"), f.any[0]);
        CPPUNIT_ASSERT_EQUAL(std::string("ef"), *f.final_);
        f = P("(mail=*@tovaris.com)");
        CPPUNIT_ASSERT(!f.initial);
        CPPUNIT_ASSERT(f.any.empty());
        CPPUNIT_ASSERT_EQUAL(std::string("@tovaris.com"), *f.final_);
        f = P("(cn=*a*b*)");
        CPPUNIT_ASSERT(!f.initial && !f.final_);
        CPPUNIT_ASSERT_EQUAL(size_t(2), f.any.size());
    }
    void testExtensible() {
        FilterNode f = P("(cn:dn:caseExactMatch:=Foo)");
        CPPUNIT_ASSERT(f.kind == FilterNode::Kind::kExtensible);
        CPPUNIT_ASSERT_EQUAL(std::string("cn"), f.attribute);
        CPPUNIT_ASSERT(f.dn_attributes);
        CPPUNIT_ASSERT_EQUAL(std::string("caseExactMatch"), f.matching_rule);
        CPPUNIT_ASSERT_EQUAL(std::string("Foo"), f.value);
        f = P("(:caseIgnoreMatch:=X)");
        CPPUNIT_ASSERT(f.attribute.empty());
        CPPUNIT_ASSERT(!f.dn_attributes);
        f = P("(cn:=x)");
        CPPUNIT_ASSERT(f.matching_rule.empty());
        f = P("(:DN:2.5.13.5:=x)");
        CPPUNIT_ASSERT(f.dn_attributes);
        CPPUNIT_ASSERT_EQUAL(std::string("2.5.13.5"), f.matching_rule);
        f = P("(cn:dnQualifierMatch:=x)");  // a rule that starts with "dn"
        CPPUNIT_ASSERT(!f.dn_attributes);
        Rejected("(:=x)", "neither attribute nor rule");
        Rejected("(:dn:=x)", "neither attribute nor rule");
        Rejected("(cn:r1:r2:=x)", "text after the matching rule");
        Rejected("(cn:dn)", "lacks ':='");
        Rejected("(cn:=a*)", "unescaped '*'");
    }
    void testEscapes() {
        CPPUNIT_ASSERT_EQUAL(std::string("a*b"), P("(mail=a\\2ab)").value);
        CPPUNIT_ASSERT_EQUAL(std::string("(x)\\"), P("(cn=\\28x\\29\\5c)").value);
        CPPUNIT_ASSERT_EQUAL(std::string("a\0b", 3), P("(description=a\\00b)").value);
        CPPUNIT_ASSERT_EQUAL(std::string("\xc3\xa4"), P("(cn=\\C3\\A4)").value);
        CPPUNIT_ASSERT_EQUAL(std::string("\xc3\xa4"), P("(cn=\xc3\xa4)").value);  // raw UTF-8
        Same("(cn=\\C3\\A4)", "(cn=\xc3\xa4)");
        Same("(mail=a\\2ab)", "(mail=a\\2Ab)");
    }
    void testWhiteSpace() {
        Same(" (& (a=1) (b=2) ) ", "(&(a=1)(b=2))");
        Same("(! (a=1))", "(!(a=1))");
        CPPUNIT_ASSERT_EQUAL(std::string(" x "), P("(cn= x )").value);  // values keep theirs
    }
    void testFormatRoundTrip() {
        for (const char* text :
             {"(&(mail=a@x.com)(|(objectClass=*)(!(cn~=b))))", "(mail=ab*c d*ef)", "(cn=*a*b*)",
              "(cn:dn:caseExactMatch:=Foo)", "(:caseIgnoreMatch:=X)", "(cn=\\28x\\29\\5C\\2A\\00)",
              "(cn=\\C3\\A4)", "(&)", "(|)", "(n>=1)", "(n<=2)", "(cn;lang-de=x)"}) {
            std::string again = FormatFilter(P(text));
            CPPUNIT_ASSERT_EQUAL(std::string(text), again);
        }
        CPPUNIT_ASSERT_EQUAL(std::string("(cn=\\C3\\A4)"), FormatFilter(P("(cn=\xc3\xa4)")));
    }
    void testAgreesWithSlapdFilterStrings() {
        // Left: what a client sent; right: what slapd 2.5.13's filter2bv()
        // made of it (logged by slapd -d 256 on this machine).
        Same("(mail=KConley@Tovaris.COM)", "(mail=kconley@tovaris.com)");
        Same("(MAIL=  a   b  )", "(mail=a b)");
        Same("(objectclass=Person)", "(objectClass=person)");
        Same("(objectclass=*)", "(objectClass=*)");
        Same("(&(mail=a)(|(mail=b)(cn=X Y)))", "(&(mail=a)(|(mail=b)(cn=x y)))");
        Same("(mail=a\\2ab)", "(mail=a\\2Ab)");
        Same("(mail=*@Tovaris.com)", "(mail=*@tovaris.com)");
        Same("(mail=  ab *  c d  * ef  )", "(mail=ab*c d*ef)");
        Same("(cn:dn:caseExactMatch:=Foo)", "(cn:dn:caseExactMatch:=Foo)");
        Same("(:caseIgnoreMatch:=X)", "(:caseIgnoreMatch:=x)");
        Same("(&)", "(?=true)");
        Same("(|)", "(?=false)");
        Same("(cn~=Foo)", "(cn~=foo)");
        Same("(keydirFingerprint=ABCDEF)", "(keydirFingerprint=abcdef)");
        Same("(cn;lang-de=x)", "(cn;lang-de=x)");
        Same("(description=\\00x)", "(description=\\00x)");
        Same("(cn=caf\\c3\\a9 \\c3\\a9)", "(cn=caf\\C3\\A9 \\C3\\A9)");
        // Known disagreements (doc/signing.md §4.3): fail closed.
        Differ("(rfc822Mailbox=x)", "(mail=x)");
        Differ("(2.5.4.3=Foo)", "(cn=foo)");
        Differ("(!(cn=\xc3\x84))", "(!(cn=\\C3\\A4))");  // non-ASCII case
    }
    void testOrderOfAndOrMembers() {
        Same("(&(a=1)(b=2)(c=3))", "(&(c=3)(a=1)(b=2))");
        Same("(|(mail=a)(mail=b))", "(|(mail=B)(mail=A))");
        Same("(&(|(a=1)(b=2))(c=3))", "(&(c=3)(|(b=2)(a=1)))");
        Differ("(&(a=1)(a=1))", "(&(a=1))");  // duplicates are kept
        Differ("(&(a=1))", "(a=1)");          // so is a one-member list
    }
    void testOptionsAndCase() {
        Same("(CN;Lang-DE=x)", "(cn;lang-de=x)");
        Same("(cn;b;a=x)", "(cn;a;b=x)");
        CPPUNIT_ASSERT_EQUAL(std::string("usercertificate;binary"),
                             CanonicalAttributeDescription("userCertificate;BINARY"));
        CPPUNIT_ASSERT_EQUAL(std::string("cn;a;b;c"), CanonicalAttributeDescription("CN;c;A;b"));
    }
    void testDistinguishesDifferentFilters() {
        Differ("(mail=a*)", "(mail=a\\2a)");
        Differ("(mail=*)", "(mail=\\2a)");
        Differ("(cn>=a)", "(cn<=a)");
        Differ("(cn=a)", "(cn~=a)");
        Differ("(cn=a)", "(sn=a)");
        Differ("(cn=a)", "(!(cn=a))");
        Differ("(&(a=1)(b=2))", "(|(a=1)(b=2))");
        Differ("(cn=a*b)", "(cn=a*b*)");
        Differ("(cn=*a*b)", "(cn=*a*b*)");
        Differ("(cn=a*)", "(cn=*a)");
        Differ("(cn:dn:=a)", "(cn:=a)");
        Differ("(cn:r:=a)", "(cn:=a)");
        Differ("(cn=a b)", "(cn=ab)");
        Differ("(cn=a\\00)", "(cn=a)");
        // nesting is kept: these two lists are not one
        Differ("(&(&(a=1))(b=2))", "(&(a=1)(b=2))");
    }
    void testKnownBytes() {
        using testing::Hex;
        CPPUNIT_ASSERT_EQUAL(std::string("a3"
                                         "00000004"
                                         "6d61696c"
                                         "00000001"
                                         "61"),
                             Hex(C("(MAIL=A)")));
        CPPUNIT_ASSERT_EQUAL(std::string("87"
                                         "0000000b"
                                         "6f626a656374636c617373"),
                             Hex(C("(objectClass=*)")));
        CPPUNIT_ASSERT_EQUAL(std::string("a0"
                                         "00000000"),
                             Hex(C("(&)")));
        CPPUNIT_ASSERT_EQUAL(std::string("a4"
                                         "00000004"
                                         "6d61696c"
                                         "01"
                                         "00000001"
                                         "61"
                                         "00000001"
                                         "00000001"
                                         "62"
                                         "00"),
                             Hex(C("(mail=a*b*)")));
        // empty components after canonicalisation are dropped
        Same("(mail=  *b*  )", "(mail=*b*)");
    }
    void testRejects() {
        Rejected("", "is empty");
        Rejected("mail=x", "enclosed in parentheses");
        Rejected("(mail=x", "lacks ')'");
        Rejected("(mail=x))", "text after the closing");
        Rejected("(mail=a(b)", "unescaped '('");
        Rejected("(mail=a\\4)", "two hex digits");
        Rejected("(mail=a\\zz)", "two hex digits");
        Rejected("(mail=a\\)", "two hex digits");
        Rejected(std::string("(mail=a\0b)", 10), "NUL");
        Rejected("(mail=a**b)", "empty substring");
        Rejected("(cn~=a*)", "unescaped '*'");
        Rejected("(cn>=*)", "unescaped '*'");
        Rejected("(?foo=bar)", "could not evaluate");
        Rejected("(?=undefined)", "could not evaluate");
        Rejected("(?userCertificate;binary=x)", "could not evaluate");
        Rejected("(=x)", "lacks an attribute type");
        Rejected("(cn)", "lacks '='");
        Rejected("(cn!x)", "lacks '='");
        Rejected("(cn;=x)", "empty attribute option");
        Rejected("(_cn=x)", "lacks an attribute type");
        Rejected("(2..5=x)", "empty arc");
        Rejected("(02.5=x)", "leading zero");
        Rejected("(&(a=1)b=2)", "does not start with '('");
        Rejected("(!)", "lacks '('");
        Rejected("(!(a=1)(b=2))", "lacks ')'");
    }
    void testDepthAndLength() {
        std::string deep;
        for (int i = 0; i < 63; ++i)
            deep += "(!";
        deep += "(a=1)";
        for (int i = 0; i < 63; ++i)
            deep += ")";
        P(deep);  // 64 levels
        Rejected("(!" + deep + ")", "nested more than 64 deep");
        std::string big = "(cn=" + std::string(16380, 'x') + ")";
        Rejected(big, "longer than 16384");
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(SignFilterTest);

}  // namespace keydir
