#include "sign/replay_cache.h"

#include <algorithm>

namespace keydir {

ReplayCache::ReplayCache(size_t capacity)
    : capacity_(std::max<size_t>(capacity, 1)),
      // A quarter for requests signed ahead, and always room for the others.
      ahead_capacity_(std::min(capacity_ - 1, (capacity_ + 3) / 4)) {}

void ReplayCache::DropExpired(ByExpiry* by_expiry, std::unordered_map<std::string, int64_t>* seen,
                              int64_t now_unix) {
    // A request expiring at E is accepted while now <= E.
    while (!by_expiry->empty() && by_expiry->begin()->first < now_unix) {
        seen->erase(by_expiry->begin()->second);
        by_expiry->erase(by_expiry->begin());
    }
}

ReplayCache::Verdict ReplayCache::CheckAndRemember(std::string_view key_name,
                                                   std::string_view nonce, int64_t time_signed,
                                                   uint32_t window, int64_t now_unix) {
    const int64_t expires_unix = time_signed + window;
    const bool ahead = time_signed > now_unix + kAheadToleranceSeconds;
    std::string id;
    id.reserve(key_name.size() + 1 + nonce.size());
    id.append(key_name);
    id.push_back('\0');
    id.append(nonce);
    std::lock_guard<std::mutex> lock(mu_);
    DropExpired(&current_, &seen_, now_unix);
    DropExpired(&ahead_, &seen_, now_unix);
    if (seen_.count(id))
        return Verdict::kReplayed;
    if (expires_unix <= floor_)
        return Verdict::kUnverifiable;
    if (ahead) {
        // Never dropped for room (that would lift the floor above honest
        // requests); when their share is full, this one cannot be vouched for.
        if (ahead_.size() >= ahead_capacity_)
            return Verdict::kUnverifiable;
    }
    // Only entries signed about now or before are dropped for room: the
    // floor stays at or below now + kAheadToleranceSeconds + window. There
    // is one whenever the cache is full, since those ahead hold less.
    while (seen_.size() >= capacity_ && !current_.empty()) {
        auto oldest = current_.begin();
        if (oldest->first > floor_)
            floor_ = oldest->first;
        seen_.erase(oldest->second);
        current_.erase(oldest);
        ++forced_drops_;
    }
    if (expires_unix <= floor_)
        return Verdict::kUnverifiable;
    seen_.emplace(id, expires_unix);
    (ahead ? ahead_ : current_).emplace(expires_unix, std::move(id));
    return Verdict::kFresh;
}

size_t ReplayCache::size() const {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_.size();
}

size_t ReplayCache::ahead() const {
    std::lock_guard<std::mutex> lock(mu_);
    return ahead_.size();
}

int64_t ReplayCache::floor() const {
    std::lock_guard<std::mutex> lock(mu_);
    return floor_;
}

uint64_t ReplayCache::forced_drops() const {
    std::lock_guard<std::mutex> lock(mu_);
    return forced_drops_;
}

}  // namespace keydir
