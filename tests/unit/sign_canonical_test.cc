#include <cppunit/extensions/HelperMacros.h>

#include <algorithm>

#include "sign/canonical.h"
#include "sign_test_util.h"

namespace keydir {

using testing::Hex;

class SignCanonicalTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(SignCanonicalTest);
    CPPUNIT_TEST(testDnBytes);
    CPPUNIT_TEST(testRequestAgreesAcrossForms);
    CPPUNIT_TEST(testRequestCoversEveryField);
    CPPUNIT_TEST(testRequestRejects);
    CPPUNIT_TEST(testEntryOrderAndCase);
    CPPUNIT_TEST(testEntryValuesExact);
    CPPUNIT_TEST(testEntryRejects);
    CPPUNIT_TEST(testUrls);
    CPPUNIT_TEST_SUITE_END();

    static SearchRequestParts Request() {
        SearchRequestParts r;
        r.base_dn = "mail=kconley@tovaris.com,dc=tovaris,dc=com";
        r.scope = 0;
        r.deref = 0;
        r.size_limit = 2;
        r.time_limit = 10;
        r.filter = "(mail=kconley@tovaris.com)";
        r.attributes = {"userCertificate;binary", "mail"};
        return r;
    }
    static std::string Req(const SearchRequestParts& r) {
        std::string out;
        Status s = CanonicalRequest(r, &out);
        CPPUNIT_ASSERT_MESSAGE(s.ToString(), s.ok());
        return out;
    }
    static LdapEntry Entry() {
        LdapEntry e;
        e.dn = "mail=kconley@tovaris.com,dc=tovaris,dc=com";
        e.attributes = {{"objectClass", {"top", "keydirMember"}},
                        {"mail", {"kconley@tovaris.com"}},
                        {"userCertificate;binary", {std::string("\x30\x82\x01\x00\xff", 5)}}};
        return e;
    }
    static std::string Ent(const LdapEntry& e) {
        std::string out;
        Status s = CanonicalEntry(e, &out);
        CPPUNIT_ASSERT_MESSAGE(s.ToString(), s.ok());
        return out;
    }

  public:
    void testDnBytes() {
        std::string b;
        CPPUNIT_ASSERT(CanonicalDnBytes("DC=Com", &b).ok());
        CPPUNIT_ASSERT_EQUAL(std::string("00000001"
                                         "00000001"
                                         "00000002"
                                         "6463"
                                         "00000003"
                                         "636f6d"),
                             Hex(b));
        CPPUNIT_ASSERT(CanonicalDnBytes("", &b).ok());
        CPPUNIT_ASSERT_EQUAL(std::string("00000000"), Hex(b));
        std::string a;
        CPPUNIT_ASSERT(CanonicalDnBytes("sn=B+cn=A,dc=x", &a).ok());
        CPPUNIT_ASSERT(CanonicalDnBytes("CN=a + SN=b , DC=X", &b).ok());
        CPPUNIT_ASSERT_EQUAL(Hex(a), Hex(b));
        CPPUNIT_ASSERT(!CanonicalDnBytes("not a dn", &b).ok());
    }
    void testRequestAgreesAcrossForms() {
        // what the asking side sends ...
        SearchRequestParts sent = Request();
        sent.base_dn = "mail=KConley@Tovaris.com, DC=Tovaris, DC=Com";
        sent.filter = "(MAIL=KConley@Tovaris.COM)";
        sent.attributes = {"userCertificate;binary", "MAIL"};
        // ... and what slapd made of it (o_req_dn, ors_filterstr, an_name)
        SearchRequestParts seen = Request();
        seen.base_dn = "mail=KConley@Tovaris.com,dc=Tovaris,dc=Com";
        seen.filter = "(mail=kconley@tovaris.com)";
        seen.attributes = {"MAIL", "userCertificate;binary"};
        CPPUNIT_ASSERT_EQUAL(Hex(Req(sent)), Hex(Req(seen)));
    }
    void testRequestCoversEveryField() {
        std::string base = Req(Request());
        SearchRequestParts r = Request();
        r.base_dn = "mail=other@tovaris.com,dc=tovaris,dc=com";
        CPPUNIT_ASSERT(Req(r) != base);
        r = Request();
        r.scope = 2;
        CPPUNIT_ASSERT(Req(r) != base);
        r = Request();
        r.deref = 3;
        CPPUNIT_ASSERT(Req(r) != base);
        r = Request();
        r.size_limit = 0;
        CPPUNIT_ASSERT(Req(r) != base);
        r = Request();
        r.time_limit = 11;
        CPPUNIT_ASSERT(Req(r) != base);
        r = Request();
        r.types_only = true;
        CPPUNIT_ASSERT(Req(r) != base);
        r = Request();
        r.manage_dsa_it = true;
        CPPUNIT_ASSERT(Req(r) != base);
        r = Request();
        r.filter = "(mail=*)";
        CPPUNIT_ASSERT(Req(r) != base);
        r = Request();
        r.attributes.push_back("cn");
        CPPUNIT_ASSERT(Req(r) != base);
        r = Request();
        r.attributes = {"mail"};
        CPPUNIT_ASSERT(Req(r) != base);
        // a value moved from the base into the filter is not the same request
        SearchRequestParts a = Request(), b = Request();
        a.base_dn = "dc=ab,dc=c";
        b.base_dn = "dc=a,dc=c";
        CPPUNIT_ASSERT(Req(a) != Req(b));
    }
    void testRequestRejects() {
        std::string out;
        SearchRequestParts r = Request();
        r.scope = 4;
        CPPUNIT_ASSERT(CanonicalRequest(r, &out).message().find("scope 4") != std::string::npos);
        r = Request();
        r.deref = 4;
        CPPUNIT_ASSERT(!CanonicalRequest(r, &out).ok());
        r = Request();
        r.base_dn = "cn=#00";
        CPPUNIT_ASSERT(CanonicalRequest(r, &out).message().find("search base") !=
                       std::string::npos);
        r = Request();
        r.filter = "(?foo=x)";
        CPPUNIT_ASSERT(!CanonicalRequest(r, &out).ok());
    }
    void testEntryOrderAndCase() {
        LdapEntry a = Entry();
        LdapEntry b = Entry();
        b.dn = "MAIL=KConley@Tovaris.com,DC=tovaris,DC=com";
        std::reverse(b.attributes.begin(), b.attributes.end());
        std::reverse(b.attributes.back().values.begin(), b.attributes.back().values.end());
        b.attributes[0].description = "USERCERTIFICATE;Binary";
        b.attributes[1].description = "MAIL";
        CPPUNIT_ASSERT_EQUAL(Hex(Ent(a)), Hex(Ent(b)));
    }
    void testEntryValuesExact() {
        std::string base = Ent(Entry());
        LdapEntry e = Entry();
        e.attributes[1].values[0] = "KConley@tovaris.com";  // value case matters
        CPPUNIT_ASSERT(Ent(e) != base);
        e = Entry();
        e.attributes[2].values[0][4] = '\xfe';
        CPPUNIT_ASSERT(Ent(e) != base);
        e = Entry();
        e.attributes[2].description = "userCertificate";
        CPPUNIT_ASSERT(Ent(e) != base);
        e = Entry();
        e.attributes.pop_back();
        CPPUNIT_ASSERT(Ent(e) != base);
        e = Entry();
        e.attributes[0].values.push_back("top");  // a duplicate value counts
        CPPUNIT_ASSERT(Ent(e) != base);
        e = Entry();
        e.attributes[0].values.clear();  // typesOnly
        CPPUNIT_ASSERT(Ent(e) != base);
        // the boundary between two values cannot move
        LdapEntry x = Entry(), y = Entry();
        x.attributes[0].values = {"ab", "c"};
        y.attributes[0].values = {"a", "bc"};
        CPPUNIT_ASSERT(Ent(x) != Ent(y));
    }
    void testEntryRejects() {
        std::string out;
        LdapEntry e = Entry();
        e.attributes.push_back({"Mail", {"x"}});
        CPPUNIT_ASSERT(CanonicalEntry(e, &out).message().find("the attribute mail twice") !=
                       std::string::npos);
        e = Entry();
        e.dn = "not a dn";
        CPPUNIT_ASSERT(CanonicalEntry(e, &out).message().find("entry DN") != std::string::npos);
    }
    void testUrls() {
        CPPUNIT_ASSERT_EQUAL(std::string("00000000"), Hex(CanonicalUrls({})));
        CPPUNIT_ASSERT_EQUAL(std::string("00000002"
                                         "00000001"
                                         "61"
                                         "00000001"
                                         "62"),
                             Hex(CanonicalUrls({"a", "b"})));
        CPPUNIT_ASSERT(CanonicalUrls({"a", "b"}) != CanonicalUrls({"b", "a"}));        // order kept
        CPPUNIT_ASSERT(CanonicalUrls({"ldap://H/"}) != CanonicalUrls({"ldap://h/"}));  // exact
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(SignCanonicalTest);

}  // namespace keydir
