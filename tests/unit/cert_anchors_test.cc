// TrustAnchors: loading PEM files and verifying that a member certificate
// chains to an anchor (and CheckMemberCertificate's use of them).
#include <cppunit/extensions/HelperMacros.h>

#include <fstream>

#include "cert/member_cert.h"
#include "cert_test_util.h"
#include "temp_dir.h"

namespace keydir {

namespace {

const time_t kNow = 1700000000;

void WriteFile(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary);
    out << text;
}

bool Contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

}  // namespace

class CertAnchorsTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(CertAnchorsTest);
    CPPUNIT_TEST(testChainsToAnchor);
    CPPUNIT_TEST(testCertificateOfAnotherCa);
    CPPUNIT_TEST(testSelfSignedMemberIsRefused);
    CPPUNIT_TEST(testSeveralAnchorsInOneFile);
    CPPUNIT_TEST(testIntermediateAsAnchor);
    CPPUNIT_TEST(testTimeOfVerification);
    CPPUNIT_TEST(testCheckWithAnchors);
    CPPUNIT_TEST(testLoadErrors);
    CPPUNIT_TEST_SUITE_END();

  public:
    void setUp() override {
        zone_ = testcert::MakeCa("Zone CA", kNow - 86400);
        other_ = testcert::MakeCa("Other CA", kNow - 86400);
        key_ = testcert::EcKey();
    }

    std::string MemberOf(const testcert::Ca& ca, testcert::Spec spec = {}) {
        spec.key_usage = "critical,keyAgreement";
        return testcert::Der(
            testcert::Make(spec, key_.get(), ca.cert.get(), ca.key.get(), kNow).get());
    }

    std::unique_ptr<TrustAnchors> Anchors(const std::string& pem) {
        std::unique_ptr<TrustAnchors> a;
        Status s = TrustAnchors::FromPem(pem, "test", &a);
        CPPUNIT_ASSERT_MESSAGE(s.ToString(), s.ok());
        return a;
    }

    void testChainsToAnchor() {
        TempDir dir;
        std::string file = dir.path() + "/ca.pem";
        WriteFile(file, testcert::Pem(zone_.cert.get()));
        std::unique_ptr<TrustAnchors> anchors;
        Status s = TrustAnchors::Load(file, &anchors);
        CPPUNIT_ASSERT_MESSAGE(s.ToString(), s.ok());
        s = anchors->Verify(MemberOf(zone_), kNow);
        CPPUNIT_ASSERT_MESSAGE(s.ToString(), s.ok());
    }

    void testCertificateOfAnotherCa() {
        auto anchors = Anchors(testcert::Pem(zone_.cert.get()));
        Status s = anchors->Verify(MemberOf(other_), kNow);
        CPPUNIT_ASSERT(s.code() == Status::Code::kPermissionDenied);
        CPPUNIT_ASSERT_MESSAGE(s.message(),
                               Contains(s.message(), "does not chain to a trust anchor"));
        // Same issuer name, different key: the signature decides, not the name.
        testcert::Ca impostor = testcert::MakeCa("Zone CA", kNow - 86400);
        s = anchors->Verify(MemberOf(impostor), kNow);
        CPPUNIT_ASSERT(!s.ok());
    }

    void testSelfSignedMemberIsRefused() {
        auto anchors = Anchors(testcert::Pem(zone_.cert.get()));
        testcert::Spec spec;
        spec.key_usage = "critical,keyAgreement";
        std::string der =
            testcert::Der(testcert::Make(spec, key_.get(), nullptr, nullptr, kNow).get());
        CPPUNIT_ASSERT(!anchors->Verify(der, kNow).ok());
    }

    void testSeveralAnchorsInOneFile() {
        auto anchors =
            Anchors(testcert::Pem(zone_.cert.get()) + "\n" + testcert::Pem(other_.cert.get()));
        CPPUNIT_ASSERT(anchors->Verify(MemberOf(zone_), kNow).ok());
        CPPUNIT_ASSERT(anchors->Verify(MemberOf(other_), kNow).ok());
        // The same anchor twice is no error.
        Anchors(testcert::Pem(zone_.cert.get()) + testcert::Pem(zone_.cert.get()));
    }

    void testIntermediateAsAnchor() {
        // Organisation root -> zone CA -> member; the zone CA alone is the anchor.
        testcert::Key zone_key = testcert::EcKey();
        testcert::Spec spec;
        spec.cn = "Intermediate Zone CA";
        spec.san.clear();
        spec.key_usage = "critical,keyCertSign,cRLSign";
        spec.ext_key_usage.clear();
        spec.basic_constraints = "critical,CA:TRUE";
        testcert::Ca mid;
        mid.cert = testcert::Make(spec, zone_key.get(), other_.cert.get(), other_.key.get(), kNow);
        mid.key = std::move(zone_key);
        auto anchors = Anchors(testcert::Pem(mid.cert.get()));
        Status s = anchors->Verify(MemberOf(mid), kNow);
        CPPUNIT_ASSERT_MESSAGE(s.ToString(), s.ok());
    }

    void testTimeOfVerification() {
        auto anchors = Anchors(testcert::Pem(zone_.cert.get()));
        testcert::Spec spec;
        spec.not_after_offset = 3600;
        std::string der = MemberOf(zone_, spec);
        CPPUNIT_ASSERT(anchors->Verify(der, kNow).ok());
        Status s = anchors->Verify(der, kNow + 7200);
        CPPUNIT_ASSERT(!s.ok());
        CPPUNIT_ASSERT_MESSAGE(s.message(), Contains(s.message(), "expired"));
        CPPUNIT_ASSERT(anchors->Verify(der, TrustAnchors::kAnyTime).ok());
    }

    void testCheckWithAnchors() {
        auto anchors = Anchors(testcert::Pem(zone_.cert.get()));
        CertCheckOptions o;
        o.now = kNow;
        o.anchors = anchors.get();
        CertCheck c = CheckMemberCertificate(MemberOf(zone_), "alice@example.com", o);
        CPPUNIT_ASSERT_EQUAL(std::string(), c.reason);
        c = CheckMemberCertificate(MemberOf(other_), "alice@example.com", o);
        CPPUNIT_ASSERT(c.verdict == CertVerdict::kRejected);
        CPPUNIT_ASSERT_MESSAGE(c.reason, Contains(c.reason, "does not chain to a trust anchor"));
        // allow_expired also lets an expired certificate chain.
        testcert::Spec spec;
        spec.not_after_offset = 60;
        o.now = kNow + 3600;
        o.allow_expired = true;
        c = CheckMemberCertificate(MemberOf(zone_, spec), "alice@example.com", o);
        CPPUNIT_ASSERT_EQUAL(std::string(), c.reason);
    }

    void testLoadErrors() {
        TempDir dir;
        std::unique_ptr<TrustAnchors> a;
        Status s = TrustAnchors::Load(dir.path() + "/missing.pem", &a);
        CPPUNIT_ASSERT(s.code() == Status::Code::kIOError);
        CPPUNIT_ASSERT(!a);
        s = TrustAnchors::FromPem("just text\n", "empty.pem", &a);
        CPPUNIT_ASSERT(s.IsInvalidArgument());
        CPPUNIT_ASSERT_MESSAGE(s.message(), Contains(s.message(), "empty.pem: no PEM certificate"));
        std::string pem = testcert::Pem(zone_.cert.get());
        std::string damaged = pem;
        damaged[pem.size() / 2] = '!';
        s = TrustAnchors::FromPem(pem + damaged, "damaged.pem", &a);
        CPPUNIT_ASSERT_MESSAGE(s.ToString(), s.IsInvalidArgument());
        CPPUNIT_ASSERT_MESSAGE(s.message(), Contains(s.message(), "certificate 2 is damaged"));
    }

  private:
    testcert::Ca zone_, other_;
    testcert::Key key_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(CertAnchorsTest);

}  // namespace keydir
