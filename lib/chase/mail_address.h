// Member addresses and where they live in the directory (doc/design.md,
// "Naming"):
//   kconley@tovaris.com  ->  zone   dc=tovaris,dc=com          (RFC 2247)
//                        ->  member mail=kconley@tovaris.com,dc=tovaris,dc=com
//
// Accepted addresses are RFC 5321 mailboxes with a dot-atom local part
// (at most 64 bytes) and a host name of at least two LDH labels (at most
// 253 bytes), all ASCII. Refused, each with its own message: quoted local
// parts, address literals ([192.0.2.1]), non-ASCII (SMTPUTF8 local parts,
// U-label domains: write the domain as its xn-- A-label), white space,
// empty or repeated dots, labels that start or end with '-', and an
// all-numeric top-level label.
//
// Normalisation lowercases the domain (DNS names ignore case) and also the
// local part. RFC 5321 lets a mail server treat the local part as case
// sensitive, but the directory cannot: `mail` compares with
// caseIgnoreIA5Match, so KConley@ and kconley@ are one member entry, one
// DN and therefore one cache key. The local part as written is kept for
// messages.
#ifndef KEYDIR_CHASE_MAIL_ADDRESS_H
#define KEYDIR_CHASE_MAIL_ADDRESS_H

#include <string>
#include <string_view>

#include "base/status.h"
#include "chase/dn.h"

namespace keydir {

class MailAddress {
  public:
    MailAddress() = default;

    // Validates and normalises `text`; on failure `out` is left unchanged.
    static Status Parse(std::string_view text, MailAddress* out);

    const std::string& local_as_written() const { return local_as_written_; }
    const std::string& local() const { return local_; }    // lowercased
    const std::string& domain() const { return domain_; }  // lowercased
    // local@domain, lowercased: the cache key and the value of `mail`.
    const std::string& normalized() const { return normalized_; }

    // dc=tovaris,dc=com
    std::string ZoneDn() const;
    // mail=kconley@tovaris.com,dc=tovaris,dc=com (RFC 4514 escaped)
    std::string MemberDn() const;
    Dn MemberDnParsed() const;
    // (mail=kconley@tovaris.com) with RFC 4515 escaping.
    std::string MailFilter() const;

    bool operator==(const MailAddress& o) const { return normalized_ == o.normalized_; }

  private:
    std::string local_as_written_;
    std::string local_;
    std::string domain_;
    std::string normalized_;
};

// Validates a domain name as MailAddress does and returns it lowercased.
Status NormalizeMailDomain(std::string_view text, std::string* domain);

// dc=<label>,... for a (validated) domain name.
std::string ZoneDnForDomain(std::string_view domain);

// The address of a member DN "mail=<address>,dc=...,dc=..." (attribute
// types in any case); refused unless the dc components spell exactly the
// address's domain.
Status AddressFromMemberDn(std::string_view dn, MailAddress* out);

// The domain of a zone DN made only of dc components.
Status DomainFromZoneDn(std::string_view dn, std::string* domain);

}  // namespace keydir

#endif  // KEYDIR_CHASE_MAIL_ADDRESS_H
