#include "cert/x509_util.h"

#include <openssl/asn1err.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include <cstdio>
#include <ctime>

namespace keydir {

Status ParseDerCertificate(std::string_view der, ossl::X509Ptr* out) {
    if (der.empty())
        return Status::InvalidArgument("the value is empty");
    if (der.size() > static_cast<size_t>(INT32_MAX))
        return Status::InvalidArgument("the value is too large");
    ERR_clear_error();
    const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
    const unsigned char* end = p + der.size();
    ossl::X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
    if (!cert) {
        int reason = ERR_GET_REASON(ERR_peek_error());
        std::string why = ossl::TakeError();
        if (reason == ASN1_R_TOO_LONG || reason == ASN1_R_HEADER_TOO_LONG)
            why = "truncated: its length says more bytes than there are";
        return Status::InvalidArgument("not a DER X.509 certificate" +
                                       (why.empty() ? std::string() : " (" + why + ")"));
    }
    if (p != end)
        return Status::InvalidArgument("not a DER X.509 certificate (" + std::to_string(end - p) +
                                       " bytes follow the certificate)");
    // d2i accepts some BER; a directory must hold one encoding per
    // certificate, or fingerprints and certificateExactMatch disagree.
    if (CertificateDer(cert.get()) != der)
        return Status::InvalidArgument("not a DER X.509 certificate (BER encoding)");
    *out = std::move(cert);
    return Status::OK();
}

std::string IntegerHex(const ASN1_INTEGER* i) {
    ossl::BignumPtr bn(ASN1_INTEGER_to_BN(i, nullptr));
    if (!bn)
        return std::string();
    char* hex = BN_bn2hex(bn.get());
    std::string s(hex ? hex : "");
    OPENSSL_free(hex);
    for (char& c : s)
        if (c >= 'A' && c <= 'F')
            c = static_cast<char>(c - 'A' + 'a');
    return s;
}

std::string CertificateDer(X509* cert) {
    unsigned char* buf = nullptr;
    int len = i2d_X509(cert, &buf);
    if (len <= 0) {
        ossl::TakeError();
        return std::string();
    }
    std::string der(reinterpret_cast<char*>(buf), static_cast<size_t>(len));
    OPENSSL_free(buf);
    return der;
}

std::string DerToPem(std::string_view der) {
    ossl::X509Ptr cert;
    if (!ParseDerCertificate(der, &cert).ok())
        return std::string();
    ossl::BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_X509(bio.get(), cert.get()) != 1) {
        ossl::TakeError();
        return std::string();
    }
    return ossl::BioContents(bio.get());
}

Status PemToDer(std::string_view pem, std::string* der) {
    ossl::BioPtr bio = ossl::ReadBio(pem);
    ossl::X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert) {
        std::string why = ossl::TakeError();
        return Status::InvalidArgument("no PEM certificate" +
                                       (why.empty() ? std::string() : " (" + why + ")"));
    }
    *der = CertificateDer(cert.get());
    return Status::OK();
}

std::string Sha256Hex(std::string_view data) {
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), md);
    static const char kHex[] = "0123456789abcdef";
    std::string hex;
    hex.reserve(2 * sizeof md);
    for (unsigned char c : md) {
        hex.push_back(kHex[c >> 4]);
        hex.push_back(kHex[c & 15]);
    }
    return hex;
}

namespace {

std::string FormatTime(int64_t unix_seconds, const char* format) {
    time_t t = static_cast<time_t>(unix_seconds);
    struct tm tm;
    if (!gmtime_r(&t, &tm))
        return std::string();
    char buf[64];
    size_t n = strftime(buf, sizeof buf, format, &tm);
    return std::string(buf, n);
}

}  // namespace

std::string FormatGeneralizedTime(int64_t unix_seconds) {
    return FormatTime(unix_seconds, "%Y%m%d%H%M%SZ");
}

std::string FormatHumanTime(int64_t unix_seconds) {
    return FormatTime(unix_seconds, "%Y-%m-%d %H:%M:%S UTC");
}

Status ParseGeneralizedTime(std::string_view text, int64_t* unix_seconds) {
    auto bad = [&] {
        return Status::InvalidArgument("'" + std::string(text) +
                                       "' is not a time of the form YYYYMMDDHHMMSSZ");
    };
    if (text.size() != 15 || text[14] != 'Z')
        return bad();
    for (size_t i = 0; i < 14; ++i)
        if (text[i] < '0' || text[i] > '9')
            return bad();
    auto num = [&](size_t pos, size_t len) {
        int v = 0;
        for (size_t i = pos; i < pos + len; ++i)
            v = v * 10 + (text[i] - '0');
        return v;
    };
    struct tm tm = {};
    tm.tm_year = num(0, 4) - 1900;
    tm.tm_mon = num(4, 2) - 1;
    tm.tm_mday = num(6, 2);
    tm.tm_hour = num(8, 2);
    tm.tm_min = num(10, 2);
    tm.tm_sec = num(12, 2);
    if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
        tm.tm_min > 59 || tm.tm_sec > 59)
        return bad();
    struct tm check = tm;
    time_t t = timegm(&check);
    // timegm normalises 31 February into March: refuse such dates.
    if (check.tm_mday != tm.tm_mday || check.tm_mon != tm.tm_mon)
        return bad();
    *unix_seconds = static_cast<int64_t>(t);
    return Status::OK();
}

bool Asn1TimeToUnix(const ASN1_TIME* t, int64_t* unix_seconds) {
    struct tm tm;
    if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) {
        ossl::TakeError();
        return false;
    }
    *unix_seconds = static_cast<int64_t>(timegm(&tm));
    return true;
}

bool SameMailbox(std::string_view a, std::string_view b) {
    size_t at_a = a.rfind('@');
    size_t at_b = b.rfind('@');
    if (at_a == std::string_view::npos || at_b == std::string_view::npos)
        return false;
    if (a.size() != b.size() || at_a != at_b || at_a + 1 == a.size())
        return false;
    // ASCII case folding for both parts: the domain by RFC 5321 2.4, the
    // local part because keydir stores and matches `mail` with
    // caseIgnoreIA5Match (one member per address whatever its case), as mail
    // clients match certificates.
    for (size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z')
            x = static_cast<char>(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z')
            y = static_cast<char>(y - 'A' + 'a');
        if (x != y)
            return false;
    }
    return true;
}

}  // namespace keydir
