// Fetched entries as slapd entries, named as the client expects.
#include "chase/dn.h"
#include "keychase.h"
#include "upstream/upstream_entry.h"

namespace keydir {
namespace keychase {
namespace {

AttributeDescription* ad_keydirSource;
AttributeDescription* ad_keydirPath;

// Values keychase itself puts on fetched entries; never taken from upstream.
bool OwnAttribute(AttributeDescription* ad) {
    return ad == ad_keydirSource || ad == ad_keydirPath;
}

std::string Millis(int64_t micros) {
    char buf[32];
    snprintf(buf, sizeof buf, "%.1fms", micros / 1000.0);
    return buf;
}

}  // namespace

// Operational attributes of fetched entries, registered by the overlay
// (they are its own, not part of keydir.schema): where the entry came from
// and the servers asked to find it.
int RegisterEntrySchema() {
    static const struct {
        const char* def;
        AttributeDescription** ad;
    } defs[] = {
        {"( " KEYDIR_OID ".1.20 NAME 'keydirSource' "
         "DESC 'how keychase answered: local, chase, cache or stale' "
         "EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE "
         "NO-USER-MODIFICATION USAGE dSAOperation )",
         &ad_keydirSource},
        {"( " KEYDIR_OID ".1.21 NAME 'keydirPath' "
         "DESC 'the key servers keychase asked, in order, and what each said' "
         "EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 "
         "NO-USER-MODIFICATION USAGE dSAOperation )",
         &ad_keydirPath},
    };
    for (const auto& d : defs) {
        int rc = register_at(d.def, d.ad, 0);
        if (rc != LDAP_SUCCESS) {
            Debug(LDAP_DEBUG_ANY, "keychase: cannot register %s\n", d.def);
            return rc;
        }
    }
    return LDAP_SUCCESS;
}

std::string PathValue(const ChaseVisit& v) {
    std::string s = v.server + " " + ServerTierName(v.tier) + " " + HopOutcomeName(v.outcome);
    if (!v.detail.empty())
        s += " (" + v.detail + ")";
    return s + " " + Millis(v.micros);
}

Entry* MakeEntry(Operation* op, const UpstreamEntry& fetched, const struct berval* dn,
                 const Resolution& how) {
    (void)op;
    Entry* e = entry_alloc();
    if (dnPrettyNormal(nullptr, const_cast<struct berval*>(dn), &e->e_name, &e->e_nname, nullptr) !=
        LDAP_SUCCESS) {
        entry_free(e);
        return nullptr;
    }
    for (const UpstreamAttribute& a : fetched.attributes) {
        AttributeDescription* ad = nullptr;
        const char* text = nullptr;
        struct berval name = {a.name.size(), const_cast<char*>(a.name.c_str())};
        // Only what a chase may carry, whatever a record holds (private
        // keys never go out through keychase).
        if (!IsChasedAttribute(a.name) || slap_bv2ad(&name, &ad, &text) != LDAP_SUCCESS ||
            OwnAttribute(ad)) {
            Debug(LDAP_DEBUG_TRACE, "keychase: dropping attribute %s of %s\n", a.name.c_str(),
                  fetched.dn.c_str());
            continue;
        }
        std::vector<struct berval> vals;
        for (const std::string& v : a.values)
            vals.push_back({v.size(), const_cast<char*>(v.data())});
        vals.push_back(BER_BVNULL);
        if (attr_merge_normalize(e, ad, vals.data(), nullptr) != LDAP_SUCCESS)
            Debug(LDAP_DEBUG_TRACE, "keychase: dropping values of %s of %s\n", a.name.c_str(),
                  fetched.dn.c_str());
    }
    const char* source = how.stale ? "stale" : how.from_cache ? "cache" : "chase";
    struct berval bv;
    ber_str2bv(source, 0, 0, &bv);
    attr_merge_normalize_one(e, ad_keydirSource, &bv, nullptr);
    for (const ChaseVisit& v : how.path) {
        std::string value = PathValue(v);
        bv.bv_val = const_cast<char*>(value.c_str());
        bv.bv_len = value.size();
        attr_merge_normalize_one(e, ad_keydirPath, &bv, nullptr);
    }
    return e;
}

bool DnForClient(Operation* op, const Wanted& w, const std::string& real_dn, struct berval* dn) {
    struct berval real = {real_dn.size(), const_cast<char*>(real_dn.c_str())};
    struct berval ndn = BER_BVNULL;
    bool in_scope = false;
    if (dnNormalize(0, nullptr, nullptr, &real, &ndn, nullptr) == LDAP_SUCCESS) {
        in_scope = dnIsSuffixScope(&ndn, &op->o_req_ndn, op->ors_scope);
        ber_memfree(ndn.bv_val);
    }
    if (in_scope) {
        ber_dupbv(dn, &real);
        return true;
    }
    // Outside the scope (a client searching its own organisation's base
    // for a remote address): named below the search base instead.
    if (op->ors_scope == LDAP_SCOPE_BASE)
        return false;
    std::string name = "mail=" + EscapeDnValue(w.address.normalized());
    if (op->o_req_dn.bv_len)
        name += "," + std::string(op->o_req_dn.bv_val, op->o_req_dn.bv_len);
    struct berval bv = {name.size(), const_cast<char*>(name.c_str())};
    ber_dupbv(dn, &bv);
    return true;
}

}  // namespace keychase
}  // namespace keydir
