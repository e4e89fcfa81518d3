// CheckMemberCertificate and ParseCertificate against certificates made in
// the test: each check accepts the good and refuses the bad with a reason.
#include <cppunit/extensions/HelperMacros.h>

#include <openssl/err.h>
#include <openssl/sha.h>

#include <cstdio>

#include "cert/member_cert.h"
#include "cert_test_util.h"

namespace keydir {

namespace {

const time_t kNow = 1700000000;  // 2023-11-14 22:13:20 UTC
const char kMail[] = "alice@example.com";

std::string HexSha256(const std::string& data) {
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), md);
    std::string hex;
    char buf[3];
    for (unsigned char c : md) {
        snprintf(buf, sizeof buf, "%02x", c);
        hex += buf;
    }
    return hex;
}

CertCheckOptions At(time_t now) {
    CertCheckOptions o;
    o.now = now;
    return o;
}

bool Contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

}  // namespace

class CertMemberTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(CertMemberTest);
    CPPUNIT_TEST(testGoodRsa);
    CPPUNIT_TEST(testGoodEc);
    CPPUNIT_TEST(testFactsOfGoodCertificate);
    CPPUNIT_TEST(testExpired);
    CPPUNIT_TEST(testNotYetValid);
    CPPUNIT_TEST(testAllowExpired);
    CPPUNIT_TEST(testWrongAddress);
    CPPUNIT_TEST(testAddressCaseIgnored);
    CPPUNIT_TEST(testAddressOnlyInSubject);
    CPPUNIT_TEST(testNoAddressAtAll);
    CPPUNIT_TEST(testAddressWithNulIsIgnored);
    CPPUNIT_TEST(testMissingKeyUsage);
    CPPUNIT_TEST(testKeyUsageWithoutEncipherment);
    CPPUNIT_TEST(testEcNeedsKeyAgreement);
    CPPUNIT_TEST(testSigningOnlyKey);
    CPPUNIT_TEST(testMissingEmailProtection);
    CPPUNIT_TEST(testNoExtendedKeyUsageOrAnyIsAccepted);
    CPPUNIT_TEST(testTruncatedDer);
    CPPUNIT_TEST(testGarbageDer);
    CPPUNIT_TEST(testEmptyValue);
    CPPUNIT_TEST(testTrailingBytes);
    CPPUNIT_TEST(testNonMinimalLengthIsNotDer);
    CPPUNIT_TEST(testHugeValue);
    CPPUNIT_TEST(testParseCertificate);
    CPPUNIT_TEST(testNoOpenSslErrorLeftBehind);
    CPPUNIT_TEST_SUITE_END();

  public:
    void setUp() override {
        if (!rsa_)
            rsa_ = new testcert::Key(testcert::RsaKey(2048));
        if (!ec_)
            ec_ = new testcert::Key(testcert::EcKey());
        if (!ca_)
            ca_ = new testcert::Ca(testcert::MakeCa("Example Zone CA", kNow - 86400));
    }

    std::string Issue(const testcert::Spec& spec, EVP_PKEY* key = nullptr) {
        testcert::Cert c =
            testcert::Make(spec, key ? key : rsa_->get(), ca_->cert.get(), ca_->key.get(), kNow);
        return testcert::Der(c.get());
    }

    void testGoodRsa() {
        CertCheck c = CheckMemberCertificate(Issue({}), kMail, At(kNow));
        CPPUNIT_ASSERT_EQUAL(std::string(), c.reason);
        CPPUNIT_ASSERT(c.verdict == CertVerdict::kOk);
    }

    void testGoodEc() {
        testcert::Spec spec;
        spec.key_usage = "critical,digitalSignature,keyAgreement";
        CertCheck c = CheckMemberCertificate(Issue(spec, ec_->get()), kMail, At(kNow));
        CPPUNIT_ASSERT_EQUAL(std::string(), c.reason);
        CPPUNIT_ASSERT(c.verdict == CertVerdict::kOk);
    }

    void testFactsOfGoodCertificate() {
        testcert::Spec spec;
        spec.san = "email:alice@example.com,email:a.l@example.com";
        spec.subject_email = "alice@example.com";
        spec.not_after_offset = 86400;
        std::string der = Issue(spec);
        CertCheck c = CheckMemberCertificate(der, kMail, At(kNow));
        CPPUNIT_ASSERT(c.verdict == CertVerdict::kOk);
        const CertFacts& f = c.facts;
        CPPUNIT_ASSERT_EQUAL(HexSha256(der), f.fingerprint);
        CPPUNIT_ASSERT_EQUAL(int64_t(kNow - 3600), f.not_before);
        CPPUNIT_ASSERT_EQUAL(int64_t(kNow + 86400), f.not_after);
        CPPUNIT_ASSERT_EQUAL(std::string("20231115221320Z"), f.not_after_generalized);
        CPPUNIT_ASSERT_EQUAL(size_t(3), f.emails.size());
        CPPUNIT_ASSERT_EQUAL(std::string("alice@example.com"), f.emails[0]);
        CPPUNIT_ASSERT_EQUAL(std::string("a.l@example.com"), f.emails[1]);
        CPPUNIT_ASSERT_EQUAL(std::string("alice@example.com"), f.emails[2]);  // subject
        CPPUNIT_ASSERT(f.encipherment);
        CPPUNIT_ASSERT(f.email_protection);
        CPPUNIT_ASSERT(Contains(f.subject, "CN=test member"));
        CPPUNIT_ASSERT_EQUAL(std::string("CN=Example Zone CA"), f.issuer);
    }

    void testExpired() {
        testcert::Spec spec;
        spec.not_before_offset = -400L * 86400;
        spec.not_after_offset = -86400;
        CertCheck c = CheckMemberCertificate(Issue(spec), kMail, At(kNow));
        CPPUNIT_ASSERT(c.verdict == CertVerdict::kRejected);
        CPPUNIT_ASSERT_MESSAGE(c.reason, Contains(c.reason, "expired on 2023-11-13 22:13:20 UTC"));
    }

    void testNotYetValid() {
        testcert::Spec spec;
        spec.not_before_offset = 86400;
        CertCheck c = CheckMemberCertificate(Issue(spec), kMail, At(kNow));
        CPPUNIT_ASSERT(c.verdict == CertVerdict::kRejected);
        CPPUNIT_ASSERT_MESSAGE(c.reason, Contains(c.reason, "not valid before 2023-11-15"));
    }

    void testAllowExpired() {
        testcert::Spec spec;
        spec.not_after_offset = -60;
        CertCheckOptions o = At(kNow);
        o.allow_expired = true;
        CertCheck c = CheckMemberCertificate(Issue(spec), kMail, o);
        CPPUNIT_ASSERT_EQUAL(std::string(), c.reason);
        CPPUNIT_ASSERT(c.verdict == CertVerdict::kOk);
    }

    void testWrongAddress() {
        CertCheck c = CheckMemberCertificate(Issue({}), "bob@example.com", At(kNow));
        CPPUNIT_ASSERT(c.verdict == CertVerdict::kRejected);
        CPPUNIT_ASSERT_EQUAL(std::string("the certificate is for alice@example.com, not for "
                                         "bob@example.com"),
                             c.reason);
        // The facts are there even when a check fails (the backend logs them).
        CPPUNIT_ASSERT_EQUAL(size_t(64), c.facts.fingerprint.size());
    }

    void testAddressCaseIgnored() {
        std::string der = Issue({});
        CPPUNIT_ASSERT(CheckMemberCertificate(der, "alice@EXAMPLE.Com", At(kNow)).verdict ==
                       CertVerdict::kOk);
        // The local part too (security review #4): `mail` is caseIgnoreIA5.
        CPPUNIT_ASSERT(CheckMemberCertificate(der, "Alice@example.com", At(kNow)).verdict ==
                       CertVerdict::kOk);
        CPPUNIT_ASSERT(CheckMemberCertificate(der, "alicE@Example.COM", At(kNow)).verdict ==
                       CertVerdict::kOk);
        CPPUNIT_ASSERT(CheckMemberCertificate(der, "alic@example.com", At(kNow)).verdict ==
                       CertVerdict::kRejected);
        CPPUNIT_ASSERT(CheckMemberCertificate(der, "alice@example.com.evil", At(kNow)).verdict ==
                       CertVerdict::kRejected);
        CPPUNIT_ASSERT(CheckMemberCertificate(der, "alice", At(kNow)).verdict ==
                       CertVerdict::kRejected);
    }

    void testAddressOnlyInSubject() {
        testcert::Spec spec;
        spec.san.clear();
        spec.subject_email = "alice@example.com";
        CertCheck c = CheckMemberCertificate(Issue(spec), kMail, At(kNow));
        CPPUNIT_ASSERT_EQUAL(std::string(), c.reason);
        CPPUNIT_ASSERT(c.verdict == CertVerdict::kOk);
        CPPUNIT_ASSERT_EQUAL(size_t(1), c.facts.emails.size());
        // Another address in the subject does not stand for alice.
        spec.subject_email = "mallory@example.com";
        c = CheckMemberCertificate(Issue(spec), kMail, At(kNow));
        CPPUNIT_ASSERT(c.verdict == CertVerdict::kRejected);
    }

    void testNoAddressAtAll() {
        testcert::Spec spec;
        spec.san = "DNS:mail.example.com";
        CertCheck c = CheckMemberCertificate(Issue(spec), kMail, At(kNow));
        CPPUNIT_ASSERT(c.verdict == CertVerdict::kRejected);
        CPPUNIT_ASSERT_MESSAGE(c.reason, Contains(c.reason, "names no e-mail address"));
    }

    void testAddressWithNulIsIgnored() {
        // rfc822Name "alice@example.com\0@evil.test" must not pass for alice.
        testcert::Spec spec;
        spec.san.clear();
        testcert::Cert cert =
            testcert::Make(spec, rsa_->get(), ca_->cert.get(), ca_->key.get(), kNow);
        static const char kName[] = "alice@example.com\0@evil.test";
        GENERAL_NAMES* names = sk_GENERAL_NAME_new_null();
        GENERAL_NAME* gn = GENERAL_NAME_new();
        ASN1_IA5STRING* ia5 = ASN1_IA5STRING_new();
        ASN1_STRING_set(ia5, kName, sizeof kName - 1);
        GENERAL_NAME_set0_value(gn, GEN_EMAIL, ia5);
        sk_GENERAL_NAME_push(names, gn);
        X509_add1_ext_i2d(cert.get(), NID_subject_alt_name, names, 0, X509V3_ADD_DEFAULT);
        GENERAL_NAMES_free(names);
        X509_sign(cert.get(), ca_->key.get(), EVP_sha256());
        CertCheck c = CheckMemberCertificate(testcert::Der(cert.get()), kMail, At(kNow));
        CPPUNIT_ASSERT(c.verdict == CertVerdict::kRejected);
        CPPUNIT_ASSERT(c.facts.emails.empty());
    }

    void testMissingKeyUsage() {
        testcert::Spec spec;
        spec.key_usage.clear();
        CertCheck c = CheckMemberCertificate(Issue(spec), kMail, At(kNow));
        CPPUNIT_ASSERT(c.verdict == CertVerdict::kRejected);
        CPPUNIT_ASSERT_MESSAGE(c.reason, Contains(c.reason, "no keyUsage extension"));
        CPPUNIT_ASSERT(!c.facts.encipherment);
    }

    void testKeyUsageWithoutEncipherment() {
        testcert::Spec spec;
        spec.key_usage = "critical,digitalSignature,nonRepudiation";
        CertCheck c = CheckMemberCertificate(Issue(spec), kMail, At(kNow));
        CPPUNIT_ASSERT(c.verdict == CertVerdict::kRejected);
        CPPUNIT_ASSERT_MESSAGE(c.reason, Contains(c.reason, "does not allow keyEncipherment"));
    }

    void testEcNeedsKeyAgreement() {
        testcert::Spec spec;  // keyEncipherment means nothing to an EC key
        CertCheck c = CheckMemberCertificate(Issue(spec, ec_->get()), kMail, At(kNow));
        CPPUNIT_ASSERT(c.verdict == CertVerdict::kRejected);
        CPPUNIT_ASSERT_MESSAGE(c.reason, Contains(c.reason, "does not allow keyAgreement"));
        CPPUNIT_ASSERT(c.facts.encipherment);  // the fact is about the bits only
    }

    void testSigningOnlyKey() {
        testcert::Key ed = testcert::Ed25519Key();
        testcert::Spec spec;
        spec.key_usage = "critical,digitalSignature,keyAgreement";
        CertCheck c = CheckMemberCertificate(Issue(spec, ed.get()), kMail, At(kNow));
        CPPUNIT_ASSERT(c.verdict == CertVerdict::kRejected);
        CPPUNIT_ASSERT_MESSAGE(c.reason, Contains(c.reason, "cannot be used for encryption"));
    }

    void testMissingEmailProtection() {
        testcert::Spec spec;
        spec.ext_key_usage = "serverAuth,clientAuth";
        CertCheck c = CheckMemberCertificate(Issue(spec), kMail, At(kNow));
        CPPUNIT_ASSERT(c.verdict == CertVerdict::kRejected);
        CPPUNIT_ASSERT_MESSAGE(c.reason, Contains(c.reason, "emailProtection"));
        CPPUNIT_ASSERT(!c.facts.email_protection);
    }

    void testNoExtendedKeyUsageOrAnyIsAccepted() {
        testcert::Spec spec;
        spec.ext_key_usage.clear();  // no EKU: no restriction (RFC 5280)
        CertCheck c = CheckMemberCertificate(Issue(spec), kMail, At(kNow));
        CPPUNIT_ASSERT_EQUAL(std::string(), c.reason);
        spec.ext_key_usage = "anyExtendedKeyUsage";  // RFC 8550 4.4.4
        c = CheckMemberCertificate(Issue(spec), kMail, At(kNow));
        CPPUNIT_ASSERT_EQUAL(std::string(), c.reason);
    }

    void testTruncatedDer() {
        std::string der = Issue({});
        for (size_t len : {der.size() - 1, der.size() / 2, size_t(10), size_t(1)}) {
            CertCheck c = CheckMemberCertificate(der.substr(0, len), kMail, At(kNow));
            CPPUNIT_ASSERT(c.verdict == CertVerdict::kMalformed);
            CPPUNIT_ASSERT_MESSAGE(c.reason, Contains(c.reason, "not a DER X.509 certificate"));
        }
    }

    void testGarbageDer() {
        for (std::string junk : {std::string("hello, world"), std::string(100, '\xff'),
                                 std::string("\x30\x03\x02\x01\x01", 5),
                                 std::string("-----BEGIN CERTIFICATE-----\nMIIB\n")}) {
            CertCheck c = CheckMemberCertificate(junk, kMail, At(kNow));
            CPPUNIT_ASSERT(c.verdict == CertVerdict::kMalformed);
            CPPUNIT_ASSERT(!c.reason.empty());
        }
    }

    void testEmptyValue() {
        CertCheck c = CheckMemberCertificate("", kMail, At(kNow));
        CPPUNIT_ASSERT(c.verdict == CertVerdict::kMalformed);
        CPPUNIT_ASSERT_EQUAL(std::string("the value is empty"), c.reason);
    }

    void testTrailingBytes() {
        CertCheck c = CheckMemberCertificate(Issue({}) + "xx", kMail, At(kNow));
        CPPUNIT_ASSERT(c.verdict == CertVerdict::kMalformed);
        CPPUNIT_ASSERT_MESSAGE(c.reason, Contains(c.reason, "2 bytes follow the certificate"));
    }

    void testNonMinimalLengthIsNotDer() {
        // The outer SEQUENCE's length in three bytes instead of two: valid
        // BER, not DER; the same certificate would get a second fingerprint.
        std::string der = Issue({});
        CPPUNIT_ASSERT_EQUAL('\x82', der[1]);
        std::string ber = der.substr(0, 1) + "\x83" + std::string(1, '\0') + der.substr(2);
        CertCheck c = CheckMemberCertificate(ber, kMail, At(kNow));
        CPPUNIT_ASSERT(c.verdict == CertVerdict::kMalformed);
    }

    void testHugeValue() {
        std::string huge(10 * 1024 * 1024, 'A');
        CertCheck c = CheckMemberCertificate(huge, kMail, At(kNow));
        CPPUNIT_ASSERT(c.verdict == CertVerdict::kMalformed);
        CPPUNIT_ASSERT_MESSAGE(c.reason, Contains(c.reason, "10485760 bytes, more than the 65536"));
        // A real certificate over a lowered limit is refused the same way.
        CertCheckOptions o = At(kNow);
        o.max_der_bytes = 100;
        c = CheckMemberCertificate(Issue({}), kMail, o);
        CPPUNIT_ASSERT(c.verdict == CertVerdict::kMalformed);
        // A huge value that is DER-shaped (a SEQUENCE claiming 8 MB) too.
        std::string seq = std::string("\x30\x83\x80\x00\x00", 5) + std::string(8 << 20, '\0');
        o.max_der_bytes = 16 << 20;
        c = CheckMemberCertificate(seq, kMail, o);
        CPPUNIT_ASSERT(c.verdict == CertVerdict::kMalformed);
    }

    void testParseCertificate() {
        CertFacts f;
        std::string der = Issue({});
        CPPUNIT_ASSERT(ParseCertificate(der, &f).ok());
        CPPUNIT_ASSERT_EQUAL(HexSha256(der), f.fingerprint);
        Status s = ParseCertificate("garbage", &f);
        CPPUNIT_ASSERT(s.IsInvalidArgument());
        CPPUNIT_ASSERT_MESSAGE(s.ToString(), Contains(s.message(), "not a DER X.509"));
    }

    void testNoOpenSslErrorLeftBehind() {
        ERR_clear_error();
        CheckMemberCertificate("garbage", kMail, At(kNow));
        CheckMemberCertificate(Issue({}).substr(0, 50), kMail, At(kNow));
        testcert::Spec spec;
        spec.san.clear();
        spec.key_usage.clear();
        spec.ext_key_usage.clear();
        CheckMemberCertificate(Issue(spec), kMail, At(kNow));
        CPPUNIT_ASSERT_EQUAL(0UL, ERR_peek_error());
    }

  private:
    // Shared by the tests of this suite: key generation is the slow part.
    static testcert::Key* rsa_;
    static testcert::Key* ec_;
    static testcert::Ca* ca_;
};

testcert::Key* CertMemberTest::rsa_ = nullptr;
testcert::Key* CertMemberTest::ec_ = nullptr;
testcert::Ca* CertMemberTest::ca_ = nullptr;

CPPUNIT_TEST_SUITE_REGISTRATION(CertMemberTest);

}  // namespace keydir
