// The zone CA's work (lib/cert keys, issuer, pkcs12): what it makes passes
// CheckMemberCertificate and chains to the zone CA; keys and PKCS#12 open
// with the right passphrase only.
#include <cppunit/extensions/HelperMacros.h>

#include <openssl/err.h>

#include <sys/stat.h>

#include <fstream>

#include "base/env.h"
#include "base/secret_file.h"
#include "cert/issuer.h"
#include "cert/keys.h"
#include "cert/member_cert.h"
#include "cert/pkcs12.h"
#include "cert/x509_util.h"
#include "temp_dir.h"

namespace keydir {

namespace {
const int64_t kNow = 1700000000;
const int64_t kYear = 365 * 86400;
}  // namespace

class CertIssuerTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(CertIssuerTest);
    CPPUNIT_TEST(testKeyTypes);
    CPPUNIT_TEST(testEncryptedKeyRoundTrip);
    CPPUNIT_TEST(testPassphraseFile);
    CPPUNIT_TEST(testZoneCaCertificate);
    CPPUNIT_TEST(testIssuedRsaAndEcPassChecks);
    CPPUNIT_TEST(testSerialsAreRandom);
    CPPUNIT_TEST(testNameConstraintLimitsCa);
    CPPUNIT_TEST(testValidityOutsideCa);
    CPPUNIT_TEST(testWrongCaKey);
    CPPUNIT_TEST(testPkcs12);
    CPPUNIT_TEST_SUITE_END();

  public:
    void setUp() override {
        env_.SetUnixSeconds(kNow);
        if (!ca_key_) {
            ca_key_ = new ossl::PKeyPtr;
            CPPUNIT_ASSERT(GenerateKey(KeyType::kP256, ca_key_).ok());
            ca_cert_ = new ossl::X509Ptr;
            Status s = MakeZoneCaCertificate("tovaris.com", ca_key_->get(), kNow - 60,
                                             kNow + 10 * kYear, &env_, ca_cert_);
            CPPUNIT_ASSERT_MESSAGE(s.ToString(), s.ok());
        }
    }

    MemberCertRequest Request(EVP_PKEY* key, const std::string& address = "kconley@tovaris.com") {
        MemberCertRequest r;
        r.address = address;
        r.not_before = kNow;
        r.not_after = kNow + kYear;
        r.member_key = key;
        return r;
    }

    std::unique_ptr<TrustAnchors> ZoneAnchors() {
        std::unique_ptr<TrustAnchors> a;
        Status s = TrustAnchors::FromPem(DerToPem(CertificateDer(ca_cert_->get())), "ca", &a);
        CPPUNIT_ASSERT_MESSAGE(s.ToString(), s.ok());
        return a;
    }

    void testKeyTypes() {
        KeyType t;
        CPPUNIT_ASSERT(ParseKeyType("rsa3072", &t).ok() && t == KeyType::kRsa3072);
        CPPUNIT_ASSERT(ParseKeyType("p256", &t).ok() && t == KeyType::kP256);
        CPPUNIT_ASSERT(ParseKeyType("ed25519", &t).IsInvalidArgument());
        ossl::PKeyPtr k;
        CPPUNIT_ASSERT(GenerateKey(KeyType::kP256, &k).ok());
        CPPUNIT_ASSERT_EQUAL(EVP_PKEY_EC, EVP_PKEY_get_base_id(k.get()));
        CPPUNIT_ASSERT(GenerateKey(KeyType::kRsa3072, &k).ok());
        CPPUNIT_ASSERT_EQUAL(3072, EVP_PKEY_get_bits(k.get()));
    }

    void testEncryptedKeyRoundTrip() {
        std::string pem;
        CPPUNIT_ASSERT(EncryptPrivateKey(ca_key_->get(), "correct horse", &pem).ok());
        CPPUNIT_ASSERT(pem.find("BEGIN ENCRYPTED PRIVATE KEY") != std::string::npos);
        ossl::PKeyPtr back;
        CPPUNIT_ASSERT(DecryptPrivateKey(pem, "correct horse", &back).ok());
        CPPUNIT_ASSERT_EQUAL(1, EVP_PKEY_eq(back.get(), ca_key_->get()));
        // Many wrong passphrases: every one refused as wrong, never accepted.
        for (int i = 0; i < 50; ++i) {
            Status s = DecryptPrivateKey(pem, "wrong " + std::to_string(i), &back);
            CPPUNIT_ASSERT_MESSAGE(s.ToString(), s.code() == Status::Code::kPermissionDenied);
        }
        CPPUNIT_ASSERT(DecryptPrivateKey("not a key", "x", &back).IsCorruption());
        CPPUNIT_ASSERT(EncryptPrivateKey(ca_key_->get(), "", &pem).IsInvalidArgument());
        CPPUNIT_ASSERT_EQUAL(0UL, ERR_peek_error());
    }

    void testPassphraseFile() {
        TempDir dir;
        auto write = [&](const std::string& name, const std::string& text, mode_t mode = 0600) {
            std::ofstream(dir.path() + "/" + name, std::ios::binary) << text;
            chmod((dir.path() + "/" + name).c_str(), mode);
            return dir.path() + "/" + name;
        };
        std::string p;
        // base/secret_file.h's one rule: others may neither read nor write it
        Status s = ReadSecretFile(Env::Default(), write("r", "secret\n", 0644), &p);
        CPPUNIT_ASSERT(s.code() == Status::Code::kPermissionDenied);
        CPPUNIT_ASSERT(s.message().find("readable by everyone (mode 0644)") != std::string::npos);
        s = ReadSecretFile(Env::Default(), write("w", "secret\n", 0602), &p);
        CPPUNIT_ASSERT(s.message().find("writable by everyone (mode 0602)") != std::string::npos);
        CPPUNIT_ASSERT(ReadSecretFile(Env::Default(), write("g", "secret\n", 0640), &p).ok());
        CPPUNIT_ASSERT(ReadSecretFile(Env::Default(), write("a", "secret\n"), &p).ok());
        CPPUNIT_ASSERT_EQUAL(std::string("secret"), p);
        CPPUNIT_ASSERT(ReadSecretFile(Env::Default(), write("b", "secret\r\n"), &p).ok());
        CPPUNIT_ASSERT_EQUAL(std::string("secret"), p);
        CPPUNIT_ASSERT(ReadSecretFile(Env::Default(), write("c", "with space \n\n"), &p).ok());
        CPPUNIT_ASSERT_EQUAL(std::string("with space \n"), p);  // one line end only
        CPPUNIT_ASSERT(ReadSecretFile(Env::Default(), write("d", "\n"), &p).IsInvalidArgument());
        CPPUNIT_ASSERT(ReadSecretFile(Env::Default(), dir.path() + "/none", &p).code() ==
                       Status::Code::kIOError);
    }

    void testZoneCaCertificate() {
        X509* ca = ca_cert_->get();
        CPPUNIT_ASSERT_EQUAL(1, X509_check_ca(ca));
        CPPUNIT_ASSERT(X509_get_key_usage(ca) & KU_KEY_CERT_SIGN);
        CertFacts f;
        CPPUNIT_ASSERT(ParseCertificate(CertificateDer(ca), &f).ok());
        CPPUNIT_ASSERT_EQUAL(std::string("CN=keydir zone CA,O=tovaris.com"), f.subject);
        CPPUNIT_ASSERT_EQUAL(f.subject, f.issuer);
        CPPUNIT_ASSERT_EQUAL(kNow + 10 * kYear, f.not_after);
    }

    void testIssuedRsaAndEcPassChecks() {
        auto anchors = ZoneAnchors();
        for (KeyType type : {KeyType::kRsa3072, KeyType::kP256}) {
            ossl::PKeyPtr key;
            CPPUNIT_ASSERT(GenerateKey(type, &key).ok());
            ossl::X509Ptr cert;
            Status s = IssueMemberCertificate(ca_cert_->get(), ca_key_->get(), Request(key.get()),
                                              &env_, &cert);
            CPPUNIT_ASSERT_MESSAGE(s.ToString(), s.ok());
            CertCheckOptions o;
            o.now = kNow + 10;
            o.anchors = anchors.get();
            std::string der = CertificateDer(cert.get());
            CertCheck c = CheckMemberCertificate(der, "kconley@tovaris.com", o);
            CPPUNIT_ASSERT_EQUAL(std::string(), c.reason);
            CPPUNIT_ASSERT(c.facts.emails == std::vector<std::string>{"kconley@tovaris.com"});
            CPPUNIT_ASSERT_EQUAL(std::string("CN=kconley@tovaris.com"), c.facts.subject);
            CPPUNIT_ASSERT_EQUAL(kNow + kYear, c.facts.not_after);
            CPPUNIT_ASSERT_EQUAL(0, X509_check_ca(cert.get()));
        }
    }

    void testSerialsAreRandom() {
        ossl::PKeyPtr key;
        CPPUNIT_ASSERT(GenerateKey(KeyType::kP256, &key).ok());
        ossl::X509Ptr a, b;
        CPPUNIT_ASSERT(
            IssueMemberCertificate(ca_cert_->get(), ca_key_->get(), Request(key.get()), &env_, &a)
                .ok());
        CPPUNIT_ASSERT(
            IssueMemberCertificate(ca_cert_->get(), ca_key_->get(), Request(key.get()), &env_, &b)
                .ok());
        CPPUNIT_ASSERT_EQUAL(size_t(32), SerialHex(a.get()).size());
        CPPUNIT_ASSERT(SerialHex(a.get()) != SerialHex(b.get()));
    }

    void testNameConstraintLimitsCa() {
        // The CA can be made to sign for another domain, but the result does
        // not verify: the name constraint binds the zone CA to its domain.
        ossl::PKeyPtr key;
        CPPUNIT_ASSERT(GenerateKey(KeyType::kP256, &key).ok());
        ossl::X509Ptr cert;
        CPPUNIT_ASSERT(IssueMemberCertificate(ca_cert_->get(), ca_key_->get(),
                                              Request(key.get(), "eve@evil.test"), &env_, &cert)
                           .ok());
        Status s = ZoneAnchors()->Verify(CertificateDer(cert.get()), kNow + 10);
        CPPUNIT_ASSERT(!s.ok());
        CPPUNIT_ASSERT_MESSAGE(s.message(),
                               s.message().find("name constraint") != std::string::npos ||
                                   s.message().find("permitted") != std::string::npos);
    }

    void testValidityOutsideCa() {
        ossl::PKeyPtr key;
        CPPUNIT_ASSERT(GenerateKey(KeyType::kP256, &key).ok());
        MemberCertRequest r = Request(key.get());
        r.not_after = kNow + 11 * kYear;
        ossl::X509Ptr cert;
        Status s = IssueMemberCertificate(ca_cert_->get(), ca_key_->get(), r, &env_, &cert);
        CPPUNIT_ASSERT(s.IsInvalidArgument());
        CPPUNIT_ASSERT_MESSAGE(s.message(),
                               s.message().find("outside the zone CA") != std::string::npos);
        r = Request(key.get());
        r.not_after = r.not_before;
        CPPUNIT_ASSERT(IssueMemberCertificate(ca_cert_->get(), ca_key_->get(), r, &env_, &cert)
                           .IsInvalidArgument());
    }

    void testWrongCaKey() {
        ossl::PKeyPtr other, key;
        CPPUNIT_ASSERT(GenerateKey(KeyType::kP256, &other).ok());
        CPPUNIT_ASSERT(GenerateKey(KeyType::kP256, &key).ok());
        ossl::X509Ptr cert;
        Status s =
            IssueMemberCertificate(ca_cert_->get(), other.get(), Request(key.get()), &env_, &cert);
        CPPUNIT_ASSERT(s.IsInvalidArgument());
        CPPUNIT_ASSERT_EQUAL(0UL, ERR_peek_error());
    }

    void testPkcs12() {
        ossl::PKeyPtr key;
        CPPUNIT_ASSERT(GenerateKey(KeyType::kP256, &key).ok());
        ossl::X509Ptr cert;
        CPPUNIT_ASSERT(IssueMemberCertificate(ca_cert_->get(), ca_key_->get(), Request(key.get()),
                                              &env_, &cert)
                           .ok());
        std::string der;
        Status s = MakePkcs12(key.get(), cert.get(), ca_cert_->get(), "gateway kek",
                              "kconley@tovaris.com", kDefaultPkcs12Iterations, &der);
        CPPUNIT_ASSERT_MESSAGE(s.ToString(), s.ok());
        ossl::PKeyPtr key2;
        ossl::X509Ptr cert2;
        s = OpenPkcs12(der, "gateway kek", &key2, &cert2);
        CPPUNIT_ASSERT_MESSAGE(s.ToString(), s.ok());
        CPPUNIT_ASSERT_EQUAL(1, EVP_PKEY_eq(key.get(), key2.get()));
        CPPUNIT_ASSERT(CertificateDer(cert.get()) == CertificateDer(cert2.get()));
        CPPUNIT_ASSERT(OpenPkcs12(der, "guess", &key2, &cert2).code() ==
                       Status::Code::kPermissionDenied);
        CPPUNIT_ASSERT(
            OpenPkcs12(der.substr(0, der.size() / 2), "gateway kek", &key2, &cert2).IsCorruption());
        CPPUNIT_ASSERT(
            MakePkcs12(key.get(), cert.get(), nullptr, "", "x", 1, &der).IsInvalidArgument());
        CPPUNIT_ASSERT_EQUAL(0UL, ERR_peek_error());
    }

  private:
    FakeClockEnv env_;
    static ossl::PKeyPtr* ca_key_;
    static ossl::X509Ptr* ca_cert_;
};

ossl::PKeyPtr* CertIssuerTest::ca_key_ = nullptr;
ossl::X509Ptr* CertIssuerTest::ca_cert_ = nullptr;

CPPUNIT_TEST_SUITE_REGISTRATION(CertIssuerTest);

}  // namespace keydir
