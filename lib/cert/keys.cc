#include "cert/keys.h"

#include "base/secret_file.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <cstring>

#include "base/env.h"

namespace keydir {

Status ParseKeyType(std::string_view name, KeyType* type) {
    if (name == "rsa3072" || name == "rsa") {
        *type = KeyType::kRsa3072;
    } else if (name == "p256" || name == "ec" || name == "prime256v1" || name == "P-256") {
        *type = KeyType::kP256;
    } else {
        return Status::InvalidArgument("unknown key type '" + std::string(name) +
                                       "' (rsa3072 or p256)");
    }
    return Status::OK();
}

const char* KeyTypeName(KeyType type) {
    return type == KeyType::kP256 ? "p256" : "rsa3072";
}

Status GenerateKey(KeyType type, ossl::PKeyPtr* key) {
    EVP_PKEY* k = type == KeyType::kP256 ? EVP_EC_gen("P-256") : EVP_RSA_gen(3072);
    if (k == nullptr)
        return Status::Unavailable("key generation failed: " + ossl::TakeError());
    key->reset(k);
    return Status::OK();
}

Status EncryptPrivateKey(EVP_PKEY* key, std::string_view passphrase, std::string* pem) {
    if (passphrase.empty())
        return Status::InvalidArgument("the passphrase is empty");
    ossl::BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio ||
        PEM_write_bio_PKCS8PrivateKey(bio.get(), key, EVP_aes_256_cbc(), passphrase.data(),
                                      static_cast<int>(passphrase.size()), nullptr, nullptr) != 1)
        return Status::Unavailable("cannot encrypt the private key: " + ossl::TakeError());
    *pem = ossl::BioContents(bio.get());
    return Status::OK();
}

namespace {

struct Passphrase {
    std::string_view text;
    bool asked = false;
};

int PassphraseCallback(char* buf, int size, int /*rwflag*/, void* u) {
    auto* p = static_cast<Passphrase*>(u);
    p->asked = true;
    if (p->text.size() > static_cast<size_t>(size))
        return -1;
    std::memcpy(buf, p->text.data(), p->text.size());
    return static_cast<int>(p->text.size());
}

}  // namespace

Status DecryptPrivateKey(std::string_view pem, std::string_view passphrase, ossl::PKeyPtr* key) {
    ERR_clear_error();
    Passphrase pass{passphrase};
    ossl::BioPtr bio = ossl::ReadBio(pem);
    ossl::PKeyPtr k(PEM_read_bio_PrivateKey(bio.get(), nullptr, PassphraseCallback, &pass));
    std::string why = ossl::TakeError();
    if (k) {
        *key = std::move(k);
        return Status::OK();
    }
    // A wrong passphrase usually fails the padding check ("bad decrypt");
    // once in ~256 tries it decrypts to garbage that does not decode: an
    // encrypted key that does not open means the wrong passphrase either way.
    if (pass.asked || pem.find("ENCRYPTED") != std::string_view::npos)
        return Status::PermissionDenied("the passphrase does not decrypt the private key");
    return Status::Corruption("no private key could be read (" + why + ")");
}

}  // namespace keydir
