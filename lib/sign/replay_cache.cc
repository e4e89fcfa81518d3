#include "sign/replay_cache.h"

namespace keydir {

void ReplayCache::DropExpired(int64_t now_unix) {
    // A request expiring at E is accepted while now <= E.
    while (!by_expiry_.empty() && by_expiry_.begin()->first < now_unix) {
        seen_.erase(by_expiry_.begin()->second);
        by_expiry_.erase(by_expiry_.begin());
    }
}

ReplayCache::Verdict ReplayCache::CheckAndRemember(std::string_view key_name,
                                                   std::string_view nonce, int64_t expires_unix,
                                                   int64_t now_unix) {
    std::string id;
    id.reserve(key_name.size() + 1 + nonce.size());
    id.append(key_name);
    id.push_back('\0');
    id.append(nonce);
    std::lock_guard<std::mutex> lock(mu_);
    DropExpired(now_unix);
    if (seen_.count(id))
        return Verdict::kReplayed;
    if (expires_unix <= floor_)
        return Verdict::kUnverifiable;
    while (seen_.size() >= capacity_) {
        auto oldest = by_expiry_.begin();
        if (oldest->first > floor_)
            floor_ = oldest->first;
        seen_.erase(oldest->second);
        by_expiry_.erase(oldest);
        ++forced_drops_;
    }
    if (expires_unix <= floor_)
        return Verdict::kUnverifiable;
    seen_.emplace(id, expires_unix);
    by_expiry_.emplace(expires_unix, std::move(id));
    return Verdict::kFresh;
}

size_t ReplayCache::size() const {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_.size();
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
