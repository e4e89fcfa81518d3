#include "cert/crl.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <climits>

#include "cert/x509_util.h"

namespace keydir {
namespace {

Status Fail(const std::string& what) {
    return Status::Unavailable(what + ": " + ossl::TakeError());
}

struct CrlFree {
    void operator()(X509_CRL* p) const { X509_CRL_free(p); }
    void operator()(X509_REVOKED* p) const { X509_REVOKED_free(p); }
};
using CrlPtr = std::unique_ptr<X509_CRL, CrlFree>;
using RevokedPtr = std::unique_ptr<X509_REVOKED, CrlFree>;

Status SetTime(int64_t t, ossl::Asn1TimePtr* out) {
    out->reset(ASN1_TIME_set(nullptr, static_cast<time_t>(t)));
    if (!*out)
        return Fail("cannot encode a time");
    return Status::OK();
}

}  // namespace

Status MakeCrl(X509* ca_cert, EVP_PKEY* ca_key, const CrlRequest& req, std::string* der) {
    ERR_clear_error();
    if (req.next_update <= req.this_update)
        return Status::InvalidArgument("the CRL's nextUpdate must follow its thisUpdate");
    if (X509_check_private_key(ca_cert, ca_key) != 1) {
        ossl::TakeError();
        return Status::InvalidArgument(
            "the zone CA key does not belong to the zone CA certificate");
    }
    CrlPtr crl(X509_CRL_new());
    if (!crl || X509_CRL_set_version(crl.get(), X509_CRL_VERSION_2) != 1 ||
        X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(ca_cert)) != 1)
        return Fail("X509_CRL_new");
    ossl::Asn1TimePtr this_update, next_update;
    Status s = SetTime(req.this_update, &this_update);
    if (s.ok())
        s = SetTime(req.next_update, &next_update);
    if (!s.ok())
        return s;
    if (X509_CRL_set1_lastUpdate(crl.get(), this_update.get()) != 1 ||
        X509_CRL_set1_nextUpdate(crl.get(), next_update.get()) != 1)
        return Fail("cannot set the CRL's times");
    for (const CrlEntry& e : req.revoked) {
        BIGNUM* raw = nullptr;
        if (e.serial_hex.empty() ||
            BN_hex2bn(&raw, e.serial_hex.c_str()) != static_cast<int>(e.serial_hex.size())) {
            BN_free(raw);
            return Status::InvalidArgument("'" + e.serial_hex + "' is not a hex serial number");
        }
        ossl::BignumPtr bn(raw);
        ossl::Asn1IntegerPtr serial(BN_to_ASN1_INTEGER(bn.get(), nullptr));
        ossl::Asn1TimePtr when;
        s = SetTime(e.revoked_at, &when);
        if (!s.ok())
            return s;
        RevokedPtr revoked(X509_REVOKED_new());
        if (!serial || !revoked ||
            X509_REVOKED_set_serialNumber(revoked.get(), serial.get()) != 1 ||
            X509_REVOKED_set_revocationDate(revoked.get(), when.get()) != 1 ||
            X509_CRL_add0_revoked(crl.get(), revoked.get()) != 1)
            return Fail("cannot add a revoked certificate to the CRL");
        revoked.release();  // owned by the CRL now
    }
    X509_CRL_sort(crl.get());

    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, ca_cert, nullptr, nullptr, crl.get(), 0);
    ossl::X509ExtensionPtr akid(
        X509V3_EXT_conf_nid(nullptr, &ctx, NID_authority_key_identifier, "keyid:always"));
    if (!akid || X509_CRL_add_ext(crl.get(), akid.get(), -1) != 1)
        return Fail("cannot add the authorityKeyIdentifier");
    ossl::Asn1IntegerPtr number(ASN1_INTEGER_new());
    if (!number || ASN1_INTEGER_set_int64(number.get(), req.number) != 1 ||
        X509_CRL_add1_ext_i2d(crl.get(), NID_crl_number, number.get(), 0, 0) != 1)
        return Fail("cannot add the cRLNumber");
    if (X509_CRL_sign(crl.get(), ca_key, EVP_sha256()) <= 0)
        return Fail("cannot sign the CRL");
    unsigned char* buf = nullptr;
    int len = i2d_X509_CRL(crl.get(), &buf);
    if (len <= 0)
        return Fail("cannot encode the CRL");
    der->assign(reinterpret_cast<char*>(buf), static_cast<size_t>(len));
    OPENSSL_free(buf);
    return Status::OK();
}

Status ParseCrl(std::string_view data, X509* ca_cert, CrlInfo* out) {
    ERR_clear_error();
    if (data.empty())
        return Status::InvalidArgument("the CRL is empty");
    if (data.size() > static_cast<size_t>(INT32_MAX))
        return Status::InvalidArgument("the CRL is too large");
    CrlPtr crl;
    if (data.find("-----BEGIN X509 CRL-----") != std::string_view::npos) {
        ossl::BioPtr bio = ossl::ReadBio(data);
        crl.reset(bio ? PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr) : nullptr);
    } else {
        const unsigned char* p = reinterpret_cast<const unsigned char*>(data.data());
        const unsigned char* end = p + data.size();
        crl.reset(d2i_X509_CRL(nullptr, &p, static_cast<long>(data.size())));
        if (crl && p != end)
            return Status::InvalidArgument("not a CRL (bytes follow it)");
    }
    if (!crl) {
        std::string why = ossl::TakeError();
        return Status::InvalidArgument("not a CRL" + (why.empty() ? "" : " (" + why + ")"));
    }
    if (X509_NAME_cmp(X509_CRL_get_issuer(crl.get()), X509_get_subject_name(ca_cert)) != 0)
        return Status::InvalidArgument("the CRL was issued by another CA");
    EVP_PKEY* ca_key = X509_get0_pubkey(ca_cert);
    if (!ca_key || X509_CRL_verify(crl.get(), ca_key) != 1) {
        ossl::TakeError();
        return Status::PermissionDenied("the CRL's signature is not the zone CA's");
    }
    CrlInfo info;
    if (!Asn1TimeToUnix(X509_CRL_get0_lastUpdate(crl.get()), &info.this_update))
        return Status::InvalidArgument("the CRL's thisUpdate is unreadable");
    const ASN1_TIME* next = X509_CRL_get0_nextUpdate(crl.get());
    if (next && !Asn1TimeToUnix(next, &info.next_update))
        return Status::InvalidArgument("the CRL's nextUpdate is unreadable");
    int crit = 0;
    ossl::Asn1IntegerPtr number(static_cast<ASN1_INTEGER*>(
        X509_CRL_get_ext_d2i(crl.get(), NID_crl_number, &crit, nullptr)));
    int64_t n = 0;
    if (number && ASN1_INTEGER_get_int64(&n, number.get()) == 1)
        info.number = n;
    STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(crl.get());
    for (int i = 0; i < sk_X509_REVOKED_num(revoked); ++i) {
        std::string hex =
            IntegerHex(X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(revoked, i)));
        if (hex.empty())
            return Status::InvalidArgument("the CRL lists an unreadable serial number");
        info.serials.insert(hex);
    }
    ossl::TakeError();
    *out = std::move(info);
    return Status::OK();
}

std::string CertificateSerialHex(std::string_view der) {
    ossl::X509Ptr cert;
    if (!ParseDerCertificate(der, &cert).ok())
        return std::string();
    return IntegerHex(X509_get0_serialNumber(cert.get()));
}

std::string CrlDerToPem(std::string_view der) {
    const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
    CrlPtr crl(d2i_X509_CRL(nullptr, &p, static_cast<long>(der.size())));
    ossl::BioPtr bio(BIO_new(BIO_s_mem()));
    if (!crl || !bio || PEM_write_bio_X509_CRL(bio.get(), crl.get()) != 1) {
        ossl::TakeError();
        return std::string();
    }
    return ossl::BioContents(bio.get());
}

}  // namespace keydir
