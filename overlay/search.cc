// The search hook and the response callback that adds keychase's part of
// the answer: fetched entries, continuation references for pointers this
// server holds, the zone's TTL for peers that ask for it, and the result
// code when a chase failed.
#include <algorithm>

#include "keychase.h"
#include "signing.h"
#include "upstream/upstream_entry.h"

namespace keydir {
namespace keychase {
namespace {

// At most this many addresses of one search are looked up.
constexpr size_t kMaxAddresses = 64;

AttributeDescription* TtlAd() {
    static AttributeDescription* ad = NamedAd("keydirTTL");
    return ad;
}

bool InScope(Operation* op, const struct berval* ndn) {
    return dnIsSuffixScope(const_cast<struct berval*>(ndn), &op->o_req_ndn, op->ors_scope);
}

bool Seen(Search* s, const MailAddress& a) {
    return std::find(s->seen.begin(), s->seen.end(), a.normalized()) != s->seen.end();
}

// Remembers the addresses of an entry the local search sends, so that
// keychase does not send the same member again.
void NoteSent(Search* s, Entry* e) {
    for (const MailAddress& addr : MailAddressesOf(e))
        s->seen.push_back(addr.normalized());
}

// A member's entry, or a pointer to one: it names an address (a mail
// value, or a mail= RDN).
bool NamesAddress(Entry* e) {
    if (MailAd() && attr_find(e->e_attrs, MailAd()))
        return true;
    static const char kMail[] = "mail=";
    return e->e_nname.bv_len > sizeof kMail - 1 &&
           strncasecmp(e->e_nname.bv_val, kMail, sizeof kMail - 1) == 0;
}

// Is e the entry (or pointer) of an address the search looks up?
bool OfWanted(Search* s, Entry* e) {
    for (const Wanted& w : s->wanted) {
        if ((w.member_ndn.bv_val && dn_match(&e->e_nname, &w.member_ndn)) ||
            (w.local_ndn.bv_val && dn_match(&e->e_nname, &w.local_ndn)))
            return true;
    }
    for (const MailAddress& addr : MailAddressesOf(e))
        if (std::any_of(s->wanted.begin(), s->wanted.end(),
                        [&addr](const Wanted& w) { return w.address == addr; }))
            return true;
    return false;
}

// keychase-enumeration-limit: an anonymous search gets the entries of the
// addresses it looks up, and at most that many other members' entries or
// pointers; false when e is held back.
bool MaySend(Search* s, Entry* e) {
    if (!s->guarded || !NamesAddress(e) || OfWanted(s, e))
        return true;
    if (s->others_left == 0) {
        s->withheld = true;
        return false;
    }
    --s->others_left;
    return true;
}

// The keydirTTL of the zone an entry belongs to: the nearest ancestor that
// has one.
bool ZoneTtl(Operation* op, Search* s, Entry* e, struct berval* ttl) {
    struct berval pdn = e->e_nname;
    Operation op2 = *op;
    op2.o_bd = s->db;
    while (pdn.bv_len > 0) {
        dnParent(&pdn, &pdn);
        if (!dnIsSuffix(&pdn, &s->db->be_nsuffix[0]))
            break;
        Entry* z = nullptr;
        if (be_entry_get_rw(&op2, &pdn, nullptr, nullptr, 0, &z) != LDAP_SUCCESS || !z)
            continue;
        Attribute* a = attr_find(z->e_attrs, TtlAd());
        if (a && a->a_numvals)
            ber_dupbv(ttl, &a->a_vals[0]);
        be_entry_release_r(&op2, z);
        if (a)
            return ttl->bv_val != nullptr;
    }
    return false;
}

// A peer that asks for keydirTTL gets the zone's TTL on member entries, so
// that its cache honours what the zone publishes.
void AddZoneTtl(Operation* op, SlapReply* rs, Search* s) {
    Entry* e = rs->sr_entry;
    if (!e || !TtlAd() || attr_find(e->e_attrs, TtlAd()))
        return;
    struct berval ttl = BER_BVNULL;
    if (!ZoneTtl(op, s, e, &ttl))
        return;
    rs_entry2modifiable(op, rs, s->on);
    attr_merge_normalize_one(rs->sr_entry, TtlAd(), &ttl, nullptr);
    ber_memfree(ttl.bv_val);
}

// Sends one entry keychase adds, if it matches the filter.
int SendExtra(Operation* op, Entry* e) {
    if (test_filter(op, e, op->ors_filter) != LDAP_COMPARE_TRUE) {
        entry_free(e);
        return LDAP_SUCCESS;
    }
    SlapReply r = {REP_SEARCH};
    r.sr_entry = e;
    r.sr_attrs = op->ors_attrs;
    r.sr_flags = REP_ENTRY_MUSTBEFREED;
    int rc = send_search_entry(op, &r);
    if (r.sr_entry) {
        entry_free(r.sr_entry);
        r.sr_entry = nullptr;
    }
    return rc;
}

void SendReference(Operation* op, Wanted& w) {
    // The URL names the member itself, base scope: a client that follows it
    // (ldapsearch -C) asks the holder for exactly that entry.
    BerVarray refs = referral_rewrite(w.refs, &w.referral_dn, &w.member_ndn, LDAP_SCOPE_BASE);
    if (!refs)
        return;
    SlapReply r = {REP_SEARCHREF};
    r.sr_ref = refs;
    send_search_reference(op, &r);
    ber_bvarray_free(refs);
}

// Does the search's own database answer for w by itself?
bool BackendAnswers(Operation* op, Search* s, const Wanted& w) {
    if (w.local_db != s->db)
        return false;
    switch (w.coverage) {
        case Coverage::kEntry:
            return InScope(op, &w.local_ndn);
        case Coverage::kPointer:
            return op->ors_scope == LDAP_SCOPE_BASE
                       ? dn_match(&op->o_req_ndn, &w.member_ndn)
                       : InScope(op, &w.referral_ndn) && w.referral_has_mail;
        case Coverage::kDelegated:
            // A base search of the member gets the backend's referral; a
            // wider one the backend's continuation reference.
            return op->ors_scope == LDAP_SCOPE_BASE ? dn_match(&op->o_req_ndn, &w.member_ndn)
                                                    : InScope(op, &w.referral_ndn);
        default:
            return false;
    }
}

int FailureCode(ChaseResult r) {
    return r == ChaseResult::kLoop || r == ChaseResult::kHopLimit ? LDAP_LOOP_DETECT
                                                                  : LDAP_UNAVAILABLE;
}

bool FromPeer(Operation* op) {
    return keychase_cid >= 0 && op->o_ctrlflag[keychase_cid] != SLAP_CONTROL_NONE;
}

// A client (not a peer) that looks up an address which this server has
// delegated gets a continuation reference instead of a referral result:
// libldap (ldapsearch -C) follows chains of references, but not a
// referral result met while following a reference. The refs go back into
// the reply after it is sent, for the backend to free (AnswerCleanup).
bool ReferralToReference(Operation* op, SlapReply* rs, Search* s) {
    if (rs->sr_err != LDAP_REFERRAL || !rs->sr_ref || FromPeer(op))
        return false;
    bool delegated = std::any_of(s->wanted.begin(), s->wanted.end(), [](const Wanted& w) {
        return w.coverage == Coverage::kPointer || w.coverage == Coverage::kDelegated;
    });
    if (!delegated)
        return false;
    SlapReply r = {REP_SEARCHREF};
    r.sr_ref = rs->sr_ref;
    send_search_reference(op, &r);
    s->held_ref = rs->sr_ref;
    rs->sr_ref = nullptr;
    rs->sr_err = LDAP_SUCCESS;
    rs->sr_matched = nullptr;
    return true;
}

// Everything keychase adds before the search's result goes out.
void Answer(Operation* op, SlapReply* rs, Search* s) {
    if (ReferralToReference(op, rs, s))
        return;
    Instance* inst = Inst(s->on);
    bool sent = false;
    int failure = LDAP_SUCCESS;
    bool base_missing_member = false;
    for (Wanted& w : s->wanted) {
        if (BackendAnswers(op, s, w) || Seen(s, w.address)) {
            if (w.coverage == Coverage::kEntry)
                ++inst->counters.local_hits;
            continue;
        }
        switch (w.coverage) {
            case Coverage::kEntry: {
                ++inst->counters.local_hits;
                Entry* e = HolderView(op, &w);
                if (!e)
                    break;
                if (SendExtra(op, e) == LDAP_SIZELIMIT_EXCEEDED)
                    return;
                sent = true;
                break;
            }
            case Coverage::kPointer:
            case Coverage::kDelegated:
                ++inst->counters.referrals;
                SendReference(op, w);
                sent = true;
                break;
            case Coverage::kAuthoritative:
                break;
            case Coverage::kNotChased:
                if (failure == LDAP_SUCCESS) {
                    failure = LDAP_UNWILLING_TO_PERFORM;
                    s->text = w.address.normalized() +
                              ": not held here, and this server chases only for signed "
                              "peers (keychase-require-signed)";
                }
                break;
            case Coverage::kNotCovered: {
                std::lock_guard<std::mutex> lock(s->mu);
                const Resolution& r = w.resolution;
                if (r.kind == Resolution::Kind::kFound && r.record) {
                    UpstreamEntry fetched;
                    if (!DecodeUpstreamEntry(*r.record, &fetched).ok())
                        break;
                    // Named by the address asked for, never by the DN the
                    // upstream chose (which could be any local DN).
                    struct berval dn;
                    if (!DnForClient(op, w, w.address.MemberDn(), &dn))
                        break;
                    Entry* e = MakeEntry(op, fetched, &dn, r);
                    ber_memfree(dn.bv_val);
                    if (!e)
                        break;
                    if (r.stale)
                        s->text = "served from cache past its TTL: no key server answered";
                    if (SendExtra(op, e) == LDAP_SIZELIMIT_EXCEEDED)
                        return;
                    sent = true;
                } else if (r.kind == Resolution::Kind::kUnavailable) {
                    if (failure == LDAP_SUCCESS) {
                        failure = FailureCode(r.chase);
                        s->text = w.address.normalized() + ": " + r.reason;
                    }
                } else if (op->ors_scope == LDAP_SCOPE_BASE &&
                           dn_match(&op->o_req_ndn, &w.member_ndn)) {
                    base_missing_member = true;
                }
                break;
            }
        }
    }
    // The base may exist only upstream (a catch-all database): what was
    // learnt there is the answer, not the local noSuchObject; a base search
    // of a member that does not exist stays noSuchObject.
    bool asked_elsewhere = std::any_of(s->wanted.begin(), s->wanted.end(), [](const Wanted& w) {
        return w.coverage == Coverage::kNotCovered || w.coverage == Coverage::kDelegated ||
               w.coverage == Coverage::kPointer;
    });
    if (rs->sr_err == LDAP_NO_SUCH_OBJECT && (sent || asked_elsewhere) && !base_missing_member) {
        rs->sr_err = LDAP_SUCCESS;
        rs->sr_matched = nullptr;
    }
    if (failure != LDAP_SUCCESS &&
        (rs->sr_err == LDAP_SUCCESS || rs->sr_err == LDAP_NO_SUCH_OBJECT)) {
        rs->sr_err = failure;
        rs->sr_matched = nullptr;
    }
    // A search that looks up no address and was held back: it is told so
    // (sizeLimitExceeded), not left to read the entries as all there is.
    if (s->withheld && s->wanted.empty() && rs->sr_err == LDAP_SUCCESS) {
        rs->sr_err = LDAP_SIZELIMIT_EXCEEDED;
        s->text =
            "member entries withheld: an anonymous search that looks up no address gets at "
            "most keychase-enumeration-limit of them";
    }
    if (!s->text.empty() && !rs->sr_text)
        rs->sr_text = s->text.c_str();
}

// An address lookup gets the references that lead to those addresses
// only: the pointers and delegations at or above their member DNs, not
// every referral entry in scope (a root holds one per zone or member).
bool RelevantReference(Search* s, Entry* e) {
    if (s->wanted.empty())
        return true;
    return std::any_of(s->wanted.begin(), s->wanted.end(), [e](const Wanted& w) {
        return w.member_ndn.bv_val &&
               dnIsSuffix(const_cast<struct berval*>(&w.member_ndn), &e->e_nname);
    });
}

int AnswerResponse(Operation* op, SlapReply* rs) {
    Search* s = static_cast<Search*>(op->o_callback->sc_private);
    KC_GUARD(SLAP_CB_CONTINUE, {
        if (rs->sr_type == REP_SEARCHREF && rs->sr_entry &&
            (!RelevantReference(s, rs->sr_entry) || !MaySend(s, rs->sr_entry))) {
            return 0;  // not sent
        }
        if (rs->sr_type == REP_SEARCH && rs->sr_entry && !MaySend(s, rs->sr_entry))
            return 0;  // not sent (nor counted by the backend)
        if (rs->sr_type == REP_SEARCH && rs->sr_entry) {
            NoteSent(s, rs->sr_entry);
            if (s->want_ttl)
                AddZoneTtl(op, rs, s);
        } else if (rs->sr_type == REP_RESULT) {
            // Our own sends re-enter this callback: detach first.
            slap_callback* self = op->o_callback;
            op->o_callback = self->sc_next;
            Answer(op, rs, s);
            op->o_callback = self;
        }
        return SLAP_CB_CONTINUE;
    })
}

int AnswerCleanup(Operation* op, SlapReply* rs) {
    if (rs->sr_type != REP_RESULT && !op->o_abandon && rs->sr_err != SLAPD_ABANDON)
        return 0;
    slap_callback** scp = &op->o_callback;
    while (*scp) {
        if ((*scp)->sc_cleanup == AnswerCleanup) {
            slap_callback* cb = *scp;
            *scp = cb->sc_next;
            Search* s = static_cast<Search*>(cb->sc_private);
            if (s->held_ref && !rs->sr_ref)
                rs->sr_ref = s->held_ref;
            delete s;
            op->o_tmpfree(cb, op->o_tmpmemctx);
            break;
        }
        scp = &(*scp)->sc_next;
    }
    return 0;
}

}  // namespace

slap_callback* AnswerCallback(Operation* op, Search* s) {
    slap_callback* cb =
        static_cast<slap_callback*>(op->o_tmpcalloc(1, sizeof(slap_callback), op->o_tmpmemctx));
    cb->sc_response = AnswerResponse;
    cb->sc_cleanup = AnswerCleanup;
    cb->sc_private = s;
    cb->sc_next = op->o_callback;
    op->o_callback = cb;
    return cb;
}

void ResolveHere(Search* s) {
    Instance* inst = Inst(s->on);
    size_t chases = 0;
    for (Wanted& w : s->wanted) {
        if (w.coverage != Coverage::kNotCovered || w.resolved)
            continue;
        if (!inst->resolver->FromCache(w.address, &w.resolution))
            w.resolution = chases++ < inst->settings.max_chases_per_search
                               ? inst->resolver->ResolveNow(w.address, s->hops)
                               : NotChased(inst->settings, false);
        w.resolved = true;
    }
}

extern "C" int kc_search(Operation* op, SlapReply* rs) {
    slap_overinst* on = reinterpret_cast<slap_overinst*>(op->o_bd->bd_info);
    KC_GUARD(SLAP_CB_CONTINUE, {
        Instance* inst = Inst(on);
        if (!inst->open || InHolderView())
            return SLAP_CB_CONTINUE;

        // A peer's request is verified before anything else.
        std::optional<VerifiedRequest> verified;
        bool peer = FromPeer(op);
        if (peer) {
            ++inst->counters.peer_requests;
            int rc = VerifyPeer(op, rs, inst, &verified);
            if (rc != LDAP_SUCCESS) {
                ++inst->counters.refused;
                return rc;
            }
            SignAnswer(op, inst, *verified);
        }

        std::vector<MailAddress> addresses;
        AddressesOfSearch(op, kMaxAddresses, &addresses);
        bool want_ttl = TtlAd() && ad_inlist(TtlAd(), op->ors_attrs);
        // Anonymous clients do not get the member list
        // (keychase-enumeration-limit); a paged search's later pages get
        // no more than its first.
        bool guarded = BER_BVISEMPTY(&op->o_ndn) && !be_isroot(op);
        size_t others = inst->settings.enumeration_limit;
        if (guarded && get_pagedresults(op) > SLAP_CONTROL_IGNORED) {
            auto* ps = static_cast<PagedResultsState*>(op->o_pagedresults_state);
            if (ps && ps->ps_cookieval.bv_len)
                others = 0;
        }
        if (addresses.empty() && !want_ttl && !guarded)
            return SLAP_CB_CONTINUE;

        // Who may make this server chase: its own users (unless only signed
        // peers may), and peers that ask for it where recursion is allowed.
        bool may_chase = inst->resolver != nullptr &&
                         (peer ? verified->recursion() && inst->settings.allow_recursion
                               : !inst->settings.require_signed);
        int hops = peer ? static_cast<int>(verified->hop_count()) : 0;

        auto s = std::make_unique<Search>();
        s->on = on;
        s->db = on->on_info->oi_origdb;
        s->want_ttl = want_ttl;
        s->guarded = guarded;
        s->others_left = others;
        s->hops = hops;
        int chases = 0;
        s->wanted.resize(addresses.size());
        for (size_t i = 0; i < addresses.size(); ++i) {
            Wanted& w = s->wanted[i];
            w.address = addresses[i];
            ++inst->counters.lookups;
            Classify(op, &w);
            if (w.coverage != Coverage::kNotCovered)
                continue;
            if (may_chase) {
                ++chases;
                continue;
            }
            // No chase: the cache may still know; otherwise this server
            // has nothing to add ("not found" from here).
            CacheAnswer cached = inst->cache ? inst->cache->Lookup(w.address) : CacheAnswer();
            if (cached.hit == CacheHit::kMiss) {
                // A client that this server refuses to chase for must not
                // read the refusal as "no such address".
                bool refused = inst->resolver && !peer && inst->settings.require_signed;
                w.coverage = refused ? Coverage::kNotChased : Coverage::kAuthoritative;
                continue;
            }
            w.resolution.kind = cached.hit == CacheHit::kPositive ? Resolution::Kind::kFound
                                                                  : Resolution::Kind::kNotFound;
            w.resolution.record = cached.record;
            w.resolution.from_cache = true;
            w.resolved = true;
        }
        if (chases == 0) {
            AnswerCallback(op, s.release());
            return SLAP_CB_CONTINUE;
        }
        return StartAsync(op, rs, s.release());
    })
}

}  // namespace keychase
}  // namespace keydir
