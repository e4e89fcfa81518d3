// The subcommands of keydir-admin. Each returns OK or a Status whose
// message is what the administrator reads; main() turns a failure into
// exit status 2 (1 for `member show` of an absent member).
#ifndef KEYDIR_TOOLS_ADMIN_COMMANDS_H
#define KEYDIR_TOOLS_ADMIN_COMMANDS_H

#include <cstdint>
#include <iosfwd>
#include <string>

#include "base/env.h"
#include "base/status.h"
#include "cert/keys.h"
#include "common/ldap_session.h"

namespace keydir {

struct AdminOptions {
    std::string zones_root;
    std::string ca_passphrase_file;
    std::string p12_password_file;
    KeyType key_type = KeyType::kRsa3072;
    bool key_type_given = false;
    int days = 365;
    int ca_days = 3650;
    std::string valid_from;  // GeneralizedTime; empty: now
    int ttl = 3600;
    int crl_days = 30;  // nextUpdate of the zone CRL
    std::string cn;
    int p12_iterations = 2048;
    std::string output;  // -o; empty: standard output
    LdapOptions ldap;    // uri empty: no LDAP
    int jobs = 0;        // 0: one per CPU
    bool force = false;
    std::string database_type = "keydir";
    std::string gateway_dn;
    std::string db_directory;
    std::string schema_dir = "/etc/ldap/schema";
    // member add: the member's OpenPGP key too (a pgpKeyInfo entry below
    // ou=GnuPG Keys of the zone): made with gpg (--openpgp, its protected
    // secret key written to openpgp_secret_file), or read from an exported
    // public key (--openpgp-key FILE).
    bool openpgp = false;
    std::string openpgp_key_file;
    std::string openpgp_secret_file;
};

// Where a command writes what it prints and reports.
struct Io {
    std::ostream& out;
    std::ostream& err;
};

Status ZoneInit(const AdminOptions& o, const std::string& domain, Env* env, Io io);
Status ZoneCrl(const AdminOptions& o, const std::string& domain, Env* env, Io io);
Status MemberAdd(const AdminOptions& o, const std::string& address, Env* env, Io io);
Status MemberBulk(const AdminOptions& o, const std::string& list_file, Env* env, Io io);
Status MemberRevoke(const AdminOptions& o, const std::string& address, Env* env, Io io);
Status MemberRekey(const AdminOptions& o, const std::string& address, Env* env, Io io);
Status MemberShow(const AdminOptions& o, const std::string& address, Env* env, Io io);
Status SecretNew(const AdminOptions& o, const std::string& name, Env* env, Io io);
Status CacheFlush(const AdminOptions& o, const std::string& what, Env* env, Io io);

}  // namespace keydir

#endif  // KEYDIR_TOOLS_ADMIN_COMMANDS_H
