// RecordCache: a bounded cache of immutable values (entry records, DN-to-ID
// mappings) in front of Berkeley DB, which never hands out a value that a
// committed write changed.
//
// The rule a reader follows:
//
//   uint64_t ticket;
//   if (auto v = cache.Lookup(key, &ticket)) return *v;     // hit
//   read the value from the database;                        // miss
//   cache.Insert(key, value, ticket);
//
// and a writer, inside its transaction:
//
//   cache.BeginWrite(key);   // before changing key in the database
//   ... change it, commit or abort ...
//   cache.EndWrite(key);     // after the commit (or abort) returned
//
// BeginWrite erases the key and fences its shard: no insert into that shard
// succeeds until EndWrite, and EndWrite changes the shard's generation, so
// an Insert whose ticket was taken before EndWrite is refused: a reader
// that read the old value before the commit cannot put it back afterwards.
// While a write is pending nothing for that key is cached, so a hit always
// returns the latest committed value. The fence is per shard (a superset
// of the keys written), which only costs some inserts while writes run.
//
// Thread safety: every method may be called from many threads at once.
#ifndef KEYDIR_STORE_RECORD_CACHE_H
#define KEYDIR_STORE_RECORD_CACHE_H

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace keydir {

class RecordCache {
  public:
    using Value = std::shared_ptr<const std::string>;

    struct Stats {
        uint64_t hits = 0;
        uint64_t misses = 0;
        uint64_t entries = 0;
        uint64_t capacity = 0;
    };

    // At most `capacity` values (rounded up to a multiple of the shard
    // count); 0 disables the cache (every Lookup misses, Insert does
    // nothing).
    explicit RecordCache(size_t capacity, size_t shards = 64);
    RecordCache(const RecordCache&) = delete;
    RecordCache& operator=(const RecordCache&) = delete;

    // The value, or null with *ticket set for a later Insert.
    Value Lookup(std::string_view key, uint64_t* ticket);
    // Stores value unless a write to key's shard began or ended since
    // *ticket was taken (or is still under way); evicts the least recently
    // used values beyond the capacity.
    void Insert(std::string_view key, Value value, uint64_t ticket);
    void BeginWrite(std::string_view key);
    void EndWrite(std::string_view key);

    // Changes the bound (0 disables and empties the cache).
    void SetCapacity(size_t capacity);
    // Empties the cache and refuses every insert whose ticket was taken
    // before (for changes that are not writes of single keys).
    void Clear();
    Stats GetStats() const;

  private:
    struct Shard {
        std::mutex mu;
        // Most recently used at the front.
        std::list<std::pair<std::string, Value>> lru;
        std::unordered_map<std::string_view, std::list<std::pair<std::string, Value>>::iterator>
            map;
        uint64_t generation = 0;
        uint32_t pending = 0;  // writes between BeginWrite and EndWrite
        uint64_t hits = 0;
        uint64_t misses = 0;
    };

    Shard& ShardFor(std::string_view key);
    // Drops key from s (its mutex held).
    static void EraseLocked(Shard* s, std::string_view key);
    void EvictLocked(Shard& s, size_t limit);

    std::vector<std::unique_ptr<Shard>> shards_;
    std::atomic<size_t> per_shard_;
};

}  // namespace keydir

#endif  // KEYDIR_STORE_RECORD_CACHE_H
