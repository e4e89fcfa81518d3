// S/MIME with OpenSSL 3 CMS: encrypt a MIME entity to several certificates
// (EnvelopedData, or AuthEnvelopedData for AES-GCM), sign one (detached,
// multipart/signed), and decrypt an EnvelopedData with a member's key.
#ifndef KEYDIR_GATEWAY_SMIME_H
#define KEYDIR_GATEWAY_SMIME_H

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "base/status.h"

namespace keydir {
namespace gateway {

struct X509Deleter {
    void operator()(X509* x) const { X509_free(x); }
};
struct PkeyDeleter {
    void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using CertPtr = std::shared_ptr<X509>;
using KeyPtr = std::shared_ptr<EVP_PKEY>;

// Loads the "legacy" provider next to "default" so that PKCS#12 files made
// with RC2/3DES (older tools) open; harmless when it is missing.
void LoadCryptoProviders();

// A DER certificate; InvalidArgument when it does not parse.
Status ParseCertificateDer(std::string_view der, CertPtr* out);

// SHA-256 of the certificate's DER, lowercase hex.
std::string CertFingerprint(X509* cert);

// True when OpenSSL 3 CMS can encrypt to this key: RSA or EC (not X25519/X448).
bool CanEncryptTo(X509* cert);

// A member's certificate and private key.
struct Identity {
    CertPtr cert;
    KeyPtr key;
};

// Opens a DER PKCS#12 with `passphrase` (lib/cert's OpenPkcs12).
// PermissionDenied when the passphrase is wrong, InvalidArgument when the
// data is not a PKCS#12 or holds no matching key and certificate.
Status OpenPkcs12(std::string_view der, const std::string& passphrase, Identity* out);

enum class Cipher { kAes256Cbc, kAes128Cbc, kAes256Gcm };
enum class RsaPadding { kPkcs1v15, kOaep };

Status ParseCipher(std::string_view name, Cipher* out);
const char* CipherName(Cipher c);
Status ParseRsaPadding(std::string_view name, RsaPadding* out);
const char* RsaPaddingName(RsaPadding p);

struct EncryptOptions {
    Cipher cipher = Cipher::kAes256Cbc;
    RsaPadding rsa_padding = RsaPadding::kPkcs1v15;
};

// Encrypts the canonical (CRLF) MIME `entity` to every certificate (one
// RecipientInfo each: key transport for RSA, ECDH key agreement with a
// SHA-256 KDF for EC). Sets *der to the ContentInfo and *smime_type to
// "enveloped-data" or "authEnveloped-data".
Status EncryptEntity(const std::vector<CertPtr>& certs, std::string_view entity,
                     const EncryptOptions& options, std::string* der, std::string* smime_type);

// Signs the canonical MIME `entity` with SHA-256 (detached) and sets
// *signed_entity to the multipart/signed entity (CRLF) that contains it.
Status SignEntity(const Identity& signer, std::string_view entity, std::string* signed_entity);

// Decodes the base64 body of an application/pkcs7-mime message to DER.
Status DecodeBase64Body(std::string_view body, std::string* der);

// What a DER CMS ContentInfo holds, from its ContentType (the whole
// structure must parse).
enum class CmsKind {
    kNotCms,         // not a CMS ContentInfo at all
    kEnveloped,      // id-envelopedData
    kAuthEnveloped,  // id-ct-authEnvelopedData
    kOther,          // signed data, compressed data, ...
};
CmsKind ClassifyCms(std::string_view der);

// Decrypts a DER ContentInfo (EnvelopedData or AuthEnvelopedData) with the
// identity's key, choosing the RecipientInfo of its certificate. Sets
// *entity to the decrypted MIME entity, CRLF. NotFound when the message was
// not encrypted to this certificate, InvalidArgument when it is not a CMS
// encrypted message, Corruption when decryption fails.
Status DecryptDer(std::string_view der, const Identity& identity, std::string* entity);

}  // namespace gateway
}  // namespace keydir

#endif  // KEYDIR_GATEWAY_SMIME_H
