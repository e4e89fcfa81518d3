// Checks of a member's X.509 certificate before it is published or used:
// the backend runs them on add/modify of userCertificate/userSMIMECertificate,
// keydir-lookup and the gateway run them before trusting a certificate.
//
// API contract agreed between the backend, the tools and the gateway; the
// implementation lives in lib/cert/*.cc.
#ifndef KEYDIR_CERT_MEMBER_CERT_H
#define KEYDIR_CERT_MEMBER_CERT_H

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace keydir {

// What a certificate says, as far as keydir cares.
struct CertFacts {
    std::string fingerprint;            // SHA-256 of the DER, lowercase hex
    int64_t not_before = 0;             // Unix seconds
    int64_t not_after = 0;              // Unix seconds
    std::string not_after_generalized;  // "YYYYMMDDHHMMSSZ", for keydirNotAfter
    std::vector<std::string> emails;    // SAN rfc822Name values, then subject emailAddress
    bool encipherment = false;          // keyUsage allows keyEncipherment or keyAgreement
    bool email_protection = false;      // extendedKeyUsage has emailProtection (or no EKU)
    std::string subject;                // one-line RFC 2253 form
    std::string issuer;
};

// A set of trusted CA certificates (PEM file, one or more).
class TrustAnchors {
  public:
    virtual ~TrustAnchors() = default;
    static Status Load(const std::string& pem_file, std::unique_ptr<TrustAnchors>* out);
    // The same from PEM text; `origin` names it in messages.
    static Status FromPem(std::string_view pem, const std::string& origin,
                          std::unique_ptr<TrustAnchors>* out);
    // OK if `der` chains to one of the anchors at time `now` (kAnyTime: the
    // validity periods are not checked, for CertCheckOptions::allow_expired).
    // Fails with PermissionDenied (or InvalidArgument for a malformed `der`).
    virtual Status Verify(std::string_view der, int64_t now) const = 0;
    static constexpr int64_t kAnyTime = INT64_MIN;
};

enum class CertVerdict {
    kOk,
    kMalformed,  // not a DER X.509 certificate (LDAP: invalidAttributeSyntax)
    kRejected,   // a certificate, but a check failed (LDAP: constraintViolation)
};

struct CertCheck {
    CertVerdict verdict = CertVerdict::kMalformed;
    std::string reason;  // which check failed, for a person ("expired on ...")
    CertFacts facts;     // filled when the DER parsed
};

struct CertCheckOptions {
    int64_t now = 0;                        // Unix seconds; 0 = Env::Default()
    bool allow_expired = false;             // store expired / not yet valid ones
    const TrustAnchors* anchors = nullptr;  // when set, must chain to one
    size_t max_der_bytes = 64 * 1024;       // larger values are malformed
};

// Parses a DER certificate.
Status ParseCertificate(std::string_view der, CertFacts* facts);

// The checks a member certificate must pass for `mail`: DER X.509, mail in
// SAN rfc822Name (or subject emailAddress) compared case-insensitively in the
// domain, keyEncipherment or keyAgreement, emailProtection, validity at `now`
// (unless allow_expired), and chaining to the anchors when given.
CertCheck CheckMemberCertificate(std::string_view der, std::string_view mail,
                                 const CertCheckOptions& options);

}  // namespace keydir

#endif  // KEYDIR_CERT_MEMBER_CERT_H
