// Pointer publication: a zone's master tells its parent or the root that a
// member's key now lives at (or no longer lives at) a server, so that the
// root's pointers stay true (the patent: "the servers upstream are aware of
// the location of the public key").
//
// On the wire it is the extended operation
// 2.25.142655347163252810041593617359114918330.4.2 whose value is
//
//   KeydirPublication ::= SEQUENCE {
//       action    ENUMERATED { add(0), delete(1) },
//       memberDN  OCTET STRING,   -- mail=ADDRESS,dc=...
//       urls      SEQUENCE OF OCTET STRING
//                    -- add: 1 to 16 ldap:// URLs of the servers holding the
//                    -- member (the pointer's ref values); delete: none
//   }
//
// in DER, signed with the keychase control over CanonicalPublication()
// (doc/signing.md §4.7).
#ifndef KEYDIR_PUBLISH_PUBLICATION_H
#define KEYDIR_PUBLISH_PUBLICATION_H

#include <string>
#include <string_view>
#include <vector>

#include "base/oids.h"  // kPublishOid
#include "base/status.h"

namespace keydir {

inline constexpr size_t kMaxPublicationUrls = 16;

struct Publication {
    enum class Action { kAdd = 0, kDelete = 1 };
    Action action = Action::kAdd;
    std::string member_dn;
    std::vector<std::string> urls;  // add only: the pointer's ref values

    bool operator==(const Publication& o) const {
        return action == o.action && member_dn == o.member_dn && urls == o.urls;
    }
};

const char* PublicationActionName(Publication::Action action);

// The extended operation's value, and its strict decoder.
std::string EncodePublication(const Publication& p);
Status DecodePublication(std::string_view value, Publication* p);

// What the signature covers:
//   u8(0xFF) || str("keydir-publish-v1") || u8(action) || str(canon_dn(memberDN))
//   || u32(count) || str(url) ...
// The leading 0xFF cannot begin a canonical search request (whose first
// octet is the high octet of a DN's length), so a signature over one can
// never pass for the other.
Status CanonicalPublication(const Publication& p, std::string* out);

}  // namespace keydir

#endif  // KEYDIR_PUBLISH_PUBLICATION_H
