// ReplayCache: the nonces of verified requests, remembered while a replay
// of the request could still pass the time check, in bounded memory.
//
// A request signed at T with time window W (the smaller of its fudge and
// the verifier's maximum) is accepted until T + W; its nonce is kept until
// then. When the cache is full, the entry that would expire first is
// dropped and the cache's floor rises to its expiry: from then on, any
// request that would expire at or before the floor is refused as
// unverifiable, because its nonce might be one that was dropped. Under a
// flood the acceptable window shrinks; a replay never gets through.
//
// Requests signed ahead of this server's clock (by more than
// kAheadToleranceSeconds) expire later than any request signed now can.
// Were they dropped, the floor would rise above what honest requests
// expire at, and every peer would be refused until it sank again (for up
// to W: security review #13). So they may hold at most a quarter of the
// cache and are never dropped for room: when their share is full, the
// next one ahead is refused as unverifiable instead. Every entry dropped
// for room was then signed at most kAheadToleranceSeconds ahead, and the
// floor stays at or below now + kAheadToleranceSeconds + W: requests
// ahead cannot jam those of honest peers (see doc/signing.md §6.1).
//
// Thread safety: all methods may be called concurrently.
#ifndef KEYDIR_SIGN_REPLAY_CACHE_H
#define KEYDIR_SIGN_REPLAY_CACHE_H

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace keydir {

class ReplayCache {
  public:
    enum class Verdict {
        kFresh,         // first time seen: now remembered
        kReplayed,      // seen before, within its window
        kUnverifiable,  // at or below the floor: possibly seen, forgotten for room
    };

    // Seconds a signer's clock may be ahead of ours and still count as
    // "now" (clock steps of whole seconds, small drift).
    static constexpr int64_t kAheadToleranceSeconds = 2;

    explicit ReplayCache(size_t capacity);

    // Checks the nonce of a request that verified, signed at `time_signed`
    // and accepted for `window` seconds, and remembers it until it expires
    // (time signed + window). `now_unix` drops what expired.
    Verdict CheckAndRemember(std::string_view key_name, std::string_view nonce, int64_t time_signed,
                             uint32_t window, int64_t now_unix);

    size_t size() const;
    size_t ahead() const;  // entries signed ahead of the clock, held now
    size_t ahead_capacity() const { return ahead_capacity_; }
    int64_t floor() const;  // INT64_MIN until the first forced drop
    uint64_t forced_drops() const;

  private:
    using ByExpiry = std::multimap<int64_t, std::string>;  // expiry -> key NUL nonce
    static void DropExpired(ByExpiry* by_expiry, std::unordered_map<std::string, int64_t>* seen,
                            int64_t now_unix);

    const size_t capacity_;
    const size_t ahead_capacity_;  // < capacity_
    mutable std::mutex mu_;
    std::unordered_map<std::string, int64_t> seen_;  // key NUL nonce -> expiry
    ByExpiry current_;                               // entries signed (about) now or before
    ByExpiry ahead_;                                 // entries signed ahead of the clock
    int64_t floor_ = INT64_MIN;
    uint64_t forced_drops_ = 0;
};

}  // namespace keydir

#endif  // KEYDIR_SIGN_REPLAY_CACHE_H
