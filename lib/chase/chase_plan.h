// ChasePlan: which server to ask next while resolving one address, like a
// DNS resolver walking from the roots to the zone that holds a name
// (doc/design.md, "The request flow"; the patent's FIG. 2 and FIG. 4).
//
// The overlay drives it and does the I/O:
//
//   ChasePlan plan(config, address, env);
//   ChaseStep step;
//   while (plan.Next(&step)) {
//       HopOutcome outcome = AskServer(step);   // LDAP search, signed
//       plan.Report(outcome);
//   }
//   switch (plan.result()) { ... }               // plan.reason() for the text
//
// The rules:
// - First tier: the parents (keychase-upstream) in order, then the root
//   cluster members (keychase-root) in order. A server that fails or times
//   out is followed by the next one. A parent that answers "not found" is
//   followed by the next one too (FIG. 2: the parent does not know, the
//   root does). A root's "not found" is final: the roots replicate one
//   database, so asking the next root would give the same answer.
// - A referral (a pointer: zone delegation or member pointer) starts or
//   continues a path: its URLs are alternatives of equal standing, like the
//   NS records of a zone, tried in the order given, the next one on failure
//   or timeout. An entry ends the chase (found); "not found" from a server
//   that a referral named is authoritative and ends it (not found).
// - A referral URL whose server config.referral_policy does not allow is
//   refused before anything is sent to it (kBadReferral when nothing else
//   is left).
// - Every server is asked for the member's DN with a base-scope search,
//   whatever DN the referral URL names: the DN of a key is a function of
//   the address (doc/design.md, "Naming"). A referral URL whose DN is not
//   the member DN or one of its ancestors is refused.
// - Loops: asking the same server for the same DN twice on one path is a
//   loop, and so is a referral to this server itself (ChaseConfig::self).
//   A referral whose URLs all lead back is a loop; the others are used.
// - Hops: referrals followed along one path, counted from the hop count
//   the request arrived with (a peer that asked this server to chase for
//   it), refused beyond max_hops.
// - A path that ends in failure (all alternatives failed, a loop, the hop
//   limit, nothing followable) falls back to the next first-tier server: a
//   root may know a better way than a parent's stale pointer.
// - A server that failed once is not asked again within the same chase.
// - Bounds: max_attempts servers asked at most, every step's timeout is the
//   per-hop timeout or what is left of the total budget if less, and no
//   step starts after the budget is spent. The budget may have started
//   before the plan (a chase that waited for a thread): then it may be
//   spent before the first step, and no server is asked at all.
//
// A ChasePlan belongs to one chase and one thread; it copies what it needs
// of the ChaseConfig, which may change (cn=config) while it runs.
#ifndef KEYDIR_CHASE_CHASE_PLAN_H
#define KEYDIR_CHASE_CHASE_PLAN_H

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "base/env.h"
#include "chase/dn.h"
#include "chase/ldap_url.h"
#include "chase/mail_address.h"
#include "chase/referral_policy.h"

namespace keydir {

struct ChaseConfig {
    std::vector<LdapUrl> upstreams;           // keychase-upstream: parents, in order
    std::vector<LdapUrl> roots;               // keychase-root: the root cluster, in order
    std::vector<LdapUrl> self;                // URLs that reach this server; never asked
    int max_hops = 8;                         // keychase-max-hops
    int max_attempts = 16;                    // servers asked in one chase, all paths together
    int64_t hop_timeout_micros = 3000000;     // keychase-timeout
    int64_t total_timeout_micros = 10000000;  // the whole chase
    bool ask_upstream_to_chase = false;       // set the recursion flag towards parents
    ReferralPolicy referral_policy;           // keychase-referral-allow: where referrals may lead
    HostResolver resolve_host;                // names for referral_policy (nullptr: not resolved)
};

enum class ServerTier {
    kUpstream,  // a parent from keychase-upstream
    kRoot,      // a root cluster member from keychase-root
    kReferral,  // named by a referral
};
const char* ServerTierName(ServerTier tier);

// One question the overlay is to ask.
struct ChaseStep {
    LdapUrl server;       // scheme, host, port (no DN)
    std::string base_dn;  // the member DN
    UrlScope scope = UrlScope::kBase;
    std::string filter;  // (mail=<address>)
    ServerTier tier = ServerTier::kUpstream;
    int hop_count = 0;           // referrals followed to reach this server (for the control)
    bool recursion = false;      // ask the server to chase on our behalf
    int64_t timeout_micros = 0;  // for this step
};

// What the server said.
struct HopOutcome {
    enum class Kind {
        kEntry,     // it returned the member's entry
        kReferral,  // a referral result or continuation references
        kNotFound,  // noSuchObject, or success with no entry
        kFailed,    // connection refused, bad or unsigned answer, LDAP error
        kTimedOut,  // no answer within step.timeout_micros
    };
    Kind kind = Kind::kFailed;
    std::vector<std::string> referrals;  // kReferral: every URL, in the order received
    std::string detail;                  // for logs: why it failed

    static HopOutcome Entry() { return HopOutcome{Kind::kEntry, {}, ""}; }
    static HopOutcome NotFound() { return HopOutcome{Kind::kNotFound, {}, ""}; }
    static HopOutcome Referral(std::vector<std::string> urls) {
        return HopOutcome{Kind::kReferral, std::move(urls), ""};
    }
    static HopOutcome Failed(std::string why) {
        return HopOutcome{Kind::kFailed, {}, std::move(why)};
    }
    static HopOutcome TimedOut() { return HopOutcome{Kind::kTimedOut, {}, "timed out"}; }
};
const char* HopOutcomeName(HopOutcome::Kind kind);

enum class ChaseResult {
    kPending,      // not finished
    kFound,        // a server returned the entry
    kNotFound,     // an authoritative "not found" (cache it negatively)
    kUnavailable,  // servers failed or timed out: nobody could answer
    kTimedOut,     // the total budget was spent
    kLoop,         // the only ways on led back to a server already asked
    kHopLimit,     // more referrals than max_hops
    kBadReferral,  // referrals that keydir does not follow (scheme, DN, syntax)
};
const char* ChaseResultName(ChaseResult result);

// One server asked, for logs and for showing the path a chase took.
struct ChaseVisit {
    std::string server;  // ldap://host:port
    ServerTier tier = ServerTier::kUpstream;
    int hop_count = 0;
    HopOutcome::Kind outcome = HopOutcome::Kind::kFailed;
    std::string detail;
    int64_t micros = 0;  // from Next() to Report()
};

class ChasePlan {
  public:
    // `hops_already`: the hop count of the request that made this server
    // chase (0 for its own clients). `started_micros` (monotonic): when the
    // total budget started, if before now (the chase waited in a queue);
    // a negative value means now.
    ChasePlan(const ChaseConfig& config, const MailAddress& address, Env* env, int hops_already = 0,
              int64_t started_micros = -1);

    // The next server to ask, or false when the chase is over. Calling it
    // again before Report() returns the same step.
    bool Next(ChaseStep* step);
    // What the server of the last step said. Ignored when no step is out.
    void Report(const HopOutcome& outcome);

    ChaseResult result() const { return result_; }
    // A sentence for the client and the log when the result is not kFound.
    const std::string& reason() const { return reason_; }
    // The server that returned the entry or the authoritative not-found.
    const LdapUrl& answered_by() const { return answered_by_; }
    const std::vector<ChaseVisit>& path() const { return visits_; }
    int attempts() const { return static_cast<int>(visits_.size()); }
    // The most referrals followed on one path.
    int max_hops_seen() const { return max_hops_seen_; }

  private:
    struct Candidate {
        LdapUrl server;
        ServerTier tier;
    };

    void Finish(ChaseResult result, std::string reason);
    // Ends the current referral path with a failure and falls back to the
    // first tier.
    void EndPath(ChaseResult why, const std::string& reason);
    void NoteFailure(ChaseResult kind, const std::string& reason);
    void FollowReferral(const std::vector<std::string>& urls);
    bool TakeCandidate(const Candidate& c, ChaseStep* step);
    std::string VisitKey(const LdapUrl& server) const;
    bool IsSelf(const LdapUrl& server) const;

    ChaseConfig config_;
    MailAddress address_;
    Dn member_dn_;  // canonical
    std::string member_dn_key_;
    Env* env_;
    int hops_already_;
    int64_t started_micros_;

    std::vector<Candidate> first_tier_;
    size_t first_tier_next_ = 0;

    bool in_path_ = false;
    std::vector<Candidate> alternatives_;
    size_t alternative_next_ = 0;
    int path_hops_ = 0;
    std::set<std::string> path_visited_;
    std::set<std::string> failed_servers_;

    bool pending_ = false;
    Candidate pending_candidate_;
    ChaseStep pending_step_;
    int64_t pending_since_ = 0;

    bool saw_not_found_ = false;
    ChaseResult failure_ = ChaseResult::kPending;  // the most telling failure so far
    std::string failure_reason_;

    ChaseResult result_ = ChaseResult::kPending;
    std::string reason_;
    LdapUrl answered_by_;
    std::vector<ChaseVisit> visits_;
    int max_hops_seen_ = 0;
};

}  // namespace keydir

#endif  // KEYDIR_CHASE_CHASE_PLAN_H
