// Distinguished names in LDAPv3 string form (RFC 4514): parsed into RDNs and
// attribute-value assertions, written back with the escaping RFC 4514
// requires, and brought into one canonical form that two servers compute
// alike whether they start from the DN a client sent or from the one slapd
// normalised.
//
// The parser takes what RFC 4514 allows plus the white space around
// separators that slapd accepts from LDAPv2 clients ("CN = x , DC=y"). It
// refuses what keydir never needs and cannot compare without a schema:
// hex-encoded values ("cn=#04..."), quoted values (cn="x") and ';' as a
// separator, each with a message that says so.
#ifndef KEYDIR_CHASE_DN_H
#define KEYDIR_CHASE_DN_H

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace keydir {

// One attribute-value assertion of an RDN, e.g. mail=kconley@tovaris.com.
struct DnAva {
    std::string type;   // as written: a descriptor ("mail") or a numeric OID
    std::string value;  // unescaped bytes
};

// One RDN: one or more AVAs joined with '+'.
using DnRdn = std::vector<DnAva>;

// A DN: its RDNs, leaf first ("mail=..." before "dc=com"). The null DN
// "" has no RDNs.
struct Dn {
    std::vector<DnRdn> rdns;
};

// Parses `text`; longer than 8 KiB or deeper than 128 RDNs is refused.
Status ParseDn(std::string_view text, Dn* out);

// The RFC 4514 string form: AVAs as type=value joined with '+', RDNs with
// ','; a value escapes '"', '+', ',', ';', '<', '>', '\', a leading '#' or
// space, a trailing space, and bytes below 0x20 or 0x7f as \XX.
std::string FormatDn(const Dn& dn);
std::string EscapeDnValue(std::string_view value);

// The canonical value of a string in a DN or a filter assertion: leading
// and trailing spaces removed, runs of spaces collapsed to one, ASCII
// letters lowercased; other bytes unchanged. This is what slapd's
// normalisers do to ASCII text under the case-ignoring matching rules
// keydir's naming attributes use (dc, mail, cn, o, ou, uid).
std::string CanonicalValue(std::string_view value);

// The canonical DN: each type lowercased, each value CanonicalValue()d,
// the AVAs of a multi-valued RDN sorted (by type, then value).
Dn CanonicalDn(const Dn& dn);

// FormatDn(CanonicalDn(parsed)): a string key under which equal DNs meet.
Status CanonicalDnString(std::string_view text, std::string* out);

// True if `ancestor` is `dn` or one of its ancestors (both canonical).
bool DnIsWithin(const Dn& dn, const Dn& ancestor);

}  // namespace keydir

#endif  // KEYDIR_CHASE_DN_H
