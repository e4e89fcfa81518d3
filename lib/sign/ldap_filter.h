// LDAP search filters in their string form (RFC 4515): parsed into a tree,
// written back, and put into the canonical byte form that a signed request
// MACs (doc/signing.md §4.3).
//
// The two ends of a signed request see the filter differently: the asking
// server has the string it sends; the serving server has what slapd made
// of it, e.g. as filter2bv() writes it (slapd's ors_filterstr), with
// attribute names replaced by their schema names, assertion values
// normalised by the matching rule (ASCII case folded, spaces squeezed) and
// re-escaped. The canonical form is the same for both, because it
//   - lowercases attribute descriptions and sorts their options,
//   - decodes escapes, so "\2a" and "\2A" are the same byte,
//   - puts every assertion value through CanonicalValue() (chase/dn.h),
//   - drops substring components that are empty after that,
//   - sorts the members of '&' and '|',
//   - reads slapd's "(?=true)" as "(&)" and "(?=false)" as "(|)".
// It is refused (kUncanonical on verification) when slapd could not
// evaluate a part of it, written "(?attr=...)" or "(?=undefined)".
//
// What does not agree, and so fails verification (fail closed): attribute
// aliases and OIDs (send the schema's first name: mail, not rfc822Mailbox),
// non-ASCII letters in a different case, values whose syntax slapd
// normalises otherwise (generalizedTime, integers with leading zeros,
// objectClass given as an OID). keydir's peers send only equality and
// presence filters on mail and objectClass.
#ifndef KEYDIR_SIGN_LDAP_FILTER_H
#define KEYDIR_SIGN_LDAP_FILTER_H

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace keydir {

struct FilterNode {
    enum class Kind {
        kAnd,
        kOr,
        kNot,
        kEquality,
        kSubstrings,
        kGreaterOrEqual,
        kLessOrEqual,
        kPresent,
        kApprox,
        kExtensible,
    };
    Kind kind = Kind::kPresent;
    std::vector<FilterNode> children;    // kAnd, kOr: any number; kNot: one
    std::string attribute;               // as written; may be empty for kExtensible
    std::string value;                   // unescaped assertion value
    std::optional<std::string> initial;  // kSubstrings
    std::vector<std::string> any;
    std::optional<std::string> final_;
    std::string matching_rule;   // kExtensible, may be empty
    bool dn_attributes = false;  // kExtensible ":dn"
};

inline constexpr size_t kMaxFilterBytes = 16384;
inline constexpr int kMaxFilterDepth = 64;

// Parses an RFC 4515 filter (white space allowed between the members of
// '&', '|' and '!' and around the whole filter, as libldap allows).
Status ParseFilter(std::string_view text, FilterNode* out);

// The RFC 4515 string form; values escape '*', '(', ')', '\', NUL and
// bytes from 0x80 up, as libldap does.
std::string FormatFilter(const FilterNode& filter);

// The canonical bytes (doc/signing.md §4.3).
std::string CanonicalFilterBytes(const FilterNode& filter);

// ParseFilter() + CanonicalFilterBytes().
Status CanonicalFilter(std::string_view text, std::string* canonical);

// An attribute description lowercased, with its options sorted:
// "userCertificate;binary" -> "usercertificate;binary".
std::string CanonicalAttributeDescription(std::string_view description);

}  // namespace keydir

#endif  // KEYDIR_SIGN_LDAP_FILTER_H
