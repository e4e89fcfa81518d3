#include <cppunit/extensions/HelperMacros.h>

#include "chase/ldap_url.h"

namespace keydir {

class ChaseUrlTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(ChaseUrlTest);
    CPPUNIT_TEST(testServerOnly);
    CPPUNIT_TEST(testDefaultsAndCase);
    CPPUNIT_TEST(testDnAndScope);
    CPPUNIT_TEST(testIpAddresses);
    CPPUNIT_TEST(testRefusedWithReason);
    CPPUNIT_TEST(testServerUrl);
    CPPUNIT_TEST(testToStringRoundTrip);
    CPPUNIT_TEST_SUITE_END();

    static LdapUrl U(const std::string& text) {
        LdapUrl u;
        Status s = ParseLdapUrl(text, &u);
        CPPUNIT_ASSERT_MESSAGE(text + ": " + s.ToString(), s.ok());
        return u;
    }
    static void Refused(const std::string& text, const std::string& fragment) {
        LdapUrl u;
        u.host = "unchanged";
        Status s = ParseLdapUrl(text, &u);
        CPPUNIT_ASSERT_MESSAGE(text + " was accepted", !s.ok());
        CPPUNIT_ASSERT_MESSAGE(s.message() + " lacks " + fragment,
                               s.message().find(fragment) != std::string::npos);
        CPPUNIT_ASSERT_EQUAL(std::string("unchanged"), u.host);
    }

  public:
    void testServerOnly() {
        LdapUrl u = U("ldap://127.0.0.1:3891");
        CPPUNIT_ASSERT(!u.tls);
        CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.1"), u.host);
        CPPUNIT_ASSERT_EQUAL(3891, u.port);
        CPPUNIT_ASSERT(!u.has_dn);
        CPPUNIT_ASSERT(!u.has_scope);
        CPPUNIT_ASSERT(!U("ldap://h.example.com/").has_dn);
        CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.1:3891"), u.ServerKey());
    }
    void testDefaultsAndCase() {
        CPPUNIT_ASSERT_EQUAL(389, U("ldap://Keys.Tovaris.COM").port);
        LdapUrl s = U("LDAPS://Keys.Tovaris.COM/");
        CPPUNIT_ASSERT(s.tls);
        CPPUNIT_ASSERT_EQUAL(636, s.port);
        CPPUNIT_ASSERT_EQUAL(std::string("keys.tovaris.com"), s.host);
        CPPUNIT_ASSERT_EQUAL(std::string("ldaps://keys.tovaris.com:636"), s.ServerUrl());
    }
    void testDnAndScope() {
        LdapUrl u = U("ldap://h:1/mail=kconley@tovaris.com,dc=tovaris,dc=com");
        CPPUNIT_ASSERT(u.has_dn);
        CPPUNIT_ASSERT_EQUAL(std::string("mail=kconley@tovaris.com,dc=tovaris,dc=com"), u.dn);
        u = U("ldap://h/cn=a%20b,dc=x??sub");
        CPPUNIT_ASSERT_EQUAL(std::string("cn=a b,dc=x"), u.dn);
        CPPUNIT_ASSERT(u.has_scope);
        CPPUNIT_ASSERT(u.scope == UrlScope::kSubtree);
        CPPUNIT_ASSERT(U("ldap://h/dc=x??BASE").scope == UrlScope::kBase);
        CPPUNIT_ASSERT(U("ldap://h/dc=x??one??").scope == UrlScope::kOneLevel);
        CPPUNIT_ASSERT(U("ldap://h/dc=x???").has_dn);
        // a DN escape as RFC 4514 writes it, then percent-encoded
        u = U("ldap://h/cn=a%5C2Cb,dc=x");
        CPPUNIT_ASSERT_EQUAL(std::string("cn=a\\2Cb,dc=x"), u.dn);
    }
    void testIpAddresses() {
        LdapUrl u = U("ldap://[::1]:3890/dc=x");
        CPPUNIT_ASSERT_EQUAL(std::string("::1"), u.host);
        CPPUNIT_ASSERT_EQUAL(std::string("[::1]:3890"), u.ServerKey());
        CPPUNIT_ASSERT_EQUAL(std::string("ldap://[::1]:3890"), u.ServerUrl());
        CPPUNIT_ASSERT_EQUAL(389, U("ldap://[2001:db8::1]").port);
        Refused("ldap://[::1", "without ']'");
        Refused("ldap://[zz::1]/", "bad IPv6");
        Refused("ldap://::1/", "without brackets");
        Refused("ldap://[::1]x/", "not a port");
    }
    void testRefusedWithReason() {
        Refused("", "empty");
        Refused("ldapi://%2fvar%2frun%2fslapd/", "ldapi");
        Refused("http://h/", "only ldap:// and ldaps://");
        Refused("cldap://h/", "only ldap:// and ldaps://");
        Refused("h:389", "no scheme");
        Refused("ldap:///dc=x", "names no server");
        Refused("ldap://:389/", "names no server");
        Refused("ldap://user@h/", "user information");
        Refused("ldap://h%2e/", "percent-encoded host");
        Refused("ldap://h:/", "no port");
        Refused("ldap://h:0/", "outside 1-65535");
        Refused("ldap://h:65536/", "outside 1-65535");
        Refused("ldap://h:123456/", "above 65535");
        Refused("ldap://h:3x/", "not a number");
        Refused("ldap://h?x", "'?' before");
        Refused("ldap://h/dc=x?cn", "requests attributes");
        Refused("ldap://h/dc=x??sub?(mail=*)", "has a filter");
        Refused("ldap://h/dc=x???\?!bindname=x", "extensions");
        Refused("ldap://h/dc=x??\?(a=b)?x?y", "more than four");
        Refused("ldap://h/dc=x??deep", "unknown scope");
        Refused("ldap://h/dc=x#frag", "fragment");
        Refused("ldap://h /dc=x", "white space");
        Refused("ldap://h/dc=\xc3\xa9", "non-ASCII");
        Refused("ldap://h/dc=x%zz", "two hex digits");
        Refused("ldap://h/dc=x%2", "two hex digits");
        Refused("ldap://h/cn=a%3Bb", "bad DN");  // an unescaped ';' in the DN
        Refused("ldap://h/not-a-dn", "bad DN");
        Refused("ldap://h_x/", "character '_'");
        Refused("ldap://h./", "ends with '.'");
        Refused("ldap://-h/", "starts or ends with '-'");
        Refused("ldap://" + std::string(2100, 'a'), "longer than 2048");
    }
    void testServerUrl() {
        LdapUrl u;
        CPPUNIT_ASSERT(ParseServerUrl("ldap://127.0.0.1:3891/", &u).ok());
        Status s = ParseServerUrl("ldap://127.0.0.1:3891/dc=x", &u);
        CPPUNIT_ASSERT(s.message().find("names the server only") != std::string::npos);
        CPPUNIT_ASSERT(!ParseServerUrl("ldap://h/??sub", &u).ok());
    }
    void testToStringRoundTrip() {
        LdapUrl u = U("LDAP://H:1/mail=a%5C%2Bb@x.com,dc=x,dc=com??base");
        CPPUNIT_ASSERT_EQUAL(std::string("mail=a\\+b@x.com,dc=x,dc=com"), u.dn);
        std::string text = u.ToString();
        CPPUNIT_ASSERT_EQUAL(std::string("ldap://h:1/mail=a%5C+b@x.com,dc=x,dc=com??base"), text);
        LdapUrl back = U(text);
        CPPUNIT_ASSERT_EQUAL(u.dn, back.dn);
        CPPUNIT_ASSERT_EQUAL(u.ServerKey(), back.ServerKey());
        CPPUNIT_ASSERT(back.scope == UrlScope::kBase);
        Refused("ldap://h/mail=a%2Bb@x.com,dc=x", "bad DN");  // an unescaped '+' in the DN
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ChaseUrlTest);

}  // namespace keydir
