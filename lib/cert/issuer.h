// The zone CA: its self-signed certificate, and the member certificates
// it issues for S/MIME (what CheckMemberCertificate accepts).
#ifndef KEYDIR_CERT_ISSUER_H
#define KEYDIR_CERT_ISSUER_H

#include <cstdint>
#include <string>
#include <vector>

#include "base/env.h"
#include "base/status.h"
#include "cert/ossl.h"

namespace keydir {

// A self-signed CA certificate for `domain` (already validated): subject
// "CN=keydir zone CA, O=<domain>", basicConstraints CA:TRUE pathlen:0,
// keyUsage keyCertSign+cRLSign, and a name constraint that limits the
// e-mail addresses it may certify to <domain>. Random 128-bit serial.
Status MakeZoneCaCertificate(const std::string& domain, EVP_PKEY* ca_key, int64_t not_before,
                             int64_t not_after, Env* env, ossl::X509Ptr* cert);

struct MemberCertRequest {
    std::string address;  // validated; goes into subjectAltName rfc822Name
    std::string cn;       // subject CN; the address when empty
    int64_t not_before = 0;
    int64_t not_after = 0;
    EVP_PKEY* member_key = nullptr;  // the public half is certified
    // URIs of the zone's CRL (cRLDistributionPoints, one distribution point
    // with these fullName URIs); none: no extension.
    std::vector<std::string> crl_urls;
};

// A member certificate issued by the zone CA: subjectAltName rfc822Name,
// keyUsage digitalSignature plus keyEncipherment (RSA) or keyAgreement
// (EC), extendedKeyUsage emailProtection, CA:FALSE, key identifiers,
// cRLDistributionPoints when request.crl_urls is not empty, random
// 128-bit serial, signed with SHA-256. The validity must lie within
// the CA's.
Status IssueMemberCertificate(X509* ca_cert, EVP_PKEY* ca_key, const MemberCertRequest& request,
                              Env* env, ossl::X509Ptr* cert);

// The serial number as lowercase hex.
std::string SerialHex(X509* cert);

}  // namespace keydir

#endif  // KEYDIR_CERT_ISSUER_H
