#include "load_driver.h"

#include <poll.h>

#include <algorithm>
#include <deque>
#include <limits>
#include <thread>

#include "address_set.h"
#include "ldap_session.h"
#include "ldap_text.h"
#include "member_factory.h"
#include "workload.h"

namespace keydir {
namespace bench {
namespace {

constexpr int64_t kForever = std::numeric_limits<int64_t>::max() / 4;
constexpr int64_t kExpiryCheckUs = 50'000;

// One client thread: its connections, its request stream, its results.
class ThreadRunner {
  public:
    ThreadRunner(const BenchConfig& config, Env* env, MemberFactory* factory,
                 std::vector<std::unique_ptr<LdapSession>> sessions,
                 std::unique_ptr<Workload> workload, int index, uint64_t quota, double rate)
        : c_(config),
          env_(env),
          factory_(factory),
          sessions_(std::move(sessions)),
          workload_(std::move(workload)),
          index_(index),
          quota_(quota),
          rate_(rate) {}

    void Run(int64_t start_us);
    RunResults& results() { return results_; }

  private:
    bool SendOne(LdapSession* s, int64_t intended_us, bool measured);
    void Complete(const Pending& p, int code, int64_t now_us);
    LdapSession* LeastBusy();
    size_t InFlight() const;

    const BenchConfig& c_;
    Env* env_;
    MemberFactory* factory_;
    std::vector<std::unique_ptr<LdapSession>> sessions_;
    std::unique_ptr<Workload> workload_;
    int index_;
    uint64_t quota_;  // measured requests to send; 0 = until the duration ends
    double rate_;     // open loop requests per second for this thread
    RunResults results_;
    int64_t last_completion_us_ = 0;
    uint64_t modify_serial_ = 0;
};

size_t ThreadRunner::InFlight() const {
    size_t n = 0;
    for (const auto& s : sessions_)
        n += s->outstanding();
    return n;
}

LdapSession* ThreadRunner::LeastBusy() {
    LdapSession* best = nullptr;
    size_t cap = static_cast<size_t>(c_.outstanding_per_connection());
    for (auto& s : sessions_) {
        if (s->dead() || s->outstanding() >= cap)
            continue;
        if (!best || s->outstanding() < best->outstanding())
            best = s.get();
    }
    return best;
}

bool ThreadRunner::SendOne(LdapSession* s, int64_t intended_us, bool measured) {
    Request r = workload_->Next();
    Pending p;
    p.type = r.type;
    p.measured = measured;
    int rc = LDAP_SUCCESS;
    switch (r.type) {
        case OpType::kLookup:
        case OpType::kAbsent:
            p.intended_us = intended_us ? intended_us : env_->NowMonotonicMicros();
            p.sent_us = env_->NowMonotonicMicros();
            rc = s->SendSearch(FilterFor(c_.filter, r.address), p);
            break;
        case OpType::kModify: {
            std::string value =
                "keydir-bench " + std::to_string(index_) + "-" + std::to_string(modify_serial_++);
            p.intended_us = intended_us ? intended_us : env_->NowMonotonicMicros();
            p.sent_us = env_->NowMonotonicMicros();
            rc = s->SendModify(MemberDn(r.address, c_.dn_base), value, p);
            break;
        }
        case OpType::kAdd: {
            MemberEntry e;
            if (factory_) {
                // The certificate is made before the clock starts for this
                // request: the benchmark measures the server, not OpenSSL.
                Status st = factory_->Make(r.address, c_.dn_base, r.serial, &e);
                if (!st.ok()) {
                    rc = LDAP_ENCODING_ERROR;
                    break;
                }
            } else {
                e.mail = r.address;
                e.dn = MemberDn(r.address, c_.dn_base);
                e.cn = "Member " + r.address.substr(0, r.address.find('@'));
            }
            p.intended_us = intended_us ? intended_us : env_->NowMonotonicMicros();
            p.sent_us = env_->NowMonotonicMicros();
            rc = s->SendAdd(e, factory_ != nullptr, p);
            break;
        }
    }
    if (rc != LDAP_SUCCESS) {
        Complete(p, rc, env_->NowMonotonicMicros());
        return false;
    }
    if (measured && c_.open_loop())
        results_.schedule_lag.Record(
            static_cast<uint64_t>(std::max<int64_t>(0, p.sent_us - p.intended_us)));
    return true;
}

void ThreadRunner::Complete(const Pending& p, int code, int64_t now_us) {
    if (!p.measured)
        return;
    last_completion_us_ = std::max(last_completion_us_, now_us);
    Anomaly anomaly = Anomaly::kNone;
    if (code == LDAP_SUCCESS) {
        if (p.type == OpType::kLookup && p.entries == 0)
            anomaly = Anomaly::kLookupFoundNothing;
        if (p.type == OpType::kAbsent && p.entries > 0)
            anomaly = Anomaly::kAbsentFound;
    }
    if (code != LDAP_SUCCESS) {
        ++results_.errors[ErrorKey{true, code}];
        return;
    }
    if (anomaly != Anomaly::kNone) {
        ++results_.errors[ErrorKey{false, static_cast<int>(anomaly)}];
        return;
    }
    OpStats& st = results_.ops[static_cast<size_t>(p.type)];
    ++st.ok;
    st.entries += p.entries;
    int64_t from = c_.open_loop() ? p.intended_us : p.sent_us;
    st.latency.Record(static_cast<uint64_t>(std::max<int64_t>(0, now_us - from)));
}

void ThreadRunner::Run(int64_t start_us) {
    for (const auto& s : sessions_) {
        if (s->tcp_nodelay() >= 0) {
            ++results_.tcp_connections;
            results_.tcp_nodelay_on += s->tcp_nodelay();
        }
    }
    int64_t now = env_->NowMonotonicMicros();
    if (now < start_us)
        env_->SleepMicros(start_us - now);

    const int64_t warm_end = start_us + static_cast<int64_t>(c_.warmup * 1e6);
    const int64_t send_end = quota_ ? kForever : warm_end + static_cast<int64_t>(c_.duration * 1e6);
    const int64_t timeout_us = static_cast<int64_t>(c_.timeout * 1e6);
    const bool open = c_.open_loop();
    const double interval_us = open ? 1e6 / rate_ : 0;
    const int cap = c_.outstanding_per_connection();
    results_.window_start_us = warm_end;

    uint64_t measured_sent = 0;
    bool sending = true;
    uint64_t scheduled = 0;       // open loop: requests due so far
    int64_t next_due = start_us;  // open loop: when the next one is due
    std::deque<int64_t> backlog;  // open loop: due but not yet sent
    int64_t next_expiry_check = start_us + kExpiryCheckUs;
    auto done = [this](const Pending& p, int code, int64_t t) { Complete(p, code, t); };
    std::vector<struct pollfd> fds(sessions_.size());

    for (;;) {
        now = env_->NowMonotonicMicros();
        if (now >= send_end)
            sending = false;
        if (open) {
            while (sending && next_due <= now) {
                if (next_due >= send_end) {
                    sending = false;
                    break;
                }
                bool measured = next_due >= warm_end;
                if (quota_ && measured && measured_sent >= quota_) {
                    sending = false;
                    break;
                }
                backlog.push_back(next_due);
                measured_sent += measured;
                ++scheduled;
                next_due =
                    start_us + static_cast<int64_t>(static_cast<double>(scheduled) * interval_us);
            }
            while (!backlog.empty()) {
                LdapSession* s = LeastBusy();
                if (!s)
                    break;
                int64_t due = backlog.front();
                backlog.pop_front();
                SendOne(s, due, due >= warm_end);
            }
        } else {
            for (auto& s : sessions_) {
                while (sending && !s->dead() && s->outstanding() < static_cast<size_t>(cap)) {
                    int64_t t = env_->NowMonotonicMicros();
                    if (t >= send_end) {
                        sending = false;
                        break;
                    }
                    bool measured = t >= warm_end;
                    if (quota_ && measured && measured_sent >= quota_) {
                        sending = false;
                        break;
                    }
                    measured_sent += measured;
                    SendOne(s.get(), 0, measured);
                }
            }
        }

        bool all_dead = std::all_of(sessions_.begin(), sessions_.end(),
                                    [](const auto& s) { return s->dead(); });
        if (all_dead) {
            // Nothing can be sent any more: what is due is lost.
            for (int64_t due : backlog)
                if (due >= warm_end)
                    ++results_.errors[ErrorKey{true, LDAP_SERVER_DOWN}];
            backlog.clear();
            break;
        }
        if (!sending && backlog.empty() && InFlight() == 0)
            break;

        // Wait for answers, the next due request, or the next expiry check.
        now = env_->NowMonotonicMicros();
        int64_t wake = next_expiry_check;
        if (sending && open)
            wake = std::min(wake, next_due);
        if (sending)
            wake = std::min(wake, send_end);
        int64_t wait_us = std::max<int64_t>(0, wake - now);
        for (size_t i = 0; i < sessions_.size(); ++i) {
            fds[i].fd = sessions_[i]->dead() ? -1 : sessions_[i]->fd();
            fds[i].events = POLLIN;
            fds[i].revents = 0;
        }
        struct timespec ts = {static_cast<time_t>(wait_us / 1000000),
                              static_cast<long>((wait_us % 1000000) * 1000)};
        int n = ppoll(fds.data(), fds.size(), &ts, nullptr);
        if (n > 0) {
            for (size_t i = 0; i < sessions_.size(); ++i)
                if (fds[i].revents)
                    sessions_[i]->Receive(env_, done);
        }
        now = env_->NowMonotonicMicros();
        if (now >= next_expiry_check) {
            for (auto& s : sessions_)
                s->ExpireSentBefore(now - timeout_us, now, done);
            next_expiry_check = now + kExpiryCheckUs;
        }
    }
    results_.window_end_us =
        std::max(last_completion_us_, quota_ ? warm_end : std::min(send_end, now));
    if (last_completion_us_ == 0 && quota_ == 0)
        results_.window_end_us = send_end;
}

Status BuildUniverse(const BenchConfig& c, Env* env, AddressUniverse* u, ReportContext* ctx) {
    std::unique_ptr<AddressSet> present;
    Status s;
    if (!c.address_file.empty()) {
        s = AddressSet::FromFile(env, c.address_file, &present);
        if (!s.ok())
            return s;
    } else if (!c.address_pattern.empty()) {
        AddressPattern p;
        s = AddressPattern::Parse(c.address_pattern, &p);
        if (!s.ok())
            return s;
        s = AddressSet::FromPattern(p, c.address_first, c.address_count, &present);
        if (!s.ok())
            return s;
    }
    std::string domain = present ? DomainOf(present->At(0)) : "";
    uint64_t absent_count = present ? present->size() : 1000000;
    if (c.mix.uses(OpType::kAbsent)) {
        std::string pattern = c.absent_pattern.empty() ? "nobody%d@" + domain : c.absent_pattern;
        AddressPattern p;
        s = AddressPattern::Parse(pattern, &p);
        if (!s.ok())
            return Status::InvalidArgument("absent addresses: " + s.message());
        std::unique_ptr<AddressSet> absent;
        s = AddressSet::FromPattern(p, 0, absent_count, &absent);
        if (!s.ok())
            return s;
        u->absent = std::move(absent);
        ctx->absent_addresses = absent_count;
    }
    if (c.mix.uses(OpType::kAdd)) {
        std::string pattern = c.add_pattern;
        if (!pattern.empty() && pattern.back() == '@')
            pattern += domain;
        s = AddressPattern::Parse(pattern, &u->add_pattern);
        if (!s.ok())
            return Status::InvalidArgument("added addresses: " + s.message());
    }
    ctx->addresses = present ? present->size() : 0;
    u->present = std::move(present);
    u->distribution = c.distribution;
    u->zipf_exponent = c.zipf_exponent;
    u->seed = c.seed;
    return Status::OK();
}

}  // namespace

Status RunBenchmark(const BenchConfig& c, Env* env, ReportContext* ctx, RunResults* results) {
    AddressUniverse universe;
    Status s = BuildUniverse(c, env, &universe, ctx);
    if (!s.ok())
        return s;

    std::unique_ptr<MemberFactory> factory;
    if (c.mix.uses(OpType::kAdd) && c.add_full_entries) {
        MemberFactoryOptions fo;
        fo.member_key = c.add_member_key;
        fo.seed = c.seed;
        s = MemberFactory::Create(fo, &factory);
        if (!s.ok())
            return s;
    }

    std::vector<std::vector<std::unique_ptr<LdapSession>>> per_thread(c.threads);
    for (int i = 0; i < c.connections; ++i) {
        std::unique_ptr<LdapSession> session;
        s = LdapSession::Open(c, &session);
        if (!s.ok())
            return s;
        per_thread[i % c.threads].push_back(std::move(session));
    }

    std::vector<std::unique_ptr<ThreadRunner>> runners;
    for (int t = 0; t < c.threads; ++t) {
        std::unique_ptr<Workload> w;
        s = Workload::Make(c.mix, universe, t, c.threads, &w);
        if (!s.ok())
            return s;
        uint64_t quota = 0;
        if (c.requests) {
            quota = c.requests / c.threads + (static_cast<uint64_t>(t) < c.requests % c.threads);
            if (quota == 0)
                continue;  // more threads than requests
        }
        runners.push_back(std::make_unique<ThreadRunner>(c, env, factory.get(),
                                                         std::move(per_thread[t]), std::move(w), t,
                                                         quota, c.rate / c.threads));
    }
    // Everyone starts on the same tick, once every thread exists.
    int64_t start_us = env->NowMonotonicMicros() + 20'000;
    std::vector<std::thread> threads;
    for (size_t i = 1; i < runners.size(); ++i)
        threads.emplace_back([&, i] { runners[i]->Run(start_us); });
    runners[0]->Run(start_us);
    for (auto& t : threads)
        t.join();

    *results = RunResults();
    for (auto& r : runners)
        results->Merge(r->results());
    return Status::OK();
}

}  // namespace bench
}  // namespace keydir
