// A synchronous LDAP connection for the tools (libldap): connect, optional
// StartTLS, simple bind, and the few operations keydir-admin needs. Every
// LDAP failure becomes a Status whose message has the result code's name
// and the server's diagnostic text.
#ifndef KEYDIR_TOOLS_COMMON_LDAP_SESSION_H
#define KEYDIR_TOOLS_COMMON_LDAP_SESSION_H

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"

typedef struct ldap LDAP;

namespace keydir {

struct LdapOptions {
    std::string uri;            // ldap://, ldaps:// or ldapi://
    std::string bind_dn;        // empty: anonymous
    std::string password_file;  // the bind password (one trailing line end removed)
    bool start_tls = false;
    int timeout_seconds = 30;  // connect and each operation
};

// Attribute name (as sent: "userCertificate;binary") -> values.
using LdapAttrs = std::map<std::string, std::vector<std::string>>;

struct LdapChange {
    enum Op { kAdd, kDelete, kReplace } op;
    std::string attr;
    std::vector<std::string> values;  // empty kDelete: the whole attribute
};

class LdapSession {
  public:
    static Status Open(const LdapOptions& options, std::unique_ptr<LdapSession>* out);
    ~LdapSession();
    LdapSession(const LdapSession&) = delete;
    LdapSession& operator=(const LdapSession&) = delete;

    // Exists when the entry is there already.
    Status Add(const std::string& dn, const LdapAttrs& attrs);
    // NotFound when there is no such entry.
    Status Modify(const std::string& dn, const std::vector<LdapChange>& changes);
    // The entry at `dn` as stored (base search with the ManageDsaIT
    // control, so that a keydir database does not hide revoked or expired
    // certificates and a referral entry is read rather than followed), with
    // the attributes asked for under the names the server returns;
    // NotFound when it does not exist.
    Status Read(const std::string& dn, const std::vector<std::string>& attrs, LdapAttrs* entry);
    // An extended operation; *text gets the server's diagnostic text.
    Status Extended(const std::string& oid, const std::string* value, std::string* text);

  private:
    explicit LdapSession(LDAP* ld, int timeout) : ld_(ld), timeout_(timeout) {}
    Status Result(int rc, const std::string& what);
    LDAP* ld_;
    int timeout_;
};

// "ldap_err2string (code N)" plus the diagnostic message, for errors.
std::string LdapErrorText(int rc, const char* diagnostic);

}  // namespace keydir

#endif  // KEYDIR_TOOLS_COMMON_LDAP_SESSION_H
