// INTERIM, replaced by lib/cert when it lands on main (see the report):
// just enough of the lib/cert/member_cert.h contract for the gateway to be
// built and tested before lib/cert exists.
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>
#include <ctime>

#include "base/env.h"
#include "cert/member_cert.h"

namespace keydir {
namespace {

int64_t ToUnix(const ASN1_TIME* t) {
    struct tm tm {};
    if (!ASN1_TIME_to_tm(t, &tm))
        return 0;
    return static_cast<int64_t>(timegm(&tm));
}

class StoreAnchors : public TrustAnchors {
  public:
    ~StoreAnchors() override { X509_STORE_free(store_); }
    X509_STORE* store_ = X509_STORE_new();
    Status Verify(std::string_view der, int64_t now) const override {
        const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
        X509* x = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
        if (!x)
            return Status::InvalidArgument("not a certificate");
        X509_STORE_CTX* ctx = X509_STORE_CTX_new();
        X509_STORE_CTX_init(ctx, store_, x, nullptr);
        X509_STORE_CTX_set_time(ctx, 0, static_cast<time_t>(now));
        int ok = X509_verify_cert(ctx);
        std::string err = X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx));
        X509_STORE_CTX_free(ctx);
        X509_free(x);
        return ok == 1 ? Status::OK() : Status::PermissionDenied("does not chain: " + err);
    }
};

}  // namespace

Status TrustAnchors::Load(const std::string& pem_file, std::unique_ptr<TrustAnchors>* out) {
    auto a = std::make_unique<StoreAnchors>();
    if (X509_STORE_load_file(a->store_, pem_file.c_str()) != 1)
        return Status::InvalidArgument(pem_file + ": no PEM certificate");
    *out = std::move(a);
    return Status::OK();
}

Status ParseCertificate(std::string_view der, CertFacts* facts) {
    const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
    X509* x = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
    if (!x)
        return Status::InvalidArgument("not a DER X.509 certificate");
    facts->not_before = ToUnix(X509_get0_notBefore(x));
    facts->not_after = ToUnix(X509_get0_notAfter(x));
    facts->emails.clear();
    STACK_OF(OPENSSL_STRING)* emails = X509_get1_email(x);
    for (int i = 0; i < sk_OPENSSL_STRING_num(emails); ++i)
        facts->emails.push_back(sk_OPENSSL_STRING_value(emails, i));
    X509_email_free(emails);
    uint32_t ku = X509_get_key_usage(x);
    facts->encipherment = (ku & (KU_KEY_ENCIPHERMENT | KU_KEY_AGREEMENT)) != 0;
    uint32_t eku = X509_get_extended_key_usage(x);
    facts->email_protection = (eku & XKU_SMIME) != 0;
    X509_free(x);
    return Status::OK();
}

CertCheck CheckMemberCertificate(std::string_view der, std::string_view mail,
                                 const CertCheckOptions& options) {
    CertCheck c;
    if (!ParseCertificate(der, &c.facts).ok()) {
        c.reason = "not a DER X.509 certificate";
        return c;
    }
    c.verdict = CertVerdict::kRejected;
    int64_t now = options.now ? options.now : Env::Default()->NowUnixSeconds();
    auto lower = [](std::string s) {
        std::transform(s.begin(), s.end(), s.begin(),
                       [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
        return s;
    };
    if (std::none_of(c.facts.emails.begin(), c.facts.emails.end(),
                     [&](const std::string& e) { return lower(e) == lower(std::string(mail)); })) {
        c.reason = "the certificate is not for " + std::string(mail);
        return c;
    }
    if (!c.facts.encipherment) {
        c.reason = "the key usage allows no encryption";
        return c;
    }
    if (!options.allow_expired && (now < c.facts.not_before || now > c.facts.not_after)) {
        c.reason = now > c.facts.not_after ? "the certificate has expired"
                                           : "the certificate is not valid yet";
        return c;
    }
    if (options.anchors) {
        Status s = options.anchors->Verify(der, now);
        if (!s.ok()) {
            c.reason = s.message();
            return c;
        }
    }
    c.verdict = CertVerdict::kOk;
    return c;
}

}  // namespace keydir
