// The zone CRL (lib/cert/crl): what MakeCrl signs, ParseCrl reads back
// with the revoked serials; another CA's or a tampered CRL is refused;
// issued certificates name the CRL distribution point.
#include <cppunit/extensions/HelperMacros.h>

#include <openssl/x509v3.h>

#include "base/env.h"
#include "cert/crl.h"
#include "cert/issuer.h"
#include "cert/keys.h"
#include "cert/x509_util.h"

namespace keydir {

namespace {
const int64_t kNow = 1700000000;
const int64_t kDay = 86400;
}  // namespace

class CertCrlTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(CertCrlTest);
    CPPUNIT_TEST(testRoundTrip);
    CPPUNIT_TEST(testEmptyCrl);
    CPPUNIT_TEST(testPem);
    CPPUNIT_TEST(testOtherCaRefused);
    CPPUNIT_TEST(testTamperedRefused);
    CPPUNIT_TEST(testGarbageRefused);
    CPPUNIT_TEST(testBadInput);
    CPPUNIT_TEST(testIssuedCertificateSerialAndDistributionPoint);
    CPPUNIT_TEST(testNoDistributionPointByDefault);
    CPPUNIT_TEST_SUITE_END();

  public:
    void setUp() override {
        env_.SetUnixSeconds(kNow);
        MakeCa("tovaris.com", &ca_key_, &ca_cert_);
    }

    void MakeCa(const std::string& domain, ossl::PKeyPtr* key, ossl::X509Ptr* cert) {
        CPPUNIT_ASSERT(GenerateKey(KeyType::kP256, key).ok());
        Status s =
            MakeZoneCaCertificate(domain, key->get(), kNow - 60, kNow + 3650 * kDay, &env_, cert);
        CPPUNIT_ASSERT_MESSAGE(s.ToString(), s.ok());
    }

    CrlRequest Request() {
        CrlRequest r;
        r.this_update = kNow;
        r.next_update = kNow + 7 * kDay;
        r.number = 3;
        r.revoked = {{"4f1a2b3c4d5e6f708192a3b4c5d6e7f8", kNow - 100}, {"0a", kNow - 50}};
        return r;
    }

    void testRoundTrip() {
        std::string der;
        Status s = MakeCrl(ca_cert_.get(), ca_key_.get(), Request(), &der);
        CPPUNIT_ASSERT_MESSAGE(s.ToString(), s.ok());
        CrlInfo info;
        s = ParseCrl(der, ca_cert_.get(), &info);
        CPPUNIT_ASSERT_MESSAGE(s.ToString(), s.ok());
        CPPUNIT_ASSERT_EQUAL(size_t(2), info.serials.size());
        CPPUNIT_ASSERT(info.IsRevoked("4f1a2b3c4d5e6f708192a3b4c5d6e7f8"));
        CPPUNIT_ASSERT(info.IsRevoked("0a"));
        CPPUNIT_ASSERT(!info.IsRevoked("0b"));
        CPPUNIT_ASSERT_EQUAL(kNow, info.this_update);
        CPPUNIT_ASSERT_EQUAL(kNow + 7 * kDay, info.next_update);
        CPPUNIT_ASSERT_EQUAL(int64_t(3), info.number);
        CPPUNIT_ASSERT(!info.IsStale(kNow + kDay));
        CPPUNIT_ASSERT(info.IsStale(kNow + 8 * kDay));
    }

    void testEmptyCrl() {
        CrlRequest r = Request();
        r.revoked.clear();
        std::string der;
        CPPUNIT_ASSERT(MakeCrl(ca_cert_.get(), ca_key_.get(), r, &der).ok());
        CrlInfo info;
        CPPUNIT_ASSERT(ParseCrl(der, ca_cert_.get(), &info).ok());
        CPPUNIT_ASSERT(info.serials.empty());
    }

    void testPem() {
        std::string der;
        CPPUNIT_ASSERT(MakeCrl(ca_cert_.get(), ca_key_.get(), Request(), &der).ok());
        std::string pem = CrlDerToPem(der);
        CPPUNIT_ASSERT(pem.find("-----BEGIN X509 CRL-----") == 0);
        CrlInfo info;
        Status s = ParseCrl(pem, ca_cert_.get(), &info);
        CPPUNIT_ASSERT_MESSAGE(s.ToString(), s.ok());
        CPPUNIT_ASSERT(info.IsRevoked("0a"));
    }

    void testOtherCaRefused() {
        std::string der;
        CPPUNIT_ASSERT(MakeCrl(ca_cert_.get(), ca_key_.get(), Request(), &der).ok());
        ossl::PKeyPtr other_key;
        ossl::X509Ptr other_cert;
        MakeCa("other.example", &other_key, &other_cert);
        CrlInfo info;
        CPPUNIT_ASSERT(ParseCrl(der, other_cert.get(), &info).IsInvalidArgument());
        // Same name, other key: the signature gives it away.
        ossl::PKeyPtr twin_key;
        ossl::X509Ptr twin_cert;
        MakeCa("tovaris.com", &twin_key, &twin_cert);
        Status s = ParseCrl(der, twin_cert.get(), &info);
        CPPUNIT_ASSERT_MESSAGE(s.ToString(), s.code() == Status::Code::kPermissionDenied);
        // And MakeCrl refuses a key that is not the certificate's.
        CPPUNIT_ASSERT(
            MakeCrl(ca_cert_.get(), twin_key.get(), Request(), &der).IsInvalidArgument());
    }

    void testTamperedRefused() {
        std::string der;
        CPPUNIT_ASSERT(MakeCrl(ca_cert_.get(), ca_key_.get(), Request(), &der).ok());
        std::string bad = der;
        // Flip a byte inside the serial "4f1a..." of the first entry.
        size_t serial = bad.find("\x4f\x1a\x2b");
        CPPUNIT_ASSERT(serial != std::string::npos);
        bad[serial + 1] = '\x1b';
        CrlInfo info;
        CPPUNIT_ASSERT(ParseCrl(bad, ca_cert_.get(), &info).code() ==
                       Status::Code::kPermissionDenied);
    }

    void testGarbageRefused() {
        CrlInfo info;
        CPPUNIT_ASSERT(ParseCrl("", ca_cert_.get(), &info).IsInvalidArgument());
        CPPUNIT_ASSERT(ParseCrl("not a crl", ca_cert_.get(), &info).IsInvalidArgument());
        std::string der;
        CPPUNIT_ASSERT(MakeCrl(ca_cert_.get(), ca_key_.get(), Request(), &der).ok());
        CPPUNIT_ASSERT(
            ParseCrl(der.substr(0, der.size() - 10), ca_cert_.get(), &info).IsInvalidArgument());
        CPPUNIT_ASSERT(ParseCrl(der + "x", ca_cert_.get(), &info).IsInvalidArgument());
        // A certificate is not a CRL.
        CPPUNIT_ASSERT(
            ParseCrl(CertificateDer(ca_cert_.get()), ca_cert_.get(), &info).IsInvalidArgument());
    }

    void testBadInput() {
        std::string der;
        CrlRequest r = Request();
        r.next_update = r.this_update;
        CPPUNIT_ASSERT(MakeCrl(ca_cert_.get(), ca_key_.get(), r, &der).IsInvalidArgument());
        r = Request();
        r.revoked.push_back({"xyz", kNow});
        CPPUNIT_ASSERT(MakeCrl(ca_cert_.get(), ca_key_.get(), r, &der).IsInvalidArgument());
        r.revoked.back().serial_hex = "";
        CPPUNIT_ASSERT(MakeCrl(ca_cert_.get(), ca_key_.get(), r, &der).IsInvalidArgument());
    }

    ossl::X509Ptr Issue(const std::vector<std::string>& urls) {
        ossl::PKeyPtr key;
        CPPUNIT_ASSERT(GenerateKey(KeyType::kP256, &key).ok());
        MemberCertRequest req;
        req.address = "kconley@tovaris.com";
        req.not_before = kNow;
        req.not_after = kNow + 365 * kDay;
        req.member_key = key.get();
        req.crl_urls = urls;
        ossl::X509Ptr cert;
        Status s = IssueMemberCertificate(ca_cert_.get(), ca_key_.get(), req, &env_, &cert);
        CPPUNIT_ASSERT_MESSAGE(s.ToString(), s.ok());
        return cert;
    }

    void testIssuedCertificateSerialAndDistributionPoint() {
        const std::string ldap = "ldap:///dc=tovaris,dc=com?certificateRevocationList;binary";
        const std::string file = "file:///var/lib/keydir/zones/tovaris.com/zone.crl";
        ossl::X509Ptr cert = Issue({ldap, file});
        std::string der = CertificateDer(cert.get());
        CPPUNIT_ASSERT_EQUAL(SerialHex(cert.get()), CertificateSerialHex(der));
        CPPUNIT_ASSERT_EQUAL(std::string(), CertificateSerialHex("junk"));

        CRL_DIST_POINTS* points = static_cast<CRL_DIST_POINTS*>(
            X509_get_ext_d2i(cert.get(), NID_crl_distribution_points, nullptr, nullptr));
        CPPUNIT_ASSERT(points != nullptr);
        CPPUNIT_ASSERT_EQUAL(1, sk_DIST_POINT_num(points));
        DIST_POINT* dp = sk_DIST_POINT_value(points, 0);
        CPPUNIT_ASSERT(dp->distpoint && dp->distpoint->type == 0);
        GENERAL_NAMES* names = dp->distpoint->name.fullname;
        CPPUNIT_ASSERT_EQUAL(2, sk_GENERAL_NAME_num(names));
        std::vector<std::string> got;
        for (int i = 0; i < 2; ++i) {
            GENERAL_NAME* gn = sk_GENERAL_NAME_value(names, i);
            CPPUNIT_ASSERT_EQUAL(GEN_URI, gn->type);
            got.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(gn->d.ia5)),
                             static_cast<size_t>(ASN1_STRING_length(gn->d.ia5)));
        }
        CRL_DIST_POINTS_free(points);
        CPPUNIT_ASSERT_EQUAL(ldap, got[0]);
        CPPUNIT_ASSERT_EQUAL(file, got[1]);

        // The CRL that lists its serial revokes it.
        CrlRequest r = Request();
        r.revoked.push_back({SerialHex(cert.get()), kNow});
        std::string crl;
        CPPUNIT_ASSERT(MakeCrl(ca_cert_.get(), ca_key_.get(), r, &crl).ok());
        CrlInfo info;
        CPPUNIT_ASSERT(ParseCrl(crl, ca_cert_.get(), &info).ok());
        CPPUNIT_ASSERT(info.IsRevoked(CertificateSerialHex(der)));
    }

    void testNoDistributionPointByDefault() {
        ossl::X509Ptr cert = Issue({});
        CPPUNIT_ASSERT_EQUAL(-1, X509_get_ext_by_NID(cert.get(), NID_crl_distribution_points, -1));
    }

  private:
    FakeClockEnv env_;
    ossl::PKeyPtr ca_key_;
    ossl::X509Ptr ca_cert_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(CertCrlTest);

}  // namespace keydir
