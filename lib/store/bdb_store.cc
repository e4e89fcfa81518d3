// Store on Berkeley DB's transactional data store.
//
// Files in the environment directory:
//   id2entry.db   entry ID (8 bytes, big-endian) -> entry record
//   dn2id.db      DN key (dn_key.h) -> entry ID
//   idx_NAME.db   index key -> entry IDs (sorted duplicates)
// plus Berkeley DB's region files (__db.*) and logs (log.*).
#include <db_cxx.h>

#include <algorithm>
#include <unordered_set>
#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <shared_mutex>

#include <sys/stat.h>

#include "store/bdb_util.h"
#include "store/coding.h"
#include "store/dn_key.h"
#include "store/record_cache.h"
#include "store/store.h"

namespace keydir {
namespace {

constexpr u_int32_t kEnvFlags = DB_CREATE | DB_INIT_TXN | DB_INIT_LOCK | DB_INIT_LOG |
                                DB_INIT_MPOOL | DB_THREAD | DB_REGISTER | DB_RECOVER;

std::string IndexFile(const std::string& index) {
    return "idx_" + index + ".db";
}

bool ValidIndexName(const std::string& name) {
    if (name.empty() || name.size() > 64)
        return false;
    for (char c : name)
        if (!(isalnum(static_cast<unsigned char>(c)) || c == '-' || c == ';' || c == '_'))
            return false;
    return true;
}

// The pieces of state a transaction and the store share.
struct Tables {
    DbEnv* env = nullptr;
    Db* id2entry = nullptr;
    Db* dn2id = nullptr;
    std::map<std::string, Db*> indexes;
    // Concurrent adds that wrote their IDs out of order at the right edge
    // of id2entry left, about once in ten storms of 4,000 adds, a key on
    // the wrong side of its parent's separator where an internal page had
    // split (db_verify: "last item on page sorted greater than parent
    // entry"): the entry was scanned but not found by its ID. Berkeley
    // DB's split guesses appends from the insert position (__bam_psplit).
    // Taking an ID and writing it under this mutex makes every new entry
    // a true append, in ID order.
    std::mutex append_mu;
    EntryId next_id = 1;  // guarded by append_mu
    // Entry records by ID key and DN keys' IDs, for reads outside a
    // transaction; a transaction fences every key it writes
    // (record_cache.h).
    RecordCache* records = nullptr;
    RecordCache* dns = nullptr;
    RecordCache* index_keys = nullptr;  // by IndexCacheKey
};

// An index key's name in Tables::index_keys.
std::string IndexCacheKey(const std::string& index, std::string_view key) {
    std::string k;
    k.reserve(index.size() + 1 + key.size());
    k.append(index).push_back('\0');
    k.append(key);
    return k;
}

// Index lookups with more IDs than this are not cached (an objectClass
// value shared by every member would be copied on every lookup).
constexpr size_t kMaxCachedIndexIds = 64;

Status HasChildrenIn(Db* dn2id, DbTxn* txn, std::string_view dn_key, bool* has_children) {
    Dbc* cursor = nullptr;
    int ret = dn2id->cursor(txn, &cursor, 0);
    if (ret != 0)
        return BdbStatus(ret, "opening a dn2id cursor");
    CursorCloser closer(cursor);
    std::string prefix = DescendantPrefix(dn_key);
    std::string key, data;
    ret = CursorGet(cursor, prefix, &key, &data, DB_SET_RANGE);
    if (ret == DB_NOTFOUND) {
        *has_children = false;
        return Status::OK();
    }
    if (ret != 0)
        return BdbStatus(ret, "reading dn2id");
    *has_children = IsDescendantKey(dn_key, key);
    return Status::OK();
}

Status FindIdIn(Db* dn2id, DbTxn* txn, std::string_view dn_key, EntryId* id, u_int32_t flags) {
    std::string data;
    int ret = DbGet(dn2id, txn, dn_key, &data, flags);
    if (ret != 0)
        return BdbStatus(ret, "looking up a DN");
    if (!DecodeFixed64BE(data, id))
        return Status::Corruption("dn2id holds a malformed entry ID");
    return Status::OK();
}

Status GetIn(Db* id2entry, DbTxn* txn, EntryId id, std::string* record, u_int32_t flags) {
    char key[8];
    EncodeFixed64BE(id, key);
    int ret = DbGet(id2entry, txn, std::string_view(key, 8), record, flags);
    return BdbStatus(ret, "reading an entry");
}

class BdbTxn : public Txn {
  public:
    BdbTxn(Tables* tables, DbTxn* txn) : t_(tables), txn_(txn) {}
    // Ends the cache fences once the transaction committed or aborted.
    ~BdbTxn() override {
        for (const std::string& k : written_records_)
            t_->records->EndWrite(k);
        for (const std::string& k : written_dns_)
            t_->dns->EndWrite(k);
        for (const std::string& k : written_index_keys_)
            t_->index_keys->EndWrite(k);
    }

    Status FindId(std::string_view dn_key, EntryId* id, bool for_update) override {
        used_ = true;
        return FindIdIn(t_->dn2id, txn_, dn_key, id, for_update ? DB_RMW : 0);
    }
    Status Get(EntryId id, std::string* record, bool for_update) override {
        used_ = true;
        return GetIn(t_->id2entry, txn_, id, record, for_update ? DB_RMW : 0);
    }
    Status HasChildren(std::string_view dn_key, bool* has_children) override {
        used_ = true;
        return HasChildrenIn(t_->dn2id, txn_, dn_key, has_children);
    }
    Status Descendants(std::string_view dn_key, size_t limit,
                       std::vector<std::pair<std::string, EntryId>>* out) override {
        used_ = true;
        out->clear();
        Dbc* cursor = nullptr;
        int ret = t_->dn2id->cursor(txn_, &cursor, 0);
        if (ret != 0)
            return BdbStatus(ret, "opening a dn2id cursor");
        CursorCloser closer(cursor);
        std::string k, d;
        ret = CursorGet(cursor, DescendantPrefix(dn_key), &k, &d, DB_SET_RANGE | DB_RMW);
        for (; ret == 0 && IsDescendantKey(dn_key, k);
             ret = CursorGet(cursor, std::string_view(), &k, &d, DB_NEXT | DB_RMW)) {
            if (out->size() == limit)
                return Status::NoSpace("more descendants than the limit");
            EntryId id;
            if (!DecodeFixed64BE(d, &id))
                return Status::Corruption("bad ID in dn2id");
            out->emplace_back(k, id);
        }
        if (ret != 0 && ret != DB_NOTFOUND)
            return BdbStatus(ret, "reading dn2id");
        return Status::OK();
    }
    Status PutEntry(EntryId id, std::string_view record) override {
        used_ = true;
        char kb[8];
        EncodeFixed64BE(id, kb);
        FenceRecord(std::string_view(kb, 8));
        Dbt k = InDbt(std::string_view(kb, 8)), d = InDbt(record);
        return BdbStatus(t_->id2entry->put(txn_, &k, &d, 0), "writing an entry");
    }
    Status DeleteEntry(EntryId id) override {
        used_ = true;
        char kb[8];
        EncodeFixed64BE(id, kb);
        FenceRecord(std::string_view(kb, 8));
        Dbt k = InDbt(std::string_view(kb, 8));
        return BdbStatus(t_->id2entry->del(txn_, &k, 0), "deleting an entry");
    }
    Status InsertDn(std::string_view dn_key, EntryId id) override {
        used_ = true;
        char vb[8];
        EncodeFixed64BE(id, vb);
        FenceDn(dn_key);
        Dbt k = InDbt(dn_key), d = InDbt(std::string_view(vb, 8));
        int ret = t_->dn2id->put(txn_, &k, &d, DB_NOOVERWRITE);
        if (ret == 0)
            ++entries_delta_;
        return BdbStatus(ret, "adding a DN");
    }
    Status DeleteDn(std::string_view dn_key) override {
        used_ = true;
        FenceDn(dn_key);
        Dbt k = InDbt(dn_key);
        int ret = t_->dn2id->del(txn_, &k, 0);
        if (ret == 0)
            --entries_delta_;
        return BdbStatus(ret, "deleting a DN");
    }
    Status AddIndexKey(const std::string& index, std::string_view key, EntryId id) override {
        used_ = true;
        Db* db = Index(index);
        if (!db)
            return Status::InvalidArgument("no index " + index);
        char vb[8];
        EncodeFixed64BE(id, vb);
        FenceIndexKey(index, key);
        Dbt k = InDbt(key), d = InDbt(std::string_view(vb, 8));
        int ret = db->put(txn_, &k, &d, DB_NODUPDATA);
        if (ret == DB_KEYEXIST)
            ret = 0;
        return BdbStatus(ret, "adding an index key");
    }
    Status RemoveIndexKey(const std::string& index, std::string_view key, EntryId id) override {
        used_ = true;
        Db* db = Index(index);
        if (!db)
            return Status::InvalidArgument("no index " + index);
        FenceIndexKey(index, key);
        Dbc* cursor = nullptr;
        int ret = db->cursor(txn_, &cursor, 0);
        if (ret != 0)
            return BdbStatus(ret, "opening an index cursor");
        CursorCloser closer(cursor);
        char vb[8];
        EncodeFixed64BE(id, vb);
        Dbt k = InDbt(key), d = InDbt(std::string_view(vb, 8));
        ret = cursor->get(&k, &d, DB_GET_BOTH | DB_RMW);
        if (ret == DB_NOTFOUND)
            return Status::OK();
        if (ret == 0)
            ret = cursor->del(0);
        return BdbStatus(ret, "removing an index key");
    }
    Status AppendEntry(std::string_view record, EntryId* id) override {
        if (used_)
            return Status::InvalidArgument("a new entry must be its transaction's first operation");
        used_ = true;
        // Held while the write waits for the transaction before it to
        // commit; the transactions queued here hold no locks yet.
        std::lock_guard<std::mutex> lock(t_->append_mu);
        EntryId next = t_->next_id++;
        char kb[8];
        EncodeFixed64BE(next, kb);
        FenceRecord(std::string_view(kb, 8));
        Dbt k = InDbt(std::string_view(kb, 8)), d = InDbt(record);
        int ret = t_->id2entry->put(txn_, &k, &d, 0);
        if (ret != 0)
            return BdbStatus(ret, "writing a new entry");
        *id = next;
        return Status::OK();
    }

    int64_t entries_delta() const { return entries_delta_; }

  private:
    // Called before the key is changed in the database: from here to the
    // end of the transaction no reader caches it.
    void FenceRecord(std::string_view id_key) {
        if (written_records_.emplace(id_key).second)
            t_->records->BeginWrite(id_key);
    }
    void FenceDn(std::string_view dn_key) {
        if (written_dns_.emplace(dn_key).second)
            t_->dns->BeginWrite(dn_key);
    }
    void FenceIndexKey(const std::string& index, std::string_view key) {
        std::string k = IndexCacheKey(index, key);
        if (written_index_keys_.count(k) == 0) {
            t_->index_keys->BeginWrite(k);
            written_index_keys_.insert(std::move(k));
        }
    }

    Db* Index(const std::string& name) {
        auto it = t_->indexes.find(name);
        return it == t_->indexes.end() ? nullptr : it->second;
    }

    Tables* t_;
    DbTxn* txn_;
    int64_t entries_delta_ = 0;
    bool used_ = false;  // an operation ran: AppendEntry may no longer
    // Sets: a subtree rename fences tens of thousands of keys, each once.
    std::unordered_set<std::string> written_records_, written_dns_, written_index_keys_;
};

class BdbStore : public Store {
  public:
    explicit BdbStore(const StoreOptions& options)
        : options_(options),
          env_(DB_CXX_NO_EXCEPTIONS),
          records_(options.entry_cache),
          dns_(options.entry_cache),
          index_keys_(options.entry_cache) {
        t_.env = &env_;
        t_.records = &records_;
        t_.dns = &dns_;
        t_.index_keys = &index_keys_;
    }

    ~BdbStore() override { Close(); }

    Status Open() {
        env_.set_app_private(this);
        env_.set_errcall(&BdbStore::ErrorCallback);
        int ret =
            env_.set_cachesize(static_cast<u_int32_t>(options_.cache_bytes >> 30),
                               static_cast<u_int32_t>(options_.cache_bytes & ((1u << 30) - 1)), 1);
        if (ret != 0)
            return BdbStatus(ret, "setting the cache size");
        env_.set_lk_detect(DB_LOCK_DEFAULT);
        env_.set_lk_max_locks(200000);
        env_.set_lk_max_objects(200000);
        env_.set_lk_max_lockers(20000);
        env_.set_lg_bsize(1 << 20);
        env_.set_lg_max(16 << 20);
        ret = env_.log_set_config(DB_LOG_AUTO_REMOVE, 1);
        if (ret != 0)
            return BdbStatus(ret, "configuring log removal");
        Status s = SetDurability(options_.durability);
        if (!s.ok())
            return s;
        ret = env_.open(options_.directory.c_str(), kEnvFlags, 0600);
        if (ret != 0) {
            env_open_failed_ = true;
            return BdbStatus(ret, ("opening the environment in " + options_.directory).c_str());
        }
        s = OpenDb(&t_.id2entry, "id2entry.db", false);
        if (s.ok())
            s = OpenDb(&t_.dn2id, "dn2id.db", false);
        for (const std::string& name : options_.indexes) {
            if (!s.ok())
                break;
            s = AddIndex(name, nullptr);
        }
        if (s.ok())
            s = LoadCounters();
        return s;
    }

    Status FindId(std::string_view dn_key, EntryId* id) override {
        uint64_t ticket;
        if (RecordCache::Value v = dns_.Lookup(dn_key, &ticket)) {
            if (!DecodeFixed64BE(*v, id))
                return Status::Corruption("dn2id holds a malformed entry ID");
            return Status::OK();
        }
        Status s = Retry([&] { return FindIdIn(t_.dn2id, nullptr, dn_key, id, 0); });
        if (s.ok())
            dns_.Insert(dn_key, std::make_shared<const std::string>(Fixed64BE(*id)), ticket);
        return s;
    }
    Status Get(EntryId id, std::string* record) override {
        std::shared_ptr<const std::string> shared;
        Status s = GetShared(id, &shared);
        if (s.ok())
            record->assign(*shared);
        return s;
    }
    Status GetShared(EntryId id, std::shared_ptr<const std::string>* record) override {
        char kb[8];
        EncodeFixed64BE(id, kb);
        std::string_view key(kb, 8);
        uint64_t ticket;
        if ((*record = records_.Lookup(key, &ticket)))
            return Status::OK();
        auto fresh = std::make_shared<std::string>();
        Status s = Retry([&] { return GetIn(t_.id2entry, nullptr, id, fresh.get(), 0); });
        if (!s.ok())
            return s;
        *record = fresh;
        records_.Insert(key, *record, ticket);
        return s;
    }
    Status HasChildren(std::string_view dn_key, bool* has_children) override {
        return Retry([&] { return HasChildrenIn(t_.dn2id, nullptr, dn_key, has_children); });
    }

    Status IndexLookup(const std::string& index, std::string_view key,
                       std::vector<EntryId>* ids) override {
        // The cache is read and filled under index_mu_, which AddIndex and
        // DropIndex hold exclusively while they clear it.
        std::shared_lock<std::shared_mutex> lock(index_mu_);
        std::string cache_key = IndexCacheKey(index, key);
        uint64_t ticket;
        if (RecordCache::Value v = index_keys_.Lookup(cache_key, &ticket)) {
            ids->clear();
            ids->reserve(v->size() / 8);
            for (size_t i = 0; i + 8 <= v->size(); i += 8) {
                EntryId id;
                DecodeFixed64BE(std::string_view(*v).substr(i, 8), &id);
                ids->push_back(id);
            }
            return Status::OK();
        }
        Status s = ReadIndexLocked(index, ids, [&](Dbc* cursor) {
            std::string k, d;
            int ret = CursorGet(cursor, key, &k, &d, DB_SET);
            while (ret == 0) {
                EntryId id;
                if (!DecodeFixed64BE(d, &id))
                    return Status::Corruption("index holds a bad ID");
                ids->push_back(id);
                ret = CursorGet(cursor, key, &k, &d, DB_NEXT_DUP);
            }
            return ret == DB_NOTFOUND ? Status::OK() : BdbStatus(ret, "reading an index");
        });
        if (s.ok() && ids->size() <= kMaxCachedIndexIds) {
            auto v = std::make_shared<std::string>(ids->size() * 8, '\0');
            for (size_t i = 0; i < ids->size(); ++i)
                EncodeFixed64BE((*ids)[i], &(*v)[i * 8]);
            index_keys_.Insert(cache_key, std::move(v), ticket);
        }
        return s;
    }

    Status IndexRange(const std::string& index, std::string_view key, Bound bound,
                      std::vector<EntryId>* ids) override {
        return ReadIndex(index, ids, [&](Dbc* cursor) {
            std::string k, d;
            // At least: from the first key >= key to the end. At most: from
            // the first key to the last one <= key.
            int ret = bound == Bound::kAtLeast
                          ? CursorGet(cursor, key, &k, &d, DB_SET_RANGE)
                          : CursorGet(cursor, std::string_view(), &k, &d, DB_FIRST);
            while (ret == 0) {
                if (bound == Bound::kAtMost && std::string_view(k) > key)
                    break;
                EntryId id;
                if (!DecodeFixed64BE(d, &id))
                    return Status::Corruption("index holds a bad ID");
                ids->push_back(id);
                ret = CursorGet(cursor, std::string_view(), &k, &d, DB_NEXT);
            }
            if (ret != 0 && ret != DB_NOTFOUND)
                return BdbStatus(ret, "reading an index");
            std::sort(ids->begin(), ids->end());
            ids->erase(std::unique(ids->begin(), ids->end()), ids->end());
            return Status::OK();
        });
    }

    Status ScopeIds(std::string_view base_key, Scope scope, std::vector<EntryId>* ids) override {
        return Retry([&] { return ScopeIdsOnce(base_key, scope, ids); });
    }

    Status ForEach(EntryId from,
                   const std::function<bool(EntryId, std::string_view)>& fn) override {
        Dbc* cursor = nullptr;
        int ret = t_.id2entry->cursor(nullptr, &cursor, 0);
        if (ret != 0)
            return BdbStatus(ret, "opening an entry cursor");
        CursorCloser closer(cursor);
        std::string k, d;
        ret = CursorGet(cursor, Fixed64BE(from), &k, &d, DB_SET_RANGE);
        while (ret == 0) {
            EntryId id;
            if (!DecodeFixed64BE(k, &id))
                return Status::Corruption("id2entry holds a bad key");
            if (!fn(id, d))
                return Status::OK();
            ret = CursorGet(cursor, std::string_view(), &k, &d, DB_NEXT);
        }
        if (ret != DB_NOTFOUND)
            return BdbStatus(ret, "reading entries");
        return Status::OK();
    }

    Status Update(const std::function<Status(Txn&)>& fn) override {
        std::shared_lock<std::shared_mutex> lock(index_mu_);
        Status s;
        for (int attempt = 0;; ++attempt) {
            DbTxn* txn = nullptr;
            int ret = env_.txn_begin(nullptr, &txn, 0);
            if (ret != 0)
                return BdbStatus(ret, "beginning a transaction");
            BdbTxn t(&t_, txn);
            s = fn(t);
            if (s.ok()) {
                ret = txn->commit(0);
                if (ret == 0) {
                    entries_ += t.entries_delta();
                    return Status::OK();
                }
                return BdbStatus(ret, "committing a transaction");
            }
            txn->abort();
            if (!s.IsBusy() || attempt >= options_.max_retries)
                return s;
            ++retries_;
            Backoff(attempt);
        }
    }

    Status AddIndex(const std::string& index, bool* created) override {
        if (!ValidIndexName(index))
            return Status::InvalidArgument("bad index name '" + index + "'");
        std::unique_lock<std::shared_mutex> lock(index_mu_);
        index_keys_.Clear();
        if (created)
            *created = false;
        if (t_.indexes.count(index))
            return Status::OK();
        if (created) {
            struct stat st;
            *created = ::stat((options_.directory + "/" + IndexFile(index)).c_str(), &st) != 0;
        }
        Db* db = nullptr;
        Status s = OpenDb(&db, IndexFile(index), true);
        if (s.ok())
            t_.indexes[index] = db;
        return s;
    }

    bool HasIndex(const std::string& index) const override {
        std::shared_lock<std::shared_mutex> lock(index_mu_);
        return t_.indexes.count(index) != 0;
    }

    Status DropIndex(const std::string& index) override {
        std::unique_lock<std::shared_mutex> lock(index_mu_);
        auto it = t_.indexes.find(index);
        if (it == t_.indexes.end())
            return Status::NotFound("no index " + index);
        index_keys_.Clear();
        it->second->close(0);
        delete it->second;
        t_.indexes.erase(it);
        int ret = env_.dbremove(nullptr, IndexFile(index).c_str(), nullptr, DB_AUTO_COMMIT);
        return BdbStatus(ret, "removing an index file");
    }

    Status Checkpoint(unsigned kbytes, unsigned minutes) override {
        return BdbStatus(env_.txn_checkpoint(kbytes, minutes, 0), "writing a checkpoint");
    }

    Status SetDurability(Durability d) override {
        int ret = env_.set_flags(DB_TXN_WRITE_NOSYNC, d == Durability::kWriteNoSync);
        if (ret == 0)
            ret = env_.set_flags(DB_TXN_NOSYNC, d == Durability::kNoSync);
        return BdbStatus(ret, "setting durability");
    }

    void SetEntryCache(size_t entries) override {
        records_.SetCapacity(entries);
        dns_.SetCapacity(entries);
        index_keys_.SetCapacity(entries);
    }

    Status Stats(StoreStats* st) override {
        *st = StoreStats();
        RecordCache::Stats rs = records_.GetStats(), ds = dns_.GetStats();
        st->entry_cache_capacity = rs.capacity;
        st->entry_cache_entries = rs.entries;
        st->entry_cache_hits = rs.hits;
        st->entry_cache_misses = rs.misses;
        st->dn_cache_hits = ds.hits;
        st->dn_cache_misses = ds.misses;
        RecordCache::Stats is = index_keys_.GetStats();
        st->index_cache_hits = is.hits;
        st->index_cache_misses = is.misses;
        st->entries = EntryCount();
        st->retries = retries_;
        DB_MPOOL_STAT* mp = nullptr;
        int ret = env_.memp_stat(&mp, nullptr, 0);
        if (ret != 0)
            return BdbStatus(ret, "reading cache statistics");
        st->cache_bytes = (uint64_t(mp->st_gbytes) << 30) + mp->st_bytes;
        st->cache_hits = mp->st_cache_hit;
        st->cache_misses = mp->st_cache_miss;
        free(mp);
        DB_TXN_STAT* tx = nullptr;
        ret = env_.txn_stat(&tx, 0);
        if (ret != 0)
            return BdbStatus(ret, "reading transaction statistics");
        st->txn_begun = tx->st_nbegins;
        st->txn_committed = tx->st_ncommits;
        st->txn_aborted = tx->st_naborts;
        st->txn_active = tx->st_nactive;
        free(tx);
        DB_LOCK_STAT* lk = nullptr;
        ret = env_.lock_stat(&lk, 0);
        if (ret != 0)
            return BdbStatus(ret, "reading lock statistics");
        st->deadlocks = lk->st_ndeadlocks;
        free(lk);
        DB_LOG_STAT* lg = nullptr;
        ret = env_.log_stat(&lg, 0);
        if (ret != 0)
            return BdbStatus(ret, "reading log statistics");
        st->log_bytes = uint64_t(lg->st_wc_mbytes) * (1 << 20) + lg->st_wc_bytes;
        free(lg);
        return Status::OK();
    }

    uint64_t EntryCount() override {
        int64_t n = entries_.load();
        return n < 0 ? 0 : static_cast<uint64_t>(n);
    }

  private:
    // Runs `read` over a cursor of an index, outside any transaction, with
    // *ids emptied first and the whole read retried after a deadlock.
    Status ReadIndex(const std::string& index, std::vector<EntryId>* ids,
                     const std::function<Status(Dbc*)>& read) {
        std::shared_lock<std::shared_mutex> lock(index_mu_);
        return ReadIndexLocked(index, ids, read);
    }
    // The same with index_mu_ already held (shared).
    Status ReadIndexLocked(const std::string& index, std::vector<EntryId>* ids,
                           const std::function<Status(Dbc*)>& read) {
        auto it = t_.indexes.find(index);
        if (it == t_.indexes.end())
            return Status::InvalidArgument("no index " + index);
        Db* db = it->second;
        return Retry([&] {
            ids->clear();
            Dbc* cursor = nullptr;
            int ret = db->cursor(nullptr, &cursor, 0);
            if (ret != 0)
                return BdbStatus(ret, "opening an index cursor");
            CursorCloser closer(cursor);
            return read(cursor);
        });
    }

    static void ErrorCallback(const DbEnv* env, const char* prefix, const char* msg) {
        (void)prefix;
        auto* self = static_cast<BdbStore*>(const_cast<DbEnv*>(env)->get_app_private());
        if (self && self->options_.error_log)
            self->options_.error_log(msg);
    }

    // Pages are Berkeley DB's default (the file system's block, 4 KB), so
    // a member of a few KB is an overflow item of its own pages. 64 KB
    // pages, which hold members on the leaf pages, made cached lookups 5%
    // faster but lookups in a zone larger than the cache slower (every
    // miss reads 64 KB): 1,000,000 members, 8,900 -> 7,100 lookups/s.
    Status OpenDb(Db** out, const std::string& file, bool sorted_duplicates) {
        Db* db = new Db(&env_, 0);
        // Page checksums: a page damaged on disk is reported (and the
        // environment stops) instead of its garbage reaching the decoder.
        int ret = db->set_flags(DB_CHKSUM);
        if (ret == 0 && sorted_duplicates)
            ret = db->set_flags(DB_DUP | DB_DUPSORT);
        u_int32_t flags = DB_THREAD | DB_AUTO_COMMIT | (options_.read_only ? DB_RDONLY : DB_CREATE);
        if (ret == 0)
            ret = db->open(nullptr, file.c_str(), nullptr, DB_BTREE, flags, 0600);
        if (ret != 0) {
            db->close(0);
            delete db;
            return BdbStatus(ret, ("opening " + file).c_str());
        }
        *out = db;
        return Status::OK();
    }

    // The next entry ID follows the largest stored; the entry count is
    // taken once here and kept up to date by committed transactions.
    Status LoadCounters() {
        Dbc* cursor = nullptr;
        int ret = t_.id2entry->cursor(nullptr, &cursor, 0);
        if (ret != 0)
            return BdbStatus(ret, "opening an entry cursor");
        {
            CursorCloser closer(cursor);
            std::string k, d;
            ret = CursorGet(cursor, std::string_view(), &k, &d, DB_LAST);
            EntryId last = 0;
            if (ret == 0 && !DecodeFixed64BE(k, &last))
                return Status::Corruption("bad entry key");
            if (ret != 0 && ret != DB_NOTFOUND)
                return BdbStatus(ret, "finding the last entry");
            std::lock_guard<std::mutex> lock(t_.append_mu);
            t_.next_id = last + 1;
        }
        DB_BTREE_STAT* st = nullptr;
        ret = t_.dn2id->stat(nullptr, &st, 0);
        if (ret != 0)
            return BdbStatus(ret, "counting entries");
        entries_ = st->bt_nkeys;
        free(st);
        return Status::OK();
    }

    Status ScopeIdsOnce(std::string_view base_key, Scope scope, std::vector<EntryId>* ids) {
        ids->clear();
        if (scope == Scope::kBase || scope == Scope::kSubtree) {
            EntryId id;
            Status s = FindIdIn(t_.dn2id, nullptr, base_key, &id, 0);
            if (s.ok())
                ids->push_back(id);
            else if (!s.IsNotFound())
                return s;
            if (scope == Scope::kBase)
                return Status::OK();
        }
        Dbc* cursor = nullptr;
        int ret = t_.dn2id->cursor(nullptr, &cursor, 0);
        if (ret != 0)
            return BdbStatus(ret, "opening a dn2id cursor");
        CursorCloser closer(cursor);
        std::string prefix = DescendantPrefix(base_key);
        std::string seek = prefix, k, d;
        while ((ret = CursorGet(cursor, seek, &k, &d, DB_SET_RANGE)) == 0) {
            if (!IsDescendantKey(base_key, k))
                break;
            if (scope == Scope::kOneLevel) {
                // Collect the child, then jump past its whole subtree.
                size_t nul = k.find('\0', prefix.size());
                std::string child = k.substr(0, nul);
                if (nul == std::string::npos) {
                    EntryId id;
                    if (!DecodeFixed64BE(d, &id))
                        return Status::Corruption("bad ID in dn2id");
                    ids->push_back(id);
                }
                seek = SubtreeEnd(child);
                continue;
            }
            // Subtree/children: walk the range with DB_NEXT.
            do {
                if (!IsDescendantKey(base_key, k))
                    break;
                EntryId id;
                if (!DecodeFixed64BE(d, &id))
                    return Status::Corruption("bad ID in dn2id");
                ids->push_back(id);
            } while ((ret = CursorGet(cursor, std::string_view(), &k, &d, DB_NEXT)) == 0);
            break;
        }
        if (ret != 0 && ret != DB_NOTFOUND)
            return BdbStatus(ret, "reading dn2id");
        std::sort(ids->begin(), ids->end());
        return Status::OK();
    }

    // Reads outside a transaction may still be chosen as deadlock victims.
    Status Retry(const std::function<Status()>& fn) {
        Status s;
        for (int attempt = 0;; ++attempt) {
            s = fn();
            if (!s.IsBusy() || attempt >= options_.max_retries)
                return s;
            ++retries_;
            Backoff(attempt);
        }
    }

    // Randomised exponential backoff, so that two transactions that
    // deadlocked do not collide again at once.
    void Backoff(int attempt) {
        int64_t cap = std::min<int64_t>(50000, int64_t(100) << std::min(attempt, 10));
        uint32_t r = 0;
        options_.env->RandomBytes(&r, sizeof r);
        options_.env->SleepMicros(1 + r % cap);
    }

    void Close() {
        for (auto& kv : t_.indexes) {
            kv.second->close(0);
            delete kv.second;
        }
        t_.indexes.clear();
        for (Db** db : {&t_.id2entry, &t_.dn2id}) {
            if (*db) {
                (*db)->close(0);
                delete *db;
                *db = nullptr;
            }
        }
        if (!env_open_failed_) {
            env_.txn_checkpoint(0, 0, 0);
        }
        env_.close(0);
        // An environment that exists keeps the memory pool it was created
        // with; removing the region files after a clean close lets the next
        // open use the configured cache size. While another process (slapcat
        // beside slapd) still uses the environment this fails, harmlessly.
        if (!env_open_failed_) {
            DbEnv regions(DB_CXX_NO_EXCEPTIONS);
            regions.set_errcall([](const DbEnv*, const char*, const char*) {});
            regions.remove(options_.directory.c_str(), 0);
        }
    }

    StoreOptions options_;
    DbEnv env_;
    RecordCache records_;
    RecordCache dns_;
    RecordCache index_keys_;
    Tables t_;
    mutable std::shared_mutex index_mu_;  // guards t_.indexes (held shared by users)
    std::atomic<int64_t> entries_{0};
    std::atomic<uint64_t> retries_{0};
    bool env_open_failed_ = false;
};

}  // namespace

Status Store::Open(const StoreOptions& options, std::unique_ptr<Store>* store) {
    if (options.directory.empty())
        return Status::InvalidArgument("no directory given");
    auto s = std::make_unique<BdbStore>(options);
    Status st = s->Open();
    if (!st.ok())
        return st;
    *store = std::move(s);
    return Status::OK();
}

}  // namespace keydir
