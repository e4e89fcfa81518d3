#include "publish/queue.h"

#include <algorithm>

#include "sign/canonical_writer.h"
#include "sign/der.h"

namespace keydir {
namespace {

// A queued record: attempts, not_before, last error, the publication (DER).
std::string EncodeRecord(const QueuedPublication& q) {
    CanonicalWriter w;
    w.U32(q.attempts);
    w.U64(static_cast<uint64_t>(q.not_before));
    w.Str(q.last_error);
    w.Str(EncodePublication(q.publication));
    return w.Take();
}

bool ReadU32(std::string_view* in, uint32_t* v) {
    if (in->size() < 4)
        return false;
    uint32_t r = 0;
    for (int i = 0; i < 4; ++i)
        r = (r << 8) | static_cast<unsigned char>((*in)[i]);
    in->remove_prefix(4);
    *v = r;
    return true;
}

bool ReadStr(std::string_view* in, std::string* s) {
    uint32_t n;
    if (!ReadU32(in, &n) || in->size() < n)
        return false;
    s->assign(in->data(), n);
    in->remove_prefix(n);
    return true;
}

Status DecodeRecord(std::string_view in, QueuedPublication* q) {
    uint32_t hi, lo;
    std::string pub;
    if (!ReadU32(&in, &q->attempts) || !ReadU32(&in, &hi) || !ReadU32(&in, &lo) ||
        !ReadStr(&in, &q->last_error) || !ReadStr(&in, &pub) || !in.empty())
        return Status::Corruption("a damaged publication record");
    q->not_before = static_cast<int64_t>((uint64_t(hi) << 32) | lo);
    return DecodePublication(pub, &q->publication);
}

}  // namespace

Status PublishQueue::Open(const std::string& directory, Env* env,
                          std::unique_ptr<PublishQueue>* out) {
    StoreOptions o;
    o.directory = directory;
    o.cache_bytes = 1 << 20;
    o.env = env;
    std::unique_ptr<Store> store;
    Status s = Store::Open(o, &store);
    if (!s.ok())
        return s;
    std::unique_ptr<PublishQueue> q(new PublishQueue(std::move(store), env));
    uint64_t n = 0;
    s = q->store_->ForEach(0, [&](EntryId, std::string_view) {
        ++n;
        return true;
    });
    if (!s.ok())
        return s;
    q->size_ = n;
    *out = std::move(q);
    return Status::OK();
}

Status PublishQueue::Push(const Publication& p) {
    QueuedPublication q;
    q.publication = p;
    std::string record = EncodeRecord(q);
    EntryId seq;
    Status s = store_->Update([&](Txn& t) { return t.AppendEntry(record, &seq); });
    if (s.ok())
        ++size_;
    return s;
}

Status PublishQueue::Front(QueuedPublication* out, bool* found) {
    *found = false;
    Status decode;
    Status s = store_->ForEach(0, [&](EntryId id, std::string_view record) {
        out->seq = id;
        decode = DecodeRecord(record, out);
        *found = true;
        return false;
    });
    if (!s.ok())
        return s;
    return decode;
}

Status PublishQueue::Remove(uint64_t seq) {
    Status s = store_->Update([&](Txn& t) { return t.DeleteEntry(seq); });
    if (s.ok() && size_ > 0)
        --size_;
    return s;
}

Status PublishQueue::Defer(uint64_t seq, const std::string& error, int64_t not_before) {
    return store_->Update([&](Txn& t) {
        std::string record;
        Status s = t.Get(seq, &record, true);
        if (!s.ok())
            return s;
        QueuedPublication q;
        s = DecodeRecord(record, &q);
        if (!s.ok())
            return s;
        ++q.attempts;
        q.last_error = error.substr(0, 512);
        q.not_before = not_before;
        return t.PutEntry(seq, EncodeRecord(q));
    });
}

int64_t PublishQueue::Backoff(uint32_t attempts, int64_t cap, Env* env) {
    int64_t base = int64_t(1) << std::min<uint32_t>(attempts, 20);
    base = std::min(base, cap);
    uint32_t r = 0;
    env->RandomBytes(&r, sizeof r);
    return base + static_cast<int64_t>(r % (base / 4 + 1));
}

}  // namespace keydir
