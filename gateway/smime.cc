#include "gateway/smime.h"

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pkcs12.h>
#include <openssl/provider.h>
#include <openssl/rsa.h>

#include <cctype>
#include <cstdlib>
#include <mutex>

#include "cert/pkcs12.h"
#include "gateway/mime.h"

namespace keydir {
namespace gateway {
namespace {

struct BioDeleter {
    void operator()(BIO* b) const { BIO_free(b); }
};
struct CmsDeleter {
    void operator()(CMS_ContentInfo* c) const { CMS_ContentInfo_free(c); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;
using CmsPtr = std::unique_ptr<CMS_ContentInfo, CmsDeleter>;

// The OpenSSL error queue as one line, emptied.
std::string OpenSslErrors() {
    std::string out;
    unsigned long e;
    char buf[256];
    while ((e = ERR_get_error()) != 0) {
        ERR_error_string_n(e, buf, sizeof buf);
        if (!out.empty())
            out += "; ";
        out += buf;
    }
    return out.empty() ? "unknown OpenSSL error" : out;
}

BioPtr ReadBio(std::string_view data) {
    return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

std::string BioContents(BIO* b) {
    char* p = nullptr;
    long n = BIO_get_mem_data(b, &p);
    return std::string(p, n > 0 ? static_cast<size_t>(n) : 0);
}

const EVP_CIPHER* CipherFor(Cipher c) {
    switch (c) {
        case Cipher::kAes256Cbc:
            return EVP_aes_256_cbc();
        case Cipher::kAes128Cbc:
            return EVP_aes_128_cbc();
        case Cipher::kAes256Gcm:
            return EVP_aes_256_gcm();
    }
    return EVP_aes_256_cbc();
}

int KeyType(X509* cert) {
    EVP_PKEY* k = X509_get0_pubkey(cert);
    return k ? EVP_PKEY_get_base_id(k) : EVP_PKEY_NONE;
}

// Whether one of the RecipientInfos names `cert` (issuer and serial, or
// subject key identifier): key transport and key agreement alike.
bool IsRecipient(CMS_ContentInfo* cms, X509* cert) {
    STACK_OF(CMS_RecipientInfo)* ris = CMS_get0_RecipientInfos(cms);
    for (int i = 0; i < sk_CMS_RecipientInfo_num(ris); ++i) {
        CMS_RecipientInfo* ri = sk_CMS_RecipientInfo_value(ris, i);
        int type = CMS_RecipientInfo_type(ri);
        if (type == CMS_RECIPINFO_TRANS && CMS_RecipientInfo_ktri_cert_cmp(ri, cert) == 0)
            return true;
        if (type == CMS_RECIPINFO_AGREE) {
            STACK_OF(CMS_RecipientEncryptedKey)* reks = CMS_RecipientInfo_kari_get0_reks(ri);
            for (int j = 0; j < sk_CMS_RecipientEncryptedKey_num(reks); ++j)
                if (CMS_RecipientEncryptedKey_cert_cmp(sk_CMS_RecipientEncryptedKey_value(reks, j),
                                                       cert) == 0)
                    return true;
        }
    }
    return false;
}

}  // namespace

void LoadCryptoProviders() {
    static std::once_flag once;
    static OSSL_PROVIDER* default_provider = nullptr;
    static OSSL_PROVIDER* legacy_provider = nullptr;
    std::call_once(once, [] {
        // Loading "legacy" replaces the implicit default: load both.
        default_provider = OSSL_PROVIDER_load(nullptr, "default");
        legacy_provider = OSSL_PROVIDER_load(nullptr, "legacy");
        if (!legacy_provider)
            ERR_clear_error();
        // Unloaded at exit, before OpenSSL's own clean-up (registered
        // earlier, so run later): a provider never unloaded keeps its
        // library context, which LeakSanitizer reports at exit.
        std::atexit([] {
            if (legacy_provider)
                OSSL_PROVIDER_unload(legacy_provider);
            if (default_provider)
                OSSL_PROVIDER_unload(default_provider);
        });
    });
}

Status ParseCertificateDer(std::string_view der, CertPtr* out) {
    const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
    X509* x = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
    if (!x || p != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) {
        X509_free(x);
        ERR_clear_error();
        return Status::InvalidArgument("not a DER X.509 certificate");
    }
    *out = CertPtr(x, X509Deleter());
    return Status::OK();
}

std::string CertFingerprint(X509* cert) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (!X509_digest(cert, EVP_sha256(), md, &n))
        return "";
    static const char kHex[] = "0123456789abcdef";
    std::string out;
    for (unsigned i = 0; i < n; ++i) {
        out += kHex[md[i] >> 4];
        out += kHex[md[i] & 15];
    }
    return out;
}

bool CanEncryptTo(X509* cert) {
    int t = KeyType(cert);
    return t == EVP_PKEY_RSA || t == EVP_PKEY_EC;
}

Status OpenPkcs12(std::string_view der, const std::string& passphrase, Identity* out) {
    ossl::PKeyPtr key;
    ossl::X509Ptr cert;
    Status s = keydir::OpenPkcs12(der, passphrase, &key, &cert);
    if (s.code() == Status::Code::kPermissionDenied)
        return Status::PermissionDenied(
            "the PKCS#12 does not open with the key password (wrong --key-password-file?)");
    if (!s.ok())
        return Status::InvalidArgument("userPKCS12: " + s.message());
    if (X509_check_private_key(cert.get(), key.get()) != 1) {
        ERR_clear_error();
        return Status::InvalidArgument("the PKCS#12's key does not match its certificate");
    }
    Identity id;
    id.key = KeyPtr(key.release(), PkeyDeleter());
    id.cert = CertPtr(cert.release(), X509Deleter());
    *out = std::move(id);
    return Status::OK();
}

Status ParseCipher(std::string_view name, Cipher* out) {
    if (name == "aes-256-cbc") {
        *out = Cipher::kAes256Cbc;
    } else if (name == "aes-128-cbc") {
        *out = Cipher::kAes128Cbc;
    } else if (name == "aes-256-gcm") {
        *out = Cipher::kAes256Gcm;
    } else {
        return Status::InvalidArgument("unknown cipher '" + std::string(name) +
                                       "' (expected aes-256-cbc, aes-128-cbc or aes-256-gcm)");
    }
    return Status::OK();
}

const char* CipherName(Cipher c) {
    switch (c) {
        case Cipher::kAes256Cbc:
            return "aes-256-cbc";
        case Cipher::kAes128Cbc:
            return "aes-128-cbc";
        case Cipher::kAes256Gcm:
            return "aes-256-gcm";
    }
    return "?";
}

Status ParseRsaPadding(std::string_view name, RsaPadding* out) {
    if (name == "pkcs1") {
        *out = RsaPadding::kPkcs1v15;
    } else if (name == "oaep") {
        *out = RsaPadding::kOaep;
    } else {
        return Status::InvalidArgument("unknown RSA padding '" + std::string(name) +
                                       "' (expected pkcs1 or oaep)");
    }
    return Status::OK();
}

const char* RsaPaddingName(RsaPadding p) {
    return p == RsaPadding::kOaep ? "oaep" : "pkcs1";
}

Status EncryptEntity(const std::vector<CertPtr>& certs, std::string_view entity,
                     const EncryptOptions& options, std::string* der, std::string* smime_type) {
    if (certs.empty())
        return Status::InvalidArgument("no recipient certificate to encrypt to");
    ERR_clear_error();
    BioPtr in = ReadBio(entity);
    const int flags = CMS_BINARY | CMS_PARTIAL;
    CmsPtr cms(CMS_encrypt(nullptr, in.get(), CipherFor(options.cipher), flags));
    if (!cms)
        return Status::InvalidArgument("CMS_encrypt: " + OpenSslErrors());
    for (const CertPtr& cert : certs) {
        int type = KeyType(cert.get());
        bool tune = type == EVP_PKEY_EC ||
                    (type == EVP_PKEY_RSA && options.rsa_padding == RsaPadding::kOaep);
        CMS_RecipientInfo* ri =
            CMS_add1_recipient_cert(cms.get(), cert.get(), flags | (tune ? CMS_KEY_PARAM : 0));
        if (!ri)
            return Status::InvalidArgument("cannot encrypt to the certificate " +
                                           CertFingerprint(cert.get()) + ": " + OpenSslErrors());
        if (!tune)
            continue;
        EVP_PKEY_CTX* pctx = CMS_RecipientInfo_get0_pkey_ctx(ri);
        bool ok = pctx != nullptr;
        if (ok && type == EVP_PKEY_RSA) {
            ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_OAEP_PADDING) > 0 &&
                 EVP_PKEY_CTX_set_rsa_oaep_md(pctx, EVP_sha256()) > 0 &&
                 EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) > 0;
        } else if (ok) {
            ok = EVP_PKEY_CTX_set_ecdh_kdf_md(pctx, EVP_sha256()) > 0;
        }
        if (!ok)
            return Status::InvalidArgument("cannot set key parameters: " + OpenSslErrors());
    }
    if (!CMS_final(cms.get(), in.get(), nullptr, CMS_BINARY))
        return Status::InvalidArgument("CMS_final: " + OpenSslErrors());
    // One allocation of the right size (a memory BIO would grow and copy).
    int len = i2d_CMS_ContentInfo(cms.get(), nullptr);
    if (len <= 0)
        return Status::InvalidArgument("cannot encode the CMS: " + OpenSslErrors());
    der->resize(static_cast<size_t>(len));
    unsigned char* p = reinterpret_cast<unsigned char*>(&(*der)[0]);
    if (i2d_CMS_ContentInfo(cms.get(), &p) != len)
        return Status::InvalidArgument("cannot encode the CMS: " + OpenSslErrors());
    *smime_type = options.cipher == Cipher::kAes256Gcm ? "authEnveloped-data" : "enveloped-data";
    return Status::OK();
}

Status SignEntity(const Identity& signer, std::string_view entity, std::string* signed_entity) {
    ERR_clear_error();
    BioPtr in = ReadBio(entity);
    // CMS_STREAM: the signature is computed while SMIME_write_CMS writes the
    // content part (signing first and writing after would sign twice).
    const int flags = CMS_DETACHED | CMS_BINARY | CMS_STREAM;
    CmsPtr cms(CMS_sign(signer.cert.get(), signer.key.get(), nullptr, in.get(), flags));
    if (!cms)
        return Status::InvalidArgument("CMS_sign: " + OpenSslErrors());
    BioPtr out(BIO_new(BIO_s_mem()));
    if (!SMIME_write_CMS(out.get(), cms.get(), in.get(), flags | CMS_CRLFEOL))
        return Status::InvalidArgument("SMIME_write_CMS: " + OpenSslErrors());
    // The signed part is already CRLF; OpenSSL writes the signature's base64
    // with bare LF: make every line end CRLF.
    *signed_entity = ToCrlf(BioContents(out.get()));
    return Status::OK();
}

Status DecodeBase64Body(std::string_view body, std::string* der) {
    std::string clean;
    clean.reserve(body.size());
    for (char c : body) {
        if (std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/' || c == '=') {
            clean += c;
        } else if (!std::isspace(static_cast<unsigned char>(c))) {
            return Status::InvalidArgument("the S/MIME body is not base64");
        }
    }
    if (clean.empty() || clean.size() % 4 != 0)
        return Status::InvalidArgument("the S/MIME body is not complete base64");
    std::string out(clean.size() / 4 * 3, '\0');
    int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(&out[0]),
                            reinterpret_cast<const unsigned char*>(clean.data()),
                            static_cast<int>(clean.size()));
    if (n < 0)
        return Status::InvalidArgument("the S/MIME body is not base64");
    size_t pad = 0;
    if (clean.back() == '=')
        ++pad;
    if (clean.size() >= 2 && clean[clean.size() - 2] == '=')
        ++pad;
    out.resize(static_cast<size_t>(n) - pad);
    *der = std::move(out);
    return Status::OK();
}

CmsKind ClassifyCms(std::string_view der) {
    ERR_clear_error();
    BioPtr in = ReadBio(der);
    CmsPtr cms(d2i_CMS_bio(in.get(), nullptr));
    if (!cms) {
        ERR_clear_error();
        return CmsKind::kNotCms;
    }
    switch (OBJ_obj2nid(CMS_get0_type(cms.get()))) {
        case NID_pkcs7_enveloped:
            return CmsKind::kEnveloped;
        case NID_id_smime_ct_authEnvelopedData:
            return CmsKind::kAuthEnveloped;
        default:
            return CmsKind::kOther;
    }
}

Status DecryptDer(std::string_view der, const Identity& identity, std::string* entity) {
    ERR_clear_error();
    BioPtr in = ReadBio(der);
    CmsPtr cms(d2i_CMS_bio(in.get(), nullptr));
    if (!cms) {
        ERR_clear_error();
        return Status::InvalidArgument("the S/MIME body is not a CMS structure");
    }
    int nid = OBJ_obj2nid(CMS_get0_type(cms.get()));
    if (nid != NID_pkcs7_enveloped && nid != NID_id_smime_ct_authEnvelopedData)
        return Status::InvalidArgument("the CMS structure is not enveloped data");
    if (!IsRecipient(cms.get(), identity.cert.get()))
        return Status::NotFound("the message is not encrypted to the member's certificate " +
                                CertFingerprint(identity.cert.get()));
    BioPtr out(BIO_new(BIO_s_mem()));
    if (!CMS_decrypt(cms.get(), identity.key.get(), identity.cert.get(), nullptr, out.get(), 0))
        return Status::Corruption("decryption failed: " + OpenSslErrors());
    *entity = ToCrlf(BioContents(out.get()));
    return Status::OK();
}

}  // namespace gateway
}  // namespace keydir
