// The canonical forms of what a signature covers (doc/signing.md §4): a
// search request, an entry, a list of referral URLs, a DN. Both ends of a
// server-to-server exchange compute them, each from its own view of the
// same message, and must get the same bytes.
#ifndef KEYDIR_SIGN_CANONICAL_H
#define KEYDIR_SIGN_CANONICAL_H

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace keydir {

// The parts of an LDAP SearchRequest (RFC 4511 §4.5.1) a request MAC covers,
// plus the ManageDsaIT control, which changes what the answer is.
struct SearchRequestParts {
    std::string base_dn;      // string form; the client's or slapd's (o_req_dn)
    uint8_t scope = 0;        // 0 base, 1 one level, 2 subtree, 3 children
    uint8_t deref = 0;        // 0 never, 1 in searching, 2 finding base, 3 always
    uint32_t size_limit = 0;  // 0: none
    uint32_t time_limit = 0;  // 0: none
    bool types_only = false;
    bool manage_dsa_it = false;
    std::string filter;                   // RFC 4515 string form (slapd: ors_filterstr)
    std::vector<std::string> attributes;  // as sent (slapd: an_name)
};

struct LdapAttribute {
    std::string description;          // e.g. "userCertificate;binary"
    std::vector<std::string> values;  // raw bytes
};

// One SearchResultEntry, as sent on the wire.
struct LdapEntry {
    std::string dn;
    std::vector<LdapAttribute> attributes;
};

// u32 RDN count, per RDN u32 AVA count and per AVA str(type) str(value),
// of CanonicalDn() (chase/dn.h).
Status CanonicalDnBytes(std::string_view dn, std::string* out);

Status CanonicalRequest(const SearchRequestParts& request, std::string* out);

// Attributes sorted by canonical description, values sorted by bytes;
// values are MACed exactly as sent (certificates are binary). Fails on an
// attribute description that occurs twice.
Status CanonicalEntry(const LdapEntry& entry, std::string* out);

// u32 count, then every URL exactly as sent, in order.
std::string CanonicalUrls(const std::vector<std::string>& urls);

}  // namespace keydir

#endif  // KEYDIR_SIGN_CANONICAL_H
