#include "cert/pkcs12.h"

#include <openssl/err.h>
#include <openssl/pkcs12.h>

namespace keydir {

Status MakePkcs12(EVP_PKEY* key, X509* cert, X509* ca_cert, std::string_view password,
                  const std::string& name, int iterations, std::string* der) {
    if (password.empty())
        return Status::InvalidArgument("the PKCS#12 password is empty");
    if (iterations < 1)
        return Status::InvalidArgument("the PKCS#12 iteration count must be positive");
    ERR_clear_error();
    std::string pass(password);  // PKCS12_create wants a NUL-terminated string
    ossl::X509StackPtr chain(sk_X509_new_null());
    if (!chain)
        return Status::Unavailable("out of memory");
    if (ca_cert != nullptr) {
        if (!X509_up_ref(ca_cert))
            return Status::Unavailable("X509_up_ref");
        if (!sk_X509_push(chain.get(), ca_cert)) {
            X509_free(ca_cert);
            return Status::Unavailable("out of memory");
        }
    }
    ossl::Pkcs12Ptr p12(PKCS12_create_ex(pass.c_str(), name.c_str(), key, cert, chain.get(),
                                         NID_aes_256_cbc, NID_aes_256_cbc, iterations, iterations,
                                         0, nullptr, nullptr));
    OPENSSL_cleanse(&pass[0], pass.size());
    if (!p12)
        return Status::Unavailable("cannot make the PKCS#12: " + ossl::TakeError());
    unsigned char* buf = nullptr;
    int len = i2d_PKCS12(p12.get(), &buf);
    if (len <= 0)
        return Status::Unavailable("cannot encode the PKCS#12: " + ossl::TakeError());
    der->assign(reinterpret_cast<char*>(buf), static_cast<size_t>(len));
    OPENSSL_free(buf);
    return Status::OK();
}

Status OpenPkcs12(std::string_view der, std::string_view password, ossl::PKeyPtr* key,
                  ossl::X509Ptr* cert) {
    ERR_clear_error();
    const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
    ossl::Pkcs12Ptr p12(d2i_PKCS12(nullptr, &p, static_cast<long>(der.size())));
    if (!p12)
        return Status::Corruption("not a PKCS#12: " + ossl::TakeError());
    std::string pass(password);
    if (PKCS12_verify_mac(p12.get(), pass.c_str(), static_cast<int>(pass.size())) != 1) {
        OPENSSL_cleanse(&pass[0], pass.size());
        ossl::TakeError();
        return Status::PermissionDenied("the password does not open the PKCS#12");
    }
    EVP_PKEY* k = nullptr;
    X509* c = nullptr;
    STACK_OF(X509)* extra = nullptr;
    int ok = PKCS12_parse(p12.get(), pass.c_str(), &k, &c, &extra);
    OPENSSL_cleanse(&pass[0], pass.size());
    ossl::PKeyPtr key_owner(k);
    ossl::X509Ptr cert_owner(c);
    ossl::X509StackPtr extra_owner(extra);
    if (ok != 1)
        return Status::Corruption("cannot read the PKCS#12: " + ossl::TakeError());
    if (!key_owner || !cert_owner)
        return Status::Corruption("the PKCS#12 lacks the private key or its certificate");
    *key = std::move(key_owner);
    *cert = std::move(cert_owner);
    return Status::OK();
}

}  // namespace keydir
