// A zone's state on the administrator's host: one directory per zone
// under the zones root (--zones, default /var/lib/keydir/zones):
//
//   DOMAIN/ca.key       the zone CA key, PKCS#8 encrypted with the CA passphrase (0600)
//   DOMAIN/ca.crt       the zone CA certificate (0600; copy it for slapd)
//   DOMAIN/zone.conf    domain and suffix
//   DOMAIN/zone.ldif    the zone's top entry, for ldapadd/slapadd
//   DOMAIN/slapd.conf   a slapd.conf snippet for the zone's database
//   DOMAIN/issued.log   what the CA issued and revoked, one event a line
//   DOMAIN/zone.crl     the zone CA's CRL (DER; what is published on the zone entry)
//   DOMAIN/zone.crl.pem the same CRL as PEM, for openssl -CRLfile
//   DOMAIN/.lock        serialises keydir-admin runs on the zone
#ifndef KEYDIR_TOOLS_ADMIN_ZONE_H
#define KEYDIR_TOOLS_ADMIN_ZONE_H

#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "base/env.h"
#include "base/status.h"
#include "cert/crl.h"
#include "cert/keys.h"
#include "cert/member_cert.h"
#include "cert/ossl.h"

namespace keydir {

struct ZoneInitOptions {
    std::string domain;  // validated and lower case
    KeyType key_type = KeyType::kRsa3072;
    int ca_days = 3650;
    int ttl = 3600;                        // keydirTTL of the zone entry
    std::string database_type = "keydir";  // of the slapd.conf snippet
    std::string gateway_dn;                // may read userPKCS12; default cn=gateway,SUFFIX
    std::string db_directory;              // default /var/lib/ldap/keydir/DOMAIN
    std::string schema_dir = "/etc/ldap/schema";
    std::string ca_passphrase;
};

class Zone {
  public:
    // Creates DOMAIN/ under `root` whole or not at all. Exists if the zone
    // is there already.
    static Status Init(const std::string& root, const ZoneInitOptions& options, Env* env,
                       std::string* zone_dir);
    // NotFound ("unknown zone") when root/DOMAIN is not a zone.
    static Status Open(const std::string& root, const std::string& domain,
                       std::unique_ptr<Zone>* out);

    const std::string& domain() const { return domain_; }
    const std::string& suffix() const { return suffix_; }
    const std::string& dir() const { return dir_; }

    // Takes the zone's lock for this process (Busy if another run holds it).
    Status Lock();

    Status LoadCaCertificate();
    // Decrypts the CA key (PermissionDenied: wrong CA passphrase).
    Status LoadCaKey(const std::string& passphrase);
    X509* ca_cert() const { return ca_cert_.get(); }
    EVP_PKEY* ca_key() const { return ca_key_.get(); }
    const TrustAnchors* anchors() const { return anchors_.get(); }

    // Addresses with an "issue" event in issued.log.
    Status IssuedAddresses(std::unordered_set<std::string>* out) const;
    // The certificates issued.log says are revoked, in log order: those
    // of a "revoke-cert ADDRESS SHA256" line (rekey) and every one issued
    // to ADDRESS before a "revoke-member ADDRESS" line, with the time of
    // that line. A revoked fingerprint that issued.log never issued
    // (a certificate from elsewhere) cannot be named by serial and is left out.
    Status RevokedCertificates(std::vector<CrlEntry>* out) const;
    // The zone's CRL URL, named in the certificates it issues:
    // ldap:///SUFFIX?certificateRevocationList;binary
    std::string CrlUrl() const;
    // Makes a new CRL of RevokedCertificates (cRLNumber one more than the
    // CRL in zone.crl, valid for `days`), signs it with the loaded CA key
    // and replaces zone.crl and zone.crl.pem. Its DER in *der.
    Status WriteCrl(Env* env, int days, std::string* der, CrlInfo* info);
    // Appends whole lines to issued.log.
    Status AppendLog(const std::string& lines);
    // One issued.log line: "TIME EVENT ADDRESS FIELDS...\n".
    static std::string LogLine(Env* env, const std::string& event, const std::string& address,
                               const std::string& fields);

    ~Zone();

  private:
    Zone() = default;
    std::string domain_, suffix_, dir_;
    int lock_fd_ = -1;
    ossl::X509Ptr ca_cert_;
    ossl::PKeyPtr ca_key_;
    std::unique_ptr<TrustAnchors> anchors_;
};

// The zone's top entry as LDIF.
std::string ZoneEntryLdif(const std::string& domain, int ttl);
// cn=pgpServerInfo and ou=GnuPG Keys of the zone (schema/gnupg.schema).
std::string ZoneOpenPgpLdif(const std::string& domain);

// The slapd.conf snippet for the zone's database.
std::string ZoneSlapdSnippet(const ZoneInitOptions& options, const std::string& zone_dir);

}  // namespace keydir

#endif  // KEYDIR_TOOLS_ADMIN_ZONE_H
