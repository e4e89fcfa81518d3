// ReferralPolicy: which servers a referral may send a chase to
// (keychase-referral-allow). A referral names any host and port a zone's
// operator likes; without a policy every resolver that follows it would
// connect there and send it a signed request. The servers of
// keychase-upstream and keychase-root are configured, not named by
// referrals: the policy does not apply to them.
//
// Patterns (several may be given; a target is allowed when one matches):
//   any                  every host and port (keydir before the policy)
//   public               a host whose addresses are all public: not
//                        loopback, private (RFC 1918, fc00::/7), shared
//                        (100.64/10), link-local, multicast, unspecified
//                        or reserved
//   192.0.2.7  10.0.0.0/8  2001:db8::/32   an address or a network
//   keys.example.net     a host name, as the referral spells it
//   *.example.net        any name below example.net
// Each may end in :PORT (an IPv6 address or network then in brackets:
// [2001:db8::1]:389, [fd00::/8]:636) to allow that port only.
//
// With no pattern given the policy is "public". A host name that no name
// pattern matches is allowed when every address it resolves to is allowed
// by an address pattern (public, or a network); it is resolved when the
// referral is followed, and libldap resolves it again to connect.
//
// Thread safety: const methods may be called from many threads.
#ifndef KEYDIR_CHASE_REFERRAL_POLICY_H
#define KEYDIR_CHASE_REFERRAL_POLICY_H

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace keydir {

// Resolves a host name to its addresses (text form: "192.0.2.1", "2001:db8::1").
using HostResolver = std::function<Status(const std::string& host, std::vector<std::string>*)>;

// getaddrinfo(): every address of `host`, IPv4 and IPv6.
Status SystemResolveHost(const std::string& host, std::vector<std::string>* addresses);

class ReferralPolicy {
  public:
    // "public".
    ReferralPolicy();

    // Replaces the patterns; an empty list means the default ("public").
    // InvalidArgument names the first bad pattern.
    static Status Parse(const std::vector<std::string>& patterns, ReferralPolicy* out);

    // OK when a referral may lead to host:port (host as LdapUrl holds it:
    // lowercased, IPv6 without brackets); PermissionDenied with the reason
    // otherwise. `resolve` looks up host names that no name pattern
    // matches (nullptr: such names are refused unless "any" is given).
    Status Check(const std::string& host, int port, const HostResolver& resolve) const;

    // The patterns as given (normalised), for cn=config and logs.
    const std::vector<std::string>& patterns() const { return texts_; }

  private:
    struct Pattern {
        enum class Kind { kAny, kPublic, kName, kSuffix, kNet };
        Kind kind = Kind::kAny;
        std::string name;               // kName: the name; kSuffix: ".example.net"
        std::array<uint8_t, 16> net{};  // kNet: IPv4 as ::ffff:a.b.c.d
        int prefix = 0;                 // kNet: bits of net that count (of 128)
        int port = 0;                   // 0: any port
    };
    static Status ParseOne(std::string_view text, Pattern* out);
    bool AddressAllowed(const std::array<uint8_t, 16>& addr, int port) const;

    std::vector<Pattern> patterns_;
    std::vector<std::string> texts_;
};

// Parses an IPv4 or IPv6 address into the IPv6 form (IPv4 mapped).
bool ParseIpAddress(const std::string& text, std::array<uint8_t, 16>* out);
// Not loopback, private, shared, link-local, multicast, unspecified or reserved.
bool IsPublicAddress(const std::array<uint8_t, 16>& addr);

}  // namespace keydir

#endif  // KEYDIR_CHASE_REFERRAL_POLICY_H
