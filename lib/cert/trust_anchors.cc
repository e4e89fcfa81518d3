// TrustAnchors (member_cert.h): an X509_STORE of the anchors read from a
// PEM file. Verify is const and safe to call from several threads: each
// call has its own X509_STORE_CTX and the store is only read.
#include <openssl/err.h>
#include <openssl/pem.h>

#include "base/env.h"
#include "cert/member_cert.h"
#include "cert/ossl.h"
#include "cert/x509_util.h"

namespace keydir {
namespace {

class StoreAnchors : public TrustAnchors {
  public:
    explicit StoreAnchors(ossl::X509StorePtr store) : store_(std::move(store)) {}

    Status Verify(std::string_view der, int64_t now) const override {
        ossl::X509Ptr cert;
        Status s = ParseDerCertificate(der, &cert);
        if (!s.ok())
            return s;
        ossl::X509StoreCtxPtr ctx(X509_STORE_CTX_new());
        if (!ctx || X509_STORE_CTX_init(ctx.get(), store_.get(), cert.get(), nullptr) != 1)
            return Status::Unavailable("cannot set up certificate verification: " +
                                       ossl::TakeError());
        X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
        // An anchor may be an intermediate CA (a zone CA under an
        // organisation's CA): trust it without its own issuer.
        unsigned long flags = X509_V_FLAG_PARTIAL_CHAIN;
        if (now == kAnyTime)
            flags |= X509_V_FLAG_NO_CHECK_TIME;
        else
            X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(now));
        X509_VERIFY_PARAM_set_flags(param, flags);
        int ok = X509_verify_cert(ctx.get());
        if (ok == 1) {
            ERR_clear_error();
            return Status::OK();
        }
        int err = X509_STORE_CTX_get_error(ctx.get());
        ERR_clear_error();
        return Status::PermissionDenied(
            std::string("the certificate does not chain to a trust anchor (") +
            X509_verify_cert_error_string(err) + ")");
    }

  private:
    ossl::X509StorePtr store_;
};

}  // namespace

Status TrustAnchors::Load(const std::string& pem_file, std::unique_ptr<TrustAnchors>* out) {
    std::string pem;
    Status s = Env::Default()->ReadFile(pem_file, &pem);
    if (!s.ok())
        return s;
    return FromPem(pem, pem_file, out);
}

Status TrustAnchors::FromPem(std::string_view pem, const std::string& origin,
                             std::unique_ptr<TrustAnchors>* out) {
    ossl::X509StorePtr store(X509_STORE_new());
    if (!store)
        return Status::Unavailable("cannot create a certificate store");
    ossl::BioPtr bio = ossl::ReadBio(pem);
    int count = 0;
    for (;;) {
        ossl::X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
        if (!cert)
            break;
        if (X509_STORE_add_cert(store.get(), cert.get()) != 1) {
            std::string why = ossl::TakeError();
            // The same anchor twice is harmless.
            if (why.find("already in hash table") == std::string::npos)
                return Status::InvalidArgument(origin + ": cannot use certificate " +
                                               std::to_string(count + 1) + ": " + why);
        }
        ++count;
    }
    unsigned long last = ERR_peek_last_error();
    ERR_clear_error();
    // Reading stops with "no start line" at the end of the text; any other
    // error means a certificate in the file is damaged.
    if (last != 0 && ERR_GET_REASON(last) != PEM_R_NO_START_LINE)
        return Status::InvalidArgument(origin + ": certificate " + std::to_string(count + 1) +
                                       " is damaged");
    if (count == 0)
        return Status::InvalidArgument(origin + ": no PEM certificate in it");
    *out = std::make_unique<StoreAnchors>(std::move(store));
    return Status::OK();
}

}  // namespace keydir
