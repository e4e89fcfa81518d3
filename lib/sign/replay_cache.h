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

    explicit ReplayCache(size_t capacity) : capacity_(capacity < 1 ? 1 : capacity) {}

    // Checks the nonce of a request that verified and remembers it until
    // `expires_unix` (time signed + window). `now_unix` drops what expired.
    Verdict CheckAndRemember(std::string_view key_name, std::string_view nonce,
                             int64_t expires_unix, int64_t now_unix);

    size_t size() const;
    int64_t floor() const;  // INT64_MIN until the first forced drop
    uint64_t forced_drops() const;

  private:
    void DropExpired(int64_t now_unix);

    const size_t capacity_;
    mutable std::mutex mu_;
    std::unordered_map<std::string, int64_t> seen_;  // key NUL nonce -> expiry
    std::multimap<int64_t, std::string> by_expiry_;  // expiry -> key NUL nonce
    int64_t floor_ = INT64_MIN;
    uint64_t forced_drops_ = 0;
};

}  // namespace keydir

#endif  // KEYDIR_SIGN_REPLAY_CACHE_H
