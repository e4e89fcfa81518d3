// lib/cert/address: which addresses and domains keydir accepts, and the
// DNs and filter values made from them.
#include <cppunit/extensions/HelperMacros.h>

#include "cert/address.h"

namespace keydir {

class CertAddressTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(CertAddressTest);
    CPPUNIT_TEST(testGoodAddresses);
    CPPUNIT_TEST(testBadAddresses);
    CPPUNIT_TEST(testDomains);
    CPPUNIT_TEST(testDns);
    CPPUNIT_TEST(testEscaping);
    CPPUNIT_TEST_SUITE_END();

  public:
    void testGoodAddresses() {
        std::string n;
        CPPUNIT_ASSERT(ValidateAddress("kconley@tovaris.com", &n).ok());
        CPPUNIT_ASSERT_EQUAL(std::string("kconley@tovaris.com"), n);
        CPPUNIT_ASSERT(ValidateAddress("K.Conley+tag@Mail.Tovaris.COM", &n).ok());
        CPPUNIT_ASSERT_EQUAL(std::string("K.Conley+tag@mail.tovaris.com"), n);
        CPPUNIT_ASSERT(ValidateAddress("a!#$%&'*+-/=?^_`{|}~@x-1.example", &n).ok());
        CPPUNIT_ASSERT(ValidateAddress(std::string(64, 'a') + "@example.com", &n).ok());
    }

    void testBadAddresses() {
        std::string n = "unchanged";
        for (std::string bad : {std::string(""),
                                std::string("nobody"),
                                std::string("@example.com"),
                                std::string("a@"),
                                std::string("a@@example.com"),
                                std::string(".a@example.com"),
                                std::string("a.@example.com"),
                                std::string("a..b@example.com"),
                                std::string("a b@example.com"),
                                std::string("\"a\"@example.com"),
                                std::string("a,b@example.com"),
                                std::string("a@exa mple.com"),
                                std::string("a@example..com"),
                                std::string("a@-example.com"),
                                std::string("a@example.com."),
                                std::string("a@ex_ample.com"),
                                std::string("j\xc3\xb6rg@example.com"),
                                std::string("a\0b@example.com", 15),
                                std::string(65, 'a') + "@example.com",
                                "a@" + std::string(64, 'b') + ".com"}) {
            Status s = ValidateAddress(bad, &n);
            CPPUNIT_ASSERT_MESSAGE(bad, s.IsInvalidArgument());
            CPPUNIT_ASSERT_MESSAGE(
                s.message(), s.message().find("not a valid e-mail address") != std::string::npos);
        }
        CPPUNIT_ASSERT_EQUAL(std::string("unchanged"), n);
        Status s = ValidateAddress("a\nb@example.com", &n);
        CPPUNIT_ASSERT_MESSAGE(s.message(), s.message().find("\\x0a") != std::string::npos);
    }

    void testDomains() {
        std::string n;
        CPPUNIT_ASSERT(ValidateDomain("Tovaris.COM", &n).ok());
        CPPUNIT_ASSERT_EQUAL(std::string("tovaris.com"), n);
        // One label is not a mail domain keydir serves (no zone DN of its own).
        CPPUNIT_ASSERT(ValidateDomain("localhost", &n).IsInvalidArgument());
        CPPUNIT_ASSERT(ValidateDomain("", &n).IsInvalidArgument());
        CPPUNIT_ASSERT(ValidateDomain(".com", &n).IsInvalidArgument());
        CPPUNIT_ASSERT(ValidateDomain("a.-b.com", &n).IsInvalidArgument());
        CPPUNIT_ASSERT(ValidateDomain("dc=x,dc=com", &n).IsInvalidArgument());
        CPPUNIT_ASSERT(ValidateDomain(std::string(63, 'a') + ".com", &n).ok());
        std::string long_domain;
        for (int i = 0; i < 64; ++i)
            long_domain += "abc.";
        long_domain += "com";
        CPPUNIT_ASSERT(ValidateDomain(long_domain, &n).IsInvalidArgument());
    }

    void testDns() {
        CPPUNIT_ASSERT_EQUAL(std::string("dc=tovaris,dc=com"), ZoneDn("tovaris.com"));
        CPPUNIT_ASSERT_EQUAL(std::string("dc=localhost"), ZoneDn("localhost"));
        CPPUNIT_ASSERT_EQUAL(std::string("mail=kconley@tovaris.com,dc=tovaris,dc=com"),
                             MemberDn("kconley@tovaris.com"));
        CPPUNIT_ASSERT_EQUAL(std::string("mail=a\\+b=c@x.org,dc=x,dc=org"),
                             MemberDn("a+b=c@x.org"));
        CPPUNIT_ASSERT_EQUAL(std::string("x.org"), DomainOf("a@b@x.org"));
    }

    void testEscaping() {
        CPPUNIT_ASSERT_EQUAL(std::string("\\#a\\,b\\;c\\\"\\\\\\<\\> \\ "),
                             EscapeDnValue("#a,b;c\"\\<>  "));
        CPPUNIT_ASSERT_EQUAL(std::string("\\ a"), EscapeDnValue(" a"));
        CPPUNIT_ASSERT_EQUAL(std::string("a\\2ab\\28\\29\\5c\\00"),
                             EscapeFilterValue(std::string("a*b()\\\0", 7)));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(CertAddressTest);

}  // namespace keydir
