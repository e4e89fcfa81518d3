// A member's key material as keydir-admin makes it (key pair, certificate
// from the zone CA, PKCS#12) and its forms for the directory: an LDIF
// entry for ldapadd/slapadd, or LDAP attributes.
#ifndef KEYDIR_TOOLS_ADMIN_MEMBER_H
#define KEYDIR_TOOLS_ADMIN_MEMBER_H

#include <cstdint>
#include <string>

#include "admin/zone.h"
#include "base/env.h"
#include "base/status.h"
#include "cert/keys.h"
#include "common/ldap_session.h"

namespace keydir {

struct IssueParams {
    KeyType key_type = KeyType::kRsa3072;
    int64_t not_before = 0;  // Unix seconds
    int64_t not_after = 0;
    int p12_iterations = 2048;
    std::string p12_password;
};

struct MemberMaterial {
    std::string address;  // validated
    std::string cn;
    std::string dn;
    std::string cert_der;
    std::string smime_value;  // userSMIMECertificate: PKCS#7 certs-only, certificate and zone CA
    std::string p12_der;
    std::string fingerprint;  // keydirFingerprint
    std::string not_after;    // keydirNotAfter
    std::string serial;       // hex
};

// Makes the key pair, has the zone CA issue the certificate, checks it the
// way the backend will (CheckMemberCertificate against the zone CA), and
// wraps key and certificate in the PKCS#12. `ca_key` is the zone CA key
// (each thread of a bulk run passes its own copy).
Status MakeMemberMaterial(const Zone& zone, EVP_PKEY* ca_key, const std::string& address,
                          const std::string& cn, const IssueParams& params, Env* env,
                          MemberMaterial* out);

// The member entry as an LDIF record (objectClass keydirMember, the
// certificate in userCertificate;binary and, with the zone CA as a PKCS#7
// certs-only SignedData (RFC 2798), in userSMIMECertificate; the
// PKCS#12 in userPKCS12, keydirFingerprint, keydirNotAfter, keydirStatus).
std::string MemberLdif(const MemberMaterial& m);

// The same entry as attributes for an LDAP add.
LdapAttrs MemberAttrs(const MemberMaterial& m);

// The issued.log line of an issued certificate.
std::string IssueLogLine(Env* env, const MemberMaterial& m);

}  // namespace keydir

#endif  // KEYDIR_TOOLS_ADMIN_MEMBER_H
