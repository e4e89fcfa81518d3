#include "cert/smime_value.h"

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/pkcs7.h>

#include <climits>
#include <memory>

#include "cert/ossl.h"
#include "cert/x509_util.h"

namespace keydir {
namespace {

struct Pkcs7Free {
    void operator()(PKCS7* p) const { PKCS7_free(p); }
};
using Pkcs7Ptr = std::unique_ptr<PKCS7, Pkcs7Free>;

// Whether `value` is a DER SEQUENCE whose first element is an OBJECT
// IDENTIFIER: a ContentInfo (a certificate starts with a SEQUENCE, its
// TBSCertificate). Read with OpenSSL's bounded header decoder; a header
// whose length runs past the end still tells what follows it.
bool LooksLikeContentInfo(std::string_view value) {
    const unsigned char* start = reinterpret_cast<const unsigned char*>(value.data());
    const unsigned char* p = start;
    long len = 0;
    int tag = 0, xclass = 0;
    int ret = ASN1_get_object(&p, &len, &tag, &xclass, static_cast<long>(value.size()));
    ERR_clear_error();
    if (ret == 0x80 || p == start)  // the header itself did not decode
        return false;
    if (tag != V_ASN1_SEQUENCE || xclass != V_ASN1_UNIVERSAL || !(ret & V_ASN1_CONSTRUCTED))
        return false;
    return p < start + value.size() && *p == V_ASN1_OBJECT;
}

Status ParsePkcs7(std::string_view value, SmimeValueCertificates* out) {
    ERR_clear_error();
    const unsigned char* p = reinterpret_cast<const unsigned char*>(value.data());
    const unsigned char* end = p + value.size();
    Pkcs7Ptr p7(d2i_PKCS7(nullptr, &p, static_cast<long>(value.size())));
    if (!p7) {
        int reason = ERR_GET_REASON(ERR_peek_error());
        std::string why = ossl::TakeError();
        if (reason == ASN1_R_TOO_LONG || reason == ASN1_R_HEADER_TOO_LONG ||
            reason == ASN1_R_NOT_ENOUGH_DATA)
            why = "truncated: its length says more bytes than there are";
        return Status::InvalidArgument("not a DER PKCS#7 SignedData" +
                                       (why.empty() ? std::string() : " (" + why + ")"));
    }
    if (p != end)
        return Status::InvalidArgument("not a DER PKCS#7 SignedData (" + std::to_string(end - p) +
                                       " bytes follow it)");
    if (!PKCS7_type_is_signed(p7.get()) || !p7->d.sign)
        return Status::InvalidArgument("a PKCS#7 value must be a SignedData, not " +
                                       std::string(OBJ_nid2sn(OBJ_obj2nid(p7->type))));
    STACK_OF(X509)* certs = p7->d.sign->cert;
    int n = certs ? sk_X509_num(certs) : 0;
    if (n <= 0)
        return Status::InvalidArgument("the PKCS#7 SignedData holds no certificate");
    if (static_cast<size_t>(n) > kMaxSmimeValueCertificates)
        return Status::InvalidArgument("the PKCS#7 SignedData holds " + std::to_string(n) +
                                       " certificates (at most " +
                                       std::to_string(kMaxSmimeValueCertificates) + ")");
    SmimeValueCertificates result;
    result.pkcs7 = true;
    for (int i = 0; i < n; ++i) {
        X509* cert = sk_X509_value(certs, i);
        std::string der = CertificateDer(cert);
        if (der.empty())
            return Status::InvalidArgument("certificate " + std::to_string(i + 1) +
                                           " of the PKCS#7 SignedData does not encode");
        if (X509_check_ca(cert) != 0)
            result.ca.push_back(std::move(der));
        else
            result.end_entity.push_back(std::move(der));
    }
    ERR_clear_error();
    if (result.end_entity.empty())
        return Status::InvalidArgument(
            "the PKCS#7 SignedData holds only CA certificates, no end-entity certificate");
    *out = std::move(result);
    return Status::OK();
}

}  // namespace

Status ParseSmimeValue(std::string_view value, SmimeValueCertificates* out) {
    if (value.empty())
        return Status::InvalidArgument("the value is empty");
    if (value.size() > kMaxSmimeValueBytes)
        return Status::InvalidArgument("the value is larger than " +
                                       std::to_string(kMaxSmimeValueBytes) + " bytes");
    if (LooksLikeContentInfo(value))
        return ParsePkcs7(value, out);
    ossl::X509Ptr cert;
    Status s = ParseDerCertificate(value, &cert);
    if (!s.ok())
        return Status::InvalidArgument("neither a PKCS#7 SignedData nor a DER X.509 certificate: " +
                                       s.message());
    SmimeValueCertificates result;
    result.end_entity.emplace_back(value);
    *out = std::move(result);
    return Status::OK();
}

Status MakeCertsOnlyPkcs7(const std::vector<std::string>& ders, std::string* out) {
    Pkcs7Ptr p7(PKCS7_new());
    if (!p7 || !PKCS7_set_type(p7.get(), NID_pkcs7_signed) || !p7->d.sign ||
        !p7->d.sign->contents) {
        std::string why = ossl::TakeError();
        return Status::IOError("cannot make a PKCS#7 SignedData: " + why);
    }
    // certs-only: the content is "data", absent (RFC 5751 3.2.2).
    p7->d.sign->contents->type = OBJ_nid2obj(NID_pkcs7_data);
    for (const std::string& der : ders) {
        ossl::X509Ptr cert;
        Status s = ParseDerCertificate(der, &cert);
        if (!s.ok())
            return s;
        if (!PKCS7_add_certificate(p7.get(), cert.get()))  // takes its own reference
            return Status::IOError("cannot add a certificate to PKCS#7: " + ossl::TakeError());
    }
    unsigned char* buf = nullptr;
    int len = i2d_PKCS7(p7.get(), &buf);
    if (len <= 0)
        return Status::IOError("cannot encode PKCS#7: " + ossl::TakeError());
    out->assign(reinterpret_cast<char*>(buf), static_cast<size_t>(len));
    OPENSSL_free(buf);
    return Status::OK();
}

}  // namespace keydir
