// lib/cert/x509_util: times, PEM, address comparison.
#include <cppunit/extensions/HelperMacros.h>

#include "cert/x509_util.h"
#include "cert_test_util.h"

namespace keydir {

class CertUtilTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(CertUtilTest);
    CPPUNIT_TEST(testGeneralizedTime);
    CPPUNIT_TEST(testBadGeneralizedTime);
    CPPUNIT_TEST(testPemRoundTrip);
    CPPUNIT_TEST(testSameMailbox);
    CPPUNIT_TEST_SUITE_END();

  public:
    void testGeneralizedTime() {
        CPPUNIT_ASSERT_EQUAL(std::string("20231114221320Z"), FormatGeneralizedTime(1700000000));
        CPPUNIT_ASSERT_EQUAL(std::string("2023-11-14 22:13:20 UTC"), FormatHumanTime(1700000000));
        int64_t t = 0;
        CPPUNIT_ASSERT(ParseGeneralizedTime("20231114221320Z", &t).ok());
        CPPUNIT_ASSERT_EQUAL(int64_t(1700000000), t);
        CPPUNIT_ASSERT(ParseGeneralizedTime("20240229000000Z", &t).ok());  // leap day
        CPPUNIT_ASSERT(ParseGeneralizedTime("99991231235959Z", &t).ok());
        CPPUNIT_ASSERT_EQUAL(std::string("99991231235959Z"), FormatGeneralizedTime(t));
    }

    void testBadGeneralizedTime() {
        int64_t t = 0;
        for (const char* bad :
             {"", "2023", "20231114221320", "20231114221320+0100", "2023111422132OZ",
              "20230230000000Z", "20231301000000Z", "20231114246000Z", "20231114221320.5Z"}) {
            Status s = ParseGeneralizedTime(bad, &t);
            CPPUNIT_ASSERT_MESSAGE(bad, s.IsInvalidArgument());
        }
    }

    void testPemRoundTrip() {
        testcert::Ca ca = testcert::MakeCa("PEM CA", 1700000000);
        std::string der = testcert::Der(ca.cert.get());
        std::string pem = DerToPem(der);
        CPPUNIT_ASSERT_EQUAL(testcert::Pem(ca.cert.get()), pem);
        std::string back;
        CPPUNIT_ASSERT(PemToDer("some text before\n" + pem, &back).ok());
        CPPUNIT_ASSERT(back == der);
        CPPUNIT_ASSERT(PemToDer("no pem here", &back).IsInvalidArgument());
        CPPUNIT_ASSERT_EQUAL(std::string(), DerToPem("junk"));
    }

    void testSameMailbox() {
        CPPUNIT_ASSERT(SameMailbox("a@example.com", "a@EXAMPLE.COM"));
        CPPUNIT_ASSERT(SameMailbox("\"a@b\"@example.com", "\"a@b\"@Example.com"));
        // The local part too: a certificate for kc4@ is kc4@'s when the
        // mail was addressed to KC4@ (security review #4).
        CPPUNIT_ASSERT(SameMailbox("A@example.com", "a@example.com"));
        CPPUNIT_ASSERT(SameMailbox("John.Smith@Example.com", "john.smith@example.com"));
        CPPUNIT_ASSERT(!SameMailbox("ab@example.com", "a@bexample.com"));
        CPPUNIT_ASSERT(!SameMailbox("a@example.com", "b@example.com"));
        CPPUNIT_ASSERT(!SameMailbox("a@example.com", "a@example.co"));
        CPPUNIT_ASSERT(!SameMailbox("a@", "a@"));
        CPPUNIT_ASSERT(!SameMailbox("a", "a"));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(CertUtilTest);

}  // namespace keydir
