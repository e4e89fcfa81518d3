// LDAP URLs (RFC 4516) as they appear in referrals (`ref` values, RFC 3296)
// and in the keychase-upstream / keychase-root directives.
//
// keydir follows only what it can follow safely: ldap:// and ldaps://, a
// host name or IP address, a port, a DN and a scope. Everything else is
// refused with the reason: other schemes (ldapi://, cldap://, http://...),
// a missing host, user information, percent-encoded host names, requested
// attributes, a filter, extensions, fragments, white space.
#ifndef KEYDIR_CHASE_LDAP_URL_H
#define KEYDIR_CHASE_LDAP_URL_H

#include <string>
#include <string_view>

#include "base/status.h"

namespace keydir {

enum class UrlScope { kBase, kOneLevel, kSubtree };

struct LdapUrl {
    bool tls = false;     // ldaps://
    std::string host;     // lowercased; an IPv6 address without brackets
    int port = 389;       // as given, else 389 (ldap) or 636 (ldaps)
    bool has_dn = false;  // a DN part was present (it may be the null DN)
    std::string dn;       // percent-decoded; a valid DN (chase/dn.h)
    bool has_scope = false;
    UrlScope scope = UrlScope::kBase;

    // "host:port" ("[::1]:389"): what identifies a server.
    std::string ServerKey() const;
    // "ldap://host:port" without a DN.
    std::string ServerUrl() const;
    // The URL back in a normal form (scheme and host lowercased, port
    // explicit, DN percent-encoded where RFC 4516 requires).
    std::string ToString() const;
};

// Parses a referral URL.
Status ParseLdapUrl(std::string_view text, LdapUrl* out);

// Parses a URL that names a server only (directives): a DN or scope is
// refused, since an upstream is asked about every DN.
Status ParseServerUrl(std::string_view text, LdapUrl* out);

}  // namespace keydir

#endif  // KEYDIR_CHASE_LDAP_URL_H
