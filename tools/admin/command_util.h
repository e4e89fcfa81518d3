// Steps the member subcommands share: resolving an address to its zone,
// reading the passphrases and working out the validity period.
#ifndef KEYDIR_TOOLS_ADMIN_COMMAND_UTIL_H
#define KEYDIR_TOOLS_ADMIN_COMMAND_UTIL_H

#include <memory>
#include <string>

#include "admin/commands.h"
#include "admin/member.h"
#include "admin/zone.h"

namespace keydir {

// Validates `address` (normalised into *normalized) and opens its zone.
Status OpenZoneOf(const AdminOptions& o, const std::string& address, std::string* normalized,
                  std::unique_ptr<Zone>* zone);

// Loads the zone CA key with the CA passphrase and fills `params` (key
// type, validity, PKCS#12 password and iterations) from the options.
Status PrepareIssue(const AdminOptions& o, Zone* zone, Env* env, IssueParams* params);

// Loads the zone CA key with the passphrase of --ca-passphrase-file.
Status LoadZoneCaKey(const AdminOptions& o, Zone* zone);

// Makes the zone's CRL anew from issued.log (Zone::WriteCrl) and, when
// `ldap` is not null, publishes it as certificateRevocationList;binary on
// the zone entry (adding objectClass pkiCA when the entry lacks it).
// Reports what it did on io.out.
Status RefreshCrl(const AdminOptions& o, Zone* zone, LdapSession* ldap, Env* env, Io io);

// Case-insensitive attribute lookup that also matches options:
// "userCertificate" finds "userCertificate;binary".
std::vector<std::string> Values(const LdapAttrs& entry, const std::string& base_name);

}  // namespace keydir

#endif  // KEYDIR_TOOLS_ADMIN_COMMAND_UTIL_H
