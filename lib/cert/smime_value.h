// The certificates in a userSMIMECertificate value. RFC 2798 defines the
// attribute as a PKCS#7 SignedData (Outlook writes and reads a "certs-only"
// one, `openssl crl2pkcs7 -nocrl -certfile` makes one); other clients send
// a bare DER X.509 certificate. Both are taken apart here with OpenSSL's
// bounded decoders.
#ifndef KEYDIR_CERT_SMIME_VALUE_H
#define KEYDIR_CERT_SMIME_VALUE_H

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace keydir {

struct SmimeValueCertificates {
    bool pkcs7 = false;                   // a PKCS#7 SignedData, not one bare certificate
    std::vector<std::string> end_entity;  // DER, in the value's order
    // DER of the CA certificates (basicConstraints cA) a PKCS#7 value
    // carries as its chain; a bare certificate is always end_entity.
    std::vector<std::string> ca;
};

// Largest value and most certificates one PKCS#7 value may hold.
constexpr size_t kMaxSmimeValueBytes = 256 * 1024;
constexpr size_t kMaxSmimeValueCertificates = 16;

// Takes `value` apart: a DER PKCS#7 ContentInfo of type SignedData with at
// least one end-entity certificate and nothing after it, or one DER X.509
// certificate. InvalidArgument with a message for a person otherwise
// (garbage, truncated, trailing bytes, another PKCS#7 type, no
// certificate).
Status ParseSmimeValue(std::string_view value, SmimeValueCertificates* out);

// A certs-only PKCS#7 SignedData (DER) holding `ders` in that order: the
// RFC 2798 form of userSMIMECertificate.
Status MakeCertsOnlyPkcs7(const std::vector<std::string>& ders, std::string* out);

}  // namespace keydir

#endif  // KEYDIR_CERT_SMIME_VALUE_H
