// Owning pointers for the OpenSSL objects lib/cert and the tools use, and a
// helper that turns OpenSSL's thread-local error queue into a message.
#ifndef KEYDIR_CERT_OSSL_H
#define KEYDIR_CERT_OSSL_H

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>
#include <string_view>

namespace keydir {
namespace ossl {

struct Free {
    void operator()(X509* p) const { X509_free(p); }
    void operator()(X509_STORE* p) const { X509_STORE_free(p); }
    void operator()(X509_STORE_CTX* p) const { X509_STORE_CTX_free(p); }
    void operator()(X509_NAME* p) const { X509_NAME_free(p); }
    void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
    void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
    void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
    void operator()(BIO* p) const { BIO_free_all(p); }
    void operator()(PKCS12* p) const { PKCS12_free(p); }
    void operator()(BIGNUM* p) const { BN_free(p); }
    // ASN1_INTEGER and ASN1_TIME are both ASN1_STRING.
    void operator()(ASN1_STRING* p) const { ASN1_STRING_free(p); }
    void operator()(GENERAL_NAMES* p) const { GENERAL_NAMES_free(p); }
    void operator()(STACK_OF(X509) * p) const { sk_X509_pop_free(p, X509_free); }
};

using X509Ptr = std::unique_ptr<X509, Free>;
using X509StorePtr = std::unique_ptr<X509_STORE, Free>;
using X509StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, Free>;
using X509NamePtr = std::unique_ptr<X509_NAME, Free>;
using X509ExtensionPtr = std::unique_ptr<X509_EXTENSION, Free>;
using PKeyPtr = std::unique_ptr<EVP_PKEY, Free>;
using PKeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Free>;
using BioPtr = std::unique_ptr<BIO, Free>;
using Pkcs12Ptr = std::unique_ptr<PKCS12, Free>;
using BignumPtr = std::unique_ptr<BIGNUM, Free>;
using Asn1IntegerPtr = std::unique_ptr<ASN1_INTEGER, Free>;
using Asn1TimePtr = std::unique_ptr<ASN1_TIME, Free>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, Free>;
using X509StackPtr = std::unique_ptr<STACK_OF(X509), Free>;

// The oldest queued OpenSSL error as text ("" when none), and empties the
// queue so that a later caller on this thread does not see stale errors.
std::string TakeError();

// A memory BIO reading `data` (which must outlive the BIO).
BioPtr ReadBio(std::string_view data);
// The bytes written to a memory BIO so far.
std::string BioContents(BIO* bio);

}  // namespace ossl
}  // namespace keydir

#endif  // KEYDIR_CERT_OSSL_H
