// Configuration: slapd.conf directives and their cn=config attributes
// (olcKeydirConfig). Everything can change at run time through cn=config:
// durability at once, checkpoints are rescheduled, a new index is built in
// the background, a new cache size or directory reopens the database.
#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "back_keydir.h"
#include "base/oids.h"
#include "keys.h"

namespace keydir {
namespace backend {
namespace {

enum {
    CFG_DIRECTORY = 1,
    CFG_INDEX,
    CFG_CACHESIZE,
    CFG_DURABILITY,
    CFG_CHECKPOINT,
    CFG_TRUST_ANCHOR,
    CFG_ALLOW_EXPIRED,
    CFG_ENTRY_CACHE,
};

ConfigDriver kd_cf_gen;

ConfigTable kd_cfg[] = {
    {"directory",
     "dir",
     2,
     2,
     0,
     ARG_STRING | ARG_MAGIC | CFG_DIRECTORY,
     (void*)kd_cf_gen,
     "( OLcfgDbAt:0.1 NAME 'olcDbDirectory' "
     "DESC 'Directory for database content' "
     "EQUALITY caseExactMatch "
     "SYNTAX OMsDirectoryString SINGLE-VALUE )",
     nullptr,
     {}},
    {"index",
     "attr> <[pres,eq,approx,sub]",
     2,
     3,
     0,
     ARG_MAGIC | CFG_INDEX,
     (void*)kd_cf_gen,
     "( OLcfgDbAt:0.2 NAME 'olcDbIndex' "
     "DESC 'Attribute index parameters' "
     "EQUALITY caseIgnoreMatch "
     "SYNTAX OMsDirectoryString )",
     nullptr,
     {}},
    {"keydir-cachesize",
     "bytes",
     2,
     2,
     0,
     ARG_ULONG | ARG_MAGIC | CFG_CACHESIZE,
     (void*)kd_cf_gen,
     "( " KEYDIR_OID ".1.100 NAME 'olcKeydirCacheSize' "
     "DESC 'Size of the Berkeley DB memory pool in bytes' "
     "EQUALITY integerMatch "
     "SYNTAX OMsInteger SINGLE-VALUE )",
     nullptr,
     {}},
    {"keydir-durability",
     "sync|write-nosync|nosync",
     2,
     2,
     0,
     ARG_STRING | ARG_MAGIC | CFG_DURABILITY,
     (void*)kd_cf_gen,
     "( " KEYDIR_OID ".1.101 NAME 'olcKeydirDurability' "
     "DESC 'What an acknowledged write survives: sync, write-nosync or nosync' "
     "EQUALITY caseIgnoreMatch "
     "SYNTAX OMsDirectoryString SINGLE-VALUE )",
     nullptr,
     {}},
    {"keydir-checkpoint",
     "kbytes> <minutes",
     3,
     3,
     0,
     ARG_MAGIC | CFG_CHECKPOINT,
     (void*)kd_cf_gen,
     "( " KEYDIR_OID ".1.102 NAME 'olcKeydirCheckpoint' "
     "DESC 'Checkpoint after this many kbytes of log or minutes' "
     "EQUALITY caseIgnoreMatch "
     "SYNTAX OMsDirectoryString SINGLE-VALUE )",
     nullptr,
     {}},
    {"keydir-trust-anchor",
     "file",
     2,
     2,
     0,
     ARG_STRING | ARG_MAGIC | CFG_TRUST_ANCHOR,
     (void*)kd_cf_gen,
     "( " KEYDIR_OID ".1.103 NAME 'olcKeydirTrustAnchor' "
     "DESC 'PEM file of the CA certificates that member certificates must chain to' "
     "EQUALITY caseExactMatch "
     "SYNTAX OMsDirectoryString SINGLE-VALUE )",
     nullptr,
     {}},
    {"keydir-allow-expired",
     "on|off",
     2,
     2,
     0,
     ARG_ON_OFF | ARG_MAGIC | CFG_ALLOW_EXPIRED,
     (void*)kd_cf_gen,
     "( " KEYDIR_OID ".1.104 NAME 'olcKeydirAllowExpired' "
     "DESC 'Store certificates outside their validity period' "
     "EQUALITY booleanMatch "
     "SYNTAX OMsBoolean SINGLE-VALUE )",
     nullptr,
     {}},
    {"keydir-entry-cache",
     "entries",
     2,
     2,
     0,
     ARG_ULONG | ARG_MAGIC | CFG_ENTRY_CACHE,
     (void*)kd_cf_gen,
     "( " KEYDIR_OID ".1.105 NAME 'olcKeydirEntryCache' "
     "DESC 'Entries (and DNs) kept in memory in front of Berkeley DB; 0 disables' "
     "EQUALITY integerMatch "
     "SYNTAX OMsInteger SINGLE-VALUE )",
     nullptr,
     {}},
    {nullptr, nullptr, 0, 0, 0, ARG_IGNORED, nullptr, nullptr, nullptr, {}},
};

ConfigOCs kd_ocs[] = {
    {"( " KEYDIR_OID ".2.100 NAME 'olcKeydirConfig' "
     "DESC 'keydir backend configuration' "
     "SUP olcDatabaseConfig "
     "MUST olcDbDirectory "
     "MAY ( olcDbIndex $ olcKeydirCacheSize $ olcKeydirDurability $ "
     "olcKeydirCheckpoint $ olcKeydirTrustAnchor $ olcKeydirAllowExpired $ "
     "olcKeydirEntryCache ) )",
     Cft_Database, kd_cfg, nullptr, nullptr, nullptr, nullptr, nullptr},
    {nullptr, Cft_Abstract, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr},
};

const char* DurabilityName(Durability d) {
    switch (d) {
        case Durability::kSync:
            return "sync";
        case Durability::kWriteNoSync:
            return "write-nosync";
        case Durability::kNoSync:
            return "nosync";
    }
    return "sync";
}

bool ParseDurability(const char* s, Durability* d) {
    if (!strcasecmp(s, "sync"))
        *d = Durability::kSync;
    else if (!strcasecmp(s, "write-nosync"))
        *d = Durability::kWriteNoSync;
    else if (!strcasecmp(s, "nosync"))
        *d = Durability::kNoSync;
    else
        return false;
    return true;
}

bool ParseUnsigned(const char* s, unsigned long* out) {
    char* end = nullptr;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || !end || *end || s[0] == '-' || s[0] == '\0')
        return false;
    *out = v;
    return true;
}

// Reopens the database after its directory changed (cleanup hook, run
// once the cn=config change is complete).
int ReopenCleanup(ConfigArgs* c) {
    ConfigReply cr = {};
    int rc = c->be->bd_info->bi_db_close(c->be, &cr);
    if (rc == 0)
        rc = c->be->bd_info->bi_db_open(c->be, &cr);
    if (rc != 0) {
        snprintf(c->cr_msg, sizeof c->cr_msg, "keydir: reopening the database failed: %.180s",
                 cr.msg);
        Debug(LDAP_DEBUG_ANY, "%s\n", c->cr_msg);
        return LDAP_OTHER;
    }
    return 0;
}

int ReindexCleanup(ConfigArgs* c) {
    KeydirDb* kd = Kd(c->be);
    for (IndexSpec& ix : kd->indexes) {
        if (ix.ready)
            continue;
        Status s = kd->store->AddIndex(ix.name);
        if (!s.ok()) {
            snprintf(c->cr_msg, sizeof c->cr_msg, "keydir: cannot add index %s: %s",
                     ix.name.c_str(), s.ToString().c_str());
            return LDAP_OTHER;
        }
    }
    StartReindex(c->be);
    return 0;
}

// What one "index" line asks for: kinds, and for substrings which pieces.
struct IndexRequest {
    bool kinds[4] = {};  // by IndexKind
    slap_mask_t sub_mask = 0;
    bool ordered = false;  // "ord": the equality index must serve >= and <=
};

bool& Wants(IndexRequest* r, IndexKind kind) {
    return r->kinds[static_cast<int>(kind)];
}

// The index types back-mdb knows; "ord" is keydir's name for the ordered
// use of an equality index (back-mdb spells it eq).
int ParseIndexTypes(ConfigArgs* c, char* types, IndexRequest* r) {
    for (char* t = strtok(types, ","); t; t = strtok(nullptr, ",")) {
        if (!strcasecmp(t, "eq") || !strcasecmp(t, "equality") || !strcasecmp(t, "ord")) {
            Wants(r, IndexKind::kEquality) = true;
            r->ordered = r->ordered || !strcasecmp(t, "ord");
        } else if (!strcasecmp(t, "pres"))
            Wants(r, IndexKind::kPresence) = true;
        else if (!strcasecmp(t, "approx"))
            Wants(r, IndexKind::kApprox) = true;
        else if (!strcasecmp(t, "sub") || !strcasecmp(t, "substr"))
            r->sub_mask |= SLAP_INDEX_SUBSTR_DEFAULT;
        else if (!strcasecmp(t, "subinitial"))
            r->sub_mask |= SLAP_INDEX_SUBSTR_INITIAL;
        else if (!strcasecmp(t, "subany"))
            r->sub_mask |= SLAP_INDEX_SUBSTR_ANY;
        else if (!strcasecmp(t, "subfinal"))
            r->sub_mask |= SLAP_INDEX_SUBSTR_FINAL;
        else if (!strcasecmp(t, "nolang"))
            continue;  // a no-op in slapd too, kept for old configurations
        else {
            snprintf(c->cr_msg, sizeof c->cr_msg,
                     "index type \"%s\" is not supported (keydir keeps pres, eq, approx, sub, "
                     "subinitial, subany and subfinal indexes of the attribute named, not of "
                     "its subtypes)",
                     t);
            return 1;
        }
    }
    if (r->sub_mask)
        Wants(r, IndexKind::kSubstrings) = true;
    return 0;
}

// Why an attribute cannot have an index of a kind, or nullptr.
const char* CannotIndex(AttributeType* type, IndexKind kind, bool ordered) {
    switch (kind) {
        case IndexKind::kEquality:
            if (!type->sat_equality || !type->sat_equality->smr_indexer)
                return "has no equality matching rule to index";
            if (ordered &&
                !(type->sat_ordering && (type->sat_ordering->smr_usage & SLAP_MR_ORDERED_INDEX)))
                return "has no ordering matching rule whose keys keep the order";
            return nullptr;
        case IndexKind::kSubstrings:
            return type->sat_substr && type->sat_substr->smr_indexer
                       ? nullptr
                       : "has no substrings matching rule to index";
        case IndexKind::kApprox:
            return type->sat_approx && type->sat_approx->smr_indexer
                       ? nullptr
                       : "has no approximate matching rule to index";
        case IndexKind::kPresence:
            return nullptr;
    }
    return nullptr;
}

// index ATTR[,ATTR...] [TYPE[,TYPE...]]: without types, equality. A line
// for an attribute that has indexes adds the kinds it does not have yet.
int ConfigIndex(ConfigArgs* c, KeydirDb* kd) {
    IndexRequest req;
    if (c->argc == 3) {
        std::string types = c->argv[2];
        if (ParseIndexTypes(c, &types[0], &req))
            return 1;
    } else {
        Wants(&req, IndexKind::kEquality) = true;
    }
    const IndexKind kinds[] = {IndexKind::kEquality, IndexKind::kPresence, IndexKind::kSubstrings,
                               IndexKind::kApprox};
    std::vector<AttributeType*> types;
    std::string attrs = c->argv[1];
    size_t start = 0;
    while (start <= attrs.size()) {
        size_t comma = attrs.find(',', start);
        std::string name =
            attrs.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        start = comma == std::string::npos ? attrs.size() + 1 : comma + 1;
        if (name.empty())
            continue;
        AttributeDescription* ad = nullptr;
        const char* text = nullptr;
        if (slap_str2ad(name.c_str(), &ad, &text) != LDAP_SUCCESS) {
            snprintf(c->cr_msg, sizeof c->cr_msg, "index attribute \"%s\" undefined: %s",
                     name.c_str(), text ? text : "");
            return 1;
        }
        for (IndexKind kind : kinds) {
            const char* why =
                Wants(&req, kind) ? CannotIndex(ad->ad_type, kind, req.ordered) : nullptr;
            if (why) {
                snprintf(c->cr_msg, sizeof c->cr_msg, "index attribute \"%s\" %s", name.c_str(),
                         why);
                return 1;
            }
        }
        types.push_back(ad->ad_type);
    }
    // Checked every attribute first: a refused line changes nothing.
    bool added = false;
    for (AttributeType* type : types) {
        for (IndexKind kind : kinds) {
            if (!Wants(&req, kind))
                continue;
            slap_mask_t mask = kind == IndexKind::kSubstrings ? req.sub_mask
                               : kind == IndexKind::kApprox   ? SLAP_INDEX_APPROX
                               : kind == IndexKind::kPresence ? SLAP_INDEX_PRESENT
                                                              : SLAP_INDEX_EQUALITY;
            IndexSpec* have = const_cast<IndexSpec*>(FindIndex(kd, type, kind));
            if (have) {
                if ((have->mask | mask) == have->mask)
                    continue;
                // More substring pieces: the new keys are built like a new index.
                have->mask |= mask;
                have->ready = !kd->open;
            } else {
                kd->indexes.push_back(
                    IndexSpec{type, kind, mask, IndexName(type, kind), !kd->open});
            }
            added = true;
        }
    }
    if (added && kd->open)
        config_push_cleanup(c, ReindexCleanup);
    return 0;
}

// The indexed types in the order they were configured: one olcDbIndex
// value each.
std::vector<AttributeType*> IndexedTypes(KeydirDb* kd) {
    std::vector<AttributeType*> out;
    for (const IndexSpec& ix : kd->indexes)
        if (std::find(out.begin(), out.end(), ix.type) == out.end())
            out.push_back(ix.type);
    return out;
}

std::string IndexValue(KeydirDb* kd, AttributeType* type) {
    std::string v(type->sat_cname.bv_val, type->sat_cname.bv_len);
    std::string kinds;
    auto add = [&](const char* word) { kinds += (kinds.empty() ? "" : ",") + std::string(word); };
    if (FindIndex(kd, type, IndexKind::kEquality))
        add("eq");
    if (FindIndex(kd, type, IndexKind::kPresence))
        add("pres");
    if (const IndexSpec* sub = FindIndex(kd, type, IndexKind::kSubstrings)) {
        if ((sub->mask & SLAP_INDEX_SUBSTR_DEFAULT) == SLAP_INDEX_SUBSTR_DEFAULT) {
            add("sub");
        } else {
            if ((sub->mask & SLAP_INDEX_SUBSTR_INITIAL) == SLAP_INDEX_SUBSTR_INITIAL)
                add("subinitial");
            if ((sub->mask & SLAP_INDEX_SUBSTR_ANY) == SLAP_INDEX_SUBSTR_ANY)
                add("subany");
            if ((sub->mask & SLAP_INDEX_SUBSTR_FINAL) == SLAP_INDEX_SUBSTR_FINAL)
                add("subfinal");
        }
    }
    if (FindIndex(kd, type, IndexKind::kApprox))
        add("approx");
    return v + " " + kinds;
}

int Emit(ConfigArgs* c, KeydirDb* kd) {
    char buf[64];
    struct berval bv;
    switch (c->type) {
        case CFG_DIRECTORY:
            if (kd->directory.empty())
                return 1;
            c->value_string = ch_strdup(kd->directory.c_str());
            return 0;
        case CFG_INDEX:
            for (AttributeType* type : IndexedTypes(kd)) {
                std::string v = IndexValue(kd, type);
                bv.bv_val = const_cast<char*>(v.c_str());
                bv.bv_len = v.size();
                value_add_one(&c->rvalue_vals, &bv);
            }
            return c->rvalue_vals ? 0 : 1;
        case CFG_CACHESIZE:
            c->value_ulong = kd->cache_bytes;
            return 0;
        case CFG_DURABILITY:
            c->value_string = ch_strdup(DurabilityName(kd->durability));
            return 0;
        case CFG_CHECKPOINT:
            bv.bv_len =
                snprintf(buf, sizeof buf, "%u %u", kd->checkpoint_kbytes, kd->checkpoint_minutes);
            bv.bv_val = buf;
            value_add_one(&c->rvalue_vals, &bv);
            return 0;
        case CFG_TRUST_ANCHOR:
            if (kd->trust_anchor_file.empty())
                return 1;
            c->value_string = ch_strdup(kd->trust_anchor_file.c_str());
            return 0;
        case CFG_ALLOW_EXPIRED:
            c->value_int = kd->allow_expired;
            return 0;
        case CFG_ENTRY_CACHE:
            c->value_ulong = kd->entry_cache;
            return 0;
    }
    return 1;
}

int Delete(ConfigArgs* c, KeydirDb* kd) {
    switch (c->type) {
        case CFG_DIRECTORY:
            // Only a replace gets here: olcKeydirConfig requires the
            // attribute, so it cannot go alone. Set reopens the database.
            return 0;
        case CFG_INDEX: {
            // c->valx: the value's position (one per indexed type), or -1
            // for all of them. Every kind of that type's index goes.
            std::vector<AttributeType*> types = IndexedTypes(kd);
            std::vector<IndexSpec> keep;
            for (const IndexSpec& ix : kd->indexes) {
                auto at = std::find(types.begin(), types.end(), ix.type) - types.begin();
                if (c->valx == -1 || at == c->valx) {
                    if (kd->open)
                        kd->store->DropIndex(ix.name);
                } else {
                    keep.push_back(ix);
                }
            }
            kd->indexes.swap(keep);
            return 0;
        }
        case CFG_CACHESIZE:
            kd->cache_bytes = 64ull << 20;
            return 0;
        case CFG_DURABILITY:
            kd->durability = Durability::kSync;
            if (kd->open)
                kd->store->SetDurability(kd->durability);
            return 0;
        case CFG_CHECKPOINT:
            kd->checkpoint_kbytes = 1024;
            kd->checkpoint_minutes = 5;
            if (kd->open)
                ScheduleCheckpoint(c->be);
            return 0;
        case CFG_TRUST_ANCHOR:
            kd->trust_anchor_file.clear();
            kd->anchors.reset();
            return 0;
        case CFG_ALLOW_EXPIRED:
            kd->allow_expired = false;
            return 0;
        case CFG_ENTRY_CACHE:
            kd->entry_cache = kDefaultEntryCache;
            if (kd->open)
                kd->store->SetEntryCache(kd->entry_cache);
            return 0;
    }
    return 1;
}

int Set(ConfigArgs* c, KeydirDb* kd) {
    switch (c->type) {
        case CFG_DIRECTORY: {
            std::string dir = c->value_string;
            ch_free(c->value_string);
            c->value_string = nullptr;
            bool changed = kd->open && dir != kd->directory;
            kd->directory = dir;
            if (changed)
                config_push_cleanup(c, ReopenCleanup);
            return 0;
        }
        case CFG_INDEX:
            return ConfigIndex(c, kd);
        case CFG_CACHESIZE:
            if (c->value_ulong < (1ul << 20)) {
                snprintf(c->cr_msg, sizeof c->cr_msg,
                         "keydir-cachesize %lu is too small: at least 1048576 bytes",
                         c->value_ulong);
                return 1;
            }
            kd->cache_bytes = c->value_ulong;
            // Berkeley DB 5.3 cannot resize an open memory pool by bytes
            // (memp_resize counts in units of the first region's initial
            // allocation and refuses), so the environment is reopened.
            if (kd->open)
                config_push_cleanup(c, ReopenCleanup);
            return 0;
        case CFG_DURABILITY: {
            Durability d;
            bool ok = ParseDurability(c->value_string, &d);
            if (!ok)
                snprintf(c->cr_msg, sizeof c->cr_msg,
                         "keydir-durability \"%s\": expected sync, write-nosync or nosync",
                         c->value_string);
            ch_free(c->value_string);
            c->value_string = nullptr;
            if (!ok)
                return 1;
            kd->durability = d;
            if (kd->open)
                kd->store->SetDurability(d);
            return 0;
        }
        case CFG_CHECKPOINT: {
            unsigned long kb, min;
            if (!ParseUnsigned(c->argv[1], &kb) || !ParseUnsigned(c->argv[2], &min) ||
                kb > 1u << 30 || min > 10080) {
                snprintf(c->cr_msg, sizeof c->cr_msg,
                         "keydir-checkpoint \"%s %s\": expected KBYTES MINUTES (whole numbers, "
                         "minutes at most 10080)",
                         c->argv[1], c->argv[2]);
                return 1;
            }
            kd->checkpoint_kbytes = static_cast<unsigned>(kb);
            kd->checkpoint_minutes = static_cast<unsigned>(min);
            if (kd->open)
                ScheduleCheckpoint(c->be);
            return 0;
        }
        case CFG_TRUST_ANCHOR: {
            std::string file = c->value_string, error;
            ch_free(c->value_string);
            c->value_string = nullptr;
            if (!LoadTrustAnchor(kd, file, &error)) {
                snprintf(c->cr_msg, sizeof c->cr_msg, "keydir-trust-anchor %.100s: %.100s",
                         file.c_str(), error.c_str());
                return 1;
            }
            return 0;
        }
        case CFG_ALLOW_EXPIRED:
            kd->allow_expired = c->value_int != 0;
            return 0;
        case CFG_ENTRY_CACHE:
            if (c->value_ulong > (1ul << 30)) {
                snprintf(c->cr_msg, sizeof c->cr_msg,
                         "keydir-entry-cache %lu is too large: at most 1073741824 entries",
                         c->value_ulong);
                return 1;
            }
            kd->entry_cache = c->value_ulong;
            // Takes effect at once: the cache shrinks or grows in place.
            if (kd->open)
                kd->store->SetEntryCache(kd->entry_cache);
            return 0;
    }
    return 1;
}

int kd_cf_gen(ConfigArgs* c) {
    KD_GUARD(1, {
        KeydirDb* kd = Kd(c->be);
        int rc;
        if (c->op == SLAP_CONFIG_EMIT)
            return Emit(c, kd);
        else if (c->op == LDAP_MOD_DELETE)
            rc = Delete(c, kd);
        else
            rc = Set(c, kd);
        if (rc)
            Debug(LDAP_DEBUG_ANY, "%s: %s\n", c->log, c->cr_msg);
        return rc;
    })
}

}  // namespace

int ConfigInit(BackendInfo* bi) {
    bi->bi_cf_ocs = kd_ocs;
    return config_register_schema(kd_cfg, kd_ocs);
}

}  // namespace backend
}  // namespace keydir
