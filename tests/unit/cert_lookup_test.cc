// keydir-lookup's pieces that need no server: which referral URLs it
// follows, which continuation references it skips, and its JSON.
#include <cppunit/extensions/HelperMacros.h>

#include "lookup/output.h"
#include "lookup/resolver.h"

namespace keydir {

class CertLookupTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(CertLookupTest);
    CPPUNIT_TEST(testLdapUrlsFollowed);
    CPPUNIT_TEST(testOtherUrlsRefused);
    CPPUNIT_TEST(testOtherMembersReferencesSkipped);
    CPPUNIT_TEST(testJson);
    CPPUNIT_TEST(testBadAddressIsAnError);
    CPPUNIT_TEST_SUITE_END();

  public:
    void testLdapUrlsFollowed() {
        SearchTarget t;
        CPPUNIT_ASSERT(ParseReferralUrl("ldap://Keys.Example.COM/dc=x,dc=com", "dc=y", &t).ok());
        CPPUNIT_ASSERT_EQUAL(std::string("ldap://keys.example.com:389"), t.server);
        CPPUNIT_ASSERT_EQUAL(std::string("dc=x,dc=com"), t.base);
        CPPUNIT_ASSERT(ParseReferralUrl("ldaps://127.0.0.1:1636", "dc=y", &t).ok());
        CPPUNIT_ASSERT_EQUAL(std::string("ldaps://127.0.0.1:1636"), t.server);
        CPPUNIT_ASSERT_EQUAL(std::string("dc=y"), t.base);  // no DN: the current base
        CPPUNIT_ASSERT(ParseReferralUrl("ldaps://h", "", &t).ok());
        CPPUNIT_ASSERT_EQUAL(std::string("ldaps://h:636"), t.server);
        CPPUNIT_ASSERT(ParseReferralUrl("ldap://h:1/mail=a%40x.com,dc=x,dc=com??sub", "", &t).ok());
        CPPUNIT_ASSERT_EQUAL(std::string("mail=a@x.com,dc=x,dc=com"), t.base);
    }

    void testOtherUrlsRefused() {
        SearchTarget t;
        for (const char* url : {"ldapi:///dc=x", "http://h/", "file:///etc/passwd", "cldap://h/",
                                "ldap:///dc=x", "not a url", ""}) {
            Status s = ParseReferralUrl(url, "dc=x", &t);
            CPPUNIT_ASSERT_MESSAGE(url, s.IsInvalidArgument());
            CPPUNIT_ASSERT_MESSAGE(s.message(), s.message().find("refused") != std::string::npos);
        }
    }

    void testOtherMembersReferencesSkipped() {
        CPPUNIT_ASSERT(NamesOtherMember("mail=b@x.com,dc=x,dc=com", "a@x.com"));
        CPPUNIT_ASSERT(!NamesOtherMember("mail=a@x.com,dc=x,dc=com", "a@x.com"));
        CPPUNIT_ASSERT(!NamesOtherMember("MAIL=A@X.COM,dc=x,dc=com", "a@x.com"));
        CPPUNIT_ASSERT(!NamesOtherMember("dc=x,dc=com", "a@x.com"));
        CPPUNIT_ASSERT(!NamesOtherMember("", "a@x.com"));
        CPPUNIT_ASSERT(!NamesOtherMember("not a dn", "a@x.com"));
    }

    void testJson() {
        CPPUNIT_ASSERT_EQUAL(std::string("\"a\\\"b\\\\c\\nd\\u0001\""),
                             JsonString(std::string("a\"b\\c\nd\x01")));
        LookupResult r;
        r.rejected.push_back({"mail=a@x.com,dc=x,dc=com", "ldap://h:389", "the member is revoked"});
        std::string j = JsonOutput("a@x.com", r, Status::OK());
        CPPUNIT_ASSERT_EQUAL(
            std::string("{\"address\":\"a@x.com\",\"found\":false,\"certificates\":[],"
                        "\"rejected\":[{\"dn\":\"mail=a@x.com,dc=x,dc=com\",\"server\":"
                        "\"ldap://h:389\",\"reason\":\"the member is revoked\"}],"
                        "\"warnings\":[]}\n"),
            j);
        j = JsonOutput("a@x.com", LookupResult(), Status::InvalidArgument("loop"));
        CPPUNIT_ASSERT(j.find(",\"error\":\"loop\"}") != std::string::npos);
    }

    void testBadAddressIsAnError() {
        LookupResult r;
        Status s = Lookup("not an address", LookupOptions(), &r);
        CPPUNIT_ASSERT(s.IsInvalidArgument());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(CertLookupTest);

}  // namespace keydir
