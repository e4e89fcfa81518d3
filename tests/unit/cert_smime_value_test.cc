#include <cppunit/extensions/HelperMacros.h>

#include <openssl/pkcs7.h>

#include <ctime>

#include "cert/smime_value.h"
#include "cert_test_util.h"

namespace keydir {

using namespace testcert;

namespace {

// The DER of a PKCS#7 SignedData holding `certs`, built here with
// OpenSSL's API (as `openssl crl2pkcs7 -nocrl` does), not with lib/cert.
std::string CertsOnly(const std::vector<X509*>& certs) {
    PKCS7* p7 = PKCS7_new();
    Check(p7 && PKCS7_set_type(p7, NID_pkcs7_signed), "PKCS7 signed");
    p7->d.sign->contents->type = OBJ_nid2obj(NID_pkcs7_data);
    for (X509* c : certs)
        Check(PKCS7_add_certificate(p7, c) == 1, "PKCS7_add_certificate");
    unsigned char* buf = nullptr;
    int len = i2d_PKCS7(p7, &buf);
    PKCS7_free(p7);
    Check(len > 0, "i2d_PKCS7");
    std::string der(reinterpret_cast<char*>(buf), static_cast<size_t>(len));
    OPENSSL_free(buf);
    return der;
}

bool Mentions(const Status& s, const std::string& text) {
    return s.message().find(text) != std::string::npos;
}

}  // namespace

class CertSmimeValueTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(CertSmimeValueTest);
    CPPUNIT_TEST(testBareDer);
    CPPUNIT_TEST(testCertsOnly);
    CPPUNIT_TEST(testSeveralAndChain);
    CPPUNIT_TEST(testSignedByMember);
    CPPUNIT_TEST(testTruncated);
    CPPUNIT_TEST(testGarbage);
    CPPUNIT_TEST(testEmptySignedData);
    CPPUNIT_TEST(testOtherType);
    CPPUNIT_TEST(testMake);
    CPPUNIT_TEST_SUITE_END();

    time_t now_ = time(nullptr);
    Ca ca_ = MakeCa("Test CA", now_);
    Key key_ = EcKey();
    Cert cert_ = Make(Spec(), key_.get(), ca_.cert.get(), ca_.key.get(), now_);

  public:
    void testBareDer() {
        SmimeValueCertificates got;
        CPPUNIT_ASSERT(ParseSmimeValue(Der(cert_.get()), &got).ok());
        CPPUNIT_ASSERT(!got.pkcs7);
        CPPUNIT_ASSERT_EQUAL(size_t(1), got.end_entity.size());
        CPPUNIT_ASSERT(got.end_entity[0] == Der(cert_.get()));
        CPPUNIT_ASSERT(got.ca.empty());
    }
    void testCertsOnly() {
        SmimeValueCertificates got;
        Status s = ParseSmimeValue(CertsOnly({cert_.get()}), &got);
        CPPUNIT_ASSERT_MESSAGE(s.message(), s.ok());
        CPPUNIT_ASSERT(got.pkcs7);
        CPPUNIT_ASSERT_EQUAL(size_t(1), got.end_entity.size());
        CPPUNIT_ASSERT(got.end_entity[0] == Der(cert_.get()));
    }
    void testSeveralAndChain() {
        Spec newer;
        newer.serial = 2;
        Cert second = Make(newer, key_.get(), ca_.cert.get(), ca_.key.get(), now_);
        SmimeValueCertificates got;
        Status s = ParseSmimeValue(CertsOnly({cert_.get(), ca_.cert.get(), second.get()}), &got);
        CPPUNIT_ASSERT_MESSAGE(s.message(), s.ok());
        CPPUNIT_ASSERT_EQUAL(size_t(2), got.end_entity.size());
        CPPUNIT_ASSERT(got.end_entity[0] == Der(cert_.get()));
        CPPUNIT_ASSERT(got.end_entity[1] == Der(second.get()));
        CPPUNIT_ASSERT_EQUAL(size_t(1), got.ca.size());
        CPPUNIT_ASSERT(got.ca[0] == Der(ca_.cert.get()));
        // Only CA certificates: nothing to encrypt to.
        s = ParseSmimeValue(CertsOnly({ca_.cert.get()}), &got);
        CPPUNIT_ASSERT(s.IsInvalidArgument());
        CPPUNIT_ASSERT_MESSAGE(s.message(), Mentions(s, "no end-entity certificate"));
    }
    void testSignedByMember() {
        // Outlook's value is signed (the "default certificate" attribute).
        BIO* data = BIO_new_mem_buf("", 0);
        PKCS7* p7 =
            PKCS7_sign(cert_.get(), key_.get(), nullptr, data, PKCS7_DETACHED | PKCS7_BINARY);
        BIO_free(data);
        Check(p7 != nullptr, "PKCS7_sign");
        unsigned char* buf = nullptr;
        int len = i2d_PKCS7(p7, &buf);
        PKCS7_free(p7);
        std::string der(reinterpret_cast<char*>(buf), static_cast<size_t>(len));
        OPENSSL_free(buf);
        SmimeValueCertificates got;
        Status s = ParseSmimeValue(der, &got);
        CPPUNIT_ASSERT_MESSAGE(s.message(), s.ok());
        CPPUNIT_ASSERT_EQUAL(size_t(1), got.end_entity.size());
        CPPUNIT_ASSERT(got.end_entity[0] == Der(cert_.get()));
    }
    void testTruncated() {
        std::string p7 = CertsOnly({cert_.get()});
        SmimeValueCertificates got;
        for (size_t cut : {p7.size() - 1, p7.size() / 2, size_t(20), size_t(3)}) {
            Status s = ParseSmimeValue(p7.substr(0, cut), &got);
            CPPUNIT_ASSERT(s.IsInvalidArgument());
            CPPUNIT_ASSERT_MESSAGE(s.message(), Mentions(s, "PKCS#7"));
            CPPUNIT_ASSERT_MESSAGE(s.message(), Mentions(s, "truncated"));
        }
        Status s = ParseSmimeValue(p7 + "x", &got);
        CPPUNIT_ASSERT(s.IsInvalidArgument());
        CPPUNIT_ASSERT_MESSAGE(s.message(), Mentions(s, "1 bytes follow"));
        std::string der = Der(cert_.get());
        s = ParseSmimeValue(der.substr(0, der.size() - 1), &got);
        CPPUNIT_ASSERT(s.IsInvalidArgument());
        CPPUNIT_ASSERT_MESSAGE(s.message(), Mentions(s, "X.509"));
    }
    void testGarbage() {
        SmimeValueCertificates got;
        for (std::string v :
             {std::string(), std::string("hello"), std::string("\x30\x00", 2),
              std::string("\x30\x03\x06\x01\x00", 5), std::string("\xff\xff\xff\xff\xff", 5),
              std::string(kMaxSmimeValueBytes + 1, '\x30')}) {
            Status s = ParseSmimeValue(v, &got);
            CPPUNIT_ASSERT_MESSAGE(v.substr(0, 8), s.IsInvalidArgument());
            CPPUNIT_ASSERT(!s.message().empty());
        }
        CPPUNIT_ASSERT(got.end_entity.empty());
    }
    void testEmptySignedData() {
        SmimeValueCertificates got;
        Status s = ParseSmimeValue(CertsOnly({}), &got);
        CPPUNIT_ASSERT(s.IsInvalidArgument());
        CPPUNIT_ASSERT_MESSAGE(s.message(), Mentions(s, "holds no certificate"));
    }
    void testOtherType() {
        PKCS7* p7 = PKCS7_new();
        Check(p7 && PKCS7_set_type(p7, NID_pkcs7_data), "PKCS7 data");
        unsigned char* buf = nullptr;
        int len = i2d_PKCS7(p7, &buf);
        PKCS7_free(p7);
        std::string der(reinterpret_cast<char*>(buf), static_cast<size_t>(len));
        OPENSSL_free(buf);
        SmimeValueCertificates got;
        Status s = ParseSmimeValue(der, &got);
        CPPUNIT_ASSERT(s.IsInvalidArgument());
        CPPUNIT_ASSERT_MESSAGE(s.message(), Mentions(s, "must be a SignedData"));
    }
    void testMake() {
        std::string made;
        CPPUNIT_ASSERT(MakeCertsOnlyPkcs7({Der(cert_.get())}, &made).ok());
        CPPUNIT_ASSERT(made == CertsOnly({cert_.get()}));
        CPPUNIT_ASSERT(MakeCertsOnlyPkcs7({"junk"}, &made).IsInvalidArgument());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(CertSmimeValueTest);

}  // namespace keydir
