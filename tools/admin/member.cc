#include "admin/member.h"

#include "cert/address.h"
#include "cert/issuer.h"
#include "cert/member_cert.h"
#include "cert/pkcs12.h"
#include "cert/smime_value.h"
#include "cert/x509_util.h"
#include "common/ldif.h"

namespace keydir {

Status MakeMemberMaterial(const Zone& zone, EVP_PKEY* ca_key, const std::string& address,
                          const std::string& cn, const IssueParams& params, Env* env,
                          MemberMaterial* out) {
    ossl::PKeyPtr key;
    Status s = GenerateKey(params.key_type, &key);
    if (!s.ok())
        return s;
    MemberCertRequest req;
    req.address = address;
    req.cn = cn;
    req.not_before = params.not_before;
    req.not_after = params.not_after;
    req.member_key = key.get();
    req.crl_urls = {zone.CrlUrl()};
    ossl::X509Ptr cert;
    s = IssueMemberCertificate(zone.ca_cert(), ca_key, req, env, &cert);
    if (!s.ok())
        return s;

    MemberMaterial m;
    m.address = address;
    m.cn = cn.empty() ? address : cn;
    m.dn = MemberDn(address);
    m.cert_der = CertificateDer(cert.get());
    m.serial = SerialHex(cert.get());

    // What the directory will check on add, checked before anything leaves.
    CertCheckOptions check_options;
    check_options.now = params.not_before;
    check_options.anchors = zone.anchors();
    CertCheck check = CheckMemberCertificate(m.cert_der, address, check_options);
    if (check.verdict != CertVerdict::kOk)
        return Status::Corruption("the issued certificate fails its own check: " + check.reason);
    m.fingerprint = check.facts.fingerprint;
    m.not_after = check.facts.not_after_generalized;

    // RFC 2798's form, which Outlook reads before userCertificate: the
    // certificate with its issuer, so that a client can build the chain.
    s = MakeCertsOnlyPkcs7({m.cert_der, CertificateDer(zone.ca_cert())}, &m.smime_value);
    if (!s.ok())
        return s;
    s = MakePkcs12(key.get(), cert.get(), zone.ca_cert(), params.p12_password, address,
                   params.p12_iterations, &m.p12_der);
    if (!s.ok())
        return s;
    *out = std::move(m);
    return Status::OK();
}

std::string MemberLdif(const MemberMaterial& m) {
    LdifRecord r(m.dn);
    r.Add("objectClass", "keydirMember")
        .Add("mail", m.address)
        .Add("cn", m.cn)
        .Add("userCertificate;binary", m.cert_der, true)
        .Add("userSMIMECertificate", m.smime_value, true)
        .Add("userPKCS12", m.p12_der, true)
        .Add("keydirFingerprint", m.fingerprint)
        .Add("keydirNotAfter", m.not_after)
        .Add("keydirStatus", "active");
    return r.Text();
}

LdapAttrs MemberAttrs(const MemberMaterial& m) {
    return LdapAttrs{
        {"objectClass", {"keydirMember"}},
        {"mail", {m.address}},
        {"cn", {m.cn}},
        {"userCertificate;binary", {m.cert_der}},
        {"userSMIMECertificate", {m.smime_value}},
        {"userPKCS12", {m.p12_der}},
        {"keydirFingerprint", {m.fingerprint}},
        {"keydirNotAfter", {m.not_after}},
        {"keydirStatus", {"active"}},
    };
}

std::string IssueLogLine(Env* env, const MemberMaterial& m) {
    return Zone::LogLine(env, "issue", m.address,
                         m.fingerprint + " " + m.serial + " " + m.not_after);
}

}  // namespace keydir
