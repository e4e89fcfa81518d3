// keydir-admin's OpenPGP keys (member add --openpgp / --openpgp-key): gpg
// runs in batch mode in a temporary GNUPGHOME that is removed afterwards;
// what comes out is one public key, ready for its pgpKeyInfo entry
// (common/openpgp_listing.h).
#ifndef KEYDIR_TOOLS_ADMIN_OPENPGP_H
#define KEYDIR_TOOLS_ADMIN_OPENPGP_H

#include <string>

#include "base/status.h"
#include "common/openpgp_listing.h"

namespace keydir {

// The exported public key in `file` (armored or binary). It must hold one
// public key, no secret key, and a valid user ID with `address`.
Status ReadOpenPgpKeyFile(const std::string& file, const std::string& address, OpenPgpKey* key);

// Makes an ed25519 key with a cv25519 encryption subkey for "cn <address>",
// protected with `passphrase`, that never expires; `secret` receives its
// armored secret key block (still protected with the passphrase).
Status MakeOpenPgpKey(const std::string& address, const std::string& cn,
                      const std::string& passphrase, OpenPgpKey* key, std::string* secret);

}  // namespace keydir

#endif  // KEYDIR_TOOLS_ADMIN_OPENPGP_H
