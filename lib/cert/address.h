// Member addresses and the names derived from them (doc/design.md,
// "Naming"): the syntax keydir accepts for an address, the zone DN of a
// domain (tovaris.com -> dc=tovaris,dc=com) and the member DN
// (mail=ADDRESS,dc=tovaris,dc=com).
#ifndef KEYDIR_CERT_ADDRESS_H
#define KEYDIR_CERT_ADDRESS_H

#include <string>
#include <string_view>

#include "base/status.h"
#include "chase/dn.h"  // EscapeDnValue

namespace keydir {

// A domain: dot-separated labels of letters, digits and hyphens (no
// leading or trailing hyphen, 1..63 characters each, 253 in all), with no
// trailing dot. On success `normalized` is the domain in lower case.
Status ValidateDomain(std::string_view domain, std::string* normalized);

// An address LOCAL@DOMAIN whose local part is an RFC 5322 dot-atom (ASCII
// letters, digits and !#$%&'*+-/=?^_`{|}~, dots not first, last or
// doubled; at most 64 characters) and whose domain passes ValidateDomain.
// Quoted local parts and non-ASCII addresses are refused: `mail` is an
// IA5String. On success `normalized` has the domain in lower case (the
// local part is kept as given).
Status ValidateAddress(std::string_view address, std::string* normalized);

// As ValidateAddress, but `key` is the address as the directory matches it
// (`mail` is caseIgnoreIA5): local part and domain in lower case. Two
// addresses with one key are one member: one lookup, one cache entry, the
// same certificates (what a relying party such as the gateway decides on).
Status MemberKey(std::string_view address, std::string* key);

// The domain of a valid address (what follows the last '@').
std::string DomainOf(std::string_view address);

// "dc=tovaris,dc=com" for "tovaris.com".
std::string ZoneDn(std::string_view domain);

// "mail=kconley@tovaris.com,dc=tovaris,dc=com" (value escaped per RFC 4514).
std::string MemberDn(std::string_view address);

// An assertion value escaped for use in a search filter (RFC 4515).
std::string EscapeFilterValue(std::string_view value);

}  // namespace keydir

#endif  // KEYDIR_CERT_ADDRESS_H
