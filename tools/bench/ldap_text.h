// Text that goes into LDAP requests and LDIF: DN values, filter values and
// LDIF lines, escaped so that any address (even one with ',', '*' or '(')
// names exactly one member.
#ifndef KEYDIR_TOOLS_BENCH_LDAP_TEXT_H
#define KEYDIR_TOOLS_BENCH_LDAP_TEXT_H

#include <string>
#include <string_view>

namespace keydir {
namespace bench {

// RFC 4514 escaping of an attribute value inside a DN.
std::string EscapeDnValue(std::string_view value);
// The DN of a member: mail=<address>,<base>.
std::string MemberDn(std::string_view address, std::string_view base);
// RFC 4515 escaping of an assertion value inside a filter.
std::string EscapeFilterValue(std::string_view value);
// Replaces every "%s" in `pattern` with the escaped address ("%%" gives %).
std::string FilterFor(std::string_view pattern, std::string_view address);
// One LDIF line "name: value" or, for values that LDIF cannot carry as
// text (binary, leading blank, ':' or '<', non-ASCII), "name:: base64".
std::string LdifLine(std::string_view name, std::string_view value);

}  // namespace bench
}  // namespace keydir

#endif  // KEYDIR_TOOLS_BENCH_LDAP_TEXT_H
