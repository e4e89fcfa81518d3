// RecordCache: see record_cache.h for the rule that keeps it exact.
#include "store/record_cache.h"

#include <functional>

namespace keydir {

namespace {

size_t PerShard(size_t capacity, size_t shards) {
    return capacity == 0 ? 0 : (capacity + shards - 1) / shards;
}

// Tickets taken while a write is pending never match a generation.
constexpr uint64_t kNoTicket = ~uint64_t(0);

}  // namespace

RecordCache::RecordCache(size_t capacity, size_t shards) {
    if (shards == 0)
        shards = 1;
    shards_.reserve(shards);
    for (size_t i = 0; i < shards; ++i)
        shards_.push_back(std::make_unique<Shard>());
    per_shard_ = PerShard(capacity, shards);
}

RecordCache::Shard& RecordCache::ShardFor(std::string_view key) {
    return *shards_[std::hash<std::string_view>()(key) % shards_.size()];
}

RecordCache::Value RecordCache::Lookup(std::string_view key, uint64_t* ticket) {
    if (per_shard_.load(std::memory_order_relaxed) == 0) {
        *ticket = kNoTicket;
        return nullptr;
    }
    Shard& s = ShardFor(key);
    std::lock_guard<std::mutex> lock(s.mu);
    auto it = s.map.find(key);
    if (it != s.map.end()) {
        ++s.hits;
        s.lru.splice(s.lru.begin(), s.lru, it->second);
        return it->second->second;
    }
    ++s.misses;
    *ticket = s.pending ? kNoTicket : s.generation;
    return nullptr;
}

void RecordCache::Insert(std::string_view key, Value value, uint64_t ticket) {
    size_t limit = per_shard_.load(std::memory_order_relaxed);
    if (limit == 0 || !value || ticket == kNoTicket)
        return;
    Shard& s = ShardFor(key);
    std::lock_guard<std::mutex> lock(s.mu);
    if (s.pending || s.generation != ticket)
        return;
    auto it = s.map.find(key);
    if (it != s.map.end()) {
        // Another reader of the same generation got there first: the
        // same committed value.
        s.lru.splice(s.lru.begin(), s.lru, it->second);
        return;
    }
    s.lru.emplace_front(std::string(key), std::move(value));
    s.map.emplace(std::string_view(s.lru.front().first), s.lru.begin());
    EvictLocked(s, limit);
}

void RecordCache::EraseLocked(Shard* s, std::string_view key) {
    auto it = s->map.find(key);
    if (it != s->map.end()) {
        auto node = it->second;
        s->map.erase(it);
        s->lru.erase(node);
    }
}

void RecordCache::BeginWrite(std::string_view key) {
    Shard& s = ShardFor(key);
    std::lock_guard<std::mutex> lock(s.mu);
    ++s.pending;
    ++s.generation;
    EraseLocked(&s, key);
}

void RecordCache::EndWrite(std::string_view key) {
    Shard& s = ShardFor(key);
    std::lock_guard<std::mutex> lock(s.mu);
    if (s.pending)
        --s.pending;
    ++s.generation;
    // Nothing for key can have been inserted while the write was pending;
    // erase anyway, so that an unbalanced caller still gets a fresh read.
    EraseLocked(&s, key);
}

void RecordCache::EvictLocked(Shard& s, size_t limit) {
    while (s.lru.size() > limit) {
        s.map.erase(std::string_view(s.lru.back().first));
        s.lru.pop_back();
    }
}

void RecordCache::SetCapacity(size_t capacity) {
    size_t limit = PerShard(capacity, shards_.size());
    per_shard_ = limit;
    for (auto& s : shards_) {
        std::lock_guard<std::mutex> lock(s->mu);
        EvictLocked(*s, limit);
    }
}

void RecordCache::Clear() {
    for (auto& s : shards_) {
        std::lock_guard<std::mutex> lock(s->mu);
        ++s->generation;
        s->map.clear();
        s->lru.clear();
    }
}

RecordCache::Stats RecordCache::GetStats() const {
    Stats st;
    st.capacity = per_shard_.load() * shards_.size();
    for (auto& s : shards_) {
        std::lock_guard<std::mutex> lock(s->mu);
        st.hits += s->hits;
        st.misses += s->misses;
        st.entries += s->lru.size();
    }
    return st;
}

}  // namespace keydir
