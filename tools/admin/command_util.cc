#include "admin/command_util.h"

#include <strings.h>

#include <ostream>

#include "base/secret_file.h"
#include "cert/address.h"
#include "cert/crl.h"
#include "cert/x509_util.h"

namespace keydir {

Status OpenZoneOf(const AdminOptions& o, const std::string& address, std::string* normalized,
                  std::unique_ptr<Zone>* zone) {
    Status s = ValidateAddress(address, normalized);
    if (!s.ok())
        return s;
    return Zone::Open(o.zones_root, DomainOf(*normalized), zone);
}

Status LoadZoneCaKey(const AdminOptions& o, Zone* zone) {
    if (o.ca_passphrase_file.empty())
        return Status::InvalidArgument(
            "--ca-passphrase-file FILE is needed to use the zone CA key");
    std::string ca_pass;
    Status s = ReadSecretFile(Env::Default(), o.ca_passphrase_file, &ca_pass);
    if (!s.ok())
        return Status::InvalidArgument("CA passphrase: " + s.message());
    s = zone->LoadCaKey(ca_pass);
    std::fill(ca_pass.begin(), ca_pass.end(), '\0');
    return s;
}

Status RefreshCrl(const AdminOptions& o, Zone* zone, LdapSession* ldap, Env* env, Io io) {
    if (o.crl_days < 1)
        return Status::InvalidArgument("--crl-days must be at least 1");
    std::string der;
    CrlInfo info;
    Status s = zone->WriteCrl(env, o.crl_days, &der, &info);
    if (!s.ok())
        return s;
    io.out << "zone " << zone->domain() << ": CRL number " << info.number << ", "
           << info.serials.size() << " revoked certificate" << (info.serials.size() == 1 ? "" : "s")
           << ", next update " << FormatHumanTime(info.next_update) << ", written to "
           << zone->dir() << "/zone.crl\n";
    if (!ldap)
        return Status::OK();
    LdapAttrs entry;
    s = ldap->Read(zone->suffix(), {"objectClass"}, &entry);
    if (s.IsNotFound())
        return Status::NotFound("the CRL is written, but there is no zone entry " + zone->suffix() +
                                " at " + o.ldap.uri + " to publish it on");
    if (!s.ok())
        return s;
    std::vector<LdapChange> changes;
    bool has_class = false;
    for (const auto& v : Values(entry, "objectClass"))
        has_class = has_class || strcasecmp(v.c_str(), "pkiCA") == 0;
    if (!has_class)
        changes.push_back({LdapChange::kAdd, "objectClass", {"pkiCA"}});
    changes.push_back({LdapChange::kReplace, "certificateRevocationList;binary", {der}});
    s = ldap->Modify(zone->suffix(), changes);
    if (!s.ok())
        return s.WithContext("the CRL is written, but publishing it failed: ");
    io.out << "  published on " << zone->suffix() << " at " << o.ldap.uri << "\n";
    return Status::OK();
}

Status PrepareIssue(const AdminOptions& o, Zone* zone, Env* env, IssueParams* params) {
    if (o.ca_passphrase_file.empty())
        return Status::InvalidArgument(
            "--ca-passphrase-file FILE is needed to use the zone CA key");
    if (o.p12_password_file.empty())
        return Status::InvalidArgument(
            "--p12-password-file FILE is needed to protect the private key (the member's "
            "passphrase, or the gateway's --key-password-file)");
    if (o.days < 1)
        return Status::InvalidArgument("--days must be at least 1");
    if (o.p12_iterations < 1)
        return Status::InvalidArgument("--p12-iter must be at least 1");
    Status s = ReadSecretFile(Env::Default(), o.p12_password_file, &params->p12_password);
    if (!s.ok())
        return Status::InvalidArgument("PKCS#12 password: " + s.message());
    s = LoadZoneCaKey(o, zone);
    if (!s.ok())
        return s;

    params->key_type = o.key_type;
    params->p12_iterations = o.p12_iterations;
    int64_t start;
    if (!o.valid_from.empty()) {
        s = ParseGeneralizedTime(o.valid_from, &start);
        if (!s.ok())
            return Status::InvalidArgument("--valid-from: " + s.message());
        params->not_before = start;
    } else {
        start = env->NowUnixSeconds();
        // Five minutes back for clients whose clocks are slow, but never
        // before the CA itself.
        int64_t ca_from = 0;
        Asn1TimeToUnix(X509_get0_notBefore(zone->ca_cert()), &ca_from);
        params->not_before = std::max(start - 300, ca_from);
    }
    params->not_after = start + static_cast<int64_t>(o.days) * 86400;
    return Status::OK();
}

std::vector<std::string> Values(const LdapAttrs& entry, const std::string& base_name) {
    std::vector<std::string> out;
    for (const auto& [name, values] : entry) {
        std::string base = name.substr(0, name.find(';'));
        if (strcasecmp(base.c_str(), base_name.c_str()) == 0)
            out.insert(out.end(), values.begin(), values.end());
    }
    return out;
}

}  // namespace keydir
