// CheckMemberCertificate and ParseCertificate (member_cert.h).
#include "cert/member_cert.h"

#include <openssl/err.h>
#include <openssl/objects.h>

#include "base/env.h"
#include "cert/ossl.h"
#include "cert/x509_util.h"

namespace keydir {
namespace {

std::string NameToString(const X509_NAME* name) {
    ossl::BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) {
        ossl::TakeError();
        return std::string();
    }
    return ossl::BioContents(bio.get());
}

// An IA5String address, unless it holds a NUL (a classic way to make
// "victim@x\0@evil" look like "victim@x") or bytes outside ASCII.
bool Ia5ToAddress(const ASN1_STRING* s, std::string* out) {
    if (s == nullptr)
        return false;
    const unsigned char* data = ASN1_STRING_get0_data(s);
    int len = ASN1_STRING_length(s);
    if (data == nullptr || len <= 0)
        return false;
    for (int i = 0; i < len; ++i)
        if (data[i] == 0 || data[i] > 0x7e)
            return false;
    out->assign(reinterpret_cast<const char*>(data), static_cast<size_t>(len));
    return true;
}

void CollectEmails(X509* cert, std::vector<std::string>* emails) {
    int crit = 0;
    ossl::GeneralNamesPtr sans(
        static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, &crit, nullptr)));
    if (sans) {
        for (int i = 0; i < sk_GENERAL_NAME_num(sans.get()); ++i) {
            const GENERAL_NAME* gn = sk_GENERAL_NAME_value(sans.get(), i);
            std::string address;
            if (gn->type == GEN_EMAIL && Ia5ToAddress(gn->d.rfc822Name, &address))
                emails->push_back(address);
        }
    }
    const X509_NAME* subject = X509_get_subject_name(cert);
    for (int pos = -1;;) {
        pos = X509_NAME_get_index_by_NID(subject, NID_pkcs9_emailAddress, pos);
        if (pos < 0)
            break;
        const X509_NAME_ENTRY* e = X509_NAME_get_entry(subject, pos);
        std::string address;
        if (Ia5ToAddress(X509_NAME_ENTRY_get_data(e), &address))
            emails->push_back(address);
    }
    ossl::TakeError();  // absent extensions leave nothing worth reporting
}

// The key usage a certificate's public key needs to receive encrypted mail.
enum class KeyUse { kEncipherment, kAgreement, kNone };

KeyUse NeededKeyUse(X509* cert) {
    EVP_PKEY* key = X509_get0_pubkey(cert);
    if (key == nullptr)
        return KeyUse::kNone;
    switch (EVP_PKEY_get_base_id(key)) {
        case EVP_PKEY_RSA:
            return KeyUse::kEncipherment;
        case EVP_PKEY_EC:
        case EVP_PKEY_X25519:
        case EVP_PKEY_X448:
        case EVP_PKEY_DH:
        case EVP_PKEY_DHX:
            return KeyUse::kAgreement;
        default:
            return KeyUse::kNone;  // RSA-PSS, Ed25519, DSA ... only sign
    }
}

std::string JoinEmails(const std::vector<std::string>& emails) {
    std::string s;
    for (const auto& e : emails) {
        if (!s.empty())
            s += ", ";
        s += e;
    }
    return s;
}

Status ParseInto(X509* cert, std::string_view der, CertFacts* facts) {
    // Extensions are decoded lazily; EXFLAG_INVALID marks ones that do not
    // decode (or repeat), which makes the certificate malformed.
    uint32_t flags = X509_get_extension_flags(cert);
    if (flags & EXFLAG_INVALID) {
        ossl::TakeError();
        return Status::InvalidArgument(
            "not a valid X.509 certificate (an extension does not decode)");
    }
    if (X509_get0_pubkey(cert) == nullptr) {
        ossl::TakeError();
        return Status::InvalidArgument(
            "not a valid X.509 certificate (the public key does not decode)");
    }
    CertFacts f;
    f.fingerprint = Sha256Hex(der);
    if (!Asn1TimeToUnix(X509_get0_notBefore(cert), &f.not_before) ||
        !Asn1TimeToUnix(X509_get0_notAfter(cert), &f.not_after))
        return Status::InvalidArgument("not a valid X.509 certificate (bad validity time)");
    f.not_after_generalized = FormatGeneralizedTime(f.not_after);
    CollectEmails(cert, &f.emails);

    uint32_t ku = X509_get_key_usage(cert);  // UINT32_MAX when absent
    bool has_ku = (flags & EXFLAG_KUSAGE) != 0;
    f.encipherment = has_ku && (ku & (KU_KEY_ENCIPHERMENT | KU_KEY_AGREEMENT)) != 0;
    uint32_t xku = X509_get_extended_key_usage(cert);  // UINT32_MAX when absent
    f.email_protection = (xku & (XKU_SMIME | XKU_ANYEKU)) != 0;

    f.subject = NameToString(X509_get_subject_name(cert));
    f.issuer = NameToString(X509_get_issuer_name(cert));
    *facts = std::move(f);
    return Status::OK();
}

CertCheck Rejected(CertCheck check, std::string reason) {
    check.verdict = CertVerdict::kRejected;
    check.reason = std::move(reason);
    return check;
}

}  // namespace

Status ParseCertificate(std::string_view der, CertFacts* facts) {
    ossl::X509Ptr cert;
    Status s = ParseDerCertificate(der, &cert);
    if (!s.ok())
        return s;
    return ParseInto(cert.get(), der, facts);
}

CertCheck CheckMemberCertificate(std::string_view der, std::string_view mail,
                                 const CertCheckOptions& options) {
    CertCheck check;
    if (der.size() > options.max_der_bytes) {
        check.reason = "the value is " + std::to_string(der.size()) + " bytes, more than the " +
                       std::to_string(options.max_der_bytes) + " allowed for a certificate";
        return check;
    }
    ossl::X509Ptr cert;
    Status s = ParseDerCertificate(der, &cert);
    if (s.ok())
        s = ParseInto(cert.get(), der, &check.facts);
    if (!s.ok()) {
        check.reason = s.message();
        return check;
    }
    const CertFacts& f = check.facts;

    bool named = false;
    for (const auto& e : f.emails)
        named = named || SameMailbox(e, mail);
    if (!named) {
        if (f.emails.empty())
            return Rejected(std::move(check),
                            "the certificate names no e-mail address (subjectAltName "
                            "rfc822Name or subject emailAddress); mail is " +
                                std::string(mail));
        // The reason first: `f` is part of `check`, which the call moves
        // (and the order in which arguments are evaluated is unspecified).
        std::string reason =
            "the certificate is for " + JoinEmails(f.emails) + ", not for " + std::string(mail);
        return Rejected(std::move(check), std::move(reason));
    }

    KeyUse needed = NeededKeyUse(cert.get());
    if (needed == KeyUse::kNone)
        return Rejected(std::move(check),
                        "the certificate's public key cannot be used for encryption");
    uint32_t flags = X509_get_extension_flags(cert.get());
    if (!(flags & EXFLAG_KUSAGE))
        return Rejected(std::move(check),
                        "the certificate has no keyUsage extension (it must allow " +
                            std::string(needed == KeyUse::kEncipherment
                                            ? "keyEncipherment for its RSA key)"
                                            : "keyAgreement for its key-agreement key)"));
    uint32_t ku = X509_get_key_usage(cert.get());
    if (needed == KeyUse::kEncipherment && !(ku & KU_KEY_ENCIPHERMENT))
        return Rejected(std::move(check),
                        "the certificate's keyUsage does not allow keyEncipherment, which its "
                        "RSA key needs to receive encrypted mail");
    if (needed == KeyUse::kAgreement && !(ku & KU_KEY_AGREEMENT))
        return Rejected(std::move(check),
                        "the certificate's keyUsage does not allow keyAgreement, which its "
                        "key needs to receive encrypted mail");
    if (!f.email_protection)
        return Rejected(std::move(check),
                        "the certificate's extendedKeyUsage does not include emailProtection");

    int64_t now = options.now != 0 ? options.now : Env::Default()->NowUnixSeconds();
    if (!options.allow_expired) {
        if (now < f.not_before)
            return Rejected(std::move(check),
                            "the certificate is not valid before " + FormatHumanTime(f.not_before));
        if (now > f.not_after)
            return Rejected(std::move(check),
                            "the certificate expired on " + FormatHumanTime(f.not_after));
    }

    if (options.anchors != nullptr) {
        Status v =
            options.anchors->Verify(der, options.allow_expired ? TrustAnchors::kAnyTime : now);
        if (!v.ok())
            return Rejected(std::move(check), v.message());
    }
    check.verdict = CertVerdict::kOk;
    return check;
}

}  // namespace keydir
