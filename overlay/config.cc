// keychase-* directives and their cn=config attributes (olcKeychaseConfig).
// Every one may change at run time: the resolver and the cache take the new
// values at once (a smaller cache evicts at once).
#include <algorithm>
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
            if (ParseServerUrl(u, &url).ok())
                c.self.push_back(url);
        }
    }
    c.max_hops = s.max_hops;
    c.hop_timeout_micros = static_cast<int64_t>(s.timeout_seconds * 1e6);
    c.total_timeout_micros = static_cast<int64_t>(s.total_timeout_seconds * 1e6);
    c.ask_upstream_to_chase = s.ask_recursion;
    Status st = ReferralPolicy::Parse(s.referral_allow, &c.referral_policy);
    if (!st.ok()) {
        *error = "keychase-referral-allow " + st.message();
        return false;
    }
    *config = c;
    return true;
}

std::vector<std::string> ServerIdentities(const ChaseConfig& c) {
    std::vector<std::string> ids;
    for (const LdapUrl& u : c.self)
        if (std::find(ids.begin(), ids.end(), u.ServerKey()) == ids.end())
            ids.push_back(u.ServerKey());
    return ids;
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
    KC_KEY,
    KC_SIGN,
    KC_REQUIRE_SIGNED,
    KC_FUDGE,
    KC_PUBLISH_TO,
    KC_PUBLISH_AS,
    KC_PUBLISH_QUEUE,
    KC_PUBLISH_RETRY_MAX,
    KC_PUBLISHER,
    KC_MAX_CHASES_PER_SEARCH,
    KC_MAX_CHASES_PER_CONNECTION,
    KC_REFERRAL_ALLOW,
    KC_ENUMERATION_LIMIT,
};

ConfigDriver kc_cf_gen;

#define KC_AT(n, name, desc, syntax) \
    "( " KEYDIR_OID ".1.1" #n " NAME '" name "' DESC '" desc "' " syntax " )"
#define KC_URLS "EQUALITY caseIgnoreMatch SYNTAX OMsDirectoryString X-ORDERED 'VALUES'"
#define KC_INT "EQUALITY integerMatch SYNTAX OMsInteger SINGLE-VALUE"
#define KC_STR "EQUALITY caseIgnoreMatch SYNTAX OMsDirectoryString SINGLE-VALUE"
#define KC_BOOL "EQUALITY booleanMatch SYNTAX OMsBoolean SINGLE-VALUE"

ConfigTable kc_cfg[] = {
    {"keychase-upstream",
     "uri...",
     2,
     0,
     0,
     ARG_MAGIC | KC_UPSTREAM,
     (void*)kc_cf_gen,
     KC_AT(50, "olcKeychaseUpstream", "parent key servers, asked in order", KC_URLS),
     nullptr,
     {}},
    {"keychase-root",
     "uri...",
     2,
     0,
     0,
     ARG_MAGIC | KC_ROOT,
     (void*)kc_cf_gen,
     KC_AT(51, "olcKeychaseRoot", "root cluster members, asked in order", KC_URLS),
     nullptr,
     {}},
    {"keychase-self",
     "uri...",
     2,
     0,
     0,
     ARG_MAGIC | KC_SELF,
     (void*)kc_cf_gen,
     KC_AT(52, "olcKeychaseSelf", "URLs that reach this server", KC_URLS),
     nullptr,
     {}},
    {"keychase-timeout",
     "seconds",
     2,
     2,
     0,
     ARG_MAGIC | KC_TIMEOUT,
     (void*)kc_cf_gen,
     KC_AT(53, "olcKeychaseTimeout", "seconds to wait for one key server", KC_STR),
     nullptr,
     {}},
    {"keychase-total-timeout",
     "seconds",
     2,
     2,
     0,
     ARG_MAGIC | KC_TOTAL_TIMEOUT,
     (void*)kc_cf_gen,
     KC_AT(54, "olcKeychaseTotalTimeout", "seconds one chase may take in all", KC_STR),
     nullptr,
     {}},
    {"keychase-max-hops",
     "n",
     2,
     2,
     0,
     ARG_INT | ARG_MAGIC | KC_MAX_HOPS,
     (void*)kc_cf_gen,
     KC_AT(55, "olcKeychaseMaxHops", "referrals followed in one chase", KC_INT),
     nullptr,
     {}},
    {"keychase-cache-entries",
     "n",
     2,
     2,
     0,
     ARG_ULONG | ARG_MAGIC | KC_CACHE_ENTRIES,
     (void*)kc_cf_gen,
     KC_AT(56, "olcKeychaseCacheEntries", "entries the key cache holds", KC_INT),
     nullptr,
     {}},
    {"keychase-cache-ttl",
     "seconds",
     2,
     2,
     0,
     ARG_ULONG | ARG_MAGIC | KC_CACHE_TTL,
     (void*)kc_cf_gen,
     KC_AT(57, "olcKeychaseCacheTTL", "longest life of a cached key", KC_INT),
     nullptr,
     {}},
    {"keychase-negative-ttl",
     "seconds",
     2,
     2,
     0,
     ARG_ULONG | ARG_MAGIC | KC_NEGATIVE_TTL,
     (void*)kc_cf_gen,
     KC_AT(58, "olcKeychaseNegativeTTL", "life of a cached not-found", KC_INT),
     nullptr,
     {}},
    {"keychase-serve-stale",
     "seconds",
     2,
     2,
     0,
     ARG_ULONG | ARG_MAGIC | KC_SERVE_STALE,
     (void*)kc_cf_gen,
     KC_AT(59, "olcKeychaseServeStale", "how long past its TTL a key may serve", KC_INT),
     nullptr,
     {}},
    {"keychase-allow-recursion",
     "on|off",
     2,
     2,
     0,
     ARG_ON_OFF | ARG_MAGIC | KC_ALLOW_RECURSION,
     (void*)kc_cf_gen,
     KC_AT(60, "olcKeychaseAllowRecursion", "chase for peers that ask it", KC_BOOL),
     nullptr,
     {}},
    {"keychase-ask-recursion",
     "on|off",
     2,
     2,
     0,
     ARG_ON_OFF | ARG_MAGIC | KC_ASK_RECURSION,
     (void*)kc_cf_gen,
     KC_AT(61, "olcKeychaseAskRecursion", "ask parents to chase", KC_BOOL),
     nullptr,
     {}},
    {"keychase-threads",
     "n",
     2,
     2,
     0,
     ARG_INT | ARG_MAGIC | KC_THREADS,
     (void*)kc_cf_gen,
     KC_AT(62, "olcKeychaseThreads", "chases under way at once", KC_INT),
     nullptr,
     {}},
    {"keychase-max-queued",
     "n",
     2,
     2,
     0,
     ARG_ULONG | ARG_MAGIC | KC_MAX_QUEUED,
     (void*)kc_cf_gen,
     KC_AT(63, "olcKeychaseMaxQueued", "chases that may wait for a thread", KC_INT),
     nullptr,
     {}},
    {"keychase-starttls",
     "on|off",
     2,
     2,
     0,
     ARG_ON_OFF | ARG_MAGIC | KC_STARTTLS,
     (void*)kc_cf_gen,
     KC_AT(64, "olcKeychaseStartTLS", "StartTLS on ldap:// connections to key servers", KC_BOOL),
     nullptr,
     {}},
    {"keychase-tls-cacert",
     "file",
     2,
     2,
     0,
     ARG_STRING | ARG_MAGIC | KC_TLS_CACERT,
     (void*)kc_cf_gen,
     KC_AT(65, "olcKeychaseTLSCACert", "CA certificates that key servers must chain to", KC_STR),
     nullptr,
     {}},
    {"keychase-key",
     "name> <file",
     3,
     3,
     0,
     ARG_MAGIC | KC_KEY,
     (void*)kc_cf_gen,
     KC_AT(66, "olcKeychaseKey", "a shared secret: NAME FILE (base64 in FILE)",
           "EQUALITY caseExactMatch SYNTAX OMsDirectoryString X-ORDERED 'VALUES'"),
     nullptr,
     {}},
    {"keychase-sign",
     "name> <[algorithm]",
     2,
     3,
     0,
     ARG_MAGIC | KC_SIGN,
     (void*)kc_cf_gen,
     KC_AT(67, "olcKeychaseSign", "the key (and algorithm) requests to upstreams are signed with",
           KC_STR),
     nullptr,
     {}},
    {"keychase-require-signed",
     "on|off",
     2,
     2,
     0,
     ARG_ON_OFF | ARG_MAGIC | KC_REQUIRE_SIGNED,
     (void*)kc_cf_gen,
     KC_AT(68, "olcKeychaseRequireSigned", "chase only for signed peers and local users", KC_BOOL),
     nullptr,
     {}},
    {"keychase-fudge",
     "seconds",
     2,
     2,
     0,
     ARG_INT | ARG_MAGIC | KC_FUDGE,
     (void*)kc_cf_gen,
     KC_AT(69, "olcKeychaseFudge", "clock difference allowed on signatures", KC_INT),
     nullptr,
     {}},
    {"keychase-publish-to",
     "uri...",
     2,
     0,
     0,
     ARG_MAGIC | KC_PUBLISH_TO,
     (void*)kc_cf_gen,
     KC_AT(70, "olcKeychasePublishTo", "parents or roots told where the members of this zone are",
           KC_URLS),
     nullptr,
     {}},
    {"keychase-publish-as",
     "uri...",
     2,
     0,
     0,
     ARG_MAGIC | KC_PUBLISH_AS,
     (void*)kc_cf_gen,
     KC_AT(71, "olcKeychasePublishAs", "the servers of this zone, as published pointers name them",
           KC_URLS),
     nullptr,
     {}},
    {"keychase-publish-queue",
     "directory",
     2,
     2,
     0,
     ARG_STRING | ARG_MAGIC | KC_PUBLISH_QUEUE,
     (void*)kc_cf_gen,
     KC_AT(72, "olcKeychasePublishQueue", "where publications wait to be delivered", KC_STR),
     nullptr,
     {}},
    {"keychase-publish-retry-max",
     "seconds",
     2,
     2,
     0,
     ARG_ULONG | ARG_MAGIC | KC_PUBLISH_RETRY_MAX,
     (void*)kc_cf_gen,
     KC_AT(73, "olcKeychasePublishRetryMax", "the longest wait between two delivery attempts",
           KC_INT),
     nullptr,
     {}},
    {"keychase-publisher",
     "key> <domain...",
     3,
     0,
     0,
     ARG_MAGIC | KC_PUBLISHER,
     (void*)kc_cf_gen,
     KC_AT(74, "olcKeychasePublisher", "a key that may publish pointers, and under which domains",
           "EQUALITY caseIgnoreMatch SYNTAX OMsDirectoryString X-ORDERED 'VALUES'"),
     nullptr,
     {}},
    {"keychase-max-chases-per-search",
     "n",
     2,
     2,
     0,
     ARG_ULONG | ARG_MAGIC | KC_MAX_CHASES_PER_SEARCH,
     (void*)kc_cf_gen,
     KC_AT(75, "olcKeychaseMaxChasesPerSearch", "addresses one search may have chased", KC_INT),
     nullptr,
     {}},
    {"keychase-max-chases-per-connection",
     "n",
     2,
     2,
     0,
     ARG_ULONG | ARG_MAGIC | KC_MAX_CHASES_PER_CONNECTION,
     (void*)kc_cf_gen,
     KC_AT(76, "olcKeychaseMaxChasesPerConnection",
           "chases one client connection may have under way", KC_INT),
     nullptr,
     {}},
    {"keychase-enumeration-limit",
     "n",
     2,
     2,
     0,
     ARG_ULONG | ARG_MAGIC | KC_ENUMERATION_LIMIT,
     (void*)kc_cf_gen,
     KC_AT(78, "olcKeychaseEnumerationLimit",
           "member entries an anonymous search may get besides the addresses it looks up", KC_INT),
     nullptr,
     {}},
    {"keychase-referral-allow",
     "pattern...",
     2,
     0,
     0,
     ARG_MAGIC | KC_REFERRAL_ALLOW,
     (void*)kc_cf_gen,
     KC_AT(77, "olcKeychaseReferralAllow",
           "servers referrals may lead to: any, public, address[/bits], name, *.domain [:port]",
           KC_URLS),
     nullptr,
     {}},
    {nullptr, nullptr, 0, 0, 0, ARG_IGNORED, nullptr, nullptr, nullptr, {}},
};

ConfigOCs kc_ocs[] = {
    {"( " KEYDIR_OID ".2.101 NAME 'olcKeychaseConfig' "
     "DESC 'keychase overlay configuration' SUP olcOverlayConfig "
     "MAY ( olcKeychaseUpstream $ olcKeychaseRoot $ olcKeychaseSelf $ olcKeychaseTimeout $ "
     "olcKeychaseTotalTimeout $ olcKeychaseMaxHops $ olcKeychaseCacheEntries $ "
     "olcKeychaseCacheTTL $ olcKeychaseNegativeTTL $ olcKeychaseServeStale $ "
     "olcKeychaseAllowRecursion $ olcKeychaseAskRecursion $ olcKeychaseThreads $ "
     "olcKeychaseMaxQueued $ olcKeychaseStartTLS $ olcKeychaseTLSCACert $ olcKeychaseKey $ "
     "olcKeychaseSign $ olcKeychaseRequireSigned $ olcKeychaseFudge $ olcKeychasePublishTo $ "
     "olcKeychasePublishAs $ olcKeychasePublishQueue $ olcKeychasePublishRetryMax $ "
     "olcKeychasePublisher $ olcKeychaseMaxChasesPerSearch $ olcKeychaseMaxChasesPerConnection $ "
     "olcKeychaseReferralAllow $ olcKeychaseEnumerationLimit ) )",
     Cft_Overlay, kc_cfg, nullptr, nullptr, nullptr, nullptr, nullptr},
    {nullptr, Cft_Abstract, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr},
};

bool ParseSeconds(const char* text, double* out) {
    char* end = nullptr;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || !end || *end || !std::isfinite(v) || v <= 0 || v > 3600)
        return false;
    *out = v;
    return true;
}

// A value for a directive that is not ARG_STRING: slapd reads only
// rvalue_vals for those (a value_string would be dropped, and the setting
// lost when slaptest converts slapd.conf to cn=config).
void EmitValue(ConfigArgs* c, const std::string& v) {
    struct berval bv = {v.size(), const_cast<char*>(v.c_str())};
    value_add_one(&c->rvalue_vals, &bv);
}

void EmitSeconds(ConfigArgs* c, double v) {
    char buf[32];
    snprintf(buf, sizeof buf, "%g", v);
    EmitValue(c, buf);
}

std::vector<std::string>* UrlList(Settings* s, int type) {
    switch (type) {
        case KC_UPSTREAM:
            return &s->upstream_urls;
        case KC_ROOT:
            return &s->root_urls;
        case KC_PUBLISH_TO:
            return &s->publish_to;
        case KC_PUBLISH_AS:
            return &s->publish_as;
        default:
            return &s->self_urls;
    }
}

// Applies changed settings to the running instance.
int Apply(ConfigArgs* c, Instance* inst) {
    if (!inst->open)
        return 0;
    ChaseConfig chase;
    std::string error;
    if (!BuildChaseConfig(inst->settings, &chase, &error)) {
        snprintf(c->cr_msg, sizeof c->cr_msg, "%s", error.c_str());
        return 1;
    }
    if (inst->signing)
        inst->signing->SetServerIdentities(ServerIdentities(chase));
    if (inst->resolver)
        inst->resolver->Reconfigure(chase);
    if (inst->cache)
        inst->cache->Reconfigure(CacheOptions(inst->settings));
    const Settings& s = inst->settings;
    if (inst->publisher) {
        inst->publish_sender->Reconfigure(SenderOptions(s));
        inst->publisher->Reconfigure(PublisherOptionsOf(s));
    } else if (!s.publish_to.empty() && !s.publish_as.empty() && !s.publish_queue.empty() &&
               !s.sign_key.empty()) {
        // Publication configured at run time: start once it is complete.
        if (!StartPublisher(inst, &error)) {
            snprintf(c->cr_msg, sizeof c->cr_msg, "%s", error.c_str());
            return 1;
        }
    }
    return 0;
}

int Emit(ConfigArgs* c, Instance* inst) {
    Settings& s = inst->settings;
    switch (c->type) {
        case KC_UPSTREAM:
        case KC_ROOT:
        case KC_SELF:
        case KC_PUBLISH_TO:
        case KC_PUBLISH_AS:
            for (const std::string& u : *UrlList(&s, c->type)) {
                struct berval bv = {u.size(), const_cast<char*>(u.c_str())};
                value_add_one(&c->rvalue_vals, &bv);
            }
            return c->rvalue_vals ? 0 : 1;
        case KC_TIMEOUT:
            EmitSeconds(c, s.timeout_seconds);
            return 0;
        case KC_TOTAL_TIMEOUT:
            EmitSeconds(c, s.total_timeout_seconds);
            return 0;
        case KC_MAX_HOPS:
            c->value_int = s.max_hops;
            return 0;
        case KC_CACHE_ENTRIES:
            c->value_ulong = s.cache_entries;
            return 0;
        case KC_CACHE_TTL:
            c->value_ulong = s.cache_ttl;
            return 0;
        case KC_NEGATIVE_TTL:
            c->value_ulong = s.negative_ttl;
            return 0;
        case KC_SERVE_STALE:
            c->value_ulong = s.serve_stale;
            return 0;
        case KC_ALLOW_RECURSION:
            c->value_int = s.allow_recursion;
            return 0;
        case KC_ASK_RECURSION:
            c->value_int = s.ask_recursion;
            return 0;
        case KC_THREADS:
            c->value_int = s.threads;
            return 0;
        case KC_MAX_QUEUED:
            c->value_ulong = s.max_queued;
            return 0;
        case KC_MAX_CHASES_PER_SEARCH:
            c->value_ulong = s.max_chases_per_search;
            return 0;
        case KC_ENUMERATION_LIMIT:
            c->value_ulong = s.enumeration_limit;
            return 0;
        case KC_REFERRAL_ALLOW:
            for (const std::string& p : s.referral_allow) {
                struct berval bv = {p.size(), const_cast<char*>(p.c_str())};
                value_add_one(&c->rvalue_vals, &bv);
            }
            return c->rvalue_vals ? 0 : 1;
        case KC_MAX_CHASES_PER_CONNECTION:
            c->value_ulong = s.max_chases_per_connection;
            return 0;
        case KC_STARTTLS:
            c->value_int = s.start_tls;
            return 0;
        case KC_TLS_CACERT:
            if (s.tls_cacert.empty())
                return 1;
            c->value_string = ch_strdup(s.tls_cacert.c_str());
            return 0;
        case KC_KEY:
            for (const auto& [name, file] : s.key_files) {
                std::string v = name + " " + file;
                struct berval bv = {v.size(), const_cast<char*>(v.c_str())};
                value_add_one(&c->rvalue_vals, &bv);
            }
            return c->rvalue_vals ? 0 : 1;
        case KC_SIGN: {
            if (s.sign_key.empty())
                return 1;
            EmitValue(c, s.sign_key + " " + MacAlgorithmName(s.sign_algorithm));
            return 0;
        }
        case KC_REQUIRE_SIGNED:
            c->value_int = s.require_signed;
            return 0;
        case KC_FUDGE:
            c->value_int = s.fudge;
            return 0;
        case KC_PUBLISH_QUEUE:
            if (s.publish_queue.empty())
                return 1;
            c->value_string = ch_strdup(s.publish_queue.c_str());
            return 0;
        case KC_PUBLISH_RETRY_MAX:
            c->value_ulong = s.publish_retry_max;
            return 0;
        case KC_PUBLISHER:
            for (const auto& [key, domains] : s.publishers) {
                std::string v = key;
                for (const std::string& d : domains)
                    v += " " + d;
                struct berval bv = {v.size(), const_cast<char*>(v.c_str())};
                value_add_one(&c->rvalue_vals, &bv);
            }
            return c->rvalue_vals ? 0 : 1;
    }
    return 1;
}

int Delete(ConfigArgs* c, Instance* inst) {
    Settings& s = inst->settings;
    Settings defaults;
    switch (c->type) {
        case KC_UPSTREAM:
        case KC_ROOT:
        case KC_SELF:
        case KC_PUBLISH_TO:
        case KC_PUBLISH_AS: {
            std::vector<std::string>* list = UrlList(&s, c->type);
            if (c->valx < 0)
                list->clear();
            else if (static_cast<size_t>(c->valx) < list->size())
                list->erase(list->begin() + c->valx);
            break;
        }
        case KC_TIMEOUT:
            s.timeout_seconds = defaults.timeout_seconds;
            break;
        case KC_TOTAL_TIMEOUT:
            s.total_timeout_seconds = defaults.total_timeout_seconds;
            break;
        case KC_MAX_HOPS:
            s.max_hops = defaults.max_hops;
            break;
        case KC_CACHE_ENTRIES:
            s.cache_entries = defaults.cache_entries;
            break;
        case KC_CACHE_TTL:
            s.cache_ttl = defaults.cache_ttl;
            break;
        case KC_NEGATIVE_TTL:
            s.negative_ttl = defaults.negative_ttl;
            break;
        case KC_SERVE_STALE:
            s.serve_stale = defaults.serve_stale;
            break;
        case KC_ALLOW_RECURSION:
            s.allow_recursion = false;
            break;
        case KC_ASK_RECURSION:
            s.ask_recursion = false;
            break;
        case KC_THREADS:
            s.threads = defaults.threads;
            break;
        case KC_MAX_QUEUED:
            s.max_queued = defaults.max_queued;
            break;
        case KC_MAX_CHASES_PER_SEARCH:
            s.max_chases_per_search = defaults.max_chases_per_search;
            break;
        case KC_ENUMERATION_LIMIT:
            s.enumeration_limit = defaults.enumeration_limit;
            break;
        case KC_REFERRAL_ALLOW:
            if (c->valx < 0)
                s.referral_allow.clear();
            else if (static_cast<size_t>(c->valx) < s.referral_allow.size())
                s.referral_allow.erase(s.referral_allow.begin() + c->valx);
            break;
        case KC_MAX_CHASES_PER_CONNECTION:
            s.max_chases_per_connection = defaults.max_chases_per_connection;
            break;
        case KC_STARTTLS:
            s.start_tls = false;
            break;
        case KC_TLS_CACERT:
            s.tls_cacert.clear();
            break;
        case KC_KEY: {
            // c->valx: which key, or -1 for all of them.
            std::vector<std::pair<std::string, std::string>> keep;
            for (size_t i = 0; i < s.key_files.size(); ++i) {
                if (c->valx == -1 || static_cast<int>(i) == c->valx)
                    inst->keyring.RemoveKey(s.key_files[i].first);
                else
                    keep.push_back(s.key_files[i]);
            }
            s.key_files.swap(keep);
            break;
        }
        case KC_SIGN:
            s.sign_key.clear();
            break;
        case KC_REQUIRE_SIGNED:
            s.require_signed = false;
            break;
        case KC_FUDGE:
            s.fudge = defaults.fudge;
            break;
        case KC_PUBLISH_QUEUE:
            s.publish_queue.clear();
            break;  // at the next open
        case KC_PUBLISH_RETRY_MAX:
            s.publish_retry_max = defaults.publish_retry_max;
            break;
        case KC_PUBLISHER:
            if (c->valx < 0)
                s.publishers.clear();
            else if (static_cast<size_t>(c->valx) < s.publishers.size())
                s.publishers.erase(s.publishers.begin() + c->valx);
            break;
    }
    return Apply(c, inst);
}

int Set(ConfigArgs* c, Instance* inst) {
    Settings& s = inst->settings;
    switch (c->type) {
        case KC_UPSTREAM:
        case KC_ROOT:
        case KC_SELF:
        case KC_PUBLISH_TO:
        case KC_PUBLISH_AS: {
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
        case KC_CACHE_ENTRIES:
            s.cache_entries = c->value_ulong;
            break;
        case KC_CACHE_TTL:
            s.cache_ttl = c->value_ulong;
            break;
        case KC_NEGATIVE_TTL:
            s.negative_ttl = c->value_ulong;
            break;
        case KC_SERVE_STALE:
            s.serve_stale = c->value_ulong;
            break;
        case KC_ALLOW_RECURSION:
            s.allow_recursion = c->value_int != 0;
            break;
        case KC_ASK_RECURSION:
            s.ask_recursion = c->value_int != 0;
            break;
        case KC_THREADS:
            if (c->value_int < 1 || c->value_int > 256) {
                snprintf(c->cr_msg, sizeof c->cr_msg, "keychase-threads %d: expected 1 to 256",
                         c->value_int);
                return 1;
            }
            s.threads = c->value_int;  // takes effect when the database is next opened
            break;
        case KC_MAX_QUEUED:
            s.max_queued = c->value_ulong;
            break;
        case KC_REFERRAL_ALLOW: {
            std::vector<std::string> patterns(s.referral_allow);
            for (int i = 1; i < c->argc; ++i)
                patterns.push_back(c->argv[i]);
            ReferralPolicy policy;
            Status st = ReferralPolicy::Parse(patterns, &policy);
            if (!st.ok()) {
                snprintf(c->cr_msg, sizeof c->cr_msg, "keychase-referral-allow %s",
                         st.message().c_str());
                return 1;
            }
            s.referral_allow.swap(patterns);
            break;
        }
        case KC_MAX_CHASES_PER_SEARCH:
        case KC_MAX_CHASES_PER_CONNECTION:
            if (c->value_ulong < 1 || c->value_ulong > 4096) {
                snprintf(c->cr_msg, sizeof c->cr_msg, "%s %lu: expected 1 to 4096", c->argv[0],
                         c->value_ulong);
                return 1;
            }
            (c->type == KC_MAX_CHASES_PER_SEARCH ? s.max_chases_per_search
                                                 : s.max_chases_per_connection) = c->value_ulong;
            break;
        case KC_ENUMERATION_LIMIT:
            if (c->value_ulong > 1000000) {
                snprintf(c->cr_msg, sizeof c->cr_msg, "%s %lu: expected 0 to 1000000", c->argv[0],
                         c->value_ulong);
                return 1;
            }
            s.enumeration_limit = c->value_ulong;
            break;
        case KC_STARTTLS:
            s.start_tls = c->value_int != 0;
            break;
        case KC_TLS_CACERT:
            s.tls_cacert = c->value_string;
            ch_free(c->value_string);
            c->value_string = nullptr;
            break;
        case KC_KEY: {
            // A missing, unreadable, world-readable or short key stops slapd here.
            Status st = inst->keyring.AddKeyFile(c->argv[1], c->argv[2]);
            if (!st.ok()) {
                snprintf(c->cr_msg, sizeof c->cr_msg, "keychase-key %s: %s", c->argv[1],
                         st.message().c_str());
                return 1;
            }
            s.key_files.emplace_back(c->argv[1], c->argv[2]);
            break;
        }
        case KC_SIGN: {
            MacAlgorithm alg = MacAlgorithm::kHmacSha256;
            if (c->argc == 3 && !MacAlgorithmFromName(c->argv[2], &alg)) {
                snprintf(c->cr_msg, sizeof c->cr_msg,
                         "keychase-sign %s %s: the algorithm is hmac-sha256 or hmac-sha512",
                         c->argv[1], c->argv[2]);
                return 1;
            }
            if (!inst->keyring.Find(c->argv[1])) {
                snprintf(c->cr_msg, sizeof c->cr_msg,
                         "keychase-sign %s: no such key (give it with keychase-key first)",
                         c->argv[1]);
                return 1;
            }
            s.sign_key = c->argv[1];
            s.sign_algorithm = alg;
            break;
        }
        case KC_REQUIRE_SIGNED:
            s.require_signed = c->value_int != 0;
            break;
        case KC_FUDGE:
            if (c->value_int < 1 || c->value_int > 3600) {
                snprintf(c->cr_msg, sizeof c->cr_msg, "keychase-fudge %d: expected 1 to 3600",
                         c->value_int);
                return 1;
            }
            s.fudge = c->value_int;
            break;
        case KC_PUBLISH_QUEUE:
            if (c->value_string[0] != '/') {
                snprintf(c->cr_msg, sizeof c->cr_msg,
                         "keychase-publish-queue \"%s\": give an absolute path", c->value_string);
                return 1;
            }
            s.publish_queue = c->value_string;  // takes effect when the database is next opened
            ch_free(c->value_string);
            c->value_string = nullptr;
            break;
        case KC_PUBLISH_RETRY_MAX:
            if (c->value_ulong < 1 || c->value_ulong > 86400) {
                snprintf(c->cr_msg, sizeof c->cr_msg,
                         "keychase-publish-retry-max %lu: expected 1 to 86400 seconds",
                         c->value_ulong);
                return 1;
            }
            s.publish_retry_max = static_cast<int64_t>(c->value_ulong);
            break;
        case KC_PUBLISHER: {
            std::vector<std::string> domains;
            for (int i = 2; i < c->argc; ++i) {
                std::string d;
                Status st = NormalizeMailDomain(c->argv[i], &d);
                if (!st.ok()) {
                    snprintf(c->cr_msg, sizeof c->cr_msg, "keychase-publisher %s \"%s\": %s",
                             c->argv[1], c->argv[i], st.message().c_str());
                    return 1;
                }
                domains.push_back(d);
            }
            if (!inst->keyring.Find(c->argv[1])) {
                snprintf(c->cr_msg, sizeof c->cr_msg,
                         "keychase-publisher %s: no such key (give it with keychase-key first)",
                         c->argv[1]);
                return 1;
            }
            s.publishers.emplace_back(c->argv[1], std::move(domains));
            break;
        }
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
        if (rc)
            Debug(LDAP_DEBUG_ANY, "%s: %s\n", c->log, c->cr_msg);
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
