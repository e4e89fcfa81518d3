// E-mail addresses as the gateway meets them: SMTP paths in MAIL FROM and
// RCPT TO (RFC 5321), and address lists in To/Cc header fields (RFC 5322),
// which decide who is a Bcc recipient.
#ifndef KEYDIR_GATEWAY_ADDRESS_H
#define KEYDIR_GATEWAY_ADDRESS_H

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace keydir {
namespace gateway {

// Parses the argument of MAIL FROM:/RCPT TO: after the colon: "<a@b> PARAMS".
// Sets *address to the mailbox (empty for the null path "<>", allowed only
// when allow_null) and *params to the ESMTP parameters that follow.
// InvalidArgument with a reason when the path is not a valid mailbox (the
// path quoted, control bytes written as \xNN: the reason goes into a reply).
Status ParseSmtpPath(std::string_view arg, bool allow_null, std::string* address,
                     std::vector<std::string>* params);

// True when `address` is local@domain with a syntactically valid domain and
// a local part of at most 64 octets (dot-atom or quoted string).
bool IsValidMailbox(std::string_view address);

// The address with its domain in lower case (the local part is kept as is:
// RFC 5321 leaves its case to the receiving host).
std::string NormalizeAddress(std::string_view address);

// The domain part in lower case ("" when there is no '@').
std::string DomainOf(std::string_view address);

// The addr-specs of an RFC 5322 address list ("A <a@x>, b@y, grp: c@z;"),
// normalized; comments, display names and groups are handled. Unparsable
// pieces are skipped: the result only serves to recognise Bcc recipients.
std::vector<std::string> ExtractAddresses(std::string_view header_value);

// Case-insensitive comparison of two normalized addresses.
bool SameAddress(std::string_view a, std::string_view b);

}  // namespace gateway
}  // namespace keydir

#endif  // KEYDIR_GATEWAY_ADDRESS_H
