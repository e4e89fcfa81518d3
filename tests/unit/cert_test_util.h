// Certificates made in the tests with OpenSSL's own APIs (independent of
// the lib/cert code under test), so each check can be given exactly the
// certificate it must accept or refuse.
#ifndef KEYDIR_TESTS_UNIT_CERT_TEST_UTIL_H
#define KEYDIR_TESTS_UNIT_CERT_TEST_UTIL_H

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace keydir {
namespace testcert {

struct Free {
    void operator()(X509* p) const { X509_free(p); }
    void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using Cert = std::unique_ptr<X509, Free>;
using Key = std::unique_ptr<EVP_PKEY, Free>;

inline void Check(bool ok, const char* what) {
    if (!ok) {
        ERR_print_errors_fp(stderr);
        throw std::runtime_error(std::string("test certificate: ") + what);
    }
}

inline Key RsaKey(unsigned bits = 2048) {
    Key k(EVP_RSA_gen(bits));
    Check(k != nullptr, "RSA key");
    return k;
}
inline Key EcKey() {
    Key k(EVP_EC_gen("P-256"));
    Check(k != nullptr, "EC key");
    return k;
}
inline Key Ed25519Key() {
    Key k(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
    Check(k != nullptr, "Ed25519 key");
    return k;
}

// What a test certificate contains. Empty strings leave an extension out.
struct Spec {
    std::string cn = "test member";
    std::string subject_email;                    // subject emailAddress
    std::string san = "email:alice@example.com";  // X509V3 config syntax
    std::string key_usage = "critical,digitalSignature,keyEncipherment";
    std::string ext_key_usage = "emailProtection";
    std::string basic_constraints;   // "critical,CA:TRUE" for a CA
    long not_before_offset = -3600;  // seconds from `now`
    long not_after_offset = 365L * 86400;
    long serial = 1;
};

inline void AddExt(X509* cert, X509V3_CTX* ctx, int nid, const std::string& value) {
    if (value.empty())
        return;
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, ctx, nid, value.c_str());
    Check(ext != nullptr, "extension");
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
}

// A certificate for `key`, issued by (issuer, issuer_key), or self-signed
// when issuer is null. `now` is Unix seconds.
inline Cert Make(const Spec& spec, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key, time_t now) {
    Cert cert(X509_new());
    Check(cert != nullptr, "X509_new");
    X509_set_version(cert.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), spec.serial);
    X509_time_adj(X509_getm_notBefore(cert.get()), spec.not_before_offset, &now);
    X509_time_adj(X509_getm_notAfter(cert.get()), spec.not_after_offset, &now);
    X509_NAME* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(spec.cn.c_str()), -1, -1, 0);
    if (!spec.subject_email.empty())
        X509_NAME_add_entry_by_NID(
            name, NID_pkcs9_emailAddress, MBSTRING_ASC,
            reinterpret_cast<const unsigned char*>(spec.subject_email.c_str()), -1, -1, 0);
    X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : name);
    X509_set_pubkey(cert.get(), key);
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer ? issuer : cert.get(), cert.get(), nullptr, nullptr, 0);
    AddExt(cert.get(), &ctx, NID_basic_constraints, spec.basic_constraints);
    AddExt(cert.get(), &ctx, NID_key_usage, spec.key_usage);
    AddExt(cert.get(), &ctx, NID_ext_key_usage, spec.ext_key_usage);
    AddExt(cert.get(), &ctx, NID_subject_alt_name, spec.san);
    AddExt(cert.get(), &ctx, NID_subject_key_identifier, "hash");
    EVP_PKEY* signer = issuer_key ? issuer_key : key;
    bool ed = EVP_PKEY_get_base_id(signer) == EVP_PKEY_ED25519;
    Check(X509_sign(cert.get(), signer, ed ? nullptr : EVP_sha256()) > 0, "sign");
    return cert;
}

inline std::string Der(X509* cert) {
    unsigned char* buf = nullptr;
    int len = i2d_X509(cert, &buf);
    Check(len > 0, "i2d_X509");
    std::string der(reinterpret_cast<char*>(buf), static_cast<size_t>(len));
    OPENSSL_free(buf);
    return der;
}

inline std::string Pem(X509* cert) {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(bio, cert);
    char* data = nullptr;
    long len = BIO_get_mem_data(bio, &data);
    std::string pem(data, static_cast<size_t>(len));
    BIO_free(bio);
    return pem;
}

// A self-signed CA certificate and its key.
struct Ca {
    Key key;
    Cert cert;
};
inline Ca MakeCa(const std::string& cn, time_t now) {
    Ca ca;
    ca.key = EcKey();
    Spec spec;
    spec.cn = cn;
    spec.san.clear();
    spec.key_usage = "critical,keyCertSign,cRLSign";
    spec.ext_key_usage.clear();
    spec.basic_constraints = "critical,CA:TRUE";
    spec.not_after_offset = 10L * 365 * 86400;
    ca.cert = Make(spec, ca.key.get(), nullptr, nullptr, now);
    return ca;
}

}  // namespace testcert
}  // namespace keydir

#endif  // KEYDIR_TESTS_UNIT_CERT_TEST_UTIL_H
