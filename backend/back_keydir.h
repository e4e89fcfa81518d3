// back-keydir: slapd glue for the keydir backend.
//
// The glue converts between slapd's structures and libkeydir's plain types;
// all storage work is lib/store's. Every hook slapd calls is extern "C" and
// catches every C++ exception (KD_GUARD), so none crosses into slapd.
//
// Locking: lib/store runs each write in one Berkeley DB transaction and
// retries it on deadlock. While a write transaction is open the operation
// carries it on op->o_extra (KdOpTxn) so that nested entry fetches (ACL
// group checks, overlays) read through the same transaction instead of
// waiting on its own locks.
#ifndef KEYDIR_BACKEND_BACK_KEYDIR_H
#define KEYDIR_BACKEND_BACK_KEYDIR_H

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "slap_headers.h"
#include "store/dn_key.h"
#include "store/store.h"
#include "cert/member_cert.h"

namespace keydir {
namespace backend {

// The kinds of index an attribute may have, as back-mdb's "index" names
// them. Ordering filters (>=, <=) use the equality index where the
// attribute's matching rule keeps the values' order in its keys.
enum class IndexKind { kEquality, kPresence, kSubstrings, kApprox };

// One index of one attribute type, each kind in a store index of its own.
struct IndexSpec {
    AttributeType* type;
    IndexKind kind;
    slap_mask_t mask;  // SLAP_INDEX_* bits for the indexer (substrings: which pieces)
    std::string name;  // "mail" (equality), "mail;pres", "mail;sub", "mail;approx"
    bool ready;        // false while it is being built in the background
};

constexpr uint64_t kDefaultEntryCache = 20000;

// Per-database state (be_private).
struct KeydirDb {
    std::string directory;
    std::string suffix;      // for log messages
    std::string suffix_ndn;  // normalized: where syncprov keeps contextCSN
    uint64_t cache_bytes = 64ull << 20;
    // keydir-entry-cache: entry records and DN-to-ID mappings kept in
    // memory in front of Berkeley DB (lib/store/record_cache.h), at most
    // this many of each; 0: none.
    uint64_t entry_cache = kDefaultEntryCache;
    Durability durability = Durability::kSync;
    unsigned checkpoint_kbytes = 1024;
    unsigned checkpoint_minutes = 5;
    std::vector<IndexSpec> indexes;
    std::string trust_anchor_file;          // keydir-trust-anchor
    std::unique_ptr<TrustAnchors> anchors;  // loaded from it
    bool allow_expired = false;             // keydir-allow-expired

    std::unique_ptr<Store> store;
    bool open = false;
    std::mutex csn_mutex;  // writes make their CSNs one at a time (write.h)
    // Tasks on slapd_rq get the KeydirDb, never the BackendDB: with overlays
    // db_open sees a copy of it on the stack.
    void* checkpoint_task = nullptr;  // struct re_s*
    void* reindex_task = nullptr;     // background build of new indexes

    // cn=monitor
    struct berval monitor_ndn = BER_BVNULL;
    void* monitor_cb = nullptr;
    std::atomic<uint64_t> searches{0};
    std::atomic<uint64_t> writes{0};
};

// A write transaction attached to an operation (see file comment).
struct KdOpTxn {
    OpExtra oe;  // oe_key == the KeydirDb
    Txn* txn;
};

inline KeydirDb* Kd(BackendDB* be) {
    return static_cast<KeydirDb*>(be->be_private);
}
inline KeydirDb* Kd(Operation* op) {
    return Kd(op->o_bd);
}

// The assertion control's filter (RFC 4528), typed.
inline Filter* AssertionFilter(Operation* op) {
    return static_cast<Filter*>(get_assertion(op));
}
// slapd's stand-in for the parent of a suffix entry.
inline Entry* RootEntry() {
    return const_cast<Entry*>(&slap_entry_root);
}

// The transaction attached to op, or null.
Txn* OpTxn(Operation* op, KeydirDb* kd);

// Maps a store status onto an LDAP result code, setting *text.
int LdapResult(const Status& s, const char** text);

// --- entries (entry.cc) ------------------------------------------------
// The DN key of a normalized DN.
Status DnKey(const struct berval* ndn, std::string* key);

// A database with the null suffix has a root entry, as back-mdb's has: id
// kRootEntryId, in no dn2id key (so no search lists it), a glue entry
// until something (syncprov's contextCSN) is stored there.
inline constexpr EntryId kRootEntryId = 0;
bool IsNullSuffixRoot(Operation* op, const std::string& key);
Entry* GlueRootEntry();
// A glue entry (objectClass and structuralObjectClass glue, nothing else)
// named name/nname: what slapadd puts where a parent is missing.
Entry* GlueEntry(const struct berval* name, const struct berval* nname);
// The root's record, the glue entry's when none is stored.
Status ReadRootRecord(Txn* t, KeydirDb* kd, std::string* record, bool for_update);
// Encodes an entry for the store.
Status EncodeEntry(Entry* e, std::string* record);
// Decodes a stored record into a new Entry (free with entry_free).
Status DecodeEntry(std::string_view record, EntryId id, Entry** e);
// Reads the entry with DN ndn; when it does not exist, *matched (if given)
// is set to its closest existing ancestor within the database. Returns an
// LDAP code: LDAP_SUCCESS, LDAP_NO_SUCH_OBJECT or an error with *text.
int FetchEntry(Operation* op, const struct berval* ndn, Entry** e, Entry** matched,
               const char** text);

// --- referrals (referral.cc) ---------------------------------------------
// Sends noSuchObject for a target that does not exist, with the closest
// existing ancestor as matched DN (where disclose is allowed) or its
// referral when that ancestor is one.
void SendNoSuchObject(Operation* op, SlapReply* rs, Entry* matched, int scope);
// Sends the referral of an entry that is one (LDAP_OTHER if it has no ref).
void SendEntryReferral(Operation* op, SlapReply* rs, Entry* e, int scope);

// --- indexes (index.cc) --------------------------------------------------
struct IndexKey {
    const std::string* index;
    std::string key;
};
// The index keys of every indexed value of e.
int EntryIndexKeys(Operation* op, KeydirDb* kd, Entry* e, std::vector<IndexKey>* keys);
// Index keys of one attribute's values for one index.
int ValueIndexKeys(Operation* op, const IndexSpec& ix, AttributeDescription* ad, BerVarray values,
                   std::vector<IndexKey>* keys);
// Adds/removes every key in a transaction.
Status ApplyIndexKeys(Txn& t, const std::vector<IndexKey>& keys, EntryId id, bool add);
const IndexSpec* FindIndex(KeydirDb* kd, AttributeType* type, IndexKind kind);
// The store index name of a kind of index of a type.
std::string IndexName(AttributeType* type, IndexKind kind);

// Candidate entries for a search filter: when *all is set every entry in
// scope is a candidate, otherwise ids (ascending) are.
int FilterCandidates(Operation* op, KeydirDb* kd, Filter* f, std::vector<EntryId>* ids, bool* all);

// --- hooks ---------------------------------------------------------------
extern "C" {
BI_op_bind kd_bind;
BI_op_search kd_search;
BI_op_compare kd_compare;
BI_op_add kd_add;
BI_op_modify kd_modify;
BI_op_modrdn kd_modrdn;
BI_op_delete kd_delete;
BI_chk_referrals kd_referrals;
BI_entry_get_rw kd_entry_get;
BI_entry_release_rw kd_entry_release;
BI_has_subordinates kd_has_subordinates;
BI_op_func kd_operational;
BI_tool_entry_open kd_tool_entry_open;
BI_tool_entry_close kd_tool_entry_close;
BI_tool_entry_first_x kd_tool_entry_first_x;
BI_tool_entry_next kd_tool_entry_next;
BI_tool_entry_get kd_tool_entry_get;
BI_tool_entry_put kd_tool_entry_put;
BI_tool_entry_reindex kd_tool_entry_reindex;
BI_tool_dn2id_get kd_tool_dn2id_get;
BI_tool_entry_modify kd_tool_entry_modify;
BI_tool_entry_delete kd_tool_entry_delete;
}

// --- configuration, monitor, lifecycle ---------------------------------
int ConfigInit(BackendInfo* bi);
int MonitorInit();
int MonitorDbOpen(BackendDB* be);
int MonitorDbClose(BackendDB* be);
int OpenStore(BackendDB* be, bool tool_mode, bool read_only, const char** text);
void ScheduleCheckpoint(BackendDB* be);
void StartReindex(BackendDB* be);

}  // namespace backend
}  // namespace keydir

// Runs body; any C++ exception becomes LDAP_OTHER sent to the client (or
// returned, when there is no client), never an exception in slapd's C.
#define KD_GUARD_OP(op, rs, ...)                                           \
    try {                                                                  \
        __VA_ARGS__                                                        \
    } catch (const std::exception& ex_) {                                  \
        Debug(LDAP_DEBUG_ANY, "keydir: internal error: %s\n", ex_.what()); \
        (rs)->sr_err = LDAP_OTHER;                                         \
        (rs)->sr_text = "internal error";                                  \
        send_ldap_result((op), (rs));                                      \
        return LDAP_OTHER;                                                 \
    } catch (...) {                                                        \
        Debug(LDAP_DEBUG_ANY, "keydir: internal error\n");                 \
        (rs)->sr_err = LDAP_OTHER;                                         \
        (rs)->sr_text = "internal error";                                  \
        send_ldap_result((op), (rs));                                      \
        return LDAP_OTHER;                                                 \
    }

#define KD_GUARD(failure, ...)                                             \
    try {                                                                  \
        __VA_ARGS__                                                        \
    } catch (const std::exception& ex_) {                                  \
        Debug(LDAP_DEBUG_ANY, "keydir: internal error: %s\n", ex_.what()); \
        return (failure);                                                  \
    } catch (...) {                                                        \
        Debug(LDAP_DEBUG_ANY, "keydir: internal error\n");                 \
        return (failure);                                                  \
    }

#endif  // KEYDIR_BACKEND_BACK_KEYDIR_H
