// keydir-admin zone init DOMAIN, zone crl DOMAIN
#include <ostream>

#include "admin/command_util.h"
#include "admin/commands.h"
#include "admin/zone.h"
#include "base/secret_file.h"
#include "cert/address.h"
#include "cert/x509_util.h"

namespace keydir {

Status ZoneInit(const AdminOptions& o, const std::string& domain_arg, Env* env, Io io) {
    ZoneInitOptions z;
    Status s = ValidateDomain(domain_arg, &z.domain);
    if (!s.ok())
        return s;
    if (o.ca_passphrase_file.empty())
        return Status::InvalidArgument(
            "--ca-passphrase-file FILE is needed: it protects the zone CA key");
    s = ReadSecretFile(Env::Default(), o.ca_passphrase_file, &z.ca_passphrase);
    if (!s.ok())
        return Status::InvalidArgument("CA passphrase: " + s.message());
    if (o.database_type != "keydir" && o.database_type != "mdb")
        return Status::InvalidArgument("--database-type must be keydir or mdb, not '" +
                                       o.database_type + "'");
    if (o.ca_days < 1)
        return Status::InvalidArgument("--ca-days must be at least 1");
    if (o.ttl < 0)
        return Status::InvalidArgument("--ttl must not be negative");
    z.key_type = o.key_type;
    z.ca_days = o.ca_days;
    z.ttl = o.ttl;
    z.database_type = o.database_type;
    z.gateway_dn = o.gateway_dn;
    z.db_directory = o.db_directory;
    z.schema_dir = o.schema_dir;

    std::string dir;
    s = Zone::Init(o.zones_root, z, env, &dir);
    std::fill(z.ca_passphrase.begin(), z.ca_passphrase.end(), '\0');
    if (!s.ok())
        return s;
    std::string pem;
    std::string der;
    if (env->ReadFile(dir + "/ca.crt", &pem).ok())
        PemToDer(pem, &der);
    io.out << "zone " << z.domain << " created in " << dir << "\n"
           << "  suffix          " << ZoneDn(z.domain) << "\n"
           << "  CA certificate  " << dir << "/ca.crt (" << KeyTypeName(z.key_type) << ", SHA-256 "
           << Sha256Hex(der) << ")\n"
           << "  CA key          " << dir << "/ca.key (encrypted with the CA passphrase)\n"
           << "  zone entry      " << dir << "/zone.ldif (load it before the members)\n"
           << "  slapd snippet   " << dir << "/slapd.conf\n";
    return Status::OK();
}

Status ZoneCrl(const AdminOptions& o, const std::string& domain_arg, Env* env, Io io) {
    std::string domain;
    Status s = ValidateDomain(domain_arg, &domain);
    if (!s.ok())
        return s;
    std::unique_ptr<Zone> zone;
    s = Zone::Open(o.zones_root, domain, &zone);
    if (s.ok())
        s = zone->Lock();
    if (s.ok())
        s = LoadZoneCaKey(o, zone.get());
    if (!s.ok())
        return s;
    if (o.crl_days < 1)
        return Status::InvalidArgument("--crl-days must be at least 1");
    std::unique_ptr<LdapSession> ldap;
    if (!o.ldap.uri.empty()) {
        s = LdapSession::Open(o.ldap, &ldap);
        if (!s.ok())
            return s;
    }
    return RefreshCrl(o, zone.get(), ldap.get(), env, io);
}

}  // namespace keydir
