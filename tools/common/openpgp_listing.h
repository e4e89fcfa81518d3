// One OpenPGP public key as gpg lists it (gpg --with-colons
// --fixed-list-mode), and the pgpKeyInfo entry of GnuPG's LDAP keyserver
// schema (schema/gnupg.schema) that holds it, written the way gpg
// --send-keys writes one: DN pgpCertID=<long key ID>,<key space>.
#ifndef KEYDIR_TOOLS_COMMON_OPENPGP_LISTING_H
#define KEYDIR_TOOLS_COMMON_OPENPGP_LISTING_H

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "common/ldap_session.h"

namespace keydir {

struct OpenPgpKey {
    std::string fingerprint;  // primary key, uppercase hex
    std::string key_id;       // long key ID: the fingerprint's last 16 digits
    int algorithm = 0;        // OpenPGP public key algorithm number
    unsigned bits = 0;
    int64_t created = 0;  // seconds since the epoch
    int64_t expires = 0;  // 0: never
    bool revoked = false;
    bool disabled = false;
    std::vector<std::string> user_ids;   // valid (not revoked) ones, unescaped
    std::vector<std::string> mailboxes;  // the addr-spec of each, lowercase
    std::vector<std::string> sub_fingerprints;
    std::vector<std::string> sub_key_ids;
    std::string armored;  // the ASCII-armored public key block
};

// Parses a listing of exactly one public key. Refuses a listing of none,
// of several, of a secret key ("sec"), or a malformed one.
Status ParseGpgListing(std::string_view listing, OpenPgpKey* key);

// The addr-spec of a user ID: what is inside its last <...>, or the whole
// user ID when it is an address; lowercase; empty when it names none.
std::string MailboxOfUserId(std::string_view user_id);

// "20261208014000Z".
std::string PgpTime(int64_t seconds);

// DN and attributes of the pgpKeyInfo entry of `key` below `key_space`
// (e.g. "ou=GnuPG Keys,dc=tovaris,dc=com").
std::string PgpKeyInfoDn(const OpenPgpKey& key, const std::string& key_space);
LdapAttrs PgpKeyInfoAttrs(const OpenPgpKey& key);

}  // namespace keydir

#endif  // KEYDIR_TOOLS_COMMON_OPENPGP_LISTING_H
