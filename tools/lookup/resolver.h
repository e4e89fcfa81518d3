// Resolves an address to its usable certificates from a client's side:
// searches (mail=ADDRESS) with lib/upstream's ReferralSearch, which follows
// referrals and continuation references itself (libldap's own chasing is
// off), with a bound on hops, refusal of loops and of any URL that is not
// ldap:// or ldaps://, and checks every certificate found with lib/cert
// before calling it usable.
#ifndef KEYDIR_TOOLS_LOOKUP_RESOLVER_H
#define KEYDIR_TOOLS_LOOKUP_RESOLVER_H

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "base/status.h"
#include "cert/member_cert.h"
#include "upstream/referral_search.h"  // ParseReferralUrl, NamesOtherMember

namespace keydir {

struct LookupOptions {
    std::string uri;                        // empty: libldap's default (ldap.conf URI)
    std::string base;                       // empty: the address's zone DN (dc=...)
    int max_hops = 8;                       // referrals followed in a row, at most
    int timeout_seconds = 10;               // per connection and per search
    const TrustAnchors* anchors = nullptr;  // certificates must chain to one
    int64_t now = 0;                        // 0: the clock
};

struct UsableCert {
    std::string der;
    CertFacts facts;
    std::string dn;      // the entry that held it
    std::string server;  // the server that answered
    int hops = 0;        // referrals followed to get there
};

struct Rejection {
    std::string dn;
    std::string server;
    std::string reason;
};

struct LookupResult {
    std::vector<UsableCert> usable;
    std::vector<Rejection> rejected;    // entries or certificates found but not usable
    std::vector<std::string> warnings;  // branches that failed while another answered
    int entries = 0;
};

// OK when the search completed (usable may still be empty: not found). An
// error when no usable certificate was found and the search could not be
// completed: a referral loop, too many hops, a refused URL, a server that
// does not answer, an LDAP error.
Status Lookup(const std::string& address, const LookupOptions& options, LookupResult* result);

}  // namespace keydir

#endif  // KEYDIR_TOOLS_LOOKUP_RESOLVER_H
