// KeyCache: answers that keychase fetched from upstream, kept for a while
// (the patent's "temporary storage section"), keyed by normalised address.
//
// - Bounded by entry count (keychase-cache-entries); a new entry beyond it
//   evicts the least recently used one. Every lookup that finds an entry
//   makes it the most recently used.
// - A positive entry holds an opaque record (the overlay's encoded entry).
//   It lives min(keychase-cache-ttl, the TTL the authoritative zone
//   publishes, the certificate's notAfter - now) seconds; a certificate
//   already expired is not cached at all.
// - A negative entry ("not found" upstream) lives keychase-negative-ttl.
// - Nothing is served past its TTL by Lookup(). Serve-stale: when every
//   upstream failed, LookupStale() may return an expired positive entry
//   for at most stale_seconds after its expiry, and never past the
//   certificate's notAfter; it is marked stale. Negative entries are never
//   served stale. A fresh answer (positive or negative) replaces a stale
//   entry.
// - Flush one address, a whole domain, or everything.
//
// TTLs run on the monotonic clock, so that a wall-clock step neither
// expires the cache nor makes it immortal; the certificate's notAfter is
// wall-clock time and is converted once, on insertion.
//
// Thread safety: all methods may be called from many threads at once.
#ifndef KEYDIR_CHASE_KEY_CACHE_H
#define KEYDIR_CHASE_KEY_CACHE_H

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "base/env.h"
#include "chase/mail_address.h"

namespace keydir {

struct KeyCacheOptions {
    size_t max_entries = 10000;          // 0 disables the cache
    int64_t ttl_seconds = 3600;          // positive answers; 0 = never cached
    int64_t negative_ttl_seconds = 300;  // negative answers; 0 = never cached
    int64_t stale_seconds = 0;           // serve-stale window; 0 = off
};

struct KeyCacheCounters {
    uint64_t lookups = 0;        // Lookup() calls
    uint64_t hits = 0;           // fresh positive answers
    uint64_t negative_hits = 0;  // fresh negative answers
    uint64_t misses = 0;         // nothing fresh
    uint64_t stale_lookups = 0;  // LookupStale() calls
    uint64_t stale_answers = 0;  // expired positive entries served
    uint64_t inserts = 0;        // positive and negative entries stored
    uint64_t evictions = 0;      // entries pushed out by capacity
    uint64_t expirations = 0;    // entries that reached their TTL
    uint64_t flushed = 0;        // entries removed by Flush*()
    uint64_t size = 0;           // entries held now (expired ones included)
};

enum class CacheHit {
    kMiss,
    kPositive,  // `record` is set
    kNegative,  // known not to exist upstream
};

struct CacheAnswer {
    CacheHit hit = CacheHit::kMiss;
    std::shared_ptr<const std::string> record;  // kPositive
    bool stale = false;                         // served past its TTL (LookupStale)
    int64_t ttl_left_seconds = 0;               // 0 when stale
};

// Why a positive answer may be kept only so long: the TTLs besides
// keychase-cache-ttl.
struct PositiveTtl {
    std::optional<int64_t> zone_ttl_seconds;  // keydirTTL of the authoritative zone
    std::optional<int64_t> not_after_unix;    // the certificate's notAfter (wall clock)
};

class KeyCache {
  public:
    explicit KeyCache(const KeyCacheOptions& options, Env* env = Env::Default());
    KeyCache(const KeyCache&) = delete;
    KeyCache& operator=(const KeyCache&) = delete;

    // A fresh answer, or kMiss.
    CacheAnswer Lookup(const MailAddress& address);
    // After every upstream failed: a fresh answer as Lookup(), else an
    // expired positive entry within its stale window (stale = true), else
    // kMiss.
    CacheAnswer LookupStale(const MailAddress& address);

    // Stores a positive answer. Returns the TTL given to it in seconds;
    // 0 means it was not stored (TTL 0, expired certificate, cache off).
    int64_t PutPositive(const MailAddress& address, std::string record, const PositiveTtl& ttl);
    // Stores a negative answer; returns its TTL (0: not stored).
    int64_t PutNegative(const MailAddress& address);

    // Removes one address; true if it was cached.
    bool Flush(const MailAddress& address);
    // Removes every address of `domain` (exactly that domain, not its
    // subdomains); returns how many.
    size_t FlushDomain(std::string_view domain);
    // Removes everything; returns how many.
    size_t FlushAll();
    // Removes entries that can no longer be served, even stale; returns
    // how many. Optional: lookups and capacity eviction also remove them.
    size_t Sweep();

    // New limits (cn=config); a smaller capacity evicts at once.
    void Reconfigure(const KeyCacheOptions& options);
    KeyCacheOptions options() const;
    KeyCacheCounters Counters() const;

  private:
    struct Entry {
        std::string key;
        bool negative = false;
        std::shared_ptr<const std::string> record;
        int64_t expires_micros = 0;      // monotonic
        int64_t stale_until_micros = 0;  // monotonic; <= expires when no stale serving
        bool expiry_counted = false;
    };
    using Lru = std::list<Entry>;  // front: most recently used

    int64_t Store(const std::string& key, Entry entry, int64_t ttl_seconds);
    CacheAnswer Find(const MailAddress& address, bool allow_stale);
    void EvictToCapacity();
    void Erase(Lru::iterator it);

    Env* env_;
    mutable std::mutex mu_;
    KeyCacheOptions options_;
    Lru lru_;
    std::unordered_map<std::string, Lru::iterator> index_;
    KeyCacheCounters counters_;
};

}  // namespace keydir

#endif  // KEYDIR_CHASE_KEY_CACHE_H
