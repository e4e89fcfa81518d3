// cn=monitor: the database's monitor entry gains keychase's counters.
#include <cstdio>
#include <ctime>

#include "keychase.h"
#include "monitor_glue.h"

namespace keydir {
namespace keychase {
namespace {

struct Counter {
    const char* name;
    const char* desc;
    AttributeDescription* ad;
};

Counter counters[] = {
    {"olmKeychaseLookups", "addresses looked up", nullptr},
    {"olmKeychaseLocalHits", "addresses answered from local data", nullptr},
    {"olmKeychaseReferrals", "addresses answered with a pointer", nullptr},
    {"olmKeychaseCacheHits", "addresses answered from the key cache", nullptr},
    {"olmKeychaseNegativeHits", "addresses answered by a cached not-found", nullptr},
    {"olmKeychaseCacheMisses", "cache lookups that found nothing fresh", nullptr},
    {"olmKeychaseCacheEntries", "entries in the key cache", nullptr},
    {"olmKeychaseEvictions", "cache entries pushed out by capacity", nullptr},
    {"olmKeychaseChases", "chases run", nullptr},
    {"olmKeychaseHops", "key servers asked, all chases together", nullptr},
    {"olmKeychaseHopsPerChase", "key servers asked per chase, on average", nullptr},
    {"olmKeychaseUpstreamFailures", "key servers that failed", nullptr},
    {"olmKeychaseUpstreamTimeouts", "key servers that did not answer in time", nullptr},
    {"olmKeychaseStaleAnswers", "keys served past their TTL", nullptr},
    {"olmKeychaseCoalesced", "lookups that joined a chase under way", nullptr},
    {"olmKeychaseQueueFull", "lookups refused because too many chases waited", nullptr},
    {"olmKeychaseAsyncSearches", "searches that waited for a chase", nullptr},
    {"olmKeychaseRejectedAnswers", "answers refused (bad or missing signature)", nullptr},
    {"olmKeychaseSignedRequests", "requests to upstreams signed", nullptr},
    {"olmKeychaseRefusedRequests", "peer requests refused: their signature failed", nullptr},
    {"olmKeychaseRefusals", "refused peer requests by reason", nullptr},
    {"olmKeychasePublishQueue", "publications waiting to be delivered upstream", nullptr},
    {"olmKeychasePublishDelivered", "publications delivered upstream", nullptr},
    {"olmKeychasePublishDropped", "publications upstream refused for good (dropped)", nullptr},
    {"olmKeychasePublishFailures", "delivery attempts that failed and will be retried", nullptr},
    {"olmKeychasePublishLastSuccess", "when a publication was last delivered", nullptr},
    {"olmKeychasePublishLastError", "why the latest delivery failed", nullptr},
    {"olmKeychasePublicationsApplied", "publications received and made true here", nullptr},
    {"olmKeychasePublicationsRefused", "publications received and refused", nullptr},
};
constexpr int kRefusals = 20;  // one value per kind of refusal
// Not plain counters: an average, a list, a time, a text.
bool IsInfo(int i) {
    return i == 10 || i == kRefusals || i == 25 || i == 26;
}

std::string GeneralizedTime(int64_t unix_seconds) {
    if (unix_seconds == 0)
        return "19700101000000Z";
    char buf[32];
    time_t t = static_cast<time_t>(unix_seconds);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, sizeof buf, "%Y%m%d%H%M%SZ", &tm);
    return buf;
}
constexpr int kCounters = sizeof counters / sizeof counters[0];
ObjectClass* oc_olmKeychase;

void Put(Entry* e, AttributeDescription* ad, const std::string& value) {
    struct berval bv = {value.size(), const_cast<char*>(value.c_str())};
    Attribute* a = attr_find(e->e_attrs, ad);
    if (a)
        ber_bvreplace(&a->a_vals[0], &bv);
    else
        attr_merge_one(e, ad, &bv, nullptr);
}

extern "C" int KcMonitorUpdate(Operation* op, SlapReply* rs, Entry* e, void* priv) {
    (void)op;
    (void)rs;
    KC_GUARD(SLAP_CB_CONTINUE, {
        Instance* inst = static_cast<Instance*>(priv);
        KeyCacheCounters cc = inst->cache ? inst->cache->Counters() : KeyCacheCounters();
        ResolverCounters rc = inst->resolver ? inst->resolver->Counters() : ResolverCounters();
        PublisherCounters pc = inst->publisher ? inst->publisher->Counters() : PublisherCounters();
        char avg[32];
        snprintf(avg, sizeof avg, "%.2f", rc.chases ? double(rc.hops) / rc.chases : 0.0);
        std::string values[kCounters] = {
            std::to_string(inst->counters.lookups.load()),
            std::to_string(inst->counters.local_hits.load()),
            std::to_string(inst->counters.referrals.load()),
            std::to_string(cc.hits),
            std::to_string(cc.negative_hits),
            std::to_string(cc.misses),
            std::to_string(cc.size),
            std::to_string(cc.evictions),
            std::to_string(rc.chases),
            std::to_string(rc.hops),
            avg,
            std::to_string(rc.failures),
            std::to_string(rc.timeouts),
            std::to_string(rc.stale),
            std::to_string(rc.coalesced),
            std::to_string(rc.queue_full),
            std::to_string(inst->counters.async_searches.load()),
            std::to_string(rc.rejected),
            std::to_string(inst->signing ? inst->signing->requests_signed() : 0),
            std::to_string(inst->counters.refused.load()),
            "",
            std::to_string(pc.queued),
            std::to_string(pc.delivered),
            std::to_string(pc.refused),
            std::to_string(pc.failures),
            GeneralizedTime(pc.last_success),
            pc.last_error,
            std::to_string(inst->counters.publications_applied.load()),
            std::to_string(inst->counters.publications_refused.load()),
        };
        for (int i = 0; i < kCounters; ++i) {
            if (i == kRefusals)
                continue;
            // A zone that does not publish shows no publication state.
            bool publishing_state = i >= 21 && i <= 26;
            if ((publishing_state && !inst->publisher) || values[i].empty())
                attr_delete(&e->e_attrs, counters[i].ad);
            else
                Put(e, counters[i].ad, values[i]);
        }
        // One value per kind of refusal seen: "bad MAC: 3".
        attr_delete(&e->e_attrs, counters[kRefusals].ad);
        if (inst->signing) {
            const VerifyCounters& vc = inst->signing->request_counters();
            for (size_t k = 1; k < kVerifyResultCount; ++k) {
                uint64_t n = vc.Get(static_cast<VerifyResult>(k));
                if (!n)
                    continue;
                std::string v = std::string(VerifyResultName(static_cast<VerifyResult>(k))) + ": " +
                                std::to_string(n);
                struct berval bv = {v.size(), const_cast<char*>(v.c_str())};
                attr_merge_normalize_one(e, counters[kRefusals].ad, &bv, nullptr);
            }
        }
        return SLAP_CB_CONTINUE;
    })
}

extern "C" int KcMonitorFree(Entry* e, void** priv) {
    *priv = nullptr;
    Modification mod = {};
    const char* text;
    char textbuf[SLAP_TEXT_BUFLEN];
    struct berval values[2] = {oc_olmKeychase->soc_cname, BER_BVNULL};
    mod.sm_op = LDAP_MOD_DELETE;
    mod.sm_desc = slap_schema.si_ad_objectClass;
    mod.sm_values = values;
    mod.sm_numvals = 1;
    modify_delete_values(e, &mod, 1, &text, textbuf, sizeof textbuf);
    mod.sm_values = nullptr;
    mod.sm_numvals = 0;
    for (int i = 0; i < kCounters; ++i) {
        mod.sm_desc = counters[i].ad;
        modify_delete_values(e, &mod, 1, &text, textbuf, sizeof textbuf);
    }
    return SLAP_CB_CONTINUE;
}

}  // namespace

int MonitorInit() {
    static int result = -1;
    static bool done = false;
    if (done)
        return result;
    done = true;
    if (!backend_info("monitor"))
        return result = -1;
    std::string may;
    for (int i = 0; i < kCounters; ++i) {
        std::string def = "( " KEYDIR_OID ".1." + std::to_string(220 + i) + " NAME '" +
                          counters[i].name + "' DESC '" + counters[i].desc + "' SUP " +
                          (IsInfo(i) ? "monitoredInfo" : "monitorCounter") +
                          " NO-USER-MODIFICATION USAGE dSAOperation )";
        if (register_at(def.c_str(), &counters[i].ad, 1) != LDAP_SUCCESS)
            return result = 2;
        counters[i].ad->ad_type->sat_flags |= SLAP_AT_HIDE;
        may += (i ? " $ " : "") + std::string(counters[i].name);
    }
    std::string oc =
        "( " KEYDIR_OID ".2.201 NAME 'olmKeychase' SUP top AUXILIARY MAY ( " + may + " ) )";
    if (register_oc(oc.c_str(), &oc_olmKeychase, 1) != LDAP_SUCCESS)
        return result = 3;
    oc_olmKeychase->soc_flags |= SLAP_OC_HIDE;
    return result = 0;
}

int MonitorDbOpen(BackendDB* be, Instance* inst) {
    if (MonitorInit() != 0)
        return 0;
    return slapglue::AttachMonitorCallback(be, oc_olmKeychase, KcMonitorUpdate, KcMonitorFree, inst,
                                           &inst->monitor_ndn, &inst->monitor_cb);
}

int MonitorDbClose(Instance* inst) {
    slapglue::DetachMonitorCallback(&inst->monitor_ndn, &inst->monitor_cb);
    return 0;
}

}  // namespace keychase
}  // namespace keydir
