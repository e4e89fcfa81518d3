// libFuzzer target: what parses certificate bytes nobody vouches for —
// a userCertificate or userSMIMECertificate value a member uploads, or one
// a server named by a referral returns:
// - lib/cert ParseSmimeValue (PKCS#7 certs-only SignedData or a bare DER
//   certificate), ParseCertificate and CheckMemberCertificate with trust
//   anchors, DerToPem / PemToDer;
// - the gateway's choice of usable certificates for a recipient
//   (DirectoryKeySource::SelectCertificates: the checks, then the key type
//   CMS can encrypt to) on a directory record that holds the value.
//
// Properties besides "no crash, no sanitizer report":
// - a certificate that parses has the SHA-256 of the input as fingerprint
//   and goes through PEM and back unchanged;
// - a bare certificate ParseSmimeValue accepts is the whole value, and
//   every certificate it takes out of a PKCS#7 goes through the same checks;
// - nothing chains to the fuzz zone CA but the certificates it issued (a
//   fuzzed certificate that passes would be a forged signature);
// - a certificate for another address is refused with a reason that
//   names the address it is for;
// - the gateway selects a certificate only when CheckMemberCertificate
//   accepts it for the address.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/env.h"
#include "cert/member_cert.h"
#include "cert/smime_value.h"
#include "cert/x509_util.h"
#include "fuzz_pki.h"
#include "gateway/key_source.h"

namespace gw = keydir::gateway;

namespace {

struct World {
    std::unique_ptr<keydir::TrustAnchors> anchors;
    std::vector<std::string> issued;  // DER of what the fuzz CA issued
    keydir::FakeClockEnv env;
    World() {
        std::string pem = fuzzpki::kCaPem;
        if (!keydir::TrustAnchors::FromPem(pem, "fuzz CA", &anchors).ok())
            __builtin_trap();
        for (const char* p :
             {fuzzpki::kCaPem, fuzzpki::kBobPem, fuzzpki::kCarolPem, fuzzpki::kKconleyPem}) {
            std::string der;
            if (!keydir::PemToDer(p, &der).ok())
                __builtin_trap();
            issued.push_back(der);
        }
        env.SetUnixSeconds(fuzzpki::kFuzzNow);
    }
    bool Issued(const std::string& der) const {
        for (const std::string& d : issued)
            if (d == der)
                return true;
        return false;
    }
};

// A directory that must never be asked: SelectCertificates works on the
// record it is given.
class NoDirectory : public gw::Directory {
  public:
    keydir::Status Lookup(const std::string&, bool, gw::MemberRecord*) override {
        __builtin_trap();
    }
};

void CheckCertificate(const World& w, const std::string& der) {
    keydir::CertFacts facts;
    if (!keydir::ParseCertificate(der, &facts).ok())
        return;
    if (facts.fingerprint != keydir::Sha256Hex(der))
        __builtin_trap();
    std::string back;
    if (!keydir::PemToDer(keydir::DerToPem(der), &back).ok() || back != der)
        __builtin_trap();
    // The address the certificate names (so that the later checks run),
    // then one it does not name.
    std::string mail = facts.emails.empty() ? "bob@enc.example" : facts.emails.front();
    keydir::CertCheckOptions options;
    options.now = fuzzpki::kFuzzNow;
    options.anchors = w.anchors.get();
    keydir::CertCheck check = keydir::CheckMemberCertificate(der, mail, options);
    if (check.verdict == keydir::CertVerdict::kOk && !w.Issued(der))
        __builtin_trap();
    if (check.verdict == keydir::CertVerdict::kMalformed)
        __builtin_trap();  // ParseCertificate took it
    options.anchors = nullptr;
    options.now = 4102444800;  // 2100: expired
    (void)keydir::CheckMemberCertificate(der, mail, options);
    options.allow_expired = true;
    const std::string other = "nobody@elsewhere.example";
    check = keydir::CheckMemberCertificate(der, other, options);
    if (!facts.emails.empty() && !keydir::SameMailbox(facts.emails.front(), other) &&
        (check.verdict != keydir::CertVerdict::kRejected ||
         check.reason.find(facts.emails.front()) == std::string::npos))
        __builtin_trap();  // refused, saying whom the certificate is for

    // The gateway: a directory record with this certificate (and, as a
    // rollover, Bob's), for the address it names.
    gw::KeySourceOptions ko;
    ko.anchors = w.anchors.get();
    NoDirectory directory;
    keydir::FakeClockEnv env;
    env.SetUnixSeconds(fuzzpki::kFuzzNow);
    gw::DirectoryKeySource keys(&directory, ko, &env);
    gw::MemberRecord record;
    record.dn = "mail=" + mail + ",dc=example";
    record.certificates = {der};
    std::vector<gw::CertPtr> certs;
    if (keys.SelectCertificates(record, mail, &certs).ok()) {
        if (certs.size() != 1 || !w.Issued(der))
            __builtin_trap();
        if (gw::CertFingerprint(certs[0].get()) != facts.fingerprint)
            __builtin_trap();
    }
    record.via_referral = true;
    record.revoked = {der};
    if (keys.SelectCertificates(record, mail, &certs).ok())
        __builtin_trap();  // revoked
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static World* world = new World;
    const std::string value(reinterpret_cast<const char*>(data), size);

    keydir::SmimeValueCertificates parts;
    if (keydir::ParseSmimeValue(value, &parts).ok()) {
        if (parts.end_entity.empty())
            __builtin_trap();
        if (!parts.pkcs7 && (parts.end_entity.size() != 1 || parts.end_entity[0] != value))
            __builtin_trap();
        for (const auto* list : {&parts.end_entity, &parts.ca})
            for (const std::string& der : *list) {
                keydir::ossl::X509Ptr cert;
                if (parts.pkcs7 && !keydir::ParseDerCertificate(der, &cert).ok())
                    continue;  // PKCS#7 may carry a BER one; CheckCertificate refuses it
                CheckCertificate(*world, der);
            }
    }
    CheckCertificate(*world, value);

    gw::CertPtr cert;
    if (gw::ParseCertificateDer(value, &cert).ok()) {
        (void)gw::CanEncryptTo(cert.get());
        (void)gw::CertFingerprint(cert.get());
    }
    return 0;
}
