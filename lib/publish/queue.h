// PublishQueue: publications a zone's master has still to deliver upstream,
// kept in Berkeley DB (lib/store) so that they survive a restart and an
// upstream that is down. Delivered in order: the head is retried, with
// exponential backoff, until it is delivered or refused for good.
//
// Thread safety: the methods may be called from any thread.
#ifndef KEYDIR_PUBLISH_QUEUE_H
#define KEYDIR_PUBLISH_QUEUE_H

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "base/env.h"
#include "publish/publication.h"
#include "store/store.h"

namespace keydir {

struct QueuedPublication {
    uint64_t seq = 0;
    Publication publication;
    uint32_t attempts = 0;   // failed deliveries so far
    int64_t not_before = 0;  // Unix seconds: not retried before
    std::string last_error;
};

class PublishQueue {
  public:
    // Opens (creating) the queue in `directory`, which must exist.
    static Status Open(const std::string& directory, Env* env, std::unique_ptr<PublishQueue>* out);

    // Durable when it returns (the commit is synchronous).
    Status Push(const Publication& p);
    // The head of the queue; *found false when it is empty.
    Status Front(QueuedPublication* out, bool* found);
    // The head was delivered (or refused for good): remove it.
    Status Remove(uint64_t seq);
    // The head failed: count it and wait until not_before.
    Status Defer(uint64_t seq, const std::string& error, int64_t not_before);
    uint64_t size() const { return size_.load(); }

    // How long to wait after `attempts` failures: 1, 2, 4 ... seconds, at
    // most `cap`, with up to a quarter of random jitter.
    static int64_t Backoff(uint32_t attempts, int64_t cap, Env* env);

  private:
    PublishQueue(std::unique_ptr<Store> store, Env* env) : store_(std::move(store)), env_(env) {}
    std::unique_ptr<Store> store_;
    Env* env_;
    std::atomic<uint64_t> size_{0};
};

}  // namespace keydir

#endif  // KEYDIR_PUBLISH_QUEUE_H
