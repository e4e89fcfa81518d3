#include "member_factory.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cctype>
#include <ctime>
#include <random>
#include <vector>

#include "base/env.h"
#include "ldap_text.h"
#include "sign/base64.h"

namespace keydir {
namespace bench {
namespace {

struct KeyFree {
    void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct CertFree {
    void operator()(X509* x) const { X509_free(x); }
};
struct ExtFree {
    void operator()(X509_EXTENSION* e) const { X509_EXTENSION_free(e); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyFree>;
using CertPtr = std::unique_ptr<X509, CertFree>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, ExtFree>;

// The OpenSSL error queue as one line, emptied.
std::string OpenSslError(const std::string& what) {
    std::string msg = what;
    unsigned long e;
    while ((e = ERR_get_error()) != 0) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof buf);
        msg += ": ";
        msg += buf;
    }
    return msg;
}

Status MakeKey(const std::string& kind, KeyPtr* out) {
    EVP_PKEY* k = nullptr;
    if (kind == "rsa2048")
        k = EVP_RSA_gen(2048);
    else if (kind == "rsa3072")
        k = EVP_RSA_gen(3072);
    else if (kind == "p256")
        k = EVP_EC_gen("P-256");
    else
        return Status::InvalidArgument("unknown member key type '" + kind +
                                       "' (expected rsa2048, rsa3072 or p256)");
    if (k == nullptr)
        return Status::Unavailable(OpenSslError("key generation failed"));
    out->reset(k);
    return Status::OK();
}

Status AddNameEntry(X509_NAME* name, const char* field, const std::string& value) {
    if (!X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
                                    reinterpret_cast<const unsigned char*>(value.data()),
                                    static_cast<int>(value.size()), -1, 0))
        return Status::InvalidArgument(
            OpenSslError(std::string("bad ") + field + " '" + value + "'"));
    return Status::OK();
}

Status MakeExtension(X509V3_CTX* ctx, int nid, const std::string& value, ExtPtr* out) {
    X509_EXTENSION* e = X509V3_EXT_conf_nid(nullptr, ctx, nid, value.c_str());
    if (e == nullptr)
        return Status::InvalidArgument(OpenSslError("extension " + value));
    out->reset(e);
    return Status::OK();
}

std::string GeneralizedTime(int64_t t) {
    time_t tt = static_cast<time_t>(t);
    struct tm tm;
    gmtime_r(&tt, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y%m%d%H%M%SZ", &tm);
    return buf;
}

std::string Hex(const unsigned char* p, size_t n) {
    static const char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(2 * n);
    for (size_t i = 0; i < n; ++i) {
        out.push_back(kHex[p[i] >> 4]);
        out.push_back(kHex[p[i] & 15]);
    }
    return out;
}

uint64_t Mix(uint64_t x) {  // splitmix64 finaliser: distinct serials per index
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

// Minimal DER: tag, definite length, content.
void AppendTlv(std::string* out, unsigned char tag, const std::string& content) {
    out->push_back(static_cast<char>(tag));
    size_t n = content.size();
    if (n < 0x80) {
        out->push_back(static_cast<char>(n));
    } else {
        unsigned char len[8];
        int k = 0;
        for (size_t v = n; v; v >>= 8)
            len[k++] = static_cast<unsigned char>(v & 0xff);
        out->push_back(static_cast<char>(0x80 | k));
        while (k)
            out->push_back(static_cast<char>(len[--k]));
    }
    out->append(content);
}

std::string Tlv(unsigned char tag, const std::string& content) {
    std::string out;
    AppendTlv(&out, tag, content);
    return out;
}

std::string DerInteger(uint64_t v) {
    std::string bytes;
    do {
        bytes.insert(bytes.begin(), static_cast<char>(v & 0xff));
        v >>= 8;
    } while (v);
    if (static_cast<unsigned char>(bytes[0]) & 0x80)
        bytes.insert(bytes.begin(), '\0');
    return Tlv(0x02, bytes);
}

// One RDN: SET { SEQUENCE { oid, string } }.
std::string Rdn(const std::string& oid_der, unsigned char string_tag, const std::string& value) {
    return Tlv(0x31, Tlv(0x30, oid_der + Tlv(string_tag, value)));
}

template <typename T, int (*I2d)(const T*, unsigned char**)>
std::string ToDer(const T* object) {
    int len = I2d(object, nullptr);
    if (len <= 0)
        return std::string();
    std::string out(static_cast<size_t>(len), '\0');
    unsigned char* p = reinterpret_cast<unsigned char*>(&out[0]);
    I2d(object, &p);
    return out;
}

const std::string kOidOrganization("\x06\x03\x55\x04\x0a", 5);
const std::string kOidCommonName("\x06\x03\x55\x04\x03", 5);
const std::string kOidEmailAddress("\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x09\x01", 11);
const std::string kOidSubjectAltName("\x06\x03\x55\x1d\x11", 5);
// AlgorithmIdentifier ecdsa-with-SHA256 (no parameters).
const std::string kEcdsaSha256("\x30\x0a\x06\x08\x2a\x86\x48\xce\x3d\x04\x03\x02", 12);

}  // namespace

struct MemberFactory::Impl {
    MemberFactoryOptions options;
    int64_t not_before = 0, not_after = 0;
    KeyPtr ca_key, member_key;
    CertPtr ca_cert;
    std::vector<ExtPtr> fixed_extensions;  // the same in every member certificate
    // DER pieces of the TBSCertificate that are the same for every member,
    // encoded once by OpenSSL; Make() only encodes serial, subject and SAN.
    std::string issuer_der, validity_der, spki_der, extensions_der;
    std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> sign_template{nullptr, EVP_MD_CTX_free};
};

MemberFactory::MemberFactory(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
MemberFactory::~MemberFactory() = default;

Status MemberFactory::Create(const MemberFactoryOptions& options,
                             std::unique_ptr<MemberFactory>* out) {
    if (options.validity_days < 1 || options.validity_days > 36500)
        return Status::InvalidArgument("validity must be between 1 and 36500 days");
    if (options.pkcs12_bytes > 1024 * 1024)
        return Status::InvalidArgument("the PKCS#12 blob may be at most 1 MiB");
    auto impl = std::make_unique<Impl>();
    impl->options = options;
    int64_t now = options.now ? options.now : Env::Default()->NowUnixSeconds();
    impl->not_before = now - 3600;  // an hour of slack for clocks
    impl->not_after = now + int64_t{86400} * options.validity_days;

    Status s = MakeKey("p256", &impl->ca_key);
    if (!s.ok())
        return s;
    s = MakeKey(options.member_key, &impl->member_key);
    if (!s.ok())
        return s;

    // The benchmark CA: self-signed, P-256 (signing a million certificates
    // with RSA would take longer than the benchmark).
    impl->ca_cert.reset(X509_new());
    X509* ca = impl->ca_cert.get();
    X509_set_version(ca, 2);
    ASN1_INTEGER_set_uint64(X509_get_serialNumber(ca), Mix(options.seed) >> 1);
    X509_NAME* name = X509_get_subject_name(ca);
    if (!(s = AddNameEntry(name, "O", "keydir benchmark")).ok())
        return s;
    if (!(s = AddNameEntry(name, "CN", "keydir-bench CA")).ok())
        return s;
    X509_set_issuer_name(ca, name);
    ASN1_TIME_set(X509_getm_notBefore(ca), static_cast<time_t>(impl->not_before));
    ASN1_TIME_set(X509_getm_notAfter(ca), static_cast<time_t>(impl->not_after + 86400));
    X509_set_pubkey(ca, impl->ca_key.get());
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, ca, ca, nullptr, nullptr, 0);
    const std::pair<int, const char*> ca_exts[] = {
        {NID_basic_constraints, "critical,CA:TRUE"},
        {NID_key_usage, "critical,keyCertSign,cRLSign"},
        {NID_subject_key_identifier, "hash"},
    };
    for (const auto& [nid, value] : ca_exts) {
        ExtPtr e;
        if (!(s = MakeExtension(&ctx, nid, value, &e)).ok())
            return s;
        X509_add_ext(ca, e.get(), -1);
    }
    if (!X509_sign(ca, impl->ca_key.get(), EVP_sha256()))
        return Status::Unavailable(OpenSslError("signing the CA certificate failed"));

    // Extensions every member certificate carries, as a zone CA would set them.
    X509* probe = X509_new();
    X509_set_pubkey(probe, impl->member_key.get());
    X509V3_set_ctx(&ctx, ca, probe, nullptr, nullptr, 0);
    const std::pair<int, const char*> member_exts[] = {
        {NID_basic_constraints, "critical,CA:FALSE"},
        // What the key can receive encrypted mail with: RSA encrypts the
        // content key, EC agrees on it.
        {NID_key_usage, options.member_key == "p256" ? "critical,digitalSignature,keyAgreement"
                                                     : "critical,digitalSignature,keyEncipherment"},
        {NID_ext_key_usage, "emailProtection,clientAuth"},
        {NID_subject_key_identifier, "hash"},
        {NID_authority_key_identifier, "keyid:always"},
        {NID_crl_distribution_points, "URI:http://ca.keydir-bench.invalid/zone-ca.crl"},
        {NID_info_access,
         "caIssuers;URI:http://ca.keydir-bench.invalid/zone-ca.crt,"
         "OCSP;URI:http://ocsp.keydir-bench.invalid/"},
    };
    for (const auto& [nid, value] : member_exts) {
        ExtPtr e;
        s = MakeExtension(&ctx, nid, value, &e);
        if (!s.ok()) {
            X509_free(probe);
            return s;
        }
        impl->fixed_extensions.push_back(std::move(e));
    }
    X509_free(probe);
    // The CA/B Forum S/MIME policy (mailbox-validated); built by hand, as
    // the text form of certificatePolicies wants a config database.
    CERTIFICATEPOLICIES* policies = sk_POLICYINFO_new_null();
    POLICYINFO* policy = POLICYINFO_new();
    policy->policyid = OBJ_txt2obj("2.23.140.1.5.1.1", 1);
    sk_POLICYINFO_push(policies, policy);
    X509_EXTENSION* pe = X509V3_EXT_i2d(NID_certificate_policies, 0, policies);
    CERTIFICATEPOLICIES_free(policies);
    if (pe == nullptr)
        return Status::Unavailable(OpenSslError("certificatePolicies"));
    impl->fixed_extensions.emplace_back(pe);

    impl->issuer_der = ToDer<X509_NAME, i2d_X509_NAME>(X509_get_subject_name(ca));
    ASN1_TIME* nb = ASN1_TIME_set(nullptr, static_cast<time_t>(impl->not_before));
    ASN1_TIME* na = ASN1_TIME_set(nullptr, static_cast<time_t>(impl->not_after));
    impl->validity_der =
        Tlv(0x30, ToDer<ASN1_TIME, i2d_ASN1_TIME>(nb) + ToDer<ASN1_TIME, i2d_ASN1_TIME>(na));
    ASN1_TIME_free(nb);
    ASN1_TIME_free(na);
    impl->spki_der = ToDer<EVP_PKEY, i2d_PUBKEY>(impl->member_key.get());
    for (const auto& e : impl->fixed_extensions)
        impl->extensions_der += ToDer<X509_EXTENSION, i2d_X509_EXTENSION>(e.get());
    if (impl->issuer_der.empty() || impl->spki_der.empty() || impl->extensions_der.empty())
        return Status::Unavailable(OpenSslError("encoding the certificate template"));
    impl->sign_template.reset(EVP_MD_CTX_new());
    if (!impl->sign_template || EVP_DigestSignInit(impl->sign_template.get(), nullptr, EVP_sha256(),
                                                   nullptr, impl->ca_key.get()) != 1)
        return Status::Unavailable(OpenSslError("preparing the CA signature"));
    out->reset(new MemberFactory(std::move(impl)));
    return Status::OK();
}

Status MemberFactory::Make(const std::string& address, const std::string& base, uint64_t index,
                           MemberEntry* out) {
    const Impl& m = *impl_;
    size_t at = address.find('@');
    if (at == std::string::npos || at == 0 || at + 1 == address.size())
        return Status::InvalidArgument("'" + address + "' is not an e-mail address");
    out->mail = address;
    out->dn = MemberDn(address, base);
    out->cn = "Member " + address.substr(0, at);

    // TBSCertificate, from the pre-encoded pieces and the member's own.
    std::string subject = Rdn(kOidOrganization, 0x0c, "keydir benchmark") +
                          Rdn(kOidCommonName, 0x0c, out->cn) + Rdn(kOidEmailAddress, 0x16, address);
    std::string san_value = Tlv(0x30, Tlv(0x81, address));  // [1] IMPLICIT IA5String
    std::string san = Tlv(0x30, kOidSubjectAltName + Tlv(0x04, san_value));
    std::string tbs_body;
    tbs_body.reserve(1200);
    tbs_body += std::string("\xa0\x03\x02\x01\x02", 5);  // [0] version v3
    tbs_body += DerInteger(Mix(m.options.seed ^ Mix(index)) >> 1);
    tbs_body += kEcdsaSha256;
    tbs_body += m.issuer_der;
    tbs_body += m.validity_der;
    tbs_body += Tlv(0x30, subject);
    tbs_body += m.spki_der;
    tbs_body += Tlv(0xa3, Tlv(0x30, m.extensions_der + san));
    std::string tbs = Tlv(0x30, tbs_body);

    std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    unsigned char sig[128];
    size_t siglen = sizeof sig;
    if (!ctx || EVP_MD_CTX_copy_ex(ctx.get(), m.sign_template.get()) != 1 ||
        EVP_DigestSign(ctx.get(), sig, &siglen, reinterpret_cast<const unsigned char*>(tbs.data()),
                       tbs.size()) != 1)
        return Status::Unavailable(OpenSslError("signing the certificate of " + address));
    std::string bits(1, '\0');  // no unused bits
    bits.append(reinterpret_cast<const char*>(sig), siglen);
    out->certificate_der.clear();
    AppendTlv(&out->certificate_der, 0x30, tbs + kEcdsaSha256 + Tlv(0x03, bits));

    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_Digest(out->certificate_der.data(), out->certificate_der.size(), md, &mdlen, EVP_sha256(),
               nullptr);
    out->fingerprint = Hex(md, mdlen);
    out->not_after = GeneralizedTime(m.not_after);

    out->pkcs12.clear();
    if (m.options.random_blob && m.options.pkcs12_bytes > 0) {
        std::mt19937_64 rng(Mix(m.options.seed + 0x5bd1e995ULL * (index + 1)));
        out->pkcs12.resize(m.options.pkcs12_bytes);
        for (size_t i = 0; i < out->pkcs12.size(); i += 8) {
            uint64_t r = rng();
            for (size_t j = 0; j < 8 && i + j < out->pkcs12.size(); ++j)
                out->pkcs12[i + j] = static_cast<char>(r >> (8 * j));
        }
    }
    return Status::OK();
}

std::string MemberFactory::CaCertificatePem() const {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(bio, impl_->ca_cert.get());
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    std::string pem(data, static_cast<size_t>(n));
    BIO_free(bio);
    return pem;
}

std::string MemberLdif(const MemberEntry& m) {
    std::string out;
    out.reserve(128 + m.certificate_der.size() * 4 / 3 + m.pkcs12.size() * 4 / 3);
    out += LdifLine("dn", m.dn);
    out += "objectClass: keydirMember\n";
    out += LdifLine("mail", m.mail);
    out += LdifLine("cn", m.cn);
    out += "userCertificate;binary:: " + Base64Encode(m.certificate_der) + "\n";
    if (!m.pkcs12.empty())
        out += "userPKCS12:: " + Base64Encode(m.pkcs12) + "\n";
    out += LdifLine("keydirFingerprint", m.fingerprint);
    out += LdifLine("keydirNotAfter", m.not_after);
    out += "keydirStatus: active\n\n";
    return out;
}

Status ZoneLdif(const std::string& base, std::string* ldif) {
    size_t eq = base.find('=');
    size_t comma = base.find(',');
    if (eq == std::string::npos || (comma != std::string::npos && comma < eq))
        return Status::InvalidArgument("'" + base + "' is not a DN");
    std::string type = base.substr(0, eq);
    std::string value =
        base.substr(eq + 1, comma == std::string::npos ? std::string::npos : comma - eq - 1);
    for (auto& c : type)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string out = LdifLine("dn", base);
    if (type == "dc") {
        out += "objectClass: domain\nobjectClass: keydirZone\n" + LdifLine("dc", value);
    } else if (type == "ou") {
        out += "objectClass: organizationalUnit\nobjectClass: keydirZone\n" + LdifLine("ou", value);
    } else if (type == "o") {
        out += "objectClass: organization\nobjectClass: keydirZone\n" + LdifLine("o", value);
    } else {
        return Status::InvalidArgument("the zone DN '" + base +
                                       "' must start with dc=, ou= or o= to make its top entry");
    }
    out += "\n";
    *ldif = std::move(out);
    return Status::OK();
}

}  // namespace bench
}  // namespace keydir
