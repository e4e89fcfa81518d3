#include "chase/chase_plan.h"

#include <algorithm>

namespace keydir {
namespace {

// How telling a failure is when the chase ends without an answer: a loop
// or a bad referral is a configuration error worth naming over a timeout.
int FailureRank(ChaseResult r) {
    switch (r) {
        case ChaseResult::kLoop:
            return 4;
        case ChaseResult::kHopLimit:
            return 3;
        case ChaseResult::kBadReferral:
            return 2;
        case ChaseResult::kUnavailable:
            return 1;
        default:
            return 0;
    }
}

}  // namespace

const char* ServerTierName(ServerTier tier) {
    switch (tier) {
        case ServerTier::kUpstream:
            return "upstream";
        case ServerTier::kRoot:
            return "root";
        case ServerTier::kReferral:
            return "referral";
    }
    return "?";
}

const char* HopOutcomeName(HopOutcome::Kind kind) {
    switch (kind) {
        case HopOutcome::Kind::kEntry:
            return "entry";
        case HopOutcome::Kind::kReferral:
            return "referral";
        case HopOutcome::Kind::kNotFound:
            return "not found";
        case HopOutcome::Kind::kFailed:
            return "failed";
        case HopOutcome::Kind::kTimedOut:
            return "timed out";
    }
    return "?";
}

const char* ChaseResultName(ChaseResult result) {
    switch (result) {
        case ChaseResult::kPending:
            return "pending";
        case ChaseResult::kFound:
            return "found";
        case ChaseResult::kNotFound:
            return "not found";
        case ChaseResult::kUnavailable:
            return "unavailable";
        case ChaseResult::kTimedOut:
            return "timed out";
        case ChaseResult::kLoop:
            return "loop";
        case ChaseResult::kHopLimit:
            return "hop limit";
        case ChaseResult::kBadReferral:
            return "bad referral";
    }
    return "?";
}

ChasePlan::ChasePlan(const ChaseConfig& config, const MailAddress& address, Env* env,
                     int hops_already, int64_t started_micros)
    : config_(config),
      address_(address),
      member_dn_(CanonicalDn(address.MemberDnParsed())),
      member_dn_key_(FormatDn(member_dn_)),
      env_(env),
      hops_already_(std::max(0, hops_already)),
      started_micros_(started_micros >= 0 ? std::min(started_micros, env->NowMonotonicMicros())
                                          : env->NowMonotonicMicros()) {
    for (const LdapUrl& u : config_.upstreams)
        first_tier_.push_back({u, ServerTier::kUpstream});
    for (const LdapUrl& u : config_.roots)
        first_tier_.push_back({u, ServerTier::kRoot});
}

std::string ChasePlan::VisitKey(const LdapUrl& server) const {
    // Every server is asked for the member DN, so server + DN is the server
    // plus this one DN.
    return server.ServerKey() + "/" + member_dn_key_;
}

bool ChasePlan::IsSelf(const LdapUrl& server) const {
    for (const LdapUrl& s : config_.self)
        if (s.ServerKey() == server.ServerKey())
            return true;
    return false;
}

void ChasePlan::Finish(ChaseResult result, std::string reason) {
    result_ = result;
    reason_ = std::move(reason);
    pending_ = false;
}

void ChasePlan::NoteFailure(ChaseResult kind, const std::string& reason) {
    if (FailureRank(kind) >= FailureRank(failure_)) {
        failure_ = kind;
        failure_reason_ = reason;
    }
}

void ChasePlan::EndPath(ChaseResult why, const std::string& reason) {
    NoteFailure(why, reason);
    in_path_ = false;
    alternatives_.clear();
    alternative_next_ = 0;
}

bool ChasePlan::TakeCandidate(const Candidate& c, ChaseStep* step) {
    ChaseStep s;
    s.server = c.server;
    s.server.has_dn = false;
    s.server.dn.clear();
    s.server.has_scope = false;
    s.base_dn = address_.MemberDn();
    s.scope = UrlScope::kBase;
    s.filter = address_.MailFilter();
    s.tier = c.tier;
    s.hop_count = hops_already_ + (c.tier == ServerTier::kReferral ? path_hops_ : 0);
    s.recursion = config_.ask_upstream_to_chase && c.tier == ServerTier::kUpstream;
    int64_t now = env_->NowMonotonicMicros();
    int64_t left = config_.total_timeout_micros - (now - started_micros_);
    s.timeout_micros = std::min(config_.hop_timeout_micros, left);
    pending_ = true;
    pending_candidate_ = c;
    pending_step_ = s;
    pending_since_ = now;
    *step = s;
    return true;
}

bool ChasePlan::Next(ChaseStep* step) {
    if (result_ != ChaseResult::kPending)
        return false;
    if (pending_) {
        *step = pending_step_;
        return true;
    }
    int64_t elapsed = env_->NowMonotonicMicros() - started_micros_;
    if (elapsed >= config_.total_timeout_micros) {
        Finish(ChaseResult::kTimedOut, "no answer for " + address_.normalized() + " within " +
                                           std::to_string(config_.total_timeout_micros / 1000) +
                                           " ms (" + std::to_string(visits_.size()) +
                                           " servers asked)");
        return false;
    }
    if (static_cast<int>(visits_.size()) >= config_.max_attempts) {
        Finish(failure_ == ChaseResult::kPending ? ChaseResult::kUnavailable : failure_,
               "gave up on " + address_.normalized() + " after asking " +
                   std::to_string(visits_.size()) + " servers" +
                   (failure_reason_.empty() ? "" : ": " + failure_reason_));
        return false;
    }
    while (in_path_) {
        if (alternative_next_ >= alternatives_.size()) {
            EndPath(ChaseResult::kUnavailable, "every server the referral named failed");
            break;
        }
        const Candidate& c = alternatives_[alternative_next_++];
        if (failed_servers_.count(c.server.ServerKey()))
            continue;
        path_visited_.insert(VisitKey(c.server));
        return TakeCandidate(c, step);
    }
    while (first_tier_next_ < first_tier_.size()) {
        const Candidate& c = first_tier_[first_tier_next_++];
        if (failed_servers_.count(c.server.ServerKey()) || IsSelf(c.server))
            continue;
        path_visited_.clear();
        for (const LdapUrl& s : config_.self)
            path_visited_.insert(VisitKey(s));
        path_visited_.insert(VisitKey(c.server));
        path_hops_ = 0;
        return TakeCandidate(c, step);
    }
    if (failure_ == ChaseResult::kPending && saw_not_found_) {
        Finish(ChaseResult::kNotFound, address_.normalized() + " is not known upstream");
    } else if (failure_ == ChaseResult::kPending) {
        Finish(ChaseResult::kUnavailable, first_tier_.empty()
                                              ? "no upstream or root server is configured"
                                              : "no upstream server could be asked");
    } else {
        Finish(failure_, "cannot resolve " + address_.normalized() + ": " + failure_reason_);
    }
    return false;
}

void ChasePlan::Report(const HopOutcome& outcome) {
    if (!pending_ || result_ != ChaseResult::kPending)
        return;
    pending_ = false;
    const Candidate c = pending_candidate_;
    ChaseVisit visit;
    visit.server = c.server.ServerUrl();
    visit.tier = c.tier;
    visit.hop_count = pending_step_.hop_count;
    visit.outcome = outcome.kind;
    visit.detail = outcome.detail;
    visit.micros = env_->NowMonotonicMicros() - pending_since_;
    visits_.push_back(visit);

    switch (outcome.kind) {
        case HopOutcome::Kind::kEntry:
            answered_by_ = c.server;
            Finish(ChaseResult::kFound, "");
            return;
        case HopOutcome::Kind::kNotFound:
            if (c.tier == ServerTier::kUpstream) {
                saw_not_found_ = true;  // a parent may not know; ask on
                return;
            }
            answered_by_ = c.server;
            Finish(ChaseResult::kNotFound,
                   address_.normalized() + " is not known to " + c.server.ServerUrl());
            return;
        case HopOutcome::Kind::kFailed:
        case HopOutcome::Kind::kTimedOut: {
            failed_servers_.insert(c.server.ServerKey());
            std::string why =
                c.server.ServerUrl() + " " +
                (outcome.kind == HopOutcome::Kind::kTimedOut
                     ? std::string("timed out")
                     : "failed" + (outcome.detail.empty() ? std::string() : ": " + outcome.detail));
            NoteFailure(ChaseResult::kUnavailable, why);
            return;  // Next() tries the next alternative or first-tier server
        }
        case HopOutcome::Kind::kReferral:
            FollowReferral(outcome.referrals);
            return;
    }
}

void ChasePlan::FollowReferral(const std::vector<std::string>& urls) {
    const std::string from = pending_candidate_.server.ServerUrl();
    int hops = (pending_candidate_.tier == ServerTier::kReferral ? path_hops_ : 0) + 1;
    max_hops_seen_ = std::max(max_hops_seen_, hops);
    if (hops_already_ + hops > config_.max_hops) {
        EndPath(ChaseResult::kHopLimit, "more than " + std::to_string(config_.max_hops) +
                                            " referrals (the last from " + from + ")");
        return;
    }
    std::vector<Candidate> usable;
    std::string bad_reason;
    std::string loop_reason;
    bool skipped_failed = false;
    for (const std::string& text : urls) {
        LdapUrl url;
        Status s = ParseLdapUrl(text, &url);
        if (!s.ok()) {
            bad_reason = "referral from " + from + " refused: " + s.message();
            continue;
        }
        if (url.has_dn) {
            Dn dn;
            s = ParseDn(url.dn, &dn);
            if (!s.ok() || !DnIsWithin(member_dn_, CanonicalDn(dn))) {
                bad_reason = "referral from " + from + " refused: " + url.ToString() +
                             " names a DN that neither is nor contains " + address_.MemberDn();
                continue;
            }
        }
        s = config_.referral_policy.Check(url.host, url.port, config_.resolve_host);
        if (!s.ok()) {
            bad_reason = "referral from " + from + " refused: " + s.message();
            continue;
        }
        if (IsSelf(url) || path_visited_.count(VisitKey(url))) {
            loop_reason = "referral loop: " + from + " points back to " + url.ServerUrl() +
                          ", already asked for " + address_.MemberDn();
            continue;
        }
        if (failed_servers_.count(url.ServerKey())) {
            skipped_failed = true;
            continue;
        }
        bool duplicate = false;
        for (const Candidate& u : usable)
            duplicate = duplicate || u.server.ServerKey() == url.ServerKey();
        if (!duplicate)
            usable.push_back({url, ServerTier::kReferral});
    }
    if (usable.empty()) {
        if (!loop_reason.empty()) {
            EndPath(ChaseResult::kLoop, loop_reason);
        } else if (skipped_failed) {
            EndPath(ChaseResult::kUnavailable,
                    "every server the referral from " + from + " names has failed already");
        } else if (!bad_reason.empty()) {
            EndPath(ChaseResult::kBadReferral, bad_reason);
        } else {
            EndPath(ChaseResult::kBadReferral, "referral from " + from + " names no server");
        }
        return;
    }
    in_path_ = true;
    alternatives_ = std::move(usable);
    alternative_next_ = 0;
    path_hops_ = hops;
}

}  // namespace keydir
