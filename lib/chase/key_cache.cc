#include "chase/key_cache.h"

#include <algorithm>

namespace keydir {
namespace {

constexpr int64_t kMicros = 1000000;

std::string LowerAscii(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z')
            c = static_cast<char>(c - 'A' + 'a');
    return out;
}

// Seconds as monotonic micros without overflow for absurd configurations.
int64_t SecondsToMicros(int64_t s) {
    const int64_t kMaxSeconds = INT64_MAX / kMicros / 4;
    return std::min(std::max<int64_t>(s, 0), kMaxSeconds) * kMicros;
}

}  // namespace

KeyCache::KeyCache(const KeyCacheOptions& options, Env* env) : env_(env), options_(options) {}

KeyCacheOptions KeyCache::options() const {
    std::lock_guard<std::mutex> lock(mu_);
    return options_;
}

KeyCacheCounters KeyCache::Counters() const {
    std::lock_guard<std::mutex> lock(mu_);
    KeyCacheCounters c = counters_;
    c.size = lru_.size();
    return c;
}

void KeyCache::Erase(Lru::iterator it) {
    index_.erase(it->key);
    lru_.erase(it);
}

void KeyCache::EvictToCapacity() {
    while (lru_.size() > options_.max_entries) {
        Erase(std::prev(lru_.end()));
        ++counters_.evictions;
    }
}

CacheAnswer KeyCache::Find(const MailAddress& address, bool allow_stale) {
    CacheAnswer answer;
    std::lock_guard<std::mutex> lock(mu_);
    if (allow_stale)
        ++counters_.stale_lookups;
    else
        ++counters_.lookups;
    auto found = index_.find(address.normalized());
    if (found == index_.end()) {
        if (!allow_stale)
            ++counters_.misses;
        return answer;
    }
    Lru::iterator it = found->second;
    int64_t now = env_->NowMonotonicMicros();
    if (now < it->expires_micros) {
        lru_.splice(lru_.begin(), lru_, it);
        if (it->negative) {
            answer.hit = CacheHit::kNegative;
            if (!allow_stale)
                ++counters_.negative_hits;
        } else {
            answer.hit = CacheHit::kPositive;
            answer.record = it->record;
            if (!allow_stale)
                ++counters_.hits;
        }
        answer.ttl_left_seconds = (it->expires_micros - now + kMicros - 1) / kMicros;
        return answer;
    }
    if (!it->expiry_counted) {
        it->expiry_counted = true;
        ++counters_.expirations;
    }
    if (it->negative || now >= it->stale_until_micros) {
        Erase(it);
        if (!allow_stale)
            ++counters_.misses;
        return answer;
    }
    if (!allow_stale) {
        ++counters_.misses;  // kept: it may still be served stale
        return answer;
    }
    lru_.splice(lru_.begin(), lru_, it);
    ++counters_.stale_answers;
    answer.hit = CacheHit::kPositive;
    answer.record = it->record;
    answer.stale = true;
    return answer;
}

CacheAnswer KeyCache::Lookup(const MailAddress& address) {
    return Find(address, false);
}

CacheAnswer KeyCache::LookupStale(const MailAddress& address) {
    return Find(address, true);
}

int64_t KeyCache::Store(const std::string& key, Entry entry, int64_t ttl_seconds) {
    // Called with mu_ held. A fresh answer replaces whatever was cached,
    // also when it is not itself cacheable.
    auto found = index_.find(key);
    if (found != index_.end())
        Erase(found->second);
    if (options_.max_entries == 0 || ttl_seconds <= 0)
        return 0;
    entry.key = key;
    lru_.push_front(std::move(entry));
    index_[key] = lru_.begin();
    ++counters_.inserts;
    EvictToCapacity();
    return ttl_seconds;
}

int64_t KeyCache::PutPositive(const MailAddress& address, std::string record,
                              const PositiveTtl& ttl) {
    std::lock_guard<std::mutex> lock(mu_);
    int64_t now = env_->NowMonotonicMicros();
    int64_t seconds = options_.ttl_seconds;
    if (ttl.zone_ttl_seconds)
        seconds = std::min(seconds, *ttl.zone_ttl_seconds);
    int64_t cert_left = INT64_MAX;
    if (ttl.not_after_unix) {
        cert_left = *ttl.not_after_unix - env_->NowUnixSeconds();
        seconds = std::min(seconds, cert_left);
    }
    Entry e;
    e.negative = false;
    e.record = std::make_shared<const std::string>(std::move(record));
    e.expires_micros = now + SecondsToMicros(seconds);
    int64_t stale_until = e.expires_micros + SecondsToMicros(options_.stale_seconds);
    if (ttl.not_after_unix)
        stale_until = std::min(stale_until, now + SecondsToMicros(cert_left));
    e.stale_until_micros = std::max(stale_until, e.expires_micros);
    return Store(address.normalized(), std::move(e), seconds);
}

int64_t KeyCache::PutNegative(const MailAddress& address) {
    std::lock_guard<std::mutex> lock(mu_);
    int64_t now = env_->NowMonotonicMicros();
    Entry e;
    e.negative = true;
    e.expires_micros = now + SecondsToMicros(options_.negative_ttl_seconds);
    e.stale_until_micros = e.expires_micros;
    return Store(address.normalized(), std::move(e), options_.negative_ttl_seconds);
}

bool KeyCache::Flush(const MailAddress& address) {
    std::lock_guard<std::mutex> lock(mu_);
    auto found = index_.find(address.normalized());
    if (found == index_.end())
        return false;
    Erase(found->second);
    ++counters_.flushed;
    return true;
}

size_t KeyCache::FlushDomain(std::string_view domain) {
    std::string suffix = "@" + LowerAscii(domain);
    std::lock_guard<std::mutex> lock(mu_);
    size_t n = 0;
    for (auto it = lru_.begin(); it != lru_.end();) {
        auto next = std::next(it);
        const std::string& k = it->key;
        if (k.size() > suffix.size() &&
            k.compare(k.size() - suffix.size(), suffix.size(), suffix) == 0) {
            Erase(it);
            ++n;
        }
        it = next;
    }
    counters_.flushed += n;
    return n;
}

size_t KeyCache::FlushAll() {
    std::lock_guard<std::mutex> lock(mu_);
    size_t n = lru_.size();
    lru_.clear();
    index_.clear();
    counters_.flushed += n;
    return n;
}

size_t KeyCache::Sweep() {
    std::lock_guard<std::mutex> lock(mu_);
    int64_t now = env_->NowMonotonicMicros();
    size_t n = 0;
    for (auto it = lru_.begin(); it != lru_.end();) {
        auto next = std::next(it);
        if (now >= it->stale_until_micros) {
            if (!it->expiry_counted)
                ++counters_.expirations;
            Erase(it);
            ++n;
        }
        it = next;
    }
    return n;
}

void KeyCache::Reconfigure(const KeyCacheOptions& options) {
    std::lock_guard<std::mutex> lock(mu_);
    options_ = options;
    EvictToCapacity();
}

}  // namespace keydir
