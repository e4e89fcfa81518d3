// keydir-admin cache flush ADDRESS|@DOMAIN|all: empties the key cache of a
// key server running keychase (its flush extended operation; the bind DN
// must be the rootdn of a database that runs keychase).
#include <ostream>

#include "admin/command_util.h"
#include "admin/commands.h"
#include "base/oids.h"
#include "chase/mail_address.h"

namespace keydir {

Status CacheFlush(const AdminOptions& o, const std::string& what, Env* env, Io io) {
    (void)env;
    if (o.ldap.uri.empty())
        return Status::InvalidArgument("cache flush needs -H URI (the key server)");
    std::string value;
    if (what == "all") {
        value.clear();
    } else if (!what.empty() && what[0] == '@') {
        std::string domain;
        Status s = NormalizeMailDomain(what.substr(1), &domain);
        if (!s.ok())
            return Status::InvalidArgument("'" + what + "': " + s.message());
        value = "@" + domain;
    } else {
        MailAddress a;
        Status s = MailAddress::Parse(what, &a);
        if (!s.ok())
            return Status::InvalidArgument("'" + what +
                                           "' is not an address, @domain or all: " + s.message());
        value = a.normalized();
    }
    std::unique_ptr<LdapSession> ldap;
    Status s = LdapSession::Open(o.ldap, &ldap);
    if (!s.ok())
        return s;
    std::string text;
    s = ldap->Extended(kFlushOid, value.empty() ? nullptr : &value, &text);
    if (!s.ok())
        return s;
    io.out << (text.empty() ? "flushed" : text) << std::endl;
    return Status::OK();
}

}  // namespace keydir
