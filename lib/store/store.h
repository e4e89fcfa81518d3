// Store: a zone's entries in Berkeley DB's transactional data store.
//
// The store keeps opaque entry records (the slapd glue encodes them) under
// 64-bit entry IDs, a DN index (see dn_key.h) and any number of equality
// indexes whose keys the caller computes. Every change runs in a Berkeley DB
// transaction; the environment is recovered on open after an unclean
// shutdown, checkpoints bound recovery time, and old log files are removed.
//
// Thread safety: a Store may be used from many threads at once.
#ifndef KEYDIR_STORE_STORE_H
#define KEYDIR_STORE_STORE_H

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/env.h"
#include "base/status.h"

namespace keydir {

using EntryId = uint64_t;

enum class Durability {
    kSync,         // commit writes and flushes the log: survives a crash of the machine
    kWriteNoSync,  // commit writes the log to the OS: survives a crash of slapd only
    kNoSync,       // commit stays in the log buffer: the last commits may be lost
};

enum class Scope { kBase, kOneLevel, kSubtree, kChildren };

struct StoreOptions {
    std::string directory;            // the Berkeley DB environment (must exist)
    uint64_t cache_bytes = 32 << 20;  // memory pool size
    Durability durability = Durability::kSync;
    std::vector<std::string> indexes;  // equality indexes, by name
    int max_retries = 20;              // deadlock retries of one transaction
    bool read_only = false;            // tools that only read (slapcat)
    // Entry records, DN-to-ID mappings and small IndexLookup answers kept
    // in memory in front of Berkeley DB (record_cache.h), each cache at
    // most this many; 0: none.
    size_t entry_cache = 0;
    // Called with Berkeley DB's own error messages.
    std::function<void(const std::string&)> error_log;
    Env* env = Env::Default();
};

struct StoreStats {
    uint64_t entries = 0;
    uint64_t cache_bytes = 0;
    uint64_t cache_hits = 0;    // pages found in the memory pool
    uint64_t cache_misses = 0;  // pages read from disk
    uint64_t txn_begun = 0;
    uint64_t txn_committed = 0;
    uint64_t txn_aborted = 0;
    uint64_t txn_active = 0;
    uint64_t deadlocks = 0;  // deadlocks detected since open
    uint64_t retries = 0;    // transactions retried after a deadlock
    uint64_t log_bytes = 0;  // log written since the last checkpoint
    uint64_t entry_cache_capacity = 0;
    uint64_t entry_cache_entries = 0;
    uint64_t entry_cache_hits = 0;  // Get outside a transaction served from memory
    uint64_t entry_cache_misses = 0;
    uint64_t dn_cache_hits = 0;  // FindId outside a transaction served from memory
    uint64_t dn_cache_misses = 0;
    uint64_t index_cache_hits = 0;  // IndexLookup served from memory
    uint64_t index_cache_misses = 0;
};

// A write transaction, handed to the function given to Store::Update.
class Txn {
  public:
    virtual ~Txn() = default;
    // Reads see this transaction's own changes. for_update takes a write
    // lock at once, so that a read-modify-write cannot deadlock on upgrade.
    virtual Status FindId(std::string_view dn_key, EntryId* id, bool for_update = false) = 0;
    virtual Status Get(EntryId id, std::string* record, bool for_update = false) = 0;
    virtual Status HasChildren(std::string_view dn_key, bool* has_children) = 0;
    // The DN keys and IDs of every strict descendant of dn_key, in key
    // order, read with write locks (a subtree rename rewrites them all).
    // More than `limit` of them: NoSpace, and *out holds the first limit.
    virtual Status Descendants(std::string_view dn_key, size_t limit,
                               std::vector<std::pair<std::string, EntryId>>* out) = 0;

    virtual Status PutEntry(EntryId id, std::string_view record) = 0;
    virtual Status DeleteEntry(EntryId id) = 0;
    // Fails with Exists if the DN is taken.
    virtual Status InsertDn(std::string_view dn_key, EntryId id) = 0;
    virtual Status DeleteDn(std::string_view dn_key) = 0;
    // Index upkeep; adding a present pair or removing an absent one is fine.
    virtual Status AddIndexKey(const std::string& index, std::string_view key, EntryId id) = 0;
    virtual Status RemoveIndexKey(const std::string& index, std::string_view key, EntryId id) = 0;
    // Stores a new entry under a fresh ID and returns the ID (IDs of
    // aborted transactions are not reused). It must be the transaction's
    // first operation (else InvalidArgument): new IDs reach the database in
    // increasing order, one transaction at a time, and a transaction that
    // waits for its turn must not hold locks the others need.
    virtual Status AppendEntry(std::string_view record, EntryId* id) = 0;
};

class Store {
  public:
    // Opens (creating if needed) the environment and databases in
    // options.directory, running recovery first if the last process using
    // it did not close it.
    static Status Open(const StoreOptions& options, std::unique_ptr<Store>* store);
    virtual ~Store() = default;

    // Reads outside a write transaction. Each call sees committed data:
    // a value from the entry cache is never older than the last commit
    // that changed it (record_cache.h).
    virtual Status FindId(std::string_view dn_key, EntryId* id) = 0;
    virtual Status Get(EntryId id, std::string* record) = 0;
    // Get without a copy: the record is shared with the cache.
    virtual Status GetShared(EntryId id, std::shared_ptr<const std::string>* record) = 0;
    virtual Status HasChildren(std::string_view dn_key, bool* has_children) = 0;
    // IDs under a key index value, ascending. Unknown index: InvalidArgument.
    virtual Status IndexLookup(const std::string& index, std::string_view key,
                               std::vector<EntryId>* ids) = 0;
    // IDs under every key of an index at or above (kAtLeast) or at or below
    // (kAtMost) `key` in byte order, ascending and without repeats: the
    // inequality filters of matching rules whose keys keep the values'
    // order (integer, generalizedTime, CSN).
    enum class Bound { kAtLeast, kAtMost };
    virtual Status IndexRange(const std::string& index, std::string_view key, Bound bound,
                              std::vector<EntryId>* ids) = 0;
    // IDs of the entries in scope of the base key, ascending. The base need
    // not exist (its subtree may still).
    virtual Status ScopeIds(std::string_view base_key, Scope scope, std::vector<EntryId>* ids) = 0;
    // Entries in ID order, starting at the first ID >= from; stops when fn
    // returns false. For slapcat and re-indexing.
    virtual Status ForEach(EntryId from,
                           const std::function<bool(EntryId, std::string_view)>& fn) = 0;

    // Runs fn in a transaction and commits it if fn returns OK; aborts
    // otherwise. A deadlock (Busy) aborts and runs fn again, with backoff,
    // up to options.max_retries times; fn must not keep state across calls.
    virtual Status Update(const std::function<Status(Txn&)>& fn) = 0;

    // Indexes may be added while the store is open. *created (if given)
    // tells whether the index is new, and so empty until filled.
    virtual Status AddIndex(const std::string& index, bool* created = nullptr) = 0;
    virtual bool HasIndex(const std::string& index) const = 0;
    virtual Status DropIndex(const std::string& index) = 0;

    // Writes a checkpoint if at least `kbytes` of log were written or
    // `minutes` passed since the last one (0 and 0: unconditionally).
    virtual Status Checkpoint(unsigned kbytes = 0, unsigned minutes = 0) = 0;
    virtual Status SetDurability(Durability durability) = 0;
    // Changes the entry cache's bound at once (0 disables it).
    virtual void SetEntryCache(size_t entries) = 0;
    virtual Status Stats(StoreStats* stats) = 0;
    virtual uint64_t EntryCount() = 0;
};

}  // namespace keydir

#endif  // KEYDIR_STORE_STORE_H
