#include <cppunit/extensions/HelperMacros.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "tools/bench/member_factory.h"

namespace keydir {
namespace bench {

class BenchMemberFactoryTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(BenchMemberFactoryTest);
    CPPUNIT_TEST(testCertificateIsRealAndForTheAddress);
    CPPUNIT_TEST(testRsaKeyUsage);
    CPPUNIT_TEST(testDerivedAttributes);
    CPPUNIT_TEST(testBlobsAreSizedAndReproducible);
    CPPUNIT_TEST(testLdif);
    CPPUNIT_TEST(testZoneLdif);
    CPPUNIT_TEST(testBadInput);
    CPPUNIT_TEST_SUITE_END();

    static std::unique_ptr<MemberFactory> Factory(uint64_t seed = 1) {
        MemberFactoryOptions o;
        o.member_key = "p256";  // fast for tests; the shape is the same
        o.seed = seed;
        o.now = 1700000000;
        std::unique_ptr<MemberFactory> f;
        Status s = MemberFactory::Create(o, &f);
        CPPUNIT_ASSERT_MESSAGE(s.ToString(), s.ok());
        return f;
    }

  public:
    void testCertificateIsRealAndForTheAddress() {
        auto f = Factory();
        MemberEntry m;
        CPPUNIT_ASSERT(f->Make("alice@example.com", "dc=example,dc=com", 0, &m).ok());
        CPPUNIT_ASSERT_EQUAL(std::string("mail=alice@example.com,dc=example,dc=com"), m.dn);
        const unsigned char* p = reinterpret_cast<const unsigned char*>(m.certificate_der.data());
        X509* x = d2i_X509(nullptr, &p, static_cast<long>(m.certificate_der.size()));
        CPPUNIT_ASSERT(x != nullptr);
        // Verifies under the benchmark CA.
        std::string pem = f->CaCertificatePem();
        BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
        X509* ca = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
        BIO_free(bio);
        CPPUNIT_ASSERT(ca != nullptr);
        CPPUNIT_ASSERT_EQUAL(1, X509_verify(x, X509_get0_pubkey(ca)));
        // SAN rfc822Name is the address.
        GENERAL_NAMES* names = static_cast<GENERAL_NAMES*>(
            X509_get_ext_d2i(x, NID_subject_alt_name, nullptr, nullptr));
        CPPUNIT_ASSERT(names != nullptr);
        CPPUNIT_ASSERT_EQUAL(1, sk_GENERAL_NAME_num(names));
        GENERAL_NAME* gn = sk_GENERAL_NAME_value(names, 0);
        CPPUNIT_ASSERT_EQUAL(GEN_EMAIL, gn->type);
        CPPUNIT_ASSERT_EQUAL(
            std::string("alice@example.com"),
            std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(gn->d.rfc822Name)),
                        ASN1_STRING_length(gn->d.rfc822Name)));
        GENERAL_NAMES_free(names);
        // Key usage for encryption (an EC key agrees on the content key),
        // extended key usage for e-mail.
        CPPUNIT_ASSERT(X509_get_key_usage(x) & KU_KEY_AGREEMENT);
        CPPUNIT_ASSERT(!(X509_get_key_usage(x) & KU_KEY_ENCIPHERMENT));
        CPPUNIT_ASSERT(X509_get_extended_key_usage(x) & XKU_SMIME);
        // Valid at the factory's "now".
        CPPUNIT_ASSERT(X509_cmp_time(X509_get0_notBefore(x), nullptr) < 0);
        X509_free(x);
        X509_free(ca);
    }

    // An RSA key encrypts the content key: keyEncipherment.
    void testRsaKeyUsage() {
        MemberFactoryOptions o;
        o.member_key = "rsa2048";
        std::unique_ptr<MemberFactory> f;
        CPPUNIT_ASSERT(MemberFactory::Create(o, &f).ok());
        MemberEntry m;
        CPPUNIT_ASSERT(f->Make("rsa@example.com", "dc=example,dc=com", 0, &m).ok());
        const unsigned char* p = reinterpret_cast<const unsigned char*>(m.certificate_der.data());
        X509* x = d2i_X509(nullptr, &p, static_cast<long>(m.certificate_der.size()));
        CPPUNIT_ASSERT(x != nullptr);
        CPPUNIT_ASSERT(X509_get_key_usage(x) & KU_KEY_ENCIPHERMENT);
        CPPUNIT_ASSERT(!(X509_get_key_usage(x) & KU_KEY_AGREEMENT));
        X509_free(x);
    }

    void testDerivedAttributes() {
        auto f = Factory();
        MemberEntry m;
        CPPUNIT_ASSERT(f->Make("bob@example.com", "dc=example,dc=com", 5, &m).ok());
        unsigned char md[32];
        unsigned int len = 0;
        EVP_Digest(m.certificate_der.data(), m.certificate_der.size(), md, &len, EVP_sha256(),
                   nullptr);
        char hex[65];
        for (int i = 0; i < 32; ++i)
            snprintf(hex + 2 * i, 3, "%02x", md[i]);
        CPPUNIT_ASSERT_EQUAL(std::string(hex), m.fingerprint);
        // 825 days after 2023-11-14 22:13:20 UTC.
        CPPUNIT_ASSERT_EQUAL(std::string("20260216221320Z"), m.not_after);
        MemberEntry other;
        CPPUNIT_ASSERT(f->Make("carol@example.com", "dc=example,dc=com", 6, &other).ok());
        CPPUNIT_ASSERT(other.fingerprint != m.fingerprint);
    }

    void testBlobsAreSizedAndReproducible() {
        auto f = Factory(3), g = Factory(3);
        MemberEntry a, b, c;
        CPPUNIT_ASSERT(f->Make("a@x.org", "dc=x,dc=org", 7, &a).ok());
        CPPUNIT_ASSERT(g->Make("a@x.org", "dc=x,dc=org", 7, &b).ok());
        CPPUNIT_ASSERT(f->Make("a@x.org", "dc=x,dc=org", 8, &c).ok());
        CPPUNIT_ASSERT_EQUAL(size_t{3072}, a.pkcs12.size());
        CPPUNIT_ASSERT(a.pkcs12 == b.pkcs12);
        CPPUNIT_ASSERT(a.pkcs12 != c.pkcs12);
    }

    void testLdif() {
        auto f = Factory();
        MemberEntry m;
        CPPUNIT_ASSERT(f->Make("a@x.org", "dc=x,dc=org", 1, &m).ok());
        std::string ldif = MemberLdif(m);
        CPPUNIT_ASSERT(ldif.rfind("dn: mail=a@x.org,dc=x,dc=org\n", 0) == 0);
        CPPUNIT_ASSERT(ldif.find("\nobjectClass: keydirMember\n") != std::string::npos);
        CPPUNIT_ASSERT(ldif.find("\nuserCertificate;binary:: MII") != std::string::npos);
        CPPUNIT_ASSERT(ldif.find("\nuserPKCS12:: ") != std::string::npos);
        CPPUNIT_ASSERT(ldif.find("\nkeydirFingerprint: " + m.fingerprint + "\n") !=
                       std::string::npos);
        CPPUNIT_ASSERT(ldif.size() > 2 && ldif.substr(ldif.size() - 2) == "\n\n");
    }

    void testZoneLdif() {
        std::string ldif;
        CPPUNIT_ASSERT(ZoneLdif("dc=example,dc=com", &ldif).ok());
        CPPUNIT_ASSERT_EQUAL(std::string("dn: dc=example,dc=com\nobjectClass: domain\n"
                                         "objectClass: keydirZone\ndc: example\n\n"),
                             ldif);
        CPPUNIT_ASSERT(ZoneLdif("ou=people,o=x", &ldif).ok());
        CPPUNIT_ASSERT(ldif.find("ou: people") != std::string::npos);
        CPPUNIT_ASSERT(ZoneLdif("cn=x,dc=y", &ldif).IsInvalidArgument());
        CPPUNIT_ASSERT(ZoneLdif("nodn", &ldif).IsInvalidArgument());
    }

    void testBadInput() {
        auto f = Factory();
        MemberEntry m;
        CPPUNIT_ASSERT(f->Make("no-at-sign", "dc=x", 0, &m).IsInvalidArgument());
        CPPUNIT_ASSERT(f->Make("@x.org", "dc=x", 0, &m).IsInvalidArgument());
        MemberFactoryOptions o;
        o.member_key = "dsa";
        std::unique_ptr<MemberFactory> bad;
        CPPUNIT_ASSERT(MemberFactory::Create(o, &bad).IsInvalidArgument());
        o.member_key = "p256";
        o.validity_days = 0;
        CPPUNIT_ASSERT(MemberFactory::Create(o, &bad).IsInvalidArgument());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(BenchMemberFactoryTest);

}  // namespace bench
}  // namespace keydir
