// keychase-* directives and their cn=config attributes (olcKeychaseConfig).
// Every one may change at run time: the resolver and the cache take the new
// values at once (a smaller cache evicts at once).
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "keychase.h"

namespace keydir {
namespace keychase {

bool BuildChaseConfig(const Settings& s, ChaseConfig* config, std::string* error) {
    ChaseConfig c;
    auto parse_all = [&](const std::vector<std::string>& urls, std::vector<LdapUrl>* out,
                         const char* what) {
        for (const std::string& u : urls) {
            LdapUrl url;
            Status st = ParseServerUrl(u, &url);
            if (!st.ok()) {
                *error = std::string(what) + " " + u + ": " + st.message();
                return false;
            }
            out->push_back(url);
        }
        return true;
    };
    if (!parse_all(s.upstream_urls, &c.upstreams, "keychase-upstream") ||
        !parse_all(s.root_urls, &c.roots, "keychase-root") ||
        !parse_all(s.self_urls, &c.self, "keychase-self"))
        return false;
    // This server's own listeners are never asked (a referral back to us is a loop).
    if (Listener** ls = slapd_get_listeners()) {
        for (int i = 0; ls[i]; ++i) {
            LdapUrl url;
            std::string u(ls[i]->sl_url.bv_val, ls[i]->sl_url.bv_len);
            if (ParseServerUrl(u, &url).ok()) c.self.push_back(url);
        }
    }
    c.max_hops = s.max_hops;
    c.hop_timeout_micros = static_cast<int64_t>(s.timeout_seconds * 1e6);
    c.total_timeout_micros = static_cast<int64_t>(s.total_timeout_seconds * 1e6);
    c.ask_upstream_to_chase = s.ask_recursion;
    *config = c;
    return true;
}

KeyCacheOptions CacheOptions(const Settings& s) {
    KeyCacheOptions o;
    o.max_entries = s.cache_entries;
    o.ttl_seconds = s.cache_ttl;
    o.negative_ttl_seconds = s.negative_ttl;
    o.stale_seconds = s.serve_stale;
    return o;
}

namespace {

enum {
    KC_UPSTREAM = 1,
    KC_ROOT,
    KC_SELF,
    KC_TIMEOUT,
    KC_TOTAL_TIMEOUT,
    KC_MAX_HOPS,
    KC_CACHE_ENTRIES,
    KC_CACHE_TTL,
    KC_NEGATIVE_TTL,
    KC_SERVE_STALE,
    KC_ALLOW_RECURSION,
    KC_ASK_RECURSION,
    KC_THREADS,
    KC_MAX_QUEUED,
    KC_STARTTLS,
    KC_TLS_CACERT,
};

ConfigDriver kc_cf_gen;

#define KC_AT(n, name, desc, syntax)                                                \
    "( " KEYDIR_OID ".1.1" #n " NAME '" name "' DESC '" desc "' " syntax " )"
#define KC_URLS "EQUALITY caseIgnoreMatch SYNTAX OMsDirectoryString X-ORDERED 'VALUES'"
#define KC_INT "EQUALITY integerMatch SYNTAX OMsInteger SINGLE-VALUE"
#define KC_STR "EQUALITY caseIgnoreMatch SYNTAX OMsDirectoryString SINGLE-VALUE"
#define KC_BOOL "EQUALITY booleanMatch SYNTAX OMsBoolean SINGLE-VALUE"

ConfigTable kc_cfg[] = {
    {"keychase-upstream", "uri...", 2, 0, 0, ARG_MAGIC | KC_UPSTREAM, (void*)kc_cf_gen,
     KC_AT(50, "olcKeychaseUpstream", "parent key servers, asked in order", KC_URLS), nullptr, {}},
    {"keychase-root", "uri...", 2, 0, 0, ARG_MAGIC | KC_ROOT, (void*)kc_cf_gen,
     KC_AT(51, "olcKeychaseRoot", "root cluster members, asked in order", KC_URLS), nullptr, {}},
    {"keychase-self", "uri...", 2, 0, 0, ARG_MAGIC | KC_SELF, (void*)kc_cf_gen,
     KC_AT(52, "olcKeychaseSelf", "URLs that reach this server", KC_URLS), nullptr, {}},
    {"keychase-timeout", "seconds", 2, 2, 0, ARG_MAGIC | KC_TIMEOUT, (void*)kc_cf_gen,
     KC_AT(53, "olcKeychaseTimeout", "seconds to wait for one key server", KC_STR), nullptr, {}},
    {"keychase-total-timeout", "seconds", 2, 2, 0, ARG_MAGIC | KC_TOTAL_TIMEOUT, (void*)kc_cf_gen,
     KC_AT(54, "olcKeychaseTotalTimeout", "seconds one chase may take in all", KC_STR), nullptr,
     {}},
    {"keychase-max-hops", "n", 2, 2, 0, ARG_INT | ARG_MAGIC | KC_MAX_HOPS, (void*)kc_cf_gen,
     KC_AT(55, "olcKeychaseMaxHops", "referrals followed in one chase", KC_INT), nullptr, {}},
    {"keychase-cache-entries", "n", 2, 2, 0, ARG_ULONG | ARG_MAGIC | KC_CACHE_ENTRIES,
     (void*)kc_cf_gen, KC_AT(56, "olcKeychaseCacheEntries", "entries the key cache holds", KC_INT),
     nullptr, {}},
    {"keychase-cache-ttl", "seconds", 2, 2, 0, ARG_ULONG | ARG_MAGIC | KC_CACHE_TTL,
     (void*)kc_cf_gen, KC_AT(57, "olcKeychaseCacheTTL", "longest life of a cached key", KC_INT),
     nullptr, {}},
    {"keychase-negative-ttl", "seconds", 2, 2, 0, ARG_ULONG | ARG_MAGIC | KC_NEGATIVE_TTL,
     (void*)kc_cf_gen, KC_AT(58, "olcKeychaseNegativeTTL", "life of a cached not-found", KC_INT),
     nullptr, {}},
    {"keychase-serve-stale", "seconds", 2, 2, 0, ARG_ULONG | ARG_MAGIC | KC_SERVE_STALE,
     (void*)kc_cf_gen,
     KC_AT(59, "olcKeychaseServeStale", "how long past its TTL a key may serve", KC_INT), nullptr,
     {}},
    {"keychase-allow-recursion", "on|off", 2, 2, 0, ARG_ON_OFF | ARG_MAGIC | KC_ALLOW_RECURSION,
     (void*)kc_cf_gen,
     KC_AT(60, "olcKeychaseAllowRecursion", "chase for peers that ask it", KC_BOOL), nullptr, {}},
    {"keychase-ask-recursion", "on|off", 2, 2, 0, ARG_ON_OFF | ARG_MAGIC | KC_ASK_RECURSION,
     (void*)kc_cf_gen, KC_AT(61, "olcKeychaseAskRecursion", "ask parents to chase", KC_BOOL),
     nullptr, {}},
    {"keychase-threads", "n", 2, 2, 0, ARG_INT | ARG_MAGIC | KC_THREADS, (void*)kc_cf_gen,
     KC_AT(62, "olcKeychaseThreads", "chases under way at once", KC_INT), nullptr, {}},
    {"keychase-max-queued", "n", 2, 2, 0, ARG_ULONG | ARG_MAGIC | KC_MAX_QUEUED, (void*)kc_cf_gen,
     KC_AT(63, "olcKeychaseMaxQueued", "chases that may wait for a thread", KC_INT), nullptr, {}},
    {"keychase-starttls", "on|off", 2, 2, 0, ARG_ON_OFF | ARG_MAGIC | KC_STARTTLS, (void*)kc_cf_gen,
     KC_AT(64, "olcKeychaseStartTLS", "StartTLS on ldap:// connections to key servers", KC_BOOL),
     nullptr, {}},
    {"keychase-tls-cacert", "file", 2, 2, 0, ARG_STRING | ARG_MAGIC | KC_TLS_CACERT,
     (void*)kc_cf_gen,
     KC_AT(65, "olcKeychaseTLSCACert", "CA certificates that key servers must chain to", KC_STR),
     nullptr, {}},
    {nullptr, nullptr, 0, 0, 0, ARG_IGNORED, nullptr, nullptr, nullptr, {}},
};

ConfigOCs kc_ocs[] = {
    {"( " KEYDIR_OID ".2.101 NAME 'olcKeychaseConfig' "
     "DESC 'keychase overlay configuration' SUP olcOverlayConfig "
     "MAY ( olcKeychaseUpstream $ olcKeychaseRoot $ olcKeychaseSelf $ olcKeychaseTimeout $ "
     "olcKeychaseTotalTimeout $ olcKeychaseMaxHops $ olcKeychaseCacheEntries $ "
     "olcKeychaseCacheTTL $ olcKeychaseNegativeTTL $ olcKeychaseServeStale $ "
     "olcKeychaseAllowRecursion $ olcKeychaseAskRecursion $ olcKeychaseThreads $ "
     "olcKeychaseMaxQueued $ olcKeychaseStartTLS $ olcKeychaseTLSCACert ) )",
     Cft_Overlay, kc_cfg, nullptr, nullptr, nullptr, nullptr, nullptr},
    {nullptr, Cft_Abstract, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr},
};

bool ParseSeconds(const char* text, double* out) {
    char* end = nullptr;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || !end || *end || !std::isfinite(v) || v <= 0 || v > 3600) return false;
    *out = v;
    return true;
}

void EmitSeconds(ConfigArgs* c, double v) {
    char buf[32];
    snprintf(buf, sizeof buf, "%g", v);
    c->value_string = ch_strdup(buf);
}

std::vector<std::string>* UrlList(Settings* s, int type) {
    switch (type) {
        case KC_UPSTREAM: return &s->upstream_urls;
        case KC_ROOT: return &s->root_urls;
        default: return &s->self_urls;
    }
}

// Applies changed settings to the running instance.
int Apply(ConfigArgs* c, Instance* inst) {
    if (!inst->open) return 0;
    ChaseConfig chase;
    std::string error;
    if (!BuildChaseConfig(inst->settings, &chase, &error)) {
        snprintf(c->cr_msg, sizeof c->cr_msg, "%s", error.c_str());
        return 1;
    }
    if (inst->resolver) inst->resolver->Reconfigure(chase);
    if (inst->cache) inst->cache->Reconfigure(CacheOptions(inst->settings));
    return 0;
}

int Emit(ConfigArgs* c, Instance* inst) {
    Settings& s = inst->settings;
    switch (c->type) {
        case KC_UPSTREAM:
        case KC_ROOT:
        case KC_SELF:
            for (const std::string& u : *UrlList(&s, c->type)) {
                struct berval bv = {u.size(), const_cast<char*>(u.c_str())};
                value_add_one(&c->rvalue_vals, &bv);
            }
            return c->rvalue_vals ? 0 : 1;
        case KC_TIMEOUT: EmitSeconds(c, s.timeout_seconds); return 0;
        case KC_TOTAL_TIMEOUT: EmitSeconds(c, s.total_timeout_seconds); return 0;
        case KC_MAX_HOPS: c->value_int = s.max_hops; return 0;
        case KC_CACHE_ENTRIES: c->value_ulong = s.cache_entries; return 0;
        case KC_CACHE_TTL: c->value_ulong = s.cache_ttl; return 0;
        case KC_NEGATIVE_TTL: c->value_ulong = s.negative_ttl; return 0;
        case KC_SERVE_STALE: c->value_ulong = s.serve_stale; return 0;
        case KC_ALLOW_RECURSION: c->value_int = s.allow_recursion; return 0;
        case KC_ASK_RECURSION: c->value_int = s.ask_recursion; return 0;
        case KC_THREADS: c->value_int = s.threads; return 0;
        case KC_MAX_QUEUED: c->value_ulong = s.max_queued; return 0;
        case KC_STARTTLS: c->value_int = s.start_tls; return 0;
        case KC_TLS_CACERT:
            if (s.tls_cacert.empty()) return 1;
            c->value_string = ch_strdup(s.tls_cacert.c_str());
            return 0;
    }
    return 1;
}

int Delete(ConfigArgs* c, Instance* inst) {
    Settings& s = inst->settings;
    Settings defaults;
    switch (c->type) {
        case KC_UPSTREAM:
        case KC_ROOT:
        case KC_SELF: {
            std::vector<std::string>* list = UrlList(&s, c->type);
            if (c->valx < 0)
                list->clear();
            else if (static_cast<size_t>(c->valx) < list->size())
                list->erase(list->begin() + c->valx);
            break;
        }
        case KC_TIMEOUT: s.timeout_seconds = defaults.timeout_seconds; break;
        case KC_TOTAL_TIMEOUT: s.total_timeout_seconds = defaults.total_timeout_seconds; break;
        case KC_MAX_HOPS: s.max_hops = defaults.max_hops; break;
        case KC_CACHE_ENTRIES: s.cache_entries = defaults.cache_entries; break;
        case KC_CACHE_TTL: s.cache_ttl = defaults.cache_ttl; break;
        case KC_NEGATIVE_TTL: s.negative_ttl = defaults.negative_ttl; break;
        case KC_SERVE_STALE: s.serve_stale = defaults.serve_stale; break;
        case KC_ALLOW_RECURSION: s.allow_recursion = false; break;
        case KC_ASK_RECURSION: s.ask_recursion = false; break;
        case KC_THREADS: s.threads = defaults.threads; break;
        case KC_MAX_QUEUED: s.max_queued = defaults.max_queued; break;
        case KC_STARTTLS: s.start_tls = false; break;
        case KC_TLS_CACERT: s.tls_cacert.clear(); break;
    }
    return Apply(c, inst);
}

int Set(ConfigArgs* c, Instance* inst) {
    Settings& s = inst->settings;
    switch (c->type) {
        case KC_UPSTREAM:
        case KC_ROOT:
        case KC_SELF: {
            std::vector<std::string>* list = UrlList(&s, c->type);
            for (int i = 1; i < c->argc; ++i) {
                LdapUrl url;
                Status st = ParseServerUrl(c->argv[i], &url);
                if (!st.ok()) {
                    snprintf(c->cr_msg, sizeof c->cr_msg, "%s \"%s\": %s", c->argv[0], c->argv[i],
                             st.message().c_str());
                    return 1;
                }
                list->push_back(url.ServerUrl());
            }
            break;
        }
        case KC_TIMEOUT:
        case KC_TOTAL_TIMEOUT: {
            double v;
            if (!ParseSeconds(c->argv[1], &v)) {
                snprintf(c->cr_msg, sizeof c->cr_msg,
                         "%s \"%s\": expected seconds, more than 0 and at most 3600", c->argv[0],
                         c->argv[1]);
                return 1;
            }
            (c->type == KC_TIMEOUT ? s.timeout_seconds : s.total_timeout_seconds) = v;
            break;
        }
        case KC_MAX_HOPS:
            if (c->value_int < 1 || c->value_int > 64) {
                snprintf(c->cr_msg, sizeof c->cr_msg, "keychase-max-hops %d: expected 1 to 64",
                         c->value_int);
                return 1;
            }
            s.max_hops = c->value_int;
            break;
        case KC_CACHE_ENTRIES: s.cache_entries = c->value_ulong; break;
        case KC_CACHE_TTL: s.cache_ttl = c->value_ulong; break;
        case KC_NEGATIVE_TTL: s.negative_ttl = c->value_ulong; break;
        case KC_SERVE_STALE: s.serve_stale = c->value_ulong; break;
        case KC_ALLOW_RECURSION: s.allow_recursion = c->value_int != 0; break;
        case KC_ASK_RECURSION: s.ask_recursion = c->value_int != 0; break;
        case KC_THREADS:
            if (c->value_int < 1 || c->value_int > 256) {
                snprintf(c->cr_msg, sizeof c->cr_msg, "keychase-threads %d: expected 1 to 256",
                         c->value_int);
                return 1;
            }
            s.threads = c->value_int;  // takes effect when the database is next opened
            break;
        case KC_MAX_QUEUED: s.max_queued = c->value_ulong; break;
        case KC_STARTTLS: s.start_tls = c->value_int != 0; break;
        case KC_TLS_CACERT:
            s.tls_cacert = c->value_string;
            ch_free(c->value_string);
            c->value_string = nullptr;
            break;
    }
    return Apply(c, inst);
}

int kc_cf_gen(ConfigArgs* c) {
    slap_overinst* on = reinterpret_cast<slap_overinst*>(c->bi);
    KC_GUARD(1, {
        Instance* inst = Inst(on);
        int rc;
        if (c->op == SLAP_CONFIG_EMIT)
            return Emit(c, inst);
        else if (c->op == LDAP_MOD_DELETE)
            rc = Delete(c, inst);
        else
            rc = Set(c, inst);
        if (rc) Debug(LDAP_DEBUG_ANY, "%s: %s\n", c->log, c->cr_msg);
        return rc;
    })
}

}  // namespace

int ConfigInit(slap_overinst* on) {
    on->on_bi.bi_cf_ocs = kc_ocs;
    return config_register_schema(kc_cfg, kc_ocs);
}

}  // namespace keychase
}  // namespace keydir
