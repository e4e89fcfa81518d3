// keydir-admin member add | revoke | rekey | show
#include <strings.h>

#include <algorithm>
#include <ostream>
#include <set>

#include "admin/command_util.h"
#include "admin/commands.h"
#include "admin/member.h"
#include "admin/openpgp.h"
#include "cert/address.h"
#include "cert/member_cert.h"
#include "cert/smime_value.h"
#include "cert/x509_util.h"
#include "common/atomic_file.h"
#include "common/ldif.h"

namespace keydir {
namespace {

// The OpenPGP options of member add, checked before any work.
Status CheckOpenPgpOptions(const AdminOptions& o) {
    if (o.openpgp && !o.openpgp_key_file.empty())
        return Status::InvalidArgument(
            "--openpgp (make a key) and --openpgp-key FILE (take one) exclude each other");
    if (o.openpgp && o.openpgp_secret_file.empty())
        return Status::InvalidArgument(
            "--openpgp needs --openpgp-secret FILE: the member's OpenPGP secret key goes there "
            "(protected with the --p12-password-file password), never into the directory");
    if (!o.openpgp && !o.openpgp_secret_file.empty())
        return Status::InvalidArgument("--openpgp-secret applies to --openpgp only");
    return Status::OK();
}

std::string LdifOf(const std::string& dn, const LdapAttrs& attrs) {
    LdifRecord r(dn);
    auto oc = attrs.find("objectClass");
    if (oc != attrs.end())
        for (const std::string& v : oc->second)
            r.Add(oc->first, v);
    for (const auto& [name, values] : attrs)
        if (name != "objectClass")
            for (const std::string& v : values)
                r.Add(name, v);
    return r.Text();
}

// The certificates of a userSMIMECertificate value (RFC 2798 PKCS#7 or a
// bare DER certificate) into *out; a value that does not parse as either
// goes in as it is, for the checks to call malformed.
void ExpandSmimeValue(const std::string& value, std::set<std::string>* out) {
    SmimeValueCertificates certs;
    if (!ParseSmimeValue(value, &certs).ok()) {
        out->insert(value);
        return;
    }
    out->insert(certs.end_entity.begin(), certs.end_entity.end());
}

Status NeedLdap(const AdminOptions& o, const char* command) {
    if (o.ldap.uri.empty())
        return Status::InvalidArgument(std::string("member ") + command +
                                       " works on the directory: give -H URI (and -D DN -y FILE)");
    return Status::OK();
}

bool HasObjectClass(const LdapAttrs& entry, const char* oc) {
    for (const auto& v : Values(entry, "objectClass"))
        if (strcasecmp(v.c_str(), oc) == 0)
            return true;
    return false;
}

// Reads the member entry; a missing entry is NotFound with a plain message.
Status ReadMember(LdapSession* ldap, const AdminOptions& o, const std::string& address,
                  const std::vector<std::string>& attrs, LdapAttrs* entry) {
    Status s = ldap->Read(MemberDn(address), attrs, entry);
    if (s.IsNotFound())
        return Status::NotFound("no member " + address + " at " + o.ldap.uri + " (no entry " +
                                MemberDn(address) + ")");
    if (!s.ok())
        return s;
    if (!HasObjectClass(*entry, "keydirMember"))
        return Status::InvalidArgument(MemberDn(address) + " is not a keydirMember entry");
    return Status::OK();
}

// What revoke, rekey and show start with: the member's zone, locked for a
// change or with its CA certificate loaded to show, and a directory to ask.
Status OpenMemberZone(const AdminOptions& o, const std::string& address_arg, const char* command,
                      bool lock, std::string* address, std::unique_ptr<Zone>* zone) {
    Status s = OpenZoneOf(o, address_arg, address, zone);
    if (s.ok())
        s = NeedLdap(o, command);
    if (s.ok())
        s = lock ? (*zone)->Lock() : (*zone)->LoadCaCertificate();
    return s;
}

// Connects to the directory and reads the member's entry.
Status ConnectAndReadMember(const AdminOptions& o, const std::string& address,
                            const std::vector<std::string>& attrs,
                            std::unique_ptr<LdapSession>* ldap, LdapAttrs* entry) {
    Status s = LdapSession::Open(o.ldap, ldap);
    if (s.ok())
        s = ReadMember(ldap->get(), o, address, attrs, entry);
    return s;
}

}  // namespace

Status MemberAdd(const AdminOptions& o, const std::string& address_arg, Env* env, Io io) {
    std::string address;
    std::unique_ptr<Zone> zone;
    Status s = OpenZoneOf(o, address_arg, &address, &zone);
    if (!s.ok())
        return s;
    if (!o.output.empty() && !o.ldap.uri.empty())
        return Status::InvalidArgument(
            "-o FILE (LDIF) and -H URI (add over LDAP) exclude each other");
    s = CheckOpenPgpOptions(o);
    if (!s.ok())
        return s;
    std::unique_ptr<AtomicFile> out_file;
    if (!o.output.empty()) {
        s = AtomicFile::Create(o.output, 0600, &out_file);  // unwritable: say so before any work
        if (!s.ok())
            return s;
    }
    std::unique_ptr<AtomicFile> secret_file;
    if (o.openpgp) {
        s = AtomicFile::Create(o.openpgp_secret_file, 0600, &secret_file);
        if (!s.ok())
            return s;
    }
    s = zone->Lock();
    if (!s.ok())
        return s;
    IssueParams params;
    s = PrepareIssue(o, zone.get(), env, &params);
    if (!s.ok())
        return s;
    std::unique_ptr<LdapSession> ldap;
    if (!o.ldap.uri.empty()) {
        s = LdapSession::Open(o.ldap, &ldap);
        if (!s.ok())
            return s;
    } else if (!o.force) {
        // Offline, the zone's record of what it issued is what knows.
        std::unordered_set<std::string> issued;
        s = zone->IssuedAddresses(&issued);
        if (!s.ok())
            return s;
        if (issued.count(address))
            return Status::Exists("the member " + address +
                                  " exists already (issued.log of the zone; use member rekey, or "
                                  "--force to issue again)");
    }

    // The OpenPGP key first: a key file that does not fit stops the add
    // before a certificate is issued.
    OpenPgpKey pgp;
    std::string pgp_secret;
    if (!o.openpgp_key_file.empty())
        s = ReadOpenPgpKeyFile(o.openpgp_key_file, address, &pgp);
    else if (o.openpgp)
        s = MakeOpenPgpKey(address, o.cn, params.p12_password, &pgp, &pgp_secret);
    if (!s.ok())
        return s.WithContext("OpenPGP key: ");
    const bool with_pgp = !pgp.fingerprint.empty();
    const std::string pgp_dn = PgpKeyInfoDn(pgp, "ou=GnuPG Keys," + ZoneDn(zone->domain()));

    MemberMaterial m;
    s = MakeMemberMaterial(*zone, zone->ca_key(), address, o.cn, params, env, &m);
    if (!s.ok())
        return s;
    if (secret_file) {
        s = secret_file->Write(pgp_secret);
        std::fill(pgp_secret.begin(), pgp_secret.end(), '\0');
        if (s.ok())
            s = secret_file->Commit();
        if (!s.ok())
            return s;
    }
    std::string ldif = MemberLdif(m);
    if (with_pgp)
        ldif += LdifOf(pgp_dn, PgpKeyInfoAttrs(pgp));
    if (ldap) {
        s = ldap->Add(m.dn, MemberAttrs(m));
        if (s.IsExists())
            return Status::Exists("the member " + address + " exists already in " + o.ldap.uri);
        if (!s.ok())
            return s;
        if (with_pgp) {
            s = ldap->Add(pgp_dn, PgpKeyInfoAttrs(pgp));
            if (!s.ok())
                return s.WithContext("the member was added, its OpenPGP key " + pgp_dn + " not: ");
        }
    } else if (out_file) {
        s = out_file->Write(ldif);
        if (s.ok())
            s = out_file->Commit();
        if (!s.ok())
            return s;
    } else {
        io.out << ldif << std::flush;
        if (!io.out)
            return Status::IOError("cannot write the LDIF to standard output");
    }
    s = zone->AppendLog(IssueLogLine(env, m));
    if (!s.ok())
        return s;
    io.err << "member " << address << ": " << KeyTypeName(params.key_type)
           << " certificate, SHA-256 " << m.fingerprint << ", valid until " << m.not_after
           << (ldap ? ", added to " + o.ldap.uri : "") << "\n";
    if (with_pgp)
        io.err << "member " << address << ": OpenPGP key " << pgp.fingerprint << " (" << pgp_dn
               << ")" << (secret_file ? ", secret key in " + o.openpgp_secret_file : "") << "\n";
    return Status::OK();
}

Status MemberRevoke(const AdminOptions& o, const std::string& address_arg, Env* env, Io io) {
    std::string address;
    std::unique_ptr<Zone> zone;
    Status s = OpenMemberZone(o, address_arg, "revoke", true, &address, &zone);
    if (!s.ok())
        return s;
    // With the CA passphrase, the revocation goes into a new CRL at once.
    bool have_ca_key = !o.ca_passphrase_file.empty();
    if (have_ca_key) {
        s = LoadZoneCaKey(o, zone.get());
        if (!s.ok())
            return s;
    }
    std::unique_ptr<LdapSession> ldap;
    LdapAttrs entry;
    s = ConnectAndReadMember(o, address, {"objectClass", "keydirStatus"}, &ldap, &entry);
    if (!s.ok())
        return s;
    auto status = Values(entry, "keydirStatus");
    if (!status.empty() && strcasecmp(status[0].c_str(), "revoked") == 0) {
        io.out << "member " << address << " was revoked already\n";
        return Status::OK();
    }
    s = ldap->Modify(MemberDn(address), {{LdapChange::kReplace, "keydirStatus", {"revoked"}}});
    if (!s.ok())
        return s;
    s = zone->AppendLog(Zone::LogLine(env, "revoke-member", address, ""));
    if (!s.ok())
        return s;
    io.out << "member " << address << " revoked: its key is no longer served as usable\n";
    if (!have_ca_key) {
        io.err << "keydir-admin: the zone CRL does not list " << address
               << " yet: run keydir-admin zone crl " << zone->domain()
               << " (or give member revoke --ca-passphrase-file)\n";
        return Status::OK();
    }
    return RefreshCrl(o, zone.get(), ldap.get(), env, io);
}

Status MemberRekey(const AdminOptions& o, const std::string& address_arg, Env* env, Io io) {
    std::string address;
    std::unique_ptr<Zone> zone;
    Status s = OpenMemberZone(o, address_arg, "rekey", true, &address, &zone);
    if (!s.ok())
        return s;
    IssueParams params;
    s = PrepareIssue(o, zone.get(), env, &params);
    if (!s.ok())
        return s;
    std::unique_ptr<LdapSession> ldap;
    LdapAttrs entry;
    s = ConnectAndReadMember(o, address,
                             {"objectClass", "userCertificate;binary", "userSMIMECertificate",
                              "keydirRevokedCertificate;binary"},
                             &ldap, &entry);
    if (!s.ok())
        return s;

    MemberMaterial m;
    s = MakeMemberMaterial(*zone, zone->ca_key(), address, o.cn, params, env, &m);
    if (!s.ok())
        return s;

    std::vector<std::string> user_certs = Values(entry, "userCertificate");
    std::vector<std::string> smime_certs = Values(entry, "userSMIMECertificate");
    std::vector<std::string> already = Values(entry, "keydirRevokedCertificate");
    std::set<std::string> old(user_certs.begin(), user_certs.end());
    for (const auto& value : smime_certs)
        ExpandSmimeValue(value, &old);
    for (const auto& a : already)
        old.erase(a);

    std::vector<LdapChange> changes;
    if (!user_certs.empty())
        changes.push_back({LdapChange::kDelete, "userCertificate;binary", {}});
    changes.push_back({LdapChange::kAdd, "userCertificate;binary", {m.cert_der}});
    if (!smime_certs.empty())
        changes.push_back({LdapChange::kDelete, "userSMIMECertificate", {}});
    changes.push_back({LdapChange::kAdd, "userSMIMECertificate", {m.smime_value}});
    if (!old.empty())
        changes.push_back({LdapChange::kAdd, "keydirRevokedCertificate;binary",
                           std::vector<std::string>(old.begin(), old.end())});
    changes.push_back({LdapChange::kReplace, "userPKCS12", {m.p12_der}});
    changes.push_back({LdapChange::kReplace, "keydirFingerprint", {m.fingerprint}});
    changes.push_back({LdapChange::kReplace, "keydirNotAfter", {m.not_after}});
    changes.push_back({LdapChange::kReplace, "keydirStatus", {"active"}});
    if (!o.cn.empty())
        changes.push_back({LdapChange::kReplace, "cn", {o.cn}});
    s = ldap->Modify(m.dn, changes);
    if (!s.ok())
        return s;

    std::string log = IssueLogLine(env, m);
    for (const auto& der : old)
        log += Zone::LogLine(env, "revoke-cert", address, Sha256Hex(der));
    s = zone->AppendLog(log);
    if (!s.ok())
        return s;
    io.out << "member " << address << " rekeyed: new " << KeyTypeName(params.key_type)
           << " certificate SHA-256 " << m.fingerprint << ", valid until " << m.not_after << "\n";
    for (const auto& der : old)
        io.out << "  revoked certificate SHA-256 " << Sha256Hex(der) << "\n";
    return RefreshCrl(o, zone.get(), ldap.get(), env, io);
}

Status MemberShow(const AdminOptions& o, const std::string& address_arg, Env* env, Io io) {
    std::string address;
    std::unique_ptr<Zone> zone;
    Status s = OpenMemberZone(o, address_arg, "show", false, &address, &zone);
    if (!s.ok())
        return s;
    std::unique_ptr<LdapSession> ldap;
    LdapAttrs entry;
    s = ConnectAndReadMember(o, address,
                             {"objectClass", "mail", "cn", "keydirStatus", "userCertificate;binary",
                              "userSMIMECertificate", "keydirRevokedCertificate;binary",
                              "userPKCS12", "keydirFingerprint", "keydirNotAfter"},
                             &ldap, &entry);
    if (!s.ok())
        return s;

    auto first = [&](const char* name) {
        auto v = Values(entry, name);
        return v.empty() ? std::string("-") : v[0];
    };
    io.out << "dn: " << MemberDn(address) << "\n"
           << "mail: " << first("mail") << "\n"
           << "cn: " << first("cn") << "\n"
           << "status: "
           << (Values(entry, "keydirStatus").empty() ? "active (no keydirStatus)"
                                                     : first("keydirStatus"))
           << "\n";
    std::vector<std::string> certs = Values(entry, "userCertificate");
    for (const auto& value : Values(entry, "userSMIMECertificate")) {
        std::set<std::string> inside;
        ExpandSmimeValue(value, &inside);
        for (const auto& der : inside)
            if (std::find(certs.begin(), certs.end(), der) == certs.end())
                certs.push_back(der);
    }
    CertCheckOptions check_options;
    check_options.now = env->NowUnixSeconds();
    check_options.anchors = zone->anchors();
    auto describe = [&](const std::string& der, const char* title) {
        CertCheck c = CheckMemberCertificate(der, address, check_options);
        const CertFacts& f = c.facts;
        io.out << title << " SHA-256 " << (f.fingerprint.empty() ? Sha256Hex(der) : f.fingerprint)
               << "\n";
        if (c.verdict == CertVerdict::kMalformed) {
            io.out << "  malformed: " << c.reason << "\n";
            return;
        }
        std::string emails;
        for (const auto& e : f.emails)
            emails += (emails.empty() ? "" : ", ") + e;
        io.out << "  subject:   " << f.subject << "\n"
               << "  issuer:    " << f.issuer << "\n"
               << "  valid:     " << FormatHumanTime(f.not_before) << " to "
               << FormatHumanTime(f.not_after) << "\n"
               << "  addresses: " << emails << "\n"
               << "  check:     " << (c.verdict == CertVerdict::kOk ? "ok" : "FAILS: " + c.reason)
               << "\n";
    };
    if (certs.empty())
        io.out << "certificate: none\n";
    for (const auto& der : certs)
        describe(der, "certificate");
    for (const auto& der : Values(entry, "keydirRevokedCertificate"))
        io.out << "revoked certificate SHA-256 " << Sha256Hex(der) << "\n";
    auto p12 = Values(entry, "userPKCS12");
    io.out << "private key (userPKCS12): "
           << (p12.empty() ? std::string("absent, or not readable by this identity")
                           : "present, " + std::to_string(p12[0].size()) + " bytes")
           << "\n";
    return Status::OK();
}

}  // namespace keydir
