// A throw-away PKI for the gateway's unit tests: a CA and member
// certificates (RSA or EC, e-mail in subjectAltName), made in memory.
#ifndef KEYDIR_TESTS_UNIT_GATEWAY_TEST_PKI_H
#define KEYDIR_TESTS_UNIT_GATEWAY_TEST_PKI_H

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <stdexcept>
#include <string>

#include "gateway/smime.h"

namespace keydir {
namespace testpki {

inline gateway::KeyPtr NewKey(bool ec) {
    EVP_PKEY* k = ec ? EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")
                     : EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048));
    if (!k)
        throw std::runtime_error("keygen failed");
    return gateway::KeyPtr(k, gateway::PkeyDeleter());
}

inline void AddExt(X509* cert, X509* issuer, int nid, const char* value) {
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    if (!ext)
        throw std::runtime_error("extension failed");
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
}

// A certificate for `key`; self-signed CA when issuer is null.
inline gateway::CertPtr MakeCert(EVP_PKEY* key, const std::string& cn, const std::string& email,
                                 X509* issuer, EVP_PKEY* issuer_key, long not_before_days = -1,
                                 long days = 365) {
    X509* x = X509_new();
    X509_set_version(x, X509_VERSION_3);
    BIGNUM* bn = BN_new();
    BN_rand(bn, 64, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY);
    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
    BN_free(bn);
    X509_gmtime_adj(X509_getm_notBefore(x), not_before_days * 86400);
    X509_gmtime_adj(X509_getm_notAfter(x), (not_before_days + days) * 86400);
    X509_set_pubkey(x, key);
    X509_NAME* name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
    X509* iss = issuer ? issuer : x;
    if (!issuer) {
        AddExt(x, iss, NID_basic_constraints, "critical,CA:TRUE");
        AddExt(x, iss, NID_key_usage, "critical,keyCertSign,cRLSign");
        AddExt(x, iss, NID_subject_key_identifier, "hash");
    } else {
        bool ec = EVP_PKEY_get_base_id(key) == EVP_PKEY_EC;
        AddExt(x, iss, NID_basic_constraints, "critical,CA:FALSE");
        AddExt(x, iss, NID_key_usage,
               ec ? "critical,digitalSignature,keyAgreement"
                  : "critical,digitalSignature,keyEncipherment");
        AddExt(x, iss, NID_ext_key_usage, "emailProtection");
        AddExt(x, iss, NID_subject_alt_name, ("email:" + email).c_str());
        AddExt(x, iss, NID_subject_key_identifier, "hash");
        AddExt(x, iss, NID_authority_key_identifier, "keyid");
    }
    X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256());
    return gateway::CertPtr(x, gateway::X509Deleter());
}

inline std::string Der(X509* cert) {
    unsigned char* p = nullptr;
    int n = i2d_X509(cert, &p);
    std::string out(reinterpret_cast<char*>(p), n);
    OPENSSL_free(p);
    return out;
}

inline std::string Pkcs12Der(const gateway::Identity& id, const std::string& pass) {
    PKCS12* p12 =
        PKCS12_create(pass.c_str(), "member", id.key.get(), id.cert.get(), nullptr, 0, 0, 0, 0, 0);
    if (!p12)
        throw std::runtime_error("PKCS12_create failed");
    unsigned char* p = nullptr;
    int n = i2d_PKCS12(p12, &p);
    std::string out(reinterpret_cast<char*>(p), n);
    OPENSSL_free(p);
    PKCS12_free(p12);
    return out;
}

// A CA and a way to make members.
struct Pki {
    gateway::KeyPtr ca_key = NewKey(true);
    gateway::CertPtr ca = MakeCert(ca_key.get(), "Test CA", "", nullptr, nullptr, -1, 3650);

    gateway::Identity Member(const std::string& email, bool ec = false, long not_before_days = -1,
                             long days = 365) {
        gateway::Identity id;
        id.key = NewKey(ec);
        id.cert =
            MakeCert(id.key.get(), email, email, ca.get(), ca_key.get(), not_before_days, days);
        return id;
    }
};

// Opaque (not detached) CMS SignedData over `content`, DER: what an
// application/pkcs7-mime; smime-type=signed-data body holds.
inline std::string OpaqueSignedDer(const gateway::Identity& signer, const std::string& content) {
    BIO* in = BIO_new_mem_buf(content.data(), static_cast<int>(content.size()));
    CMS_ContentInfo* cms =
        CMS_sign(signer.cert.get(), signer.key.get(), nullptr, in, CMS_BINARY | CMS_NOSMIMECAP);
    BIO_free(in);
    std::string der;
    if (cms) {
        unsigned char* buf = nullptr;
        int n = i2d_CMS_ContentInfo(cms, &buf);
        if (n > 0)
            der.assign(reinterpret_cast<char*>(buf), static_cast<size_t>(n));
        OPENSSL_free(buf);
        CMS_ContentInfo_free(cms);
    }
    return der;
}

// The RecipientInfos of a DER CMS, counted (-1: not a CMS).
inline int RecipientCount(const std::string& der) {
    BIO* in = BIO_new_mem_buf(der.data(), static_cast<int>(der.size()));
    CMS_ContentInfo* cms = d2i_CMS_bio(in, nullptr);
    BIO_free(in);
    if (!cms)
        return -1;
    int n = sk_CMS_RecipientInfo_num(CMS_get0_RecipientInfos(cms));
    CMS_ContentInfo_free(cms);
    return n;
}

}  // namespace testpki
}  // namespace keydir

#endif  // KEYDIR_TESTS_UNIT_GATEWAY_TEST_PKI_H
