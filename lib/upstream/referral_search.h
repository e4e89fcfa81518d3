// A client's search for (mail=ADDRESS) that follows referrals and
// continuation references itself (libldap's own chasing is off), as a
// client of a key server must when the server delegated the address or
// holds a pointer for it: only ldap:// and ldaps:// URLs, a bound on
// referral hops and on the searches made in all, refusal of loops (the same
// server and base twice on one path), and no credentials sent anywhere (the
// servers a referral names are asked anonymously). keydir-lookup and
// keydir-gateway use it; what an entry means is the caller's business.
#ifndef KEYDIR_UPSTREAM_REFERRAL_SEARCH_H
#define KEYDIR_UPSTREAM_REFERRAL_SEARCH_H

#include <ldap.h>

#include <chrono>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "base/status.h"
#include "chase/referral_policy.h"

namespace keydir {

// A referral URL as a place to search: "ldap://host:port" and the base DN
// (the URL's DN, or `current_base` when it has none). Refuses every scheme
// but ldap and ldaps, and URLs without a host.
struct SearchTarget {
    std::string server;  // scheme://host:port, normalised (lower case, default port)
    std::string base;
};
Status ParseReferralUrl(const std::string& url, const std::string& current_base,
                        SearchTarget* target);

// Whether a reference URL's DN names another member ("mail=OTHER,..."):
// such a continuation reference cannot hold the address's key.
bool NamesOtherMember(const std::string& dn, const std::string& address);

// "server/normal-dn": one place for loop detection.
std::string SearchPlace(const std::string& server, const std::string& base);

struct ReferralSearchOptions {
    int max_hops = 8;          // referrals followed in a row, at most
    int max_searches = 16;     // searches in all, every branch together
    int timeout_seconds = 10;  // per connection and per search
    // The whole search, every server together: a server that trickles
    // entries cannot hold the caller longer. 0: max_searches x timeout.
    int total_timeout_seconds = 0;
    int max_entries = 16;                // entries in all; more fails the search
    size_t max_message_bytes = 1 << 20;  // the largest LDAP message read (LBER max incoming)
    // Where referrals may lead (servers named by referrals only; the first
    // server is the caller's). nullptr: anywhere.
    const ReferralPolicy* policy = nullptr;
    std::vector<std::string> attributes;
};

class ReferralSearch {
  public:
    // Called for every entry a server returns; `server` is the server's
    // URI, `hops` the referrals followed to reach it.
    using EntryHandler =
        std::function<void(LDAP* ld, LDAPMessage* entry, const std::string& server, int hops)>;

    ReferralSearch(std::string address, ReferralSearchOptions options, EntryHandler on_entry);

    // Searches `server` (a URI; empty: libldap's default) at `base`, subtree,
    // for (mail=ADDRESS); `hops` referrals were followed to get here along
    // `path` (the places visited on the way, SearchPlace). OK when the
    // search and every reference it returned completed (whatever was
    // found); an error when one could not: Unavailable or TimedOut for a
    // server that does not answer, InvalidArgument for a loop, too many
    // hops or searches, a refused URL or an LDAP error.
    Status Search(const std::string& server, const std::string& base, int hops,
                  std::vector<std::string> path);

    // Follows one referral or reference received elsewhere (at `hops`,
    // along `path`): its URLs are alternatives (like several NS records),
    // tried in order until one answers.
    Status Follow(const std::vector<std::string>& urls, const std::string& current_base, int hops,
                  const std::vector<std::string>& path, bool is_reference);

    int searches() const { return searches_; }

  private:
    // Seconds left of the whole search (at most timeout_seconds), 0 when
    // it has run out.
    int SecondsLeft() const;

    const std::string address_;
    const ReferralSearchOptions options_;
    const EntryHandler on_entry_;
    const std::chrono::steady_clock::time_point deadline_;
    std::set<std::string> searched_;
    int searches_ = 0;
    int entries_ = 0;
};

}  // namespace keydir

#endif  // KEYDIR_UPSTREAM_REFERRAL_SEARCH_H
