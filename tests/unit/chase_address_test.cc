#include <cppunit/extensions/HelperMacros.h>

#include "chase/mail_address.h"

namespace keydir {

class ChaseAddressTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(ChaseAddressTest);
    CPPUNIT_TEST(testParseAndNormalize);
    CPPUNIT_TEST(testAtextLocalParts);
    CPPUNIT_TEST(testRejectsPrecisely);
    CPPUNIT_TEST(testLengthLimits);
    CPPUNIT_TEST(testZoneAndMemberDn);
    CPPUNIT_TEST(testMemberDnEscapes);
    CPPUNIT_TEST(testMailFilterEscapes);
    CPPUNIT_TEST(testAddressFromMemberDn);
    CPPUNIT_TEST(testAddressFromMemberDnRejects);
    CPPUNIT_TEST(testDomainFromZoneDn);
    CPPUNIT_TEST_SUITE_END();

    static MailAddress A(const std::string& text) {
        MailAddress a;
        Status s = MailAddress::Parse(text, &a);
        CPPUNIT_ASSERT_MESSAGE(text + ": " + s.ToString(), s.ok());
        return a;
    }
    static void Rejected(const std::string& text, const std::string& fragment) {
        MailAddress a;
        Status s = MailAddress::Parse(text, &a);
        CPPUNIT_ASSERT_MESSAGE(text + " was accepted", !s.ok());
        CPPUNIT_ASSERT(s.IsInvalidArgument());
        CPPUNIT_ASSERT_MESSAGE(s.message() + " lacks " + fragment,
                               s.message().find(fragment) != std::string::npos);
        CPPUNIT_ASSERT(a.normalized().empty());
    }

  public:
    void testParseAndNormalize() {
        MailAddress a = A("KConley@Tovaris.COM");
        CPPUNIT_ASSERT_EQUAL(std::string("KConley"), a.local_as_written());
        CPPUNIT_ASSERT_EQUAL(std::string("kconley"), a.local());
        CPPUNIT_ASSERT_EQUAL(std::string("tovaris.com"), a.domain());
        CPPUNIT_ASSERT_EQUAL(std::string("kconley@tovaris.com"), a.normalized());
        CPPUNIT_ASSERT(a == A("kconley@tovaris.com"));
        CPPUNIT_ASSERT_EQUAL(std::string("x@mail.xn--bcher-kva.example"),
                             A("x@mail.xn--bcher-kva.example").normalized());
        CPPUNIT_ASSERT_EQUAL(std::string("a.b@t.co.uk"), A("a.b@t.co.uk").normalized());
    }
    void testAtextLocalParts() {
        A("a+tag@x.com");
        A("!#$%&'*+-/=?^_`{|}~@x.com");
        A("first.last@x.com");
        A("x@a-b.c0m");
    }
    void testRejectsPrecisely() {
        Rejected("", "empty");
        Rejected("kconley", "no '@'");
        Rejected("@x.com", "empty local part");
        Rejected("a@", "empty domain");
        Rejected("a@b@x.com", "more than one '@'");
        Rejected("\"a b\"@x.com", "white space");
        Rejected("\"ab\"@x.com", "quoted local part");
        Rejected(".a@x.com", "starts with '.'");
        Rejected("a.@x.com", "ends with '.'");
        Rejected("a..b@x.com", "\"..\"");
        Rejected("a(b)@x.com", "character '('");
        Rejected("a,b@x.com", "character ','");
        Rejected("a\\b@x.com", "character '\\'");
        Rejected(" a@x.com", "white space");
        Rejected("a@x.com ", "white space");
        Rejected("a@x.com\n", "control character");
        Rejected("a\x7f@x.com", "control character");
        Rejected("j\xc3\xb6rg@x.com", "non-ASCII local part");
        Rejected(
            "a@b\xc3\xbc"
            "cher.example",
            "A-label");
        Rejected("a@[192.0.2.1]", "address literal");
        Rejected("a@localhost", "single label");
        Rejected("a@x.com.", "ends with '.'");
        Rejected("a@x..com", "empty label");
        Rejected("a@.x.com", "empty label");
        Rejected("a@-x.com", "starts or ends with '-'");
        Rejected("a@x-.com", "starts or ends with '-'");
        Rejected("a@x_y.com", "character '_'");
        Rejected("a@192.0.2.1", "all-numeric");
    }
    void testLengthLimits() {
        A(std::string(64, 'a') + "@x.com");
        Rejected(std::string(65, 'a') + "@x.com", "longer than 64");
        std::string label63(63, 'b');
        A("a@" + label63 + ".com");
        Rejected("a@" + std::string(64, 'b') + ".com", "longer than 63");
        std::string domain = label63 + "." + label63 + "." + label63 + "." + std::string(61, 'c');
        CPPUNIT_ASSERT_EQUAL(size_t(253), domain.size());
        std::string d;
        CPPUNIT_ASSERT(NormalizeMailDomain(domain, &d).ok());
        CPPUNIT_ASSERT(NormalizeMailDomain(domain + "c", &d).message().find("longer than 253") !=
                       std::string::npos);
        A("a@" + domain.substr(1));  // 254 bytes in all, the most RFC 5321 allows
        Rejected("a@" + domain, "longer than 254");
        Rejected(std::string(64, 'a') + "@x" + domain.substr(64), "longer than 254");
    }
    void testZoneAndMemberDn() {
        MailAddress a = A("kconley@Tovaris.com");
        CPPUNIT_ASSERT_EQUAL(std::string("dc=tovaris,dc=com"), a.ZoneDn());
        CPPUNIT_ASSERT_EQUAL(std::string("mail=kconley@tovaris.com,dc=tovaris,dc=com"),
                             a.MemberDn());
        CPPUNIT_ASSERT_EQUAL(a.MemberDn(), FormatDn(a.MemberDnParsed()));
        CPPUNIT_ASSERT_EQUAL(std::string("dc=a,dc=b,dc=co,dc=uk"), ZoneDnForDomain("a.b.co.uk"));
    }
    void testMemberDnEscapes() {
        // '+' separates AVAs and a leading '#' means hex: both escaped.
        CPPUNIT_ASSERT_EQUAL(std::string("mail=a\\+b@x.com,dc=x,dc=com"),
                             A("a+b@x.com").MemberDn());
        CPPUNIT_ASSERT_EQUAL(std::string("mail=\\#a@x.com,dc=x,dc=com"), A("#a@x.com").MemberDn());
        MailAddress back;
        CPPUNIT_ASSERT(AddressFromMemberDn(A("#a+b=c@x.com").MemberDn(), &back).ok());
        CPPUNIT_ASSERT_EQUAL(std::string("#a+b=c@x.com"), back.normalized());
    }
    void testMailFilterEscapes() {
        CPPUNIT_ASSERT_EQUAL(std::string("(mail=kconley@tovaris.com)"),
                             A("KConley@tovaris.com").MailFilter());
        CPPUNIT_ASSERT_EQUAL(std::string("(mail=a\\2ab@x.com)"), A("a*b@x.com").MailFilter());
    }
    void testAddressFromMemberDn() {
        MailAddress a;
        CPPUNIT_ASSERT(
            AddressFromMemberDn("MAIL=KConley@Tovaris.com, DC=Tovaris, DC=Com", &a).ok());
        CPPUNIT_ASSERT_EQUAL(std::string("kconley@tovaris.com"), a.normalized());
        CPPUNIT_ASSERT_EQUAL(std::string("KConley"), a.local_as_written());
    }
    void testAddressFromMemberDnRejects() {
        MailAddress a;
        Status s = AddressFromMemberDn("cn=x,dc=tovaris,dc=com", &a);
        CPPUNIT_ASSERT(s.message().find("first RDN must be mail=") != std::string::npos);
        s = AddressFromMemberDn("mail=a@tovaris.com,dc=other,dc=com", &a);
        CPPUNIT_ASSERT(s.message().find("must spell the address's domain") != std::string::npos);
        s = AddressFromMemberDn("mail=a@tovaris.com,ou=x,dc=tovaris,dc=com", &a);
        CPPUNIT_ASSERT(!s.ok());
        s = AddressFromMemberDn("mail=a@tovaris.com", &a);
        CPPUNIT_ASSERT(!s.ok());
        s = AddressFromMemberDn("mail=a..b@tovaris.com,dc=tovaris,dc=com", &a);
        CPPUNIT_ASSERT(s.message().find("names a bad address") != std::string::npos);
        s = AddressFromMemberDn("mail=a@tovaris.com+cn=x,dc=tovaris,dc=com", &a);
        CPPUNIT_ASSERT(!s.ok());
        s = AddressFromMemberDn("mail=a@x.com,dc=x,dc=com,", &a);
        CPPUNIT_ASSERT(!s.ok());
        CPPUNIT_ASSERT(a.normalized().empty());
    }
    void testDomainFromZoneDn() {
        std::string d;
        CPPUNIT_ASSERT(DomainFromZoneDn("DC=Tovaris,dc=COM", &d).ok());
        CPPUNIT_ASSERT_EQUAL(std::string("tovaris.com"), d);
        CPPUNIT_ASSERT(!DomainFromZoneDn("", &d).ok());
        CPPUNIT_ASSERT(!DomainFromZoneDn("o=x,dc=com", &d).ok());
        CPPUNIT_ASSERT(!DomainFromZoneDn("dc=com", &d).ok());  // a key space, not a zone
        CPPUNIT_ASSERT(!DomainFromZoneDn("dc=a_b,dc=com", &d).ok());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ChaseAddressTest);

}  // namespace keydir
