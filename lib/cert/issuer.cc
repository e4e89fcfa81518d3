#include "cert/issuer.h"

#include <openssl/err.h>

#include "cert/x509_util.h"

namespace keydir {
namespace {

Status Fail(const std::string& what) {
    return Status::Unavailable(what + ": " + ossl::TakeError());
}

// A positive 128-bit serial (RFC 5280 allows up to 20 octets); random so
// that a re-created CA never repeats one and serials reveal nothing.
Status RandomSerial(X509* cert, Env* env) {
    unsigned char bytes[16];
    Status s = env->RandomBytes(bytes, sizeof bytes);
    if (!s.ok())
        return s;
    bytes[0] &= 0x7f;
    bytes[0] |= 0x40;  // never a leading zero octet, never negative
    ossl::BignumPtr bn(BN_bin2bn(bytes, sizeof bytes, nullptr));
    if (!bn || !BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert)))
        return Fail("cannot set the serial number");
    return Status::OK();
}

Status SetValidity(X509* cert, int64_t not_before, int64_t not_after) {
    if (not_after <= not_before)
        return Status::InvalidArgument("the validity period is empty");
    if (!ASN1_TIME_set(X509_getm_notBefore(cert), static_cast<time_t>(not_before)) ||
        !ASN1_TIME_set(X509_getm_notAfter(cert), static_cast<time_t>(not_after)))
        return Fail("cannot set the validity period");
    return Status::OK();
}

Status AddExtension(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
    ossl::X509ExtensionPtr ext(X509V3_EXT_conf_nid(nullptr, ctx, nid, value));
    if (!ext || X509_add_ext(cert, ext.get(), -1) != 1)
        return Fail(std::string("cannot add the extension ") + OBJ_nid2sn(nid));
    return Status::OK();
}

Status AddText(X509_NAME* name, const char* field, const std::string& value) {
    if (X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(value.c_str()),
                                   static_cast<int>(value.size()), -1, 0) != 1)
        return Status::InvalidArgument(std::string("cannot put '") + value + "' in the " + field +
                                       " of a certificate subject (" + ossl::TakeError() + ")");
    return Status::OK();
}

// A GeneralName of type `type` (GEN_EMAIL) holding `value` as IA5String.
// Built directly rather than through the "email:..." configuration syntax,
// so that no character of an address can be read as syntax.
Status AddEmailName(GENERAL_NAMES* names, const std::string& value) {
    GENERAL_NAME* gn = GENERAL_NAME_new();
    ASN1_IA5STRING* ia5 = ASN1_IA5STRING_new();
    if (!gn || !ia5 || ASN1_STRING_set(ia5, value.data(), static_cast<int>(value.size())) != 1) {
        GENERAL_NAME_free(gn);
        ASN1_IA5STRING_free(ia5);
        return Fail("cannot encode the address");
    }
    GENERAL_NAME_set0_value(gn, GEN_EMAIL, ia5);
    if (!sk_GENERAL_NAME_push(names, gn)) {
        GENERAL_NAME_free(gn);
        return Fail("cannot encode the address");
    }
    return Status::OK();
}

// cRLDistributionPoints with one DistributionPoint whose fullName lists
// `urls`. Built directly: the configuration syntax would split an LDAP
// URL at its commas.
Status AddCrlDistributionPoint(X509* cert, const std::vector<std::string>& urls) {
    GENERAL_NAMES* names = sk_GENERAL_NAME_new_null();
    DIST_POINT* dp = DIST_POINT_new();
    DIST_POINT_NAME* dpn = DIST_POINT_NAME_new();
    CRL_DIST_POINTS* points = sk_DIST_POINT_new_null();
    bool ok = names && dp && dpn && points;
    for (size_t i = 0; ok && i < urls.size(); ++i) {
        GENERAL_NAME* gn = GENERAL_NAME_new();
        ASN1_IA5STRING* ia5 = ASN1_IA5STRING_new();
        ok = gn && ia5 &&
             ASN1_STRING_set(ia5, urls[i].data(), static_cast<int>(urls[i].size())) == 1;
        if (ok) {
            GENERAL_NAME_set0_value(gn, GEN_URI, ia5);
            ia5 = nullptr;
            ok = sk_GENERAL_NAME_push(names, gn) > 0;
        }
        if (!ok) {
            GENERAL_NAME_free(gn);
            ASN1_IA5STRING_free(ia5);
        }
    }
    if (ok) {
        dpn->type = 0;  // fullName
        dpn->name.fullname = names;
        names = nullptr;
        dp->distpoint = dpn;
        dpn = nullptr;
        ok = sk_DIST_POINT_push(points, dp) > 0;
        if (ok)
            dp = nullptr;
    }
    if (ok)
        ok = X509_add1_ext_i2d(cert, NID_crl_distribution_points, points, 0, X509V3_ADD_DEFAULT) ==
             1;
    GENERAL_NAMES_free(names);
    DIST_POINT_NAME_free(dpn);
    DIST_POINT_free(dp);
    CRL_DIST_POINTS_free(points);
    return ok ? Status::OK() : Fail("cannot add the cRLDistributionPoints");
}

}  // namespace

Status MakeZoneCaCertificate(const std::string& domain, EVP_PKEY* ca_key, int64_t not_before,
                             int64_t not_after, Env* env, ossl::X509Ptr* out) {
    ERR_clear_error();
    ossl::X509Ptr cert(X509_new());
    if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1)
        return Fail("X509_new");
    Status s = RandomSerial(cert.get(), env);
    if (s.ok())
        s = SetValidity(cert.get(), not_before, not_after);
    if (!s.ok())
        return s;
    X509_NAME* name = X509_get_subject_name(cert.get());
    s = AddText(name, "O", domain);
    if (s.ok())
        s = AddText(name, "CN", "keydir zone CA");
    if (!s.ok())
        return s;
    X509_set_issuer_name(cert.get(), name);
    if (X509_set_pubkey(cert.get(), ca_key) != 1)
        return Fail("cannot set the CA public key");
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
    std::string constraint = "critical,permitted;email:" + domain;
    s = AddExtension(cert.get(), &ctx, NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
    if (s.ok())
        s = AddExtension(cert.get(), &ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
    if (s.ok())
        s = AddExtension(cert.get(), &ctx, NID_subject_key_identifier, "hash");
    if (s.ok())
        s = AddExtension(cert.get(), &ctx, NID_authority_key_identifier, "keyid:always");
    if (s.ok())
        s = AddExtension(cert.get(), &ctx, NID_name_constraints, constraint.c_str());
    if (!s.ok())
        return s;
    if (X509_sign(cert.get(), ca_key, EVP_sha256()) <= 0)
        return Fail("cannot sign the CA certificate");
    *out = std::move(cert);
    return Status::OK();
}

Status IssueMemberCertificate(X509* ca_cert, EVP_PKEY* ca_key, const MemberCertRequest& req,
                              Env* env, ossl::X509Ptr* out) {
    ERR_clear_error();
    int64_t ca_from = 0, ca_until = 0;
    if (!Asn1TimeToUnix(X509_get0_notBefore(ca_cert), &ca_from) ||
        !Asn1TimeToUnix(X509_get0_notAfter(ca_cert), &ca_until))
        return Status::Corruption("the zone CA certificate has unreadable validity times");
    if (req.not_before < ca_from || req.not_after > ca_until)
        return Status::InvalidArgument(
            "the certificate would be valid from " + FormatHumanTime(req.not_before) + " to " +
            FormatHumanTime(req.not_after) + ", outside the zone CA's validity (" +
            FormatHumanTime(ca_from) + " to " + FormatHumanTime(ca_until) + ")");
    if (X509_check_private_key(ca_cert, ca_key) != 1) {
        ossl::TakeError();
        return Status::InvalidArgument(
            "the zone CA key does not belong to the zone CA certificate");
    }
    int key_id = EVP_PKEY_get_base_id(req.member_key);
    if (key_id != EVP_PKEY_RSA && key_id != EVP_PKEY_EC)
        return Status::InvalidArgument("member keys are RSA or EC");

    ossl::X509Ptr cert(X509_new());
    if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1)
        return Fail("X509_new");
    Status s = RandomSerial(cert.get(), env);
    if (s.ok())
        s = SetValidity(cert.get(), req.not_before, req.not_after);
    if (s.ok())
        s = AddText(X509_get_subject_name(cert.get()), "CN", req.cn.empty() ? req.address : req.cn);
    if (!s.ok())
        return s;
    if (X509_set_issuer_name(cert.get(), X509_get_subject_name(ca_cert)) != 1 ||
        X509_set_pubkey(cert.get(), req.member_key) != 1)
        return Fail("cannot set issuer and key");

    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, ca_cert, cert.get(), nullptr, nullptr, 0);
    const char* usage = key_id == EVP_PKEY_RSA ? "critical,digitalSignature,keyEncipherment"
                                               : "critical,digitalSignature,keyAgreement";
    s = AddExtension(cert.get(), &ctx, NID_basic_constraints, "critical,CA:FALSE");
    if (s.ok())
        s = AddExtension(cert.get(), &ctx, NID_key_usage, usage);
    if (s.ok())
        s = AddExtension(cert.get(), &ctx, NID_ext_key_usage, "emailProtection");
    if (s.ok())
        s = AddExtension(cert.get(), &ctx, NID_subject_key_identifier, "hash");
    if (s.ok())
        s = AddExtension(cert.get(), &ctx, NID_authority_key_identifier, "keyid:always");
    if (!s.ok())
        return s;
    ossl::GeneralNamesPtr names(sk_GENERAL_NAME_new_null());
    if (!names)
        return Fail("cannot make the subjectAltName");
    s = AddEmailName(names.get(), req.address);
    if (!s.ok())
        return s;
    if (X509_add1_ext_i2d(cert.get(), NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) !=
        1)
        return Fail("cannot add the subjectAltName");
    if (!req.crl_urls.empty()) {
        s = AddCrlDistributionPoint(cert.get(), req.crl_urls);
        if (!s.ok())
            return s;
    }
    if (X509_sign(cert.get(), ca_key, EVP_sha256()) <= 0)
        return Fail("cannot sign the certificate");
    *out = std::move(cert);
    return Status::OK();
}

std::string SerialHex(X509* cert) {
    return IntegerHex(X509_get0_serialNumber(cert));
}

}  // namespace keydir
