// Key pairs of zone CAs and members: generation, and private keys kept as
// passphrase-encrypted PKCS#8 PEM (AES-256-CBC, PBKDF2).
#ifndef KEYDIR_CERT_KEYS_H
#define KEYDIR_CERT_KEYS_H

#include <string>
#include <string_view>

#include "base/status.h"
#include "cert/ossl.h"

namespace keydir {

enum class KeyType {
    kRsa3072,  // the default: every S/MIME client reads it
    kP256,     // ECDSA/ECDH on NIST P-256: ~1000 times faster to generate
};

// "rsa3072" (or "rsa") and "p256" (or "ec", "prime256v1", "P-256").
Status ParseKeyType(std::string_view name, KeyType* type);
const char* KeyTypeName(KeyType type);

Status GenerateKey(KeyType type, ossl::PKeyPtr* key);

// The key as "ENCRYPTED PRIVATE KEY" PEM under `passphrase`.
Status EncryptPrivateKey(EVP_PKEY* key, std::string_view passphrase, std::string* pem);

// Reads an encrypted (or plain) PEM private key. A passphrase that does not
// decrypt it gives PermissionDenied; text that is no key gives Corruption.
Status DecryptPrivateKey(std::string_view pem, std::string_view passphrase, ossl::PKeyPtr* key);

}  // namespace keydir

#endif  // KEYDIR_CERT_KEYS_H
