// The zone CA's certificate revocation list (RFC 5280 CRL v2): made by
// keydir-admin, read and checked by keydir-lookup, keychase and the
// gateway. A revoked certificate is named by its serial number as
// lowercase hex without leading zeros (SerialHex of cert/issuer.h).
#ifndef KEYDIR_CERT_CRL_H
#define KEYDIR_CERT_CRL_H

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "cert/ossl.h"

namespace keydir {

struct CrlEntry {
    std::string serial_hex;  // lowercase hex, as SerialHex
    int64_t revoked_at = 0;  // Unix seconds
};

struct CrlRequest {
    std::vector<CrlEntry> revoked;
    int64_t this_update = 0;
    int64_t next_update = 0;  // must be after this_update
    int64_t number = 0;       // cRLNumber; increases with every CRL of the zone
};

// A CRL signed by the zone CA (SHA-256), with authorityKeyIdentifier and
// cRLNumber, as DER.
Status MakeCrl(X509* ca_cert, EVP_PKEY* ca_key, const CrlRequest& request, std::string* der);

// What a checked CRL says.
struct CrlInfo {
    std::set<std::string> serials;  // revoked, lowercase hex
    int64_t this_update = 0;
    int64_t next_update = 0;  // 0: none given
    int64_t number = -1;      // -1: no cRLNumber

    bool IsRevoked(const std::string& serial_hex) const { return serials.count(serial_hex) != 0; }
    // Past nextUpdate (a stale CRL still lists what it lists: revocation is
    // never undone by a CRL growing old).
    bool IsStale(int64_t now) const { return next_update != 0 && now > next_update; }
};

// Parses a CRL (DER, or PEM "X509 CRL") and checks that `ca_cert` issued
// and signed it. InvalidArgument for a malformed CRL or another issuer's,
// PermissionDenied for a bad signature.
Status ParseCrl(std::string_view data, X509* ca_cert, CrlInfo* out);

// The serial of a DER certificate as lowercase hex ("" when it does not
// parse).
std::string CertificateSerialHex(std::string_view der);

// "CRL-file-contents" as PEM ("-----BEGIN X509 CRL-----").
std::string CrlDerToPem(std::string_view der);

}  // namespace keydir

#endif  // KEYDIR_CERT_CRL_H
