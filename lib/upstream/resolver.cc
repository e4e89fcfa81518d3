#include "upstream/resolver.h"

#include <ldap.h>

#include "chase/dn.h"
#include "upstream/upstream_entry.h"

namespace keydir {

Status HopSecurity::Prepare(const ChaseStep&, UpstreamRequest*, std::unique_ptr<HopCheck>*) {
    return Status::OK();
}

namespace {

// Does the entry answer for this address? Its DN is the member DN, or it
// carries the address in `mail` (a server whose DNs differ).
bool IsMemberEntry(const UpstreamEntry& e, const MailAddress& address) {
    std::string canon;
    if (CanonicalDnString(e.dn, &canon).ok()) {
        std::string member;
        if (CanonicalDnString(address.MemberDn(), &member).ok() && member == canon)
            return true;
    }
    if (const UpstreamAttribute* mail = FindAttribute(e, "mail")) {
        for (const std::string& v : mail->values) {
            MailAddress a;
            if (MailAddress::Parse(v, &a).ok() && a == address)
                return true;
        }
    }
    return false;
}

}  // namespace

Resolver::Resolver(const ResolverOptions& options, Upstream* upstream, KeyCache* cache,
                   HopSecurity* security, Env* env)
    : upstream_(upstream),
      cache_(cache),
      security_(security ? security : &default_security_),
      env_(env),
      options_(options) {
    if (!options_.chase.resolve_host)
        options_.chase.resolve_host = SystemResolveHost;
    size_t n = options.threads ? options.threads : 1;
    for (size_t i = 0; i < n; ++i)
        threads_.emplace_back([this] { Worker(); });
}

Resolver::~Resolver() {
    Shutdown();
}

void Resolver::Count(uint64_t ResolverCounters::*field, uint64_t n) {
    std::lock_guard<std::mutex> lock(mu_);
    counters_.*field += n;
}

ResolverCounters Resolver::Counters() const {
    std::lock_guard<std::mutex> lock(mu_);
    return counters_;
}

void Resolver::Reconfigure(const ChaseConfig& chase) {
    std::lock_guard<std::mutex> lock(mu_);
    options_.chase = chase;
    if (!options_.chase.resolve_host)
        options_.chase.resolve_host = SystemResolveHost;
}

bool Resolver::FromCache(const MailAddress& address, Resolution* now) {
    CacheAnswer cached = cache_->Lookup(address);
    if (cached.hit == CacheHit::kMiss)
        return false;
    *now = Resolution();
    now->kind =
        cached.hit == CacheHit::kPositive ? Resolution::Kind::kFound : Resolution::Kind::kNotFound;
    now->record = cached.record;
    now->from_cache = true;
    now->ttl_seconds = cached.ttl_left_seconds;
    if (cached.hit == CacheHit::kNegative)
        now->reason = "no key for " + address.normalized();
    return true;
}

bool Resolver::Resolve(const MailAddress& address, int hops_already, Callback done,
                       Resolution* now) {
    if (FromCache(address, now))
        return true;
    auto refuse = [now](const std::string& why) {
        *now = Resolution();
        now->kind = Resolution::Kind::kUnavailable;
        now->reason = why;
        return true;
    };
    std::lock_guard<std::mutex> lock(mu_);
    const std::string& key = address.normalized();
    auto it = jobs_.find(key);
    if (it != jobs_.end()) {
        if (it->second->waiters.size() >= options_.max_waiters) {
            ++counters_.waiters_full;
            return refuse("too many lookups waiting for " + key);
        }
        it->second->waiters.push_back(std::move(done));
        ++counters_.coalesced;
        return false;
    }
    if (stopping_ || queue_.size() >= options_.max_queued) {
        ++counters_.queue_full;
        return refuse(stopping_ ? "the server is shutting down"
                                : "too many lookups waiting for other key servers");
    }
    auto job = std::make_unique<Job>();
    job->address = address;
    job->hops_already = hops_already;
    job->queued_micros = env_->NowMonotonicMicros();
    job->waiters.push_back(std::move(done));
    // Queued first: if the map cannot take the job, the key is taken back.
    queue_.push_back(key);
    try {
        jobs_[key] = std::move(job);
    } catch (...) {
        queue_.pop_back();
        throw;
    }
    work_.notify_one();
    return false;
}

namespace {

// Runs a waiter's callback; nothing it throws leaves the resolver thread.
void Notify(const Resolver::Callback& cb, const Resolution& r) {
    try {
        cb(r);
    } catch (...) {
    }
}

}  // namespace

void Resolver::Worker() {
    for (;;) {
        std::string key;
        {
            std::unique_lock<std::mutex> lock(mu_);
            work_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (queue_.empty())
                return;  // stopping
            key = std::move(queue_.front());
            queue_.pop_front();
        }
        // Nothing a chase throws (bad_alloc included) may end the thread,
        // and the job's waiters are answered whatever happens.
        Resolution r;
        r.kind = Resolution::Kind::kUnavailable;
        try {
            MailAddress address;
            int hops = 0;
            int64_t queued = 0;
            int64_t budget = 0;
            {
                std::lock_guard<std::mutex> lock(mu_);
                address = jobs_[key]->address;
                hops = jobs_[key]->hops_already;
                queued = jobs_[key]->queued_micros;
                budget = options_.chase.total_timeout_micros;
            }
            int64_t waited = env_->NowMonotonicMicros() - queued;
            if (waited >= budget) {
                // Its time ran out in the queue: nobody is asked.
                r.chase = ChaseResult::kTimedOut;
                r.reason = "no answer for " + address.normalized() + " within " +
                           std::to_string(budget / 1000) + " ms: it waited " +
                           std::to_string(waited / 1000) +
                           " ms for a resolver thread (no server asked)";
                Count(&ResolverCounters::expired);
                Count(&ResolverCounters::unavailable);
            } else {
                r = Chase(address, hops, queued);
            }
        } catch (const std::exception& e) {
            r = Resolution();
            r.kind = Resolution::Kind::kUnavailable;
            try {
                r.reason = std::string("internal error: ") + e.what();
            } catch (...) {
            }
        } catch (...) {
            r = Resolution();
            r.kind = Resolution::Kind::kUnavailable;
        }
        std::vector<Callback> waiters;
        {
            std::lock_guard<std::mutex> lock(mu_);
            auto it = jobs_.find(key);
            if (it != jobs_.end()) {
                waiters.swap(it->second->waiters);
                jobs_.erase(it);
            }
        }
        for (const Callback& cb : waiters)
            Notify(cb, r);
    }
}

void Resolver::Shutdown() {
    std::vector<std::unique_ptr<Job>> orphans;
    {
        std::lock_guard<std::mutex> lock(mu_);
        if (stopping_ && threads_.empty())
            return;
        stopping_ = true;
        // Jobs not started yet end now; running ones finish their chase.
        for (const std::string& key : queue_) {
            auto it = jobs_.find(key);
            orphans.push_back(std::move(it->second));
            jobs_.erase(it);
        }
        queue_.clear();
    }
    work_.notify_all();
    Resolution down;
    down.kind = Resolution::Kind::kUnavailable;
    down.reason = "the server is shutting down";
    for (auto& job : orphans)
        for (const Callback& cb : job->waiters)
            Notify(cb, down);
    for (std::thread& t : threads_)
        if (t.joinable())
            t.join();
    threads_.clear();
}

Resolution Resolver::ResolveNow(const MailAddress& address, int hops_already) {
    CacheAnswer cached = cache_->Lookup(address);
    if (cached.hit != CacheHit::kMiss) {
        Resolution r;
        r.kind = cached.hit == CacheHit::kPositive ? Resolution::Kind::kFound
                                                   : Resolution::Kind::kNotFound;
        r.record = cached.record;
        r.from_cache = true;
        return r;
    }
    return Chase(address, hops_already);
}

HopOutcome Resolver::AskOne(const ChaseStep& step, const MailAddress& address,
                            std::string* record) {
    UpstreamRequest req;
    req.server = step.server.ServerUrl();
    req.base_dn = step.base_dn;
    req.scope = step.scope == UrlScope::kBase       ? LDAP_SCOPE_BASE
                : step.scope == UrlScope::kOneLevel ? LDAP_SCOPE_ONELEVEL
                                                    : LDAP_SCOPE_SUBTREE;
    req.filter = step.filter;
    req.attributes = ChasedAttributes();
    req.timeout_micros = step.timeout_micros;
    req.time_limit_seconds = static_cast<int>((step.timeout_micros + 999999) / 1000000);
    // A base search of one member DN has one entry at most: a second one
    // ends the search (unverified data is not buffered without bound).
    req.max_entries = 1;
    std::unique_ptr<HopCheck> check;
    Status s = security_->Prepare(step, &req, &check);
    if (!s.ok())
        return HopOutcome::Failed("cannot sign the request: " + s.message());
    UpstreamResponse resp;
    s = upstream_->Search(req, &resp);
    Count(&ResolverCounters::hops);
    if (s.code() == Status::Code::kTimedOut) {
        Count(&ResolverCounters::timeouts);
        return HopOutcome::TimedOut();
    }
    if (!s.ok()) {
        Count(&ResolverCounters::failures);
        return HopOutcome::Failed(s.message());
    }
    if (check)
        s = check->Verify(resp);
    if (!s.ok()) {
        Count(&ResolverCounters::rejected);
        return HopOutcome::Failed("answer refused: " + s.message());
    }
    switch (resp.result_code) {
        case LDAP_SUCCESS:
            for (const UpstreamEntry& e : resp.entries) {
                if (IsMemberEntry(e, address)) {
                    UpstreamEntry kept = e;
                    KeepChasedAttributes(&kept);
                    *record = EncodeUpstreamEntry(kept);
                    return HopOutcome::Entry();
                }
            }
            if (!resp.references.empty()) {
                std::vector<std::string> urls;
                for (const auto& ref : resp.references)
                    urls.insert(urls.end(), ref.begin(), ref.end());
                return HopOutcome::Referral(std::move(urls));
            }
            return HopOutcome::NotFound();
        case LDAP_REFERRAL:
            if (resp.referrals.empty())
                return HopOutcome::Failed("a referral without URLs");
            return HopOutcome::Referral(resp.referrals);
        case LDAP_NO_SUCH_OBJECT:
            return HopOutcome::NotFound();
        default: {
            Count(&ResolverCounters::failures);
            std::string why = std::string("answered ") + ldap_err2string(resp.result_code);
            if (!resp.diagnostic.empty())
                why += ": " + resp.diagnostic;
            return HopOutcome::Failed(why);
        }
    }
}

Resolution Resolver::Chase(const MailAddress& address, int hops_already, int64_t started_micros) {
    ChaseConfig config;
    {
        std::lock_guard<std::mutex> lock(mu_);
        config = options_.chase;
        ++counters_.chases;
    }
    ChasePlan plan(config, address, env_, hops_already, started_micros);
    ChaseStep step;
    std::string record;
    while (plan.Next(&step))
        plan.Report(AskOne(step, address, &record));

    Resolution r;
    r.chase = plan.result();
    r.path = plan.path();
    r.reason = plan.reason();
    if (plan.result() == ChaseResult::kFound) {
        r.kind = Resolution::Kind::kFound;
        r.answered_by = plan.answered_by().ServerUrl();
        UpstreamEntry entry;
        PositiveTtl ttl;
        if (DecodeUpstreamEntry(record, &entry).ok()) {
            ttl.zone_ttl_seconds = EntryZoneTtl(entry);
            ttl.not_after_unix = EntryNotAfter(entry, env_->NowUnixSeconds());
        }
        r.ttl_seconds = cache_->PutPositive(address, record, ttl);
        r.record = std::make_shared<const std::string>(std::move(record));
        Count(&ResolverCounters::found);
        return r;
    }
    if (plan.result() == ChaseResult::kNotFound) {
        r.kind = Resolution::Kind::kNotFound;
        r.answered_by = plan.answered_by().ServerUrl();
        r.ttl_seconds = cache_->PutNegative(address);
        Count(&ResolverCounters::not_found);
        return r;
    }
    // Nobody could answer: an expired entry may still serve, marked stale.
    if (plan.result() == ChaseResult::kUnavailable || plan.result() == ChaseResult::kTimedOut) {
        CacheAnswer stale = cache_->LookupStale(address);
        if (stale.hit == CacheHit::kPositive) {
            r.kind = Resolution::Kind::kFound;
            r.record = stale.record;
            r.stale = stale.stale;
            r.from_cache = true;
            Count(&ResolverCounters::stale);
            return r;
        }
    }
    r.kind = Resolution::Kind::kUnavailable;
    Count(&ResolverCounters::unavailable);
    return r;
}

}  // namespace keydir
