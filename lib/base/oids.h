// keydir's object identifiers, in one place. The arc is a UUID OID (2.25,
// ITU-T X.667), so no registration was needed; doc/oids.md lists what is
// under it. Macros, so that schema texts in C string literals can be built
// from them; the constants are for C++ code.
#ifndef KEYDIR_BASE_OIDS_H
#define KEYDIR_BASE_OIDS_H

#define KEYDIR_OID "2.25.142655347163252810041593617359114918330"
// attribute types are KEYDIR_OID.1.n, object classes KEYDIR_OID.2.n
#define KEYDIR_SIGNATURE_CONTROL_OID KEYDIR_OID ".3.1"  // lib/sign/signature_control.h
#define KEYDIR_FLUSH_OID KEYDIR_OID ".4.1"              // the key cache flush (keychase)
#define KEYDIR_PUBLISH_OID KEYDIR_OID ".4.2"            // pointer publication (lib/publish)

namespace keydir {

inline constexpr char kSignatureControlOid[] = KEYDIR_SIGNATURE_CONTROL_OID;
inline constexpr char kFlushOid[] = KEYDIR_FLUSH_OID;
inline constexpr char kPublishOid[] = KEYDIR_PUBLISH_OID;

}  // namespace keydir

#endif  // KEYDIR_BASE_OIDS_H
