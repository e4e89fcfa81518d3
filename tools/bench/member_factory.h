// MemberFactory: keydirMember entries of the shape a zone holds (mail, cn,
// a real X.509 certificate for the address, a PKCS#12-sized private-key
// blob, the derived keydirFingerprint and keydirNotAfter), made fast enough
// to fill a zone of a million members for a benchmark.
//
// What is real and what is not:
// - The certificate is a real X.509 v3 certificate for the address (SAN
//   rfc822Name, keyEncipherment for RSA keys or keyAgreement for EC keys,
//   emailProtection, valid now), issued by a
//   P-256 benchmark CA made at start; every member shares one subject key
//   pair (RSA 3072 by default), because making a key pair per member would
//   take hours. Certificate checks treat it as any other member's.
// - userPKCS12 holds pseudo-random bytes of the size of a member's
//   PKCS#12 (3 KB by default), not a PKCS#12: making a real one costs two
//   key derivations per member. Nothing in a lookup benchmark opens it.
#ifndef KEYDIR_TOOLS_BENCH_MEMBER_FACTORY_H
#define KEYDIR_TOOLS_BENCH_MEMBER_FACTORY_H

#include <cstdint>
#include <memory>
#include <string>

#include "base/status.h"

namespace keydir {
namespace bench {

struct MemberEntry {
    std::string dn;
    std::string mail;
    std::string cn;
    std::string certificate_der;
    std::string pkcs12;       // random bytes, see above
    std::string fingerprint;  // SHA-256 of certificate_der, lowercase hex
    std::string not_after;    // keydirNotAfter, "YYYYMMDDHHMMSSZ"
};

struct MemberFactoryOptions {
    std::string member_key = "rsa3072";  // rsa2048, rsa3072 or p256
    size_t pkcs12_bytes = 3072;
    int64_t now = 0;  // Unix seconds; 0 = the clock
    int validity_days = 825;
    uint64_t seed = 1;        // the random blobs and serial numbers
    bool random_blob = true;  // false: no userPKCS12 at all
};

class MemberFactory {
  public:
    ~MemberFactory();
    static Status Create(const MemberFactoryOptions& options, std::unique_ptr<MemberFactory>* out);

    // The member `address` under `base`; `index` seeds its blob and serial.
    Status Make(const std::string& address, const std::string& base, uint64_t index,
                MemberEntry* out);
    // The benchmark CA's certificate, PEM (a trust anchor for the zone).
    std::string CaCertificatePem() const;

  private:
    struct Impl;
    explicit MemberFactory(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

// The member as LDIF (one record, ends with an empty line).
std::string MemberLdif(const MemberEntry& member);
// The zone's top entry: objectClass domain + keydirZone for a base whose
// first RDN is dc=..., organizationalUnit/organization for ou=/o=.
Status ZoneLdif(const std::string& base, std::string* ldif);

}  // namespace bench
}  // namespace keydir

#endif  // KEYDIR_TOOLS_BENCH_MEMBER_FACTORY_H
