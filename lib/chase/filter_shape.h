// Which substring assertions are address lookups (issue 12): mail clients
// look certificates up with substring filters, e.g. GnuPG dirmngr's
// (|(sn=*carol@tovaris.com*)(|(cn=*carol@tovaris.com*)(mail=*carol@tovaris.com*)))
// for a bare address. A substring assertion on mail is the lookup of one
// address A when
//   - one of its pieces, or its initial and final pieces joined, is a
//     complete valid address (MailAddress::Parse), and all such pieces
//     name the same address A, and
//   - A itself satisfies the whole assertion.
// So *carol@tovaris.com*, carol@tovaris.com*, carol@*tovaris.com are
// lookups of carol@tovaris.com; *@tovaris.com, *carol* and
// a@x.org*b@y.org are not. The lookup is answered with A only: other
// addresses the assertion would match are not what was asked for.
#ifndef KEYDIR_CHASE_FILTER_SHAPE_H
#define KEYDIR_CHASE_FILTER_SHAPE_H

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chase/mail_address.h"

namespace keydir {

// The pieces of an LDAP substring assertion (RFC 4511 SubstringFilter),
// values unescaped.
struct SubstringAssertion {
    std::optional<std::string> initial;
    std::vector<std::string> any;
    std::optional<std::string> final_piece;
};

// Whether `value` satisfies `s`, comparing ASCII without regard to case (as
// caseIgnoreIA5SubstringsMatch does for addresses).
bool SubstringMatches(const SubstringAssertion& s, std::string_view value);

// The address `s` looks up, if it is the lookup of exactly one address.
bool AddressOfSubstring(const SubstringAssertion& s, MailAddress* out);

}  // namespace keydir

#endif  // KEYDIR_CHASE_FILTER_SHAPE_H
