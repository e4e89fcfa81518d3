// cn=monitor: each keydir database's monitor entry gains the entry count,
// the Berkeley DB cache (size, hits, misses, hit rate) and transaction and
// deadlock counters, refreshed whenever the entry is read.
#include <cstdio>

#include "back_keydir.h"
#include "base/oids.h"
#include "monitor_glue.h"

namespace keydir {
namespace backend {
namespace {

ObjectClass* oc_olmKeydirDatabase;
AttributeDescription* ad_olmKeydirEntries;
AttributeDescription* ad_olmKeydirCacheBytes;
AttributeDescription* ad_olmKeydirCacheHits;
AttributeDescription* ad_olmKeydirCacheMisses;
AttributeDescription* ad_olmKeydirCacheHitRate;
AttributeDescription* ad_olmKeydirTxnCommitted;
AttributeDescription* ad_olmKeydirTxnAborted;
AttributeDescription* ad_olmKeydirTxnActive;
AttributeDescription* ad_olmKeydirDeadlocks;
AttributeDescription* ad_olmKeydirRetries;
AttributeDescription* ad_olmKeydirSearches;
AttributeDescription* ad_olmKeydirWrites;
AttributeDescription* ad_olmKeydirContextCSN;
AttributeDescription* ad_olmKeydirEntryCacheEntries;
AttributeDescription* ad_olmKeydirEntryCacheHits;
AttributeDescription* ad_olmKeydirEntryCacheMisses;
AttributeDescription* ad_olmKeydirDnCacheHits;
AttributeDescription* ad_olmKeydirDnCacheMisses;
AttributeDescription* ad_olmKeydirIndexCacheHits;
AttributeDescription* ad_olmKeydirIndexCacheMisses;

struct AttrDef {
    const char* desc;
    AttributeDescription** ad;
};

#define KD_COUNTER(n, name, text)                                 \
    {                                                             \
        "( " KEYDIR_OID ".1.2" #n " NAME '" #name "' DESC '" text \
        "' SUP monitorCounter "                                   \
        "NO-USER-MODIFICATION USAGE dSAOperation )",              \
            &ad_##name                                            \
    }

AttrDef attrs[] = {
    KD_COUNTER(00, olmKeydirEntries, "Number of entries in the database"),
    KD_COUNTER(01, olmKeydirCacheBytes, "Size of the Berkeley DB memory pool"),
    KD_COUNTER(02, olmKeydirCacheHits, "Pages found in the memory pool"),
    KD_COUNTER(03, olmKeydirCacheMisses, "Pages read into the memory pool"),
    {"( " KEYDIR_OID ".1.204 NAME 'olmKeydirCacheHitRate' "
     "DESC 'Percentage of page requests served from the memory pool' SUP monitoredInfo "
     "NO-USER-MODIFICATION USAGE dSAOperation )",
     &ad_olmKeydirCacheHitRate},
    KD_COUNTER(05, olmKeydirTxnCommitted, "Transactions committed"),
    KD_COUNTER(06, olmKeydirTxnAborted, "Transactions aborted"),
    KD_COUNTER(07, olmKeydirTxnActive, "Transactions in progress"),
    KD_COUNTER(08, olmKeydirDeadlocks, "Deadlocks detected"),
    KD_COUNTER(09, olmKeydirRetries, "Transactions retried after a deadlock"),
    KD_COUNTER(10, olmKeydirSearches, "Searches served"),
    KD_COUNTER(11, olmKeydirWrites, "Write operations attempted"),
    {"( " KEYDIR_OID ".1.212 NAME 'olmKeydirContextCSN' "
     "DESC 'The latest change from each server (syncprov contextCSN): replication state' "
     "SUP monitoredInfo NO-USER-MODIFICATION USAGE dSAOperation )",
     &ad_olmKeydirContextCSN},
    KD_COUNTER(13, olmKeydirEntryCacheEntries, "Entry records held by the entry cache"),
    KD_COUNTER(14, olmKeydirEntryCacheHits, "Entry reads served by the entry cache"),
    KD_COUNTER(15, olmKeydirEntryCacheMisses, "Entry reads that went to Berkeley DB"),
    KD_COUNTER(16, olmKeydirDnCacheHits, "DN lookups served by the entry cache"),
    KD_COUNTER(17, olmKeydirDnCacheMisses, "DN lookups that went to Berkeley DB"),
    KD_COUNTER(18, olmKeydirIndexCacheHits, "Index lookups served by the entry cache"),
    KD_COUNTER(19, olmKeydirIndexCacheMisses, "Index lookups that went to Berkeley DB"),
    {nullptr, nullptr},
};

const char* kObjectClass =
    "( " KEYDIR_OID
    ".2.200 NAME 'olmKeydirDatabase' SUP top AUXILIARY "
    "MAY ( olmKeydirEntries $ olmKeydirCacheBytes $ olmKeydirCacheHits $ "
    "olmKeydirCacheMisses $ olmKeydirCacheHitRate $ olmKeydirTxnCommitted $ "
    "olmKeydirTxnAborted $ olmKeydirTxnActive $ olmKeydirDeadlocks $ olmKeydirRetries $ "
    "olmKeydirSearches $ olmKeydirWrites $ olmKeydirContextCSN $ olmKeydirEntryCacheEntries $ "
    "olmKeydirEntryCacheHits $ olmKeydirEntryCacheMisses $ olmKeydirDnCacheHits $ "
    "olmKeydirDnCacheMisses $ olmKeydirIndexCacheHits $ olmKeydirIndexCacheMisses ) )";

void Put(Entry* e, AttributeDescription* ad, const char* value) {
    struct berval bv;
    bv.bv_val = const_cast<char*>(value);
    bv.bv_len = strlen(value);
    Attribute* a = attr_find(e->e_attrs, ad);
    if (a)
        ber_bvreplace(&a->a_vals[0], &bv);
    else
        attr_merge_one(e, ad, &bv, nullptr);
}

void PutNumber(Entry* e, AttributeDescription* ad, unsigned long long v) {
    char buf[32];
    snprintf(buf, sizeof buf, "%llu", v);
    Put(e, ad, buf);
}

// The suffix entry's contextCSN values (none without syncprov or syncrepl).
void PutContextCsn(KeydirDb* kd, Entry* e) {
    attr_delete(&e->e_attrs, ad_olmKeydirContextCSN);
    std::string key, record;
    EntryId id = kRootEntryId;
    Status s = DnKeyFromDn(kd->suffix_ndn, &key);
    if (s.ok() && !kd->suffix_ndn.empty())
        s = kd->store->FindId(key, &id);
    if (s.ok())
        s = kd->store->Get(id, &record);
    Entry* suffix = nullptr;
    if (!s.ok() || !DecodeEntry(record, id, &suffix).ok())
        return;
    if (Attribute* a = attr_find(suffix->e_attrs, slap_schema.si_ad_contextCSN))
        for (unsigned i = 0; i < a->a_numvals; ++i)
            attr_merge_normalize_one(e, ad_olmKeydirContextCSN, &a->a_vals[i], nullptr);
    entry_free(suffix);
}

extern "C" int MonitorUpdate(Operation* op, SlapReply* rs, Entry* e, void* priv) {
    (void)op;
    (void)rs;
    KD_GUARD(SLAP_CB_CONTINUE, {
        KeydirDb* kd = static_cast<KeydirDb*>(priv);
        StoreStats st;
        if (!kd->store || !kd->store->Stats(&st).ok())
            return SLAP_CB_CONTINUE;
        PutNumber(e, ad_olmKeydirEntries, st.entries);
        PutNumber(e, ad_olmKeydirCacheBytes, st.cache_bytes);
        PutNumber(e, ad_olmKeydirCacheHits, st.cache_hits);
        PutNumber(e, ad_olmKeydirCacheMisses, st.cache_misses);
        char rate[32];
        uint64_t total = st.cache_hits + st.cache_misses;
        snprintf(rate, sizeof rate, "%.2f", total ? 100.0 * st.cache_hits / total : 100.0);
        Put(e, ad_olmKeydirCacheHitRate, rate);
        PutNumber(e, ad_olmKeydirTxnCommitted, st.txn_committed);
        PutNumber(e, ad_olmKeydirTxnAborted, st.txn_aborted);
        PutNumber(e, ad_olmKeydirTxnActive, st.txn_active);
        PutNumber(e, ad_olmKeydirDeadlocks, st.deadlocks);
        PutNumber(e, ad_olmKeydirRetries, st.retries);
        PutNumber(e, ad_olmKeydirSearches, kd->searches.load());
        PutNumber(e, ad_olmKeydirWrites, kd->writes.load());
        PutNumber(e, ad_olmKeydirEntryCacheEntries, st.entry_cache_entries);
        PutNumber(e, ad_olmKeydirEntryCacheHits, st.entry_cache_hits);
        PutNumber(e, ad_olmKeydirEntryCacheMisses, st.entry_cache_misses);
        PutNumber(e, ad_olmKeydirDnCacheHits, st.dn_cache_hits);
        PutNumber(e, ad_olmKeydirDnCacheMisses, st.dn_cache_misses);
        PutNumber(e, ad_olmKeydirIndexCacheHits, st.index_cache_hits);
        PutNumber(e, ad_olmKeydirIndexCacheMisses, st.index_cache_misses);
        PutContextCsn(kd, e);
        return SLAP_CB_CONTINUE;
    })
}

extern "C" int MonitorFree(Entry* e, void** priv) {
    *priv = nullptr;
    Modification mod = {};
    const char* text;
    char textbuf[SLAP_TEXT_BUFLEN];
    struct berval values[2];
    mod.sm_op = LDAP_MOD_DELETE;
    mod.sm_desc = slap_schema.si_ad_objectClass;
    mod.sm_values = values;
    mod.sm_numvals = 1;
    values[0] = oc_olmKeydirDatabase->soc_cname;
    BER_BVZERO(&values[1]);
    modify_delete_values(e, &mod, 1, &text, textbuf, sizeof textbuf);
    mod.sm_values = nullptr;
    mod.sm_numvals = 0;
    for (int i = 0; attrs[i].desc; ++i) {
        mod.sm_desc = *attrs[i].ad;
        modify_delete_values(e, &mod, 1, &text, textbuf, sizeof textbuf);
    }
    return SLAP_CB_CONTINUE;
}

}  // namespace

int MonitorInit() {
    static int done = 0;
    static int result = 1;
    if (done++)
        return result;
    if (!backend_info("monitor"))
        return result = -1;
    for (int i = 0; attrs[i].desc; ++i) {
        if (register_at(attrs[i].desc, attrs[i].ad, 1) != LDAP_SUCCESS) {
            Debug(LDAP_DEBUG_ANY, "keydir: cannot register monitor attribute %s\n", attrs[i].desc);
            return result = 2;
        }
        (*attrs[i].ad)->ad_type->sat_flags |= SLAP_AT_HIDE;
    }
    if (register_oc(kObjectClass, &oc_olmKeydirDatabase, 1) != LDAP_SUCCESS) {
        Debug(LDAP_DEBUG_ANY, "keydir: cannot register the monitor object class\n");
        return result = 3;
    }
    oc_olmKeydirDatabase->soc_flags |= SLAP_OC_HIDE;
    return result = 0;
}

int MonitorDbOpen(BackendDB* be) {
    KeydirDb* kd = Kd(be);
    if (!SLAP_DBMONITORING(be) || MonitorInit() != 0)
        return 0;
    return slapglue::AttachMonitorCallback(be, oc_olmKeydirDatabase, MonitorUpdate, MonitorFree, kd,
                                           &kd->monitor_ndn, &kd->monitor_cb);
}

int MonitorDbClose(BackendDB* be) {
    KeydirDb* kd = Kd(be);
    slapglue::DetachMonitorCallback(&kd->monitor_ndn, &kd->monitor_cb);
    return 0;
}

}  // namespace backend
}  // namespace keydir
