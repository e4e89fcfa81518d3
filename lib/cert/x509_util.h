// Small X.509 helpers shared by the certificate checks and the tools:
// strict DER parsing, PEM conversion, fingerprints, GeneralizedTime, and
// the comparison of e-mail addresses.
#ifndef KEYDIR_CERT_X509_UTIL_H
#define KEYDIR_CERT_X509_UTIL_H

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "cert/ossl.h"

namespace keydir {

// Parses exactly one DER certificate that fills `der` (no trailing bytes,
// and encoded as DER: re-encoding gives the same bytes).
Status ParseDerCertificate(std::string_view der, ossl::X509Ptr* out);

// The DER encoding of `cert`.
std::string CertificateDer(X509* cert);

// An ASN.1 INTEGER (a serial number) in lowercase hex without leading
// zeros; "" if it cannot be converted.
std::string IntegerHex(const ASN1_INTEGER* i);

// PEM ("-----BEGIN CERTIFICATE-----") of a DER certificate; "" if `der`
// does not parse.
std::string DerToPem(std::string_view der);

// The DER of the first certificate in PEM text.
Status PemToDer(std::string_view pem, std::string* der);

// SHA-256 of `data`, lowercase hex.
std::string Sha256Hex(std::string_view data);

// Unix seconds as "YYYYMMDDHHMMSSZ" (LDAP GeneralizedTime, UTC).
std::string FormatGeneralizedTime(int64_t unix_seconds);
// Unix seconds as "YYYY-MM-DD HH:MM:SS UTC", for messages.
std::string FormatHumanTime(int64_t unix_seconds);
// "YYYYMMDDHHMMSSZ" (seconds required, no fraction) to Unix seconds.
Status ParseGeneralizedTime(std::string_view text, int64_t* unix_seconds);

// An ASN1_TIME as Unix seconds.
bool Asn1TimeToUnix(const ASN1_TIME* t, int64_t* unix_seconds);

// Whether two addresses name the same mailbox, both parts compared without
// regard to ASCII case: the domain as RFC 5321 2.4 says, the local part as
// the directory does (`mail` is caseIgnoreIA5: KConley@ and kconley@ are one
// member) and as mail clients match a recipient against certificates.
bool SameMailbox(std::string_view a, std::string_view b);

}  // namespace keydir

#endif  // KEYDIR_CERT_X509_UTIL_H
