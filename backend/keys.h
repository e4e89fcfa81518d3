// The key-specific behaviour of a keydir database, for entries of class
// keydirMember (off when keydir.schema is not loaded):
// - on add, modify, modrdn and slapadd every certificate in
//   userCertificate;binary and userSMIMECertificate (whose values are
//   RFC 2798 PKCS#7 SignedData or bare DER) passes lib/cert's
//   checks for the entry's mail (and the zone's trust anchor, if any);
//   keydirFingerprint and keydirNotAfter are derived from them, and values
//   a client sends must match what is derived; keydirStatus is active or
//   revoked;
// - on search, a member's entry is returned with only its usable
//   certificates: none when it is revoked, none that has expired (a PKCS#7
//   value goes while one of its certificates is usable); several values go
//   out valid-now first, then newest notBefore first. The ManageDsaIT
//   control returns the entry as stored.
#ifndef KEYDIR_BACKEND_KEYS_H
#define KEYDIR_BACKEND_KEYS_H

#include "back_keydir.h"

namespace keydir {
namespace backend {

// Checks e's certificates and sets its derived attributes. Returns an LDAP
// code; on failure *text says which check failed (textbuf holds it).
// tool_mode (slapadd) and writes a syncrepl consumer applies skip the
// validity-period check; so does a certificate `before` (the entry as
// stored, for modify and modrdn; null for add) already holds: a member
// whose certificate expired can still be revoked, rekeyed or renamed.
int CheckMemberKeys(Operation* op, KeydirDb* kd, Entry* e, const Entry* before, bool tool_mode,
                    const char** text, char* textbuf, size_t textlen);

// A copy of e without the certificates a client may not use and with
// several certificate values in serving order, or null when e may go out
// as it is.
Entry* UsableCopy(KeydirDb* kd, Entry* e);

// Loads keydir-trust-anchor's file; false with a message on failure.
bool LoadTrustAnchor(KeydirDb* kd, const std::string& file, std::string* error);

}  // namespace backend
}  // namespace keydir

#endif  // KEYDIR_BACKEND_KEYS_H
