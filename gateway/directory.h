// The key server as the gateway sees it: a member's entry found by
// (mail=ADDRESS) under a base DN, read over LDAP through a small pool of
// connections (optional simple bind, connect and operation timeouts).
// Referrals and continuation references it returns are followed (lib's
// ReferralSearch), never read as "no entry".
#ifndef KEYDIR_GATEWAY_DIRECTORY_H
#define KEYDIR_GATEWAY_DIRECTORY_H

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>

#include "chase/referral_policy.h"
#include <vector>

#include "base/status.h"

namespace keydir {
namespace gateway {

// What the directory holds for one address.
struct MemberRecord {
    std::string dn;
    std::string status;                     // keydirStatus ("" when absent)
    std::vector<std::string> certificates;  // userCertificate;binary, DER
    std::vector<std::string> revoked;       // keydirRevokedCertificate, DER
    std::vector<std::string> pkcs12;        // userPKCS12, DER (when asked for)
    // Found through a referral: nothing vouches for it beyond what the
    // certificate checks can verify, so "no usable certificate" is a lookup
    // failure, not "no key".
    bool via_referral = false;
};

class Directory {
  public:
    virtual ~Directory() = default;
    // OK with the record; NotFound when no entry has this mail; Unavailable or
    // TimedOut when the key server cannot answer now (the caller defers).
    virtual Status Lookup(const std::string& address, bool with_private_key, MemberRecord* out) = 0;
};

struct LdapOptions {
    std::string uri;            // ldap://host:port (several separated by blanks)
    std::string base;           // search base
    std::string bind_dn;        // empty: anonymous
    std::string bind_password;  // content of --bind-password-file
    int timeout_seconds = 10;   // connect and each operation
    int pool_size = 4;          // connections kept open at most
    // Referrals and continuation references from the key server (an
    // address it delegated or holds a pointer for) are followed, anonymously,
    // to ldap:// and ldaps:// URLs only, with loop detection and these bounds.
    int max_referral_hops = 8;       // referrals followed in a row
    int max_referral_searches = 16;  // searches for one address, all branches
    // Where referrals may lead (--referral-allow; default: public hosts).
    ReferralPolicy referral_policy;
    // The servers a referral names are asked without signature or
    // authentication: their certificates are used only when they are
    // checked against trust anchors (--trust-anchor), and their "no entry"
    // is never taken as "no key".
    bool referral_certificates_checked = false;
};

// How an LDAP result code of the key server's search becomes a Status: OK
// (success, sizeLimitExceeded), NotFound only for noSuchObject, any other
// code (a referral nobody followed, unwillingToPerform, busy, ...) a
// failure: TimedOut, PermissionDenied or Unavailable, never NotFound.
Status KeyServerResult(int rc, const std::string& what);

class LdapDirectory : public Directory {
  public:
    explicit LdapDirectory(LdapOptions options);
    ~LdapDirectory() override;
    LdapDirectory(const LdapDirectory&) = delete;
    LdapDirectory& operator=(const LdapDirectory&) = delete;

    Status Lookup(const std::string& address, bool with_private_key, MemberRecord* out) override;

    // Opens one connection (and binds) now: a configuration check at start.
    Status Probe();

  private:
    struct Conn;
    Status Acquire(std::unique_ptr<Conn>* out, bool fresh);
    void Release(std::unique_ptr<Conn> conn, bool healthy);
    Status Connect(std::unique_ptr<Conn>* out);
    struct Referral {
        std::vector<std::string> urls;  // alternatives
        bool is_reference = false;      // a continuation reference (else a referral result)
    };
    using Referrals = std::vector<Referral>;
    // OK with *out when the key server returned the entry; OK with
    // *referrals set when it returned none but referrals or references.
    Status Search(Conn* conn, const std::string& address, bool with_private_key, MemberRecord* out,
                  Referrals* referrals);
    Status FollowReferrals(const std::string& address, bool with_private_key,
                           const Referrals& referrals, MemberRecord* out);

    const LdapOptions options_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::vector<std::unique_ptr<Conn>> idle_;
    int open_ = 0;  // connections in use or idle
};

}  // namespace gateway
}  // namespace keydir

#endif  // KEYDIR_GATEWAY_DIRECTORY_H
