#include "lookup/resolver.h"

#include "base/ascii.h"

#include <ldap.h>
#include <strings.h>
#include <sys/time.h>

#include <memory>

#include "base/env.h"
#include "cert/address.h"
#include "cert/smime_value.h"
#include "cert/x509_util.h"

namespace keydir {
namespace {

// Keeps the usable certificates of the entries a ReferralSearch finds.
class Resolver {
  public:
    Resolver(const std::string& address, const LookupOptions& o, LookupResult* r)
        : address_(address), o_(o), result_(r) {}
    void TakeEntry(LDAP* ld, LDAPMessage* e, const std::string& server, int hops);

  private:
    std::string address_;
    const LookupOptions& o_;
    LookupResult* result_;
};

void Resolver::TakeEntry(LDAP* ld, LDAPMessage* e, const std::string& server, int hops) {
    ++result_->entries;
    char* dn_raw = ldap_get_dn(ld, e);
    std::string dn = dn_raw ? dn_raw : "";
    if (dn_raw)
        ldap_memfree(dn_raw);
    bool revoked = false;
    std::vector<std::string> certs;
    BerElement* ber = nullptr;
    for (char* a = ldap_first_attribute(ld, e, &ber); a; a = ldap_next_attribute(ld, e, ber)) {
        std::string name = Lower(std::string(a).substr(0, std::string(a).find(';')));
        berval** vals = ldap_get_values_len(ld, e, a);
        for (int i = 0; vals && vals[i]; ++i) {
            std::string v(vals[i]->bv_val, vals[i]->bv_len);
            if (name == "keydirstatus" && strcasecmp(v.c_str(), "revoked") == 0)
                revoked = true;
            if (name == "usercertificate") {
                certs.push_back(v);
            } else if (name == "usersmimecertificate") {
                // RFC 2798 PKCS#7 (Outlook) or a bare DER certificate; a
                // value that is neither goes to the checks, which say so.
                SmimeValueCertificates inside;
                if (ParseSmimeValue(v, &inside).ok())
                    certs.insert(certs.end(), inside.end_entity.begin(), inside.end_entity.end());
                else
                    certs.push_back(v);
            }
        }
        ldap_value_free_len(vals);
        ldap_memfree(a);
    }
    if (ber)
        ber_free(ber, 0);
    if (revoked) {
        result_->rejected.push_back({dn, server, "the member is revoked"});
        return;
    }
    if (certs.empty()) {
        result_->rejected.push_back({dn, server, "the entry holds no certificate"});
        return;
    }
    CertCheckOptions check;
    check.now = o_.now != 0 ? o_.now : Env::Default()->NowUnixSeconds();
    check.anchors = o_.anchors;
    for (const auto& der : certs) {
        CertCheck c = CheckMemberCertificate(der, address_, check);
        if (c.verdict != CertVerdict::kOk) {
            result_->rejected.push_back({dn, server, c.reason});
            continue;
        }
        bool seen = false;
        for (const auto& u : result_->usable)
            seen = seen || u.facts.fingerprint == c.facts.fingerprint;
        if (!seen)
            result_->usable.push_back({der, c.facts, dn, server, hops});
    }
}

}  // namespace

Status Lookup(const std::string& address, const LookupOptions& options, LookupResult* result) {
    std::string normalized;
    Status s = ValidateAddress(address, &normalized);
    if (!s.ok())
        return s;
    std::string base = options.base.empty() ? ZoneDn(DomainOf(normalized)) : options.base;
    // ldap:// and ldaps:// URIs in the normal form referrals get, so that a
    // referral back to the first server is seen as the loop it is.
    std::string server = options.uri;
    SearchTarget first;
    if (!server.empty() && ParseReferralUrl(server, base, &first).ok())
        server = first.server;
    Resolver resolver(normalized, options, result);
    ReferralSearchOptions search;
    search.max_hops = options.max_hops;
    // Every branch of a referral tree at its deepest, and a little more.
    search.max_searches = 4 * (options.max_hops + 1);
    search.timeout_seconds = options.timeout_seconds;
    search.attributes = {"mail", "keydirStatus", "userCertificate;binary", "userSMIMECertificate"};
    ReferralSearch searcher(normalized, search,
                            [&](LDAP* ld, LDAPMessage* e, const std::string& at, int hops) {
                                resolver.TakeEntry(ld, e, at, hops);
                            });
    s = searcher.Search(server, base, 0, {});
    if (!s.ok() && !result->usable.empty()) {
        result->warnings.push_back(s.message());  // found elsewhere: report, do not fail
        return Status::OK();
    }
    return s;
}

}  // namespace keydir
