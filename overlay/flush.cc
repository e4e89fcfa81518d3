// The cache flush extended operation (OID KEYDIR_FLUSH_OID). Its value
// names what to flush: nothing (everything), an address, or "@domain" (every
// address of that domain). Only the rootdn of a database that runs keychase
// may send it; the caches of the keychase databases it is the rootdn of are
// flushed (not those of other databases of this slapd). keydir-admin cache
// flush and ldapexop send it.
#include <algorithm>
#include <mutex>

#include "keychase.h"

namespace keydir {
namespace keychase {
namespace {

struct Registered {
    Instance* inst;
    BackendDB* be;
};

std::mutex registry_mu;
std::vector<Registered>& Registry() {
    static std::vector<Registered>* r = new std::vector<Registered>;
    return *r;
}

struct berval flush_oid = BER_BVC(KEYDIR_FLUSH_OID);

std::string& ResponseText() {
    static thread_local std::string text;
    return text;
}

int Flush(Operation* op, SlapReply* rs) {
    std::string what = op->ore_reqdata
                           ? std::string(op->ore_reqdata->bv_val, op->ore_reqdata->bv_len)
                           : std::string();
    std::lock_guard<std::mutex> lock(registry_mu);
    bool allowed = std::any_of(Registry().begin(), Registry().end(),
                               [&](const Registered& r) { return be_isroot_dn(r.be, &op->o_ndn); });
    if (!allowed) {
        rs->sr_text = "only the rootdn of a database running keychase may flush its cache";
        return rs->sr_err = LDAP_INSUFFICIENT_ACCESS;
    }
    MailAddress address;
    std::string domain;
    if (!what.empty() && what[0] == '@') {
        Status s = NormalizeMailDomain(what.substr(1), &domain);
        if (!s.ok()) {
            ResponseText() = "bad domain \"" + what.substr(1) + "\": " + s.message();
            rs->sr_text = ResponseText().c_str();
            return rs->sr_err = LDAP_PROTOCOL_ERROR;
        }
    } else if (!what.empty()) {
        Status s = MailAddress::Parse(what, &address);
        if (!s.ok()) {
            ResponseText() = "bad address \"" + what + "\": " + s.message();
            rs->sr_text = ResponseText().c_str();
            return rs->sr_err = LDAP_PROTOCOL_ERROR;
        }
    }
    size_t flushed = 0;
    for (const Registered& r : Registry()) {
        if (!r.inst->cache || !be_isroot_dn(r.be, &op->o_ndn))
            continue;
        if (what.empty())
            flushed += r.inst->cache->FlushAll();
        else if (!domain.empty())
            flushed += r.inst->cache->FlushDomain(domain);
        else
            flushed += r.inst->cache->Flush(address) ? 1 : 0;
    }
    ResponseText() =
        "flushed " + std::to_string(flushed) + " cached entr" + (flushed == 1 ? "y" : "ies");
    Debug(LDAP_DEBUG_STATS, "%s keychase flush \"%s\": %s\n", op->o_log_prefix, what.c_str(),
          ResponseText().c_str());
    rs->sr_text = ResponseText().c_str();
    return rs->sr_err = LDAP_SUCCESS;
}

extern "C" int kc_flush_exop(Operation* op, SlapReply* rs) {
    KC_GUARD(LDAP_OTHER, { return Flush(op, rs); })
}

}  // namespace

int FlushExopInit() {
    return load_extop(&flush_oid, 0, kc_flush_exop);
}

void RegisterInstance(Instance* inst, BackendDB* be) {
    std::lock_guard<std::mutex> lock(registry_mu);
    Registry().push_back({inst, be});
}

Instance* FindInstance(BackendDB* be) {
    std::lock_guard<std::mutex> lock(registry_mu);
    for (const Registered& r : Registry())
        if (r.be == be || r.be == be->bd_self)
            return r.inst;
    return nullptr;
}

void UnregisterInstance(Instance* inst) {
    std::lock_guard<std::mutex> lock(registry_mu);
    auto& r = Registry();
    r.erase(std::remove_if(r.begin(), r.end(), [&](const Registered& x) { return x.inst == inst; }),
            r.end());
}

}  // namespace keychase
}  // namespace keydir
