// LdapSession: one LDAP connection driven through libldap's asynchronous
// calls (ldap_search_ext, ldap_add_ext, ldap_modify_ext, ldap_result with a
// zero timeout), so that one client thread keeps many requests in flight on
// many connections without a thread per request.
#ifndef KEYDIR_TOOLS_BENCH_LDAP_SESSION_H
#define KEYDIR_TOOLS_BENCH_LDAP_SESSION_H

#include <ldap.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/env.h"
#include "base/status.h"
#include "member_factory.h"
#include "workload.h"

namespace keydir {
namespace bench {

struct BenchConfig;

// A request in flight.
struct Pending {
    OpType type = OpType::kLookup;
    int64_t intended_us = 0;  // when the schedule wanted it sent (open loop)
    int64_t sent_us = 0;
    bool measured = false;  // after the warm-up and within the count
    uint32_t entries = 0;
};

class LdapSession {
  public:
    // Called once per finished request: its LDAP result code (LDAP_SUCCESS,
    // a server code, or a client code such as LDAP_SERVER_DOWN or
    // LDAP_TIMEOUT) and the time it finished.
    using Completion = std::function<void(const Pending&, int code, int64_t now_us)>;

    ~LdapSession();
    // Connects (and binds when the config says so) before any timing starts.
    static Status Open(const BenchConfig& config, std::unique_ptr<LdapSession>* out);

    int fd() const { return fd_; }
    bool dead() const { return dead_; }
    size_t outstanding() const { return pending_.size(); }
    // Whether TCP_NODELAY is set on the socket: 1 yes, 0 no, -1 not TCP.
    int tcp_nodelay() const { return tcp_nodelay_; }

    // Each Send* returns LDAP_SUCCESS or the code that kept the request
    // from being sent; `pending` is kept until the answer comes.
    int SendSearch(const std::string& filter, const Pending& pending);
    int SendAdd(const MemberEntry& entry, bool full, const Pending& pending);
    int SendModify(const std::string& dn, const std::string& value, const Pending& pending);

    // Handles every answer that has arrived; if the connection broke, every
    // request in flight completes with the error and the session is dead.
    // Each request's finish time is read from `env` as its answer is handled.
    void Receive(Env* env, const Completion& done);
    // Abandons requests sent before `sent_before_us`: they complete with
    // LDAP_TIMEOUT.
    void ExpireSentBefore(int64_t sent_before_us, int64_t now_us, const Completion& done);
    // Completes every request in flight with `code` (end of the run).
    void FailAll(int code, int64_t now_us, const Completion& done);

  private:
    LdapSession(const BenchConfig& config, LDAP* ld);
    int Track(int rc, int msgid, const Pending& pending);

    const BenchConfig& config_;
    LDAP* ld_;
    int fd_ = -1;
    int tcp_nodelay_ = -1;
    bool dead_ = false;
    std::vector<char*> attrs_;  // NULL-terminated, points into config_
    std::unordered_map<int, Pending> pending_;
};

}  // namespace bench
}  // namespace keydir

#endif  // KEYDIR_TOOLS_BENCH_LDAP_SESSION_H
