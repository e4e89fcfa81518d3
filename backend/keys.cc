#include "keys.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "cert/member_cert.h"
#include "cert/smime_value.h"
#include "cert/x509_util.h"

namespace keydir {
namespace backend {
namespace {

// The schema pieces keydir's key behaviour needs; all null when
// keydir.schema is not loaded, which turns that behaviour off.
struct KeySchema {
    ObjectClass* member = nullptr;
    AttributeType* user_certificate = nullptr;
    AttributeType* smime_certificate = nullptr;
    AttributeDescription* mail = nullptr;
    AttributeDescription* fingerprint = nullptr;
    AttributeDescription* not_after = nullptr;
    AttributeDescription* status = nullptr;
    bool loaded = false;
};

const KeySchema& Schema() {
    static KeySchema ks = [] {
        KeySchema k;
        const char* text = nullptr;
        k.member = oc_find("keydirMember");
        k.user_certificate = at_find("userCertificate");
        k.smime_certificate = at_find("userSMIMECertificate");
        slap_str2ad("mail", &k.mail, &text);
        slap_str2ad("keydirFingerprint", &k.fingerprint, &text);
        slap_str2ad("keydirNotAfter", &k.not_after, &text);
        slap_str2ad("keydirStatus", &k.status, &text);
        k.loaded =
            k.member && k.user_certificate && k.mail && k.fingerprint && k.not_after && k.status;
        return k;
    }();
    return ks;
}

bool IsCertificateType(const KeySchema& ks, AttributeType* t) {
    return t == ks.user_certificate || (ks.smime_certificate && t == ks.smime_certificate);
}

bool IsSmimeType(const KeySchema& ks, AttributeType* t) {
    return ks.smime_certificate && t == ks.smime_certificate;
}

// The end-entity certificates of one value of a certificate attribute: the
// value itself for userCertificate, the certificates of a PKCS#7
// SignedData or a bare DER certificate for userSMIMECertificate (RFC
// 2798). A userCertificate value that is not a certificate is reported by
// the certificate checks, so it is passed on as it is.
Status ValueCertificates(const KeySchema& ks, Attribute* a, unsigned i,
                         std::vector<std::string>* ders) {
    std::string_view value(a->a_vals[i].bv_val, a->a_vals[i].bv_len);
    ders->clear();
    if (!IsSmimeType(ks, a->a_desc->ad_type)) {
        ders->emplace_back(value);
        return Status::OK();
    }
    SmimeValueCertificates certs;
    Status s = ParseSmimeValue(value, &certs);
    if (s.ok())
        *ders = std::move(certs.end_entity);
    return s;
}

bool IsMember(const KeySchema& ks, Entry* e) {
    return ks.loaded && is_entry_objectclass(e, ks.member, 0);
}

std::string Lower(const struct berval& bv) {
    std::string s(bv.bv_val, bv.bv_len);
    for (char& c : s)
        c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
    return s;
}

std::set<std::string> Values(Entry* e, AttributeDescription* ad) {
    std::set<std::string> out;
    if (Attribute* a = attr_find(e->e_attrs, ad))
        for (unsigned i = 0; i < a->a_numvals; ++i)
            out.insert(Lower(a->a_vals[i]));
    return out;
}

void Replace(Entry* e, AttributeDescription* ad, const std::set<std::string>& values) {
    attr_delete(&e->e_attrs, ad);
    for (const std::string& v : values) {
        struct berval bv = {v.size(), const_cast<char*>(v.c_str())};
        attr_merge_normalize_one(e, ad, &bv, nullptr);
    }
}

int Fail(int code, const char* textbuf, const char** text) {
    *text = textbuf;
    return code;
}

}  // namespace

bool LoadTrustAnchor(KeydirDb* kd, const std::string& file, std::string* error) {
    std::unique_ptr<TrustAnchors> anchors;
    Status s = TrustAnchors::Load(file, &anchors);
    if (!s.ok()) {
        *error = s.message();
        return false;
    }
    kd->trust_anchor_file = file;
    kd->anchors = std::move(anchors);
    return true;
}

namespace {

// slapadd -q: the entry carries derived attributes that fit its
// certificates at a glance (each keydirFingerprint the SHA-256 of one of
// them, a keydirNotAfter per certificate), so nothing is parsed.
bool QuickDerivedFit(const KeySchema& ks, Entry* e) {
    std::set<std::string> digests;
    for (Attribute* a = e->e_attrs; a; a = a->a_next)
        if (IsCertificateType(ks, a->a_desc->ad_type))
            for (unsigned i = 0; i < a->a_numvals; ++i)
                digests.insert(
                    Sha256Hex(std::string_view(a->a_vals[i].bv_val, a->a_vals[i].bv_len)));
    std::set<std::string> not_afters = Values(e, ks.not_after);
    return Values(e, ks.fingerprint) == digests && !not_afters.empty() == !digests.empty() &&
           not_afters.size() <= digests.size();
}

bool StoredBefore(const Entry* before, AttributeDescription* ad, const struct berval* value) {
    if (!before)
        return false;
    Attribute* a = attr_find(before->e_attrs, ad);
    for (unsigned i = 0; a && i < a->a_numvals; ++i)
        if (a->a_vals[i].bv_len == value->bv_len &&
            memcmp(a->a_vals[i].bv_val, value->bv_val, value->bv_len) == 0)
            return true;
    return false;
}

}  // namespace

int CheckMemberKeys(Operation* op, KeydirDb* kd, Entry* e, const Entry* before, bool tool_mode,
                    const char** text, char* textbuf, size_t textlen) {
    const KeySchema& ks = Schema();
    if (!IsMember(ks, e))
        return LDAP_SUCCESS;

    if (Attribute* st = attr_find(e->e_attrs, ks.status)) {
        for (unsigned i = 0; i < st->a_numvals; ++i) {
            std::string v = Lower(st->a_vals[i]);
            if (v != "active" && v != "revoked") {
                snprintf(textbuf, textlen, "keydirStatus must be active or revoked, not \"%.40s\"",
                         v.c_str());
                return Fail(LDAP_CONSTRAINT_VIOLATION, textbuf, text);
            }
        }
    }
    // slapadd -q: the administrator vouches for the LDIF (back-mdb's -q
    // skips its checks too); parsing every certificate is most of a bulk
    // load, so an entry whose derived attributes fit is stored as it is.
    if (tool_mode && (slapMode & SLAP_TOOL_QUICK) && QuickDerivedFit(ks, e))
        return LDAP_SUCCESS;
    Attribute* mail = attr_find(e->e_attrs, ks.mail);
    CertCheckOptions options;
    options.now = slap_get_time();
    // A syncrepl consumer copies what its provider accepted: the provider
    // checked the validity period when the certificate was written, and a
    // certificate that has expired since (or, on a new consumer, long ago)
    // must still replicate, or the consumer's copy of the zone diverges.
    options.allow_expired = kd->allow_expired || tool_mode || be_shadow_update(op);
    options.anchors = kd->anchors.get();
    std::set<std::string> fingerprints, not_afters;
    // The same certificate is usually in userCertificate;binary and in
    // userSMIMECertificate: parse it once (parsing is most of a bulk load).
    std::map<std::pair<std::string, bool>, CertCheck> checked;
    std::vector<std::string> ders;
    for (Attribute* a = e->e_attrs; a; a = a->a_next) {
        if (!IsCertificateType(ks, a->a_desc->ad_type))
            continue;
        for (unsigned i = 0; i < a->a_numvals; ++i) {
            Status vs = ValueCertificates(ks, a, i, &ders);
            if (!vs.ok()) {
                snprintf(textbuf, textlen, "%s value %u: %s", a->a_desc->ad_cname.bv_val, i + 1,
                         vs.message().c_str());
                return Fail(LDAP_INVALID_SYNTAX, textbuf, text);
            }
            CertCheckOptions these = options;
            these.allow_expired |= StoredBefore(before, a->a_desc, &a->a_vals[i]);
            for (size_t c = 0; c < ders.size(); ++c) {
                const std::string& der = ders[c];
                auto [it, fresh] = checked.try_emplace({der, these.allow_expired});
                CertCheck& check = it->second;
                // The certificate must name one of the entry's addresses.
                for (unsigned m = 0; fresh && mail && m < mail->a_numvals; ++m) {
                    check = CheckMemberCertificate(
                        der, std::string_view(mail->a_vals[m].bv_val, mail->a_vals[m].bv_len),
                        these);
                    if (check.verdict == CertVerdict::kOk)
                        break;
                }
                if (!mail)
                    check.reason = "the entry has no mail";
                if (check.verdict != CertVerdict::kOk) {
                    std::string which;
                    if (ders.size() > 1)
                        which = " (certificate " + std::to_string(c + 1) + " of " +
                                std::to_string(ders.size()) + ")";
                    snprintf(textbuf, textlen, "%s value %u%s: %s", a->a_desc->ad_cname.bv_val,
                             i + 1, which.c_str(), check.reason.c_str());
                    return Fail(check.verdict == CertVerdict::kMalformed
                                    ? LDAP_INVALID_SYNTAX
                                    : LDAP_CONSTRAINT_VIOLATION,
                                textbuf, text);
                }
                fingerprints.insert(check.facts.fingerprint);
                not_afters.insert(check.facts.not_after_generalized);
            }
        }
    }
    // Values a client sent must be what the certificates say.
    std::set<std::string> sent = Values(e, ks.fingerprint);
    if (!sent.empty() && sent != fingerprints) {
        snprintf(textbuf, textlen,
                 "keydirFingerprint does not match the certificates (the server derives it: "
                 "leave it out)");
        return Fail(LDAP_CONSTRAINT_VIOLATION, textbuf, text);
    }
    sent = Values(e, ks.not_after);
    std::set<std::string> lower_not_afters;
    for (const std::string& v : not_afters) {
        std::string l = v;
        for (char& c : l)
            c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
        lower_not_afters.insert(l);
    }
    if (!sent.empty() && sent != lower_not_afters) {
        snprintf(textbuf, textlen,
                 "keydirNotAfter does not match the certificates (the server derives it: "
                 "leave it out)");
        return Fail(LDAP_CONSTRAINT_VIOLATION, textbuf, text);
    }
    Replace(e, ks.fingerprint, fingerprints);
    Replace(e, ks.not_after, not_afters);
    return LDAP_SUCCESS;
}

Entry* UsableCopy(KeydirDb* kd, Entry* e) {
    (void)kd;
    const KeySchema& ks = Schema();
    if (!IsMember(ks, e))
        return nullptr;
    bool revoked = false;
    if (Attribute* st = attr_find(e->e_attrs, ks.status))
        revoked = st->a_numvals && Lower(st->a_vals[0]) == "revoked";
    time_t now = slap_get_time();
    // Fast path: nothing revoked and no certificate past its notAfter.
    if (!revoked) {
        Attribute* na = attr_find(e->e_attrs, ks.not_after);
        bool any_expired = false;
        // GeneralizedTime "YYYYMMDDHHMMSSZ" compares as text.
        char nowbuf[32];
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(nowbuf, sizeof nowbuf, "%Y%m%d%H%M%SZ", &tm);
        for (unsigned i = 0; na && i < na->a_numvals; ++i) {
            struct berval* v = &na->a_vals[i];
            if (v->bv_len >= 15 && strncmp(v->bv_val, nowbuf, 14) < 0)
                any_expired = true;
        }
        // Several values of one certificate attribute go out newest
        // first, which needs a copy too.
        bool several = false;
        for (Attribute* a = e->e_attrs; a && !several; a = a->a_next)
            several = IsCertificateType(ks, a->a_desc->ad_type) && a->a_numvals > 1;
        if (!any_expired && !several)
            return nullptr;
    }
    Entry* copy = entry_dup(e);
    std::set<std::string> fingerprints, not_afters;
    // Take the certificate attributes out, keep their usable values (a
    // PKCS#7 value while one of its certificates is usable) ...
    std::vector<std::pair<AttributeDescription*, std::vector<std::string>>> kept;
    std::vector<std::string> ders;
    for (Attribute** ap = &copy->e_attrs; *ap;) {
        Attribute* a = *ap;
        if (!IsCertificateType(ks, a->a_desc->ad_type)) {
            ap = &a->a_next;
            continue;
        }
        // ((valid now, newest notBefore of its usable certificates), value)
        std::vector<std::pair<std::pair<bool, int64_t>, std::string>> keep;
        for (unsigned i = 0; !revoked && i < a->a_numvals; ++i) {
            if (!ValueCertificates(ks, a, i, &ders).ok())
                continue;
            bool usable = false, valid_now = false;
            int64_t newest = INT64_MIN;
            for (const std::string& der : ders) {
                CertFacts facts;
                if (!ParseCertificate(der, &facts).ok() || facts.not_after < now)
                    continue;
                usable = true;
                valid_now |= facts.not_before <= now;
                newest = std::max(newest, facts.not_before);
                fingerprints.insert(facts.fingerprint);
                not_afters.insert(facts.not_after_generalized);
            }
            if (usable)
                keep.emplace_back(std::make_pair(valid_now, newest),
                                  std::string(a->a_vals[i].bv_val, a->a_vals[i].bv_len));
        }
        // ... usable now first, then newest notBefore first: clients that
        // take the first value (Evolution) get the certificate a rollover
        // is moving to, not one that is not valid yet ...
        std::stable_sort(keep.begin(), keep.end(),
                         [](const auto& x, const auto& y) { return x.first > y.first; });
        std::vector<std::string> values;
        for (auto& k : keep)
            values.push_back(std::move(k.second));
        kept.emplace_back(a->a_desc, std::move(values));
        *ap = a->a_next;
        a->a_next = nullptr;
        attr_free(a);
    }
    // ... and put those back.
    for (auto& [ad, values] : kept) {
        if (values.empty())
            continue;
        std::vector<struct berval> bvs;
        for (std::string& v : values)
            bvs.push_back({v.size(), &v[0]});
        bvs.push_back(BER_BVNULL);
        attr_merge_normalize(copy, ad, bvs.data(), nullptr);
    }
    Replace(copy, ks.fingerprint, fingerprints);
    Replace(copy, ks.not_after, not_afters);
    return copy;
}

}  // namespace backend
}  // namespace keydir
