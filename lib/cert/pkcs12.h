// A member's private key and certificate as PKCS#12 for userPKCS12: key
// and certificate bags encrypted with AES-256-CBC under PBES2/PBKDF2
// (HMAC-SHA-256), MAC with SHA-256. The password is the member's
// passphrase or the gateway's key-encryption key (both read with
// base/secret_file.h).
#ifndef KEYDIR_CERT_PKCS12_H
#define KEYDIR_CERT_PKCS12_H

#include <string>
#include <string_view>

#include "base/status.h"
#include "cert/ossl.h"

namespace keydir {

// OpenSSL's own default for `openssl pkcs12 -export`.
constexpr int kDefaultPkcs12Iterations = 2048;

// DER PKCS#12 holding `key`, `cert` (friendly name `name`) and, when given,
// the CA certificate.
Status MakePkcs12(EVP_PKEY* key, X509* cert, X509* ca_cert, std::string_view password,
                  const std::string& name, int iterations, std::string* der);

// Opens a DER PKCS#12: PermissionDenied when the password is wrong,
// Corruption when it is not a PKCS#12 or lacks a key or certificate.
Status OpenPkcs12(std::string_view der, std::string_view password, ossl::PKeyPtr* key,
                  ossl::X509Ptr* cert);

}  // namespace keydir

#endif  // KEYDIR_CERT_PKCS12_H
