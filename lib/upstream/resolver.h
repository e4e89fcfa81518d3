// Resolver: finds the key of an address that is not held locally, the way
// a DNS resolver finds a name: the cache first, then a chase through the
// parents, the root cluster and the pointers they return (ChasePlan), on
// threads of its own so that slapd's worker threads never wait on the
// network. Concurrent lookups of one address share one chase. Answers are
// cached (positive with the smallest of the TTLs, negative with the
// negative TTL); when every upstream fails an expired entry may be served
// within the stale window.
//
// Thread safety: every method may be called from any thread.
#ifndef KEYDIR_UPSTREAM_RESOLVER_H
#define KEYDIR_UPSTREAM_RESOLVER_H

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/env.h"
#include "chase/chase_plan.h"
#include "chase/key_cache.h"
#include "chase/mail_address.h"
#include "upstream/upstream_client.h"

namespace keydir {

// Checks the answer to one request (the other end's signature).
class HopCheck {
  public:
    virtual ~HopCheck() = default;
    // OK when the answer may be used.
    virtual Status Verify(const UpstreamResponse& response) = 0;
};

// Signs what is sent to another key server and checks what comes back
// (the HMAC control). The default adds nothing and trusts everything.
class HopSecurity {
  public:
    virtual ~HopSecurity() = default;
    // May add controls to *request; *check (if set) judges the answer.
    virtual Status Prepare(const ChaseStep& step, UpstreamRequest* request,
                           std::unique_ptr<HopCheck>* check);
};

struct ResolverOptions {
    ChaseConfig chase;
    size_t threads = 8;        // chases under way at once
    size_t max_queued = 4096;  // chases waiting for a thread; beyond: refused at once
    size_t max_waiters = 64;   // lookups sharing one chase; beyond: refused at once
};

struct Resolution {
    enum class Kind { kFound, kNotFound, kUnavailable };
    Kind kind = Kind::kUnavailable;
    std::shared_ptr<const std::string> record;  // kFound: EncodeUpstreamEntry()
    bool from_cache = false;
    bool stale = false;                         // an expired entry served because upstreams failed
    int64_t ttl_seconds = 0;                    // how long the answer stays cached (0: not cached)
    ChaseResult chase = ChaseResult::kPending;  // kPending when answered from the cache
    std::string reason;                         // why not found / unavailable, for the client
    std::vector<ChaseVisit> path;               // the servers asked, in order
    std::string answered_by;                    // ldap://host:port
};

struct ResolverCounters {
    uint64_t chases = 0;     // chases run
    uint64_t coalesced = 0;  // lookups that joined a chase under way
    uint64_t hops = 0;       // servers asked, all chases together
    uint64_t found = 0;
    uint64_t not_found = 0;
    uint64_t unavailable = 0;   // chases that ended without an answer
    uint64_t timeouts = 0;      // servers that did not answer in time
    uint64_t failures = 0;      // servers that failed (connection, bad answer)
    uint64_t rejected = 0;      // answers refused by HopSecurity::Verify
    uint64_t stale = 0;         // stale answers served
    uint64_t queue_full = 0;    // lookups refused because the queue was full
    uint64_t waiters_full = 0;  // lookups refused because max_waiters share the chase already
    uint64_t expired = 0;       // chases whose total timeout ran out while queued (none asked)
};

class Resolver {
  public:
    using Callback = std::function<void(const Resolution&)>;

    Resolver(const ResolverOptions& options, Upstream* upstream, KeyCache* cache,
             HopSecurity* security, Env* env = Env::Default());
    ~Resolver();
    Resolver(const Resolver&) = delete;
    Resolver& operator=(const Resolver&) = delete;

    // A fresh cached answer, or a refusal when the queue is full, comes back
    // at once: returns true with *now set. Otherwise a chase is started (or
    // joined) and `done` runs on a resolver thread when it ends; returns
    // false. `hops_already` is the hop count of the request that made this
    // server chase for a peer (0 for its own clients). A chase's total
    // timeout counts from when it is queued: one still queued when it runs
    // out ends kUnavailable (kTimedOut) without asking any server.
    bool Resolve(const MailAddress& address, int hops_already, Callback done, Resolution* now);

    // The cache's answer only: true with *now set on a fresh hit.
    bool FromCache(const MailAddress& address, Resolution* now);

    // Chases `address` now on the calling thread (tools, tests).
    Resolution ResolveNow(const MailAddress& address, int hops_already = 0);

    void Reconfigure(const ChaseConfig& chase);
    // Stops the threads; chases still queued end as kUnavailable.
    void Shutdown();
    ResolverCounters Counters() const;

  private:
    struct Job {
        MailAddress address;
        int hops_already = 0;
        int64_t queued_micros = 0;  // monotonic: the total timeout counts from here
        std::vector<Callback> waiters;
    };

    void Worker();
    Resolution Chase(const MailAddress& address, int hops_already, int64_t started_micros = -1);
    HopOutcome AskOne(const ChaseStep& step, const MailAddress& address, std::string* record);
    void Count(uint64_t ResolverCounters::*field, uint64_t n = 1);

    Upstream* upstream_;
    KeyCache* cache_;
    HopSecurity* security_;
    Env* env_;
    HopSecurity default_security_;

    mutable std::mutex mu_;
    std::condition_variable work_;
    ResolverOptions options_;
    bool stopping_ = false;
    std::deque<std::string> queue_;                     // keys of jobs not started
    std::map<std::string, std::unique_ptr<Job>> jobs_;  // queued or running, by address
    std::vector<std::thread> threads_;
    ResolverCounters counters_;
};

}  // namespace keydir

#endif  // KEYDIR_UPSTREAM_RESOLVER_H
