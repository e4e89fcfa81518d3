#include <cppunit/extensions/HelperMacros.h>

#include "chase/dn.h"

namespace keydir {

class ChaseDnTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(ChaseDnTest);
    CPPUNIT_TEST(testParsePlain);
    CPPUNIT_TEST(testNullDn);
    CPPUNIT_TEST(testEscapes);
    CPPUNIT_TEST(testSpacesAroundSeparators);
    CPPUNIT_TEST(testMultiValuedRdn);
    CPPUNIT_TEST(testNumericOid);
    CPPUNIT_TEST(testRejects);
    CPPUNIT_TEST(testFormatEscapes);
    CPPUNIT_TEST(testFormatParseRoundTrip);
    CPPUNIT_TEST(testCanonicalValue);
    CPPUNIT_TEST(testCanonicalDnAgreesWithSlapdForms);
    CPPUNIT_TEST(testWithin);
    CPPUNIT_TEST_SUITE_END();

    static Dn P(const std::string& text) {
        Dn dn;
        Status s = ParseDn(text, &dn);
        CPPUNIT_ASSERT_MESSAGE(text + ": " + s.ToString(), s.ok());
        return dn;
    }
    static std::string Canon(const std::string& text) {
        std::string out;
        Status s = CanonicalDnString(text, &out);
        CPPUNIT_ASSERT_MESSAGE(text + ": " + s.ToString(), s.ok());
        return out;
    }
    static void Rejected(const std::string& text, const std::string& fragment) {
        Dn dn;
        Status s = ParseDn(text, &dn);
        CPPUNIT_ASSERT_MESSAGE(text + " was accepted", !s.ok());
        CPPUNIT_ASSERT(s.IsInvalidArgument());
        CPPUNIT_ASSERT_MESSAGE(s.message() + " lacks " + fragment,
                               s.message().find(fragment) != std::string::npos);
        CPPUNIT_ASSERT(dn.rdns.empty());
    }

  public:
    void testParsePlain() {
        Dn dn = P("mail=kconley@tovaris.com,dc=tovaris,dc=com");
        CPPUNIT_ASSERT_EQUAL(size_t(3), dn.rdns.size());
        CPPUNIT_ASSERT_EQUAL(std::string("mail"), dn.rdns[0][0].type);
        CPPUNIT_ASSERT_EQUAL(std::string("kconley@tovaris.com"), dn.rdns[0][0].value);
        CPPUNIT_ASSERT_EQUAL(std::string("com"), dn.rdns[2][0].value);
    }
    void testNullDn() {
        CPPUNIT_ASSERT(P("").rdns.empty());
        CPPUNIT_ASSERT(P("   ").rdns.empty());
        CPPUNIT_ASSERT_EQUAL(std::string(""), FormatDn(Dn()));
    }
    void testEscapes() {
        Dn dn = P("cn=a\\,b\\2Cc\\+d\\\\e\\3d,dc=x");
        CPPUNIT_ASSERT_EQUAL(std::string("a,b,c+d\\e="), dn.rdns[0][0].value);
        // escaped leading and trailing spaces are kept, unescaped ones are not
        dn = P("cn=\\ lead  sp\\ ,dc=x");
        CPPUNIT_ASSERT_EQUAL(std::string(" lead  sp "), dn.rdns[0][0].value);
        dn = P("cn=x   ,dc=y");
        CPPUNIT_ASSERT_EQUAL(std::string("x"), dn.rdns[0][0].value);
        dn = P("cn=caf\\c3\\a9,dc=x");
        CPPUNIT_ASSERT_EQUAL(std::string("caf\xc3\xa9"), dn.rdns[0][0].value);
        dn = P("cn=,dc=x");  // an empty value is allowed
        CPPUNIT_ASSERT_EQUAL(std::string(""), dn.rdns[0][0].value);
    }
    void testSpacesAroundSeparators() {
        Dn dn = P("CN = Foo , DC=x");
        CPPUNIT_ASSERT_EQUAL(std::string("CN"), dn.rdns[0][0].type);
        CPPUNIT_ASSERT_EQUAL(std::string("Foo"), dn.rdns[0][0].value);
        CPPUNIT_ASSERT_EQUAL(std::string("DC"), dn.rdns[1][0].type);
    }
    void testMultiValuedRdn() {
        Dn dn = P("sn=B+cn=A,dc=x");
        CPPUNIT_ASSERT_EQUAL(size_t(2), dn.rdns[0].size());
        CPPUNIT_ASSERT_EQUAL(std::string("sn=B+cn=A,dc=x"), FormatDn(dn));  // order as written
        CPPUNIT_ASSERT_EQUAL(std::string("cn=a+sn=b,dc=x"), FormatDn(CanonicalDn(dn)));
        CPPUNIT_ASSERT_EQUAL(std::string("cn=a+sn=b,dc=x"), Canon("sn=B+cn=A,dc=x"));
        CPPUNIT_ASSERT_EQUAL(Canon("cn=A+sn=B,dc=x"), Canon("SN=b + CN=a,DC=X"));
    }
    void testNumericOid() {
        Dn dn = P("2.5.4.3=Foo,dc=x");
        CPPUNIT_ASSERT_EQUAL(std::string("2.5.4.3"), dn.rdns[0][0].type);
        Rejected("2=Foo", "not an OID");
        Rejected("2.05.4=Foo", "leading zero");
        Rejected("2..4=Foo", "empty arc");
    }
    void testRejects() {
        Rejected("cn=#04024869,dc=x", "hex-encoded");
        Rejected("cn=\"Quoted\",dc=x", "quoted");
        Rejected("cn=a;dc=x", "';'");
        Rejected("cn=a,,dc=x", "no attribute type");
        Rejected("cn=a,", "ends where an attribute type");
        Rejected("cn", "lacks '='");
        Rejected("=a", "no attribute type");
        Rejected("cn=a\\", "lone '\\'");
        Rejected("cn=a\\4", "one hex digit");
        Rejected("cn=a\\q", "needs no escape");
        Rejected("cn=a<b", "unescaped special");
        Rejected("cn=a>b", "unescaped special");
        Rejected(std::string("cn=a\0b", 6), "NUL");
        Rejected("_x=a", "no attribute type");
        Rejected(std::string(9000, 'a'), "longer than 8192");
        std::string deep;
        for (int i = 0; i < 129; ++i)
            deep += (i ? ",dc=a" : "dc=a");
        Rejected(deep, "more than 128 RDNs");
    }
    void testFormatEscapes() {
        Dn dn;
        dn.rdns.push_back({DnAva{"cn", "#a,b+c\"d;e<f>g\\h "}});
        dn.rdns.push_back({DnAva{"cn", " x\x01\x7f"}});
        CPPUNIT_ASSERT_EQUAL(
            std::string("cn=\\#a\\,b\\+c\\\"d\\;e\\<f\\>g\\\\h\\ ,cn=\\ x\\01\\7F"), FormatDn(dn));
    }
    void testFormatParseRoundTrip() {
        Dn dn;
        dn.rdns.push_back({DnAva{"mail", "a+b@x.com"}, DnAva{"cn", " spaced  "}});
        dn.rdns.push_back({DnAva{"dc", "x"}});
        Dn back = P(FormatDn(dn));
        CPPUNIT_ASSERT_EQUAL(FormatDn(dn), FormatDn(back));
        CPPUNIT_ASSERT_EQUAL(std::string(" spaced  "), back.rdns[0][1].value);
    }
    void testCanonicalValue() {
        CPPUNIT_ASSERT_EQUAL(std::string("a b"), CanonicalValue("  A   B  "));
        CPPUNIT_ASSERT_EQUAL(std::string(""), CanonicalValue("    "));
        CPPUNIT_ASSERT_EQUAL(std::string("caf\xc3\x89"), CanonicalValue("CAF\xc3\x89"));
        CPPUNIT_ASSERT_EQUAL(std::string("a\tb"), CanonicalValue("a\tB"));  // only ' ' is space
    }
    void testCanonicalDnAgreesWithSlapdForms() {
        // What a client sends, slapd's pretty form and its normalised form
        // of the same DN (as slapd 2.5.13 logs them) meet in one key.
        std::string key = Canon("mail=KConley@Tovaris.com,DC=Tovaris, dc=COM");
        CPPUNIT_ASSERT_EQUAL(std::string("mail=kconley@tovaris.com,dc=tovaris,dc=com"), key);
        CPPUNIT_ASSERT_EQUAL(key, Canon("mail=KConley@Tovaris.com,dc=Tovaris,dc=com"));
        CPPUNIT_ASSERT_EQUAL(key, Canon("mail=kconley@tovaris.com,dc=tovaris,dc=com"));
        CPPUNIT_ASSERT_EQUAL(Canon("cn=\\20lead  sp\\20,dc=x"), Canon("cn=lead sp,dc=x"));
        CPPUNIT_ASSERT_EQUAL(Canon("mail=K\\2CConley@x.com,dc=x,dc=com"),
                             Canon("mail=k\\,conley@x.com,dc=x,dc=com"));
    }
    void testWithin() {
        Dn member = CanonicalDn(P("mail=a@t.com,dc=t,dc=com"));
        CPPUNIT_ASSERT(DnIsWithin(member, member));
        CPPUNIT_ASSERT(DnIsWithin(member, CanonicalDn(P("DC=T,dc=com"))));
        CPPUNIT_ASSERT(DnIsWithin(member, CanonicalDn(P("dc=com"))));
        CPPUNIT_ASSERT(DnIsWithin(member, Dn()));
        CPPUNIT_ASSERT(!DnIsWithin(member, CanonicalDn(P("dc=x,dc=com"))));
        CPPUNIT_ASSERT(!DnIsWithin(CanonicalDn(P("dc=com")), member));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ChaseDnTest);

}  // namespace keydir
