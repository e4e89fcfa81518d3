// slapo-keychase: slapd glue of the keychase overlay.
//
// A search that looks up addresses ((mail=...) equalities, also inside &
// and |, or a base search of a member's DN) is answered from local data;
// an address that no local database covers is answered from the key cache
// or chased upstream by lib/upstream's Resolver on threads of its own. A
// search that needs a chase returns SLAPD_ASYNCOP: no slapd worker thread
// waits on the network. When the chase ends, a task on slapd's thread pool
// runs the local part of the search, adds the fetched entries and sends
// the result (async.cc).
//
// Every hook slapd calls catches all C++ exceptions (KC_GUARD).
#ifndef KEYDIR_OVERLAY_KEYCHASE_H
#define KEYDIR_OVERLAY_KEYCHASE_H

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/oids.h"
#include "chase/chase_plan.h"
#include "chase/key_cache.h"
#include "chase/mail_address.h"
#include "publish/publisher.h"
#include "publish/signed_sender.h"
#include "sign/keyring.h"
#include "sign/signer.h"
#include "slap_headers.h"
#include "upstream/resolver.h"
#include "upstream/upstream_client.h"

namespace keydir {
namespace keychase {

// What the directives say (cn=config: olcKeychaseConfig).
struct Settings {
    std::vector<std::string> upstream_urls;  // keychase-upstream, in order
    std::vector<std::string> root_urls;      // keychase-root, in order
    std::vector<std::string> self_urls;      // keychase-self
    double timeout_seconds = 3;              // keychase-timeout, per server asked
    double total_timeout_seconds = 10;       // keychase-total-timeout
    int max_hops = 8;                        // keychase-max-hops
    size_t cache_entries = 10000;            // keychase-cache-entries
    int64_t cache_ttl = 3600;                // keychase-cache-ttl
    int64_t negative_ttl = 300;              // keychase-negative-ttl
    int64_t serve_stale = 0;                 // keychase-serve-stale
    bool allow_recursion = false;            // keychase-allow-recursion
    bool ask_recursion = false;              // keychase-ask-recursion
    int threads = 8;                         // keychase-threads
    size_t max_queued = 4096;                // keychase-max-queued
    size_t max_chases_per_search = 4;        // keychase-max-chases-per-search
    size_t max_chases_per_connection = 16;   // keychase-max-chases-per-connection
    // keychase-enumeration-limit: member entries an anonymous search may
    // get besides those of the addresses it looks up.
    size_t enumeration_limit = 0;
    std::vector<std::string> referral_allow;  // keychase-referral-allow (empty: "public")
    bool start_tls = false;                   // keychase-starttls
    std::string tls_cacert;                   // keychase-tls-cacert
    std::vector<std::pair<std::string, std::string>> key_files;  // keychase-key NAME FILE
    std::string sign_key;                                        // keychase-sign
    MacAlgorithm sign_algorithm = MacAlgorithm::kHmacSha256;
    bool require_signed = false;          // keychase-require-signed
    int fudge = 300;                      // keychase-fudge
    std::vector<std::string> publish_to;  // keychase-publish-to, in order
    std::vector<std::string> publish_as;  // keychase-publish-as: this zone's servers
    std::string publish_queue;            // keychase-publish-queue DIR
    int64_t publish_retry_max = 300;      // keychase-publish-retry-max
    // keychase-publisher KEY DOMAIN...: who may publish pointers here.
    std::vector<std::pair<std::string, std::vector<std::string>>> publishers;
};

struct Counters {
    std::atomic<uint64_t> lookups{0};         // addresses looked up by searches
    std::atomic<uint64_t> local_hits{0};      // answered from local data
    std::atomic<uint64_t> referrals{0};       // answered with a pointer (continuation reference)
    std::atomic<uint64_t> async_searches{0};  // searches that waited for a chase
    std::atomic<uint64_t> peer_requests{0};   // requests from other key servers
    std::atomic<uint64_t> refused{0};         // peer requests whose signature failed
    std::atomic<uint64_t> publications_applied{0};  // publications received and made true
    std::atomic<uint64_t> publications_refused{0};  // publications received and refused
};

class UpstreamSigning;

// Chases under way per client connection (keychase-max-chases-per-connection).
class ConnectionChases {
  public:
    // Takes a slot for connection `id`; false when it has `max` already.
    bool Take(unsigned long id, size_t max);
    void Give(unsigned long id);

  private:
    std::mutex mu_;
    std::map<unsigned long, size_t> in_flight_;
};

// One keychase instance (one database).
struct Instance {
    Settings settings;
    Keyring keyring;                          // keys of keychase-key
    std::unique_ptr<SigningContext> signing;  // made in db_open
    std::unique_ptr<HopSecurity> upstream_signing;
    std::unique_ptr<KeyCache> cache;
    std::unique_ptr<UpstreamClient> upstream;
    std::unique_ptr<Resolver> resolver;
    // Publication (zone master side; only with keychase-publish-to).
    std::unique_ptr<PublishQueue> publish_queue;
    std::unique_ptr<UpstreamClient> publish_client;
    std::unique_ptr<SignedSender> publish_sender;
    std::unique_ptr<Publisher> publisher;
    Counters counters;
    ConnectionChases connection_chases;
    bool open = false;
    std::string suffix;  // of the database, for logs
    struct berval monitor_ndn = BER_BVNULL;
    void* monitor_cb = nullptr;
};

inline Instance* Inst(slap_overinst* on) {
    return static_cast<Instance*>(on->on_bi.bi_private);
}

// Builds the chase configuration from the settings; false with *error on a
// bad URL.
bool BuildChaseConfig(const Settings& s, ChaseConfig* config, std::string* error);
KeyCacheOptions CacheOptions(const Settings& s);
// The names a peer's request may be meant for ("host:port", doc/signing.md
// §2): keychase-self and the URLs slapd listens on with a host (not
// ldap:/// and the like, which name no host).
std::vector<std::string> ServerIdentities(const ChaseConfig& c);

// --- lookups (lookup.cc) ---------------------------------------------------
// How local data covers an address.
enum class Coverage {
    kEntry,          // a database here holds the member's entry
    kPointer,        // ... holds a referral entry at the member's DN
    kDelegated,      // ... holds a referral above it (a zone delegation)
    kAuthoritative,  // ... holds the zone and the member is not there
    kNotCovered,     // nothing here: ask upstream
    kNotChased,      // nothing here, and this server does not chase for this
                     // client (keychase-require-signed): an error, not "absent"
};

struct Wanted {
    MailAddress address;
    struct berval member_ndn = BER_BVNULL;  // normalized, op->o_tmpmemctx
    Coverage coverage = Coverage::kNotCovered;
    struct berval local_dn = BER_BVNULL;     // kEntry: the member's entry (its DN only:
    struct berval local_ndn = BER_BVNULL;    // what is sent is read through HolderView)
    BackendDB* local_db = nullptr;           // kEntry: the database holding it
    struct berval referral_dn = BER_BVNULL;  // kPointer, kDelegated: the referral entry
    struct berval referral_ndn = BER_BVNULL;
    BerVarray refs = nullptr;        // ... and its ref values
    bool referral_has_mail = false;  // the pointer carries the address in mail
    Resolution resolution;           // kNotCovered, once known
    bool resolved = false;
};

// An attribute description by name, or nullptr (callers keep it in a
// function-local static).
AttributeDescription* NamedAd(const char* name);
AttributeDescription* MailAd();
// The addresses among e's mail values (those that parse).
std::vector<MailAddress> MailAddressesOf(Entry* e);
// The addresses a search asks for; at most `limit`.
void AddressesOfSearch(Operation* op, size_t limit, std::vector<MailAddress>* out);
// Fills w->coverage (and what goes with it) from this server's databases.
// Nothing of the databases is held afterwards (copies only).
void Classify(Operation* op, Wanted* w);
// Frees what Classify made.
void ReleaseWanted(Wanted* w);

// --- entries (entry.cc) ------------------------------------------------------
// A fetched entry as a slapd Entry named `dn`, with the operational
// attributes that say where it came from. Unknown attributes and values
// that do not pass syntax checks are dropped (and logged).
Entry* MakeEntry(Operation* op, const UpstreamEntry& fetched, const struct berval* dn,
                 const Resolution& how);
// A local member's entry as its holding database (w->local_db) shows it to
// this client (its own search, its ACLs, usable certificates only), without
// userPKCS12, named by DnForClient; nullptr when there is nothing the
// client may see or the name is not a valid DN.
Entry* HolderView(Operation* op, Wanted* w);
// True on a thread while it runs HolderView's internal search (kc_search
// passes it through).
bool InHolderView();
// The DN the client sees: the real one when it is within the search scope,
// else mail=<address>,<search base> (so that it is).
bool DnForClient(Operation* op, const Wanted& w, const std::string& real_dn, struct berval* dn);

// --- answering (search.cc, async.cc) -----------------------------------------
// State of one search that keychase adds to.
struct Search {
    slap_overinst* on = nullptr;
    BackendDB* db = nullptr;  // the real database of the search
    std::vector<Wanted> wanted;
    std::atomic<int> pending{0};
    std::mutex mu;                  // guards wanted[i].resolution while chases finish
    bool want_ttl = false;          // the client asked for keydirTTL by name
    int hops = 0;                   // the hop count of the peer this server chases for
    std::vector<std::string> seen;  // addresses of entries the local search sent
    std::string text;               // the result's diagnostic text, kept alive here
    BerVarray held_ref = nullptr;   // a referral result turned into a reference (see search.cc)
    // Anonymous searches: member entries not of a wanted address that may
    // still go out (keychase-enumeration-limit), and whether one was held back.
    bool guarded = false;
    size_t others_left = 0;
    bool withheld = false;
    ~Search() {
        for (Wanted& w : wanted)
            ReleaseWanted(&w);
    }
};

// Adds keychase's entries, references and result code to the search's
// answer (the response callback); frees the Search when the search ends.
slap_callback* AnswerCallback(Operation* op, Search* s);
// Resolves every uncovered address of s on the calling thread (internal
// operations, which cannot wait asynchronously).
void ResolveHere(Search* s);
// The answer for an address that is not chased because the search
// (per_connection: its connection) has as many chases as it may have.
Resolution NotChased(const Settings& settings, bool per_connection);
// Starts the chases of `s`; when they end, the search completes on a
// slapd thread. Returns SLAPD_ASYNCOP.
int StartAsync(Operation* op, SlapReply* rs, Search* s);

// --- registration --------------------------------------------------------
int ConfigInit(slap_overinst* on);
int RegisterEntrySchema();
std::string PathValue(const ChaseVisit& v);
int FlushExopInit();
void RegisterInstance(Instance* inst, BackendDB* be);
void UnregisterInstance(Instance* inst);
// The open keychase instance of a database (select_backend's), or nullptr.
Instance* FindInstance(BackendDB* be);

// --- publication (publish.cc, publish_apply.cc) ------------------------------
// Opens the queue and starts delivering (db_open); false with *error when
// the publication directives do not fit together.
bool StartPublisher(Instance* inst, std::string* error);
void StopPublisher(Instance* inst);
SignedSenderOptions SenderOptions(const Settings& s);
PublisherOptions PublisherOptionsOf(const Settings& s);
int PublishExopInit();
int MonitorInit();
int MonitorDbOpen(BackendDB* be, Instance* inst);
int MonitorDbClose(Instance* inst);

extern int keychase_cid;  // the control's slot (op->o_controls[keychase_cid])

}  // namespace keychase
}  // namespace keydir

#define KC_GUARD(failure, ...)                                               \
    try {                                                                    \
        __VA_ARGS__                                                          \
    } catch (const std::exception& ex_) {                                    \
        Debug(LDAP_DEBUG_ANY, "keychase: internal error: %s\n", ex_.what()); \
        return (failure);                                                    \
    } catch (...) {                                                          \
        Debug(LDAP_DEBUG_ANY, "keychase: internal error\n");                 \
        return (failure);                                                    \
    }

#endif  // KEYDIR_OVERLAY_KEYCHASE_H
