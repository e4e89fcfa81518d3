// DN keys: how a distinguished name is laid out as a Berkeley DB key so that
// one B-tree answers base lookups, subtree ranges and one-level walks.
//
// A normalized DN "mail=a@x.com,dc=x,dc=com" is split into its RDNs and
// stored root first, RDNs separated by a NUL byte:
//   "dc=com" NUL "dc=x" NUL "mail=a@x.com"
// NUL cannot occur inside an RDN of a normalized DN (it is escaped), so the
// descendants of a key K are exactly the keys that start with K NUL, they
// sort together, and the keys after K's whole subtree start at K \x01.
// The null DN "" has the empty key and every other key descends from it.
#ifndef KEYDIR_STORE_DN_KEY_H
#define KEYDIR_STORE_DN_KEY_H

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace keydir {

// Splits a DN in LDAPv3 string form into its RDNs, leaf first. Commas
// escaped with a backslash (as "\," or "\2C") do not split. The empty DN
// gives no RDNs. Fails on an empty RDN ("a=b,,c=d") or a trailing backslash.
Status SplitDn(std::string_view dn, std::vector<std::string_view>* rdns);

// The key of a normalized DN.
Status DnKeyFromDn(std::string_view ndn, std::string* key);

// The key of the parent of `key`; the parent of a one-RDN key is "".
// Must not be called with "" (the null DN has no parent).
std::string_view ParentDnKey(std::string_view key);

// The number of RDNs in a key.
size_t DnKeyDepth(std::string_view key);

// The smallest key that is a strict descendant of `key` would start with
// this prefix ("" for the null DN, else key + NUL).
std::string DescendantPrefix(std::string_view key);

// The first key that sorts after every key of `key`'s subtree (key \x01).
// Not defined for the null DN, whose subtree is everything.
std::string SubtreeEnd(std::string_view key);

// True if `candidate` is a strict descendant of `ancestor`.
bool IsDescendantKey(std::string_view ancestor, std::string_view candidate);

}  // namespace keydir

#endif  // KEYDIR_STORE_DN_KEY_H
