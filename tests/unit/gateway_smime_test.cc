#include <cppunit/extensions/HelperMacros.h>

#include <openssl/bio.h>
#include <openssl/cms.h>

#include "gateway/mime.h"
#include "gateway/smime.h"
#include "tests/unit/gateway_test_pki.h"

namespace keydir {
namespace gateway {

namespace {

const char kEntity[] =
    "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    "Gr\xc3\xbc\xc3\x9f"
    "e\r\n.leading dot\r\n";

}  // namespace

class GatewaySmimeTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(GatewaySmimeTest);
    CPPUNIT_TEST(testEncryptRsaAndEc);
    CPPUNIT_TEST(testOaepAndGcm);
    CPPUNIT_TEST(testNotARecipient);
    CPPUNIT_TEST(testSignThenEncrypt);
    CPPUNIT_TEST(testPkcs12);
    CPPUNIT_TEST(testBase64AndBadInput);
    CPPUNIT_TEST_SUITE_END();

  public:
    void setUp() override { LoadCryptoProviders(); }

    void testEncryptRsaAndEc() {
        Identity alice = pki_.Member("alice@corp.test", false);
        Identity bob = pki_.Member("bob@corp.test", true);
        std::string der, type;
        CPPUNIT_ASSERT(
            EncryptEntity({alice.cert, bob.cert}, kEntity, EncryptOptions(), &der, &type).ok());
        CPPUNIT_ASSERT_EQUAL(std::string("enveloped-data"), type);
        CPPUNIT_ASSERT_EQUAL(2, testpki::RecipientCount(der));
        std::string out;
        CPPUNIT_ASSERT(DecryptDer(der, alice, &out).ok());
        CPPUNIT_ASSERT_EQUAL(std::string(kEntity), out);
        out.clear();
        CPPUNIT_ASSERT(DecryptDer(der, bob, &out).ok());
        CPPUNIT_ASSERT_EQUAL(std::string(kEntity), out);
        CPPUNIT_ASSERT(CanEncryptTo(alice.cert.get()) && CanEncryptTo(bob.cert.get()));
        CPPUNIT_ASSERT_EQUAL(size_t(64), CertFingerprint(alice.cert.get()).size());
    }
    void testOaepAndGcm() {
        Identity alice = pki_.Member("alice@corp.test", false);
        EncryptOptions o;
        o.rsa_padding = RsaPadding::kOaep;
        o.cipher = Cipher::kAes256Gcm;
        std::string der, type, out;
        CPPUNIT_ASSERT(EncryptEntity({alice.cert}, kEntity, o, &der, &type).ok());
        CPPUNIT_ASSERT_EQUAL(std::string("authEnveloped-data"), type);
        CPPUNIT_ASSERT(DecryptDer(der, alice, &out).ok());
        CPPUNIT_ASSERT_EQUAL(std::string(kEntity), out);
        // The OAEP parameters are in the RecipientInfo.
        BIO* in = BIO_new_mem_buf(der.data(), static_cast<int>(der.size()));
        CMS_ContentInfo* cms = d2i_CMS_bio(in, nullptr);
        BIO_free(in);
        X509_ALGOR* alg = nullptr;
        CMS_RecipientInfo* ri = sk_CMS_RecipientInfo_value(CMS_get0_RecipientInfos(cms), 0);
        CMS_RecipientInfo_ktri_get0_algs(ri, nullptr, nullptr, &alg);
        const ASN1_OBJECT* oid = nullptr;
        X509_ALGOR_get0(&oid, nullptr, nullptr, alg);
        CPPUNIT_ASSERT_EQUAL(NID_rsaesOaep, OBJ_obj2nid(oid));
        CMS_ContentInfo_free(cms);
        Cipher c;
        CPPUNIT_ASSERT(ParseCipher("des", &c).IsInvalidArgument());
        RsaPadding p;
        CPPUNIT_ASSERT(ParseRsaPadding("pss", &p).IsInvalidArgument());
    }
    void testNotARecipient() {
        Identity alice = pki_.Member("alice@corp.test");
        Identity eve = pki_.Member("eve@corp.test");
        std::string der, type, out;
        CPPUNIT_ASSERT(EncryptEntity({alice.cert}, kEntity, EncryptOptions(), &der, &type).ok());
        Status s = DecryptDer(der, eve, &out);
        CPPUNIT_ASSERT(s.IsNotFound());
        CPPUNIT_ASSERT(out.empty());
        CPPUNIT_ASSERT(
            EncryptEntity({}, kEntity, EncryptOptions(), &der, &type).IsInvalidArgument());
    }
    void testSignThenEncrypt() {
        Identity sender = pki_.Member("sender@corp.test");
        Identity alice = pki_.Member("alice@corp.test");
        std::string signed_entity;
        CPPUNIT_ASSERT(SignEntity(sender, kEntity, &signed_entity).ok());
        Message m = Message::Parse(signed_entity);
        ContentType ct;
        CPPUNIT_ASSERT(m.GetContentType(&ct).ok());
        CPPUNIT_ASSERT(ct.Is("multipart", "signed"));
        CPPUNIT_ASSERT(CheckMimeStructure(m).ok());
        // The signed part is the entity itself, byte for byte.
        CPPUNIT_ASSERT(signed_entity.find(kEntity) != std::string::npos);
        CPPUNIT_ASSERT(signed_entity.find("\n") == signed_entity.find("\r\n") + 1);
        std::string der, type, out;
        CPPUNIT_ASSERT(
            EncryptEntity({alice.cert}, signed_entity, EncryptOptions(), &der, &type).ok());
        CPPUNIT_ASSERT(DecryptDer(der, alice, &out).ok());
        CPPUNIT_ASSERT_EQUAL(signed_entity, out);
        // OpenSSL verifies the signature against the CA.
        BIO* in = BIO_new_mem_buf(out.data(), static_cast<int>(out.size()));
        BIO* content = nullptr;
        CMS_ContentInfo* cms = SMIME_read_CMS(in, &content);
        CPPUNIT_ASSERT(cms != nullptr);
        X509_STORE* store = X509_STORE_new();
        X509_STORE_add_cert(store, pki_.ca.get());
        BIO* verified = BIO_new(BIO_s_mem());
        int ok = CMS_verify(cms, nullptr, store, content, verified, CMS_BINARY);
        CPPUNIT_ASSERT_EQUAL(1, ok);
        char* p = nullptr;
        long n = BIO_get_mem_data(verified, &p);
        CPPUNIT_ASSERT_EQUAL(std::string(kEntity), std::string(p, n));
        BIO_free(verified);
        X509_STORE_free(store);
        CMS_ContentInfo_free(cms);
        BIO_free(content);
        BIO_free(in);
    }
    void testPkcs12() {
        Identity alice = pki_.Member("alice@corp.test", true);
        std::string p12 = testpki::Pkcs12Der(alice, "s3cret pass");
        Identity back;
        CPPUNIT_ASSERT(OpenPkcs12(p12, "s3cret pass", &back).ok());
        CPPUNIT_ASSERT_EQUAL(CertFingerprint(alice.cert.get()), CertFingerprint(back.cert.get()));
        Status s = OpenPkcs12(p12, "wrong", &back);
        CPPUNIT_ASSERT_EQUAL(Status::Code::kPermissionDenied, s.code());
        CPPUNIT_ASSERT(OpenPkcs12("not a pkcs12", "x", &back).IsInvalidArgument());
    }
    void testBase64AndBadInput() {
        std::string der;
        CPPUNIT_ASSERT(DecodeBase64Body("YWJj\r\nZA==\r\n", &der).ok());
        CPPUNIT_ASSERT_EQUAL(std::string("abcd"), der);
        CPPUNIT_ASSERT(DecodeBase64Body("YW*j\r\n", &der).IsInvalidArgument());
        CPPUNIT_ASSERT(DecodeBase64Body("YWJ\r\n", &der).IsInvalidArgument());
        Identity alice = pki_.Member("alice@corp.test");
        std::string out;
        CPPUNIT_ASSERT(DecryptDer("garbage", alice, &out).IsInvalidArgument());
        CertPtr c;
        CPPUNIT_ASSERT(ParseCertificateDer("garbage", &c).IsInvalidArgument());
        CPPUNIT_ASSERT(ParseCertificateDer(testpki::Der(alice.cert.get()), &c).ok());
    }

  private:
    testpki::Pki pki_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(GatewaySmimeTest);

}  // namespace gateway
}  // namespace keydir
