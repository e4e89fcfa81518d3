// Search: base, one level, subtree and children scopes, any filter, size
// and time limits, paged results, referrals (continuation references), with
// back-mdb's access checks (search on the base, disclose before revealing a
// matched DN or referral; read and filter access are the frontend's).
#include <algorithm>
#include <iterator>

#include "back_keydir.h"
#include "keys.h"

namespace keydir {
namespace backend {
namespace {

Scope ToScope(int ldap_scope) {
    switch (ldap_scope) {
        case LDAP_SCOPE_BASE:
            return Scope::kBase;
        case LDAP_SCOPE_ONELEVEL:
            return Scope::kOneLevel;
        case LDAP_SCOPE_SUBORDINATE:
            return Scope::kChildren;
        default:
            return Scope::kSubtree;
    }
}

// Validates the client's paged-results cookie; the cookie is the ID of the
// last entry sent in the previous page.
int ParsePagedCookie(Operation* op, SlapReply* rs, EntryId* after) {
    PagedResultsState* ps = static_cast<PagedResultsState*>(op->o_pagedresults_state);
    *after = 0;
    if (ps->ps_cookieval.bv_len == 0) {
        op->o_conn->c_pagedresults_state.ps_cookie = 0;
        return LDAP_SUCCESS;
    }
    PagedResultsCookie cookie;
    if (ps->ps_cookieval.bv_len != sizeof cookie) {
        rs->sr_text = "paged results cookie is invalid";
        return LDAP_PROTOCOL_ERROR;
    }
    memcpy(&cookie, ps->ps_cookieval.bv_val, sizeof cookie);
    if (cookie > ps->ps_cookie) {
        rs->sr_text = "paged results cookie is invalid";
        return LDAP_PROTOCOL_ERROR;
    }
    if (cookie < ps->ps_cookie) {
        rs->sr_text = "paged results cookie is invalid or old";
        return LDAP_UNWILLING_TO_PERFORM;
    }
    *after = static_cast<EntryId>(cookie);
    return LDAP_SUCCESS;
}

// Ends a page: the response control carries the cookie (empty when done).
void SendPagedResponse(Operation* op, SlapReply* rs, EntryId last) {
    BerElementBuffer berbuf;
    BerElement* ber = reinterpret_cast<BerElement*>(&berbuf);
    ber_init2(ber, nullptr, LBER_USE_DER);
    PagedResultsCookie cookie = static_cast<PagedResultsCookie>(last);
    struct berval cv;
    if (last) {
        cv.bv_val = reinterpret_cast<char*>(&cookie);
        cv.bv_len = sizeof cookie;
    } else {
        cv.bv_val = const_cast<char*>("");
        cv.bv_len = 0;
    }
    PagedResultsState* ps = static_cast<PagedResultsState*>(op->o_pagedresults_state);
    op->o_conn->c_pagedresults_state.ps_cookie = cookie;
    op->o_conn->c_pagedresults_state.ps_count = ps->ps_count + rs->sr_nentries;
    ber_printf(ber, "{iO}", 0, &cv);  // size 0: no estimate
    LDAPControl* ctrls[2] = {nullptr, nullptr};
    ctrls[0] = static_cast<LDAPControl*>(op->o_tmpalloc(sizeof(LDAPControl), op->o_tmpmemctx));
    if (ber_flatten2(ber, &ctrls[0]->ldctl_value, 0) != -1) {
        ctrls[0]->ldctl_oid = const_cast<char*>(LDAP_CONTROL_PAGEDRESULTS);
        ctrls[0]->ldctl_iscritical = 0;
        slap_add_ctrls(op, rs, ctrls);
        rs->sr_err = LDAP_SUCCESS;
        send_ldap_result(op, rs);
    }
    ber_free_buf(ber);
}

// Whether slapd should see e at all in this search (subentries, glue).
bool Visible(Operation* op, Entry* e, bool manage_dsa_it) {
    if (is_entry_subentry(e)) {
        if (op->ors_scope != LDAP_SCOPE_BASE)
            return get_subentries_visibility(op);
        return !(get_subentries(op) && !get_subentries_visibility(op));
    }
    if (get_subentries_visibility(op))
        return false;
    if (!manage_dsa_it && is_entry_glue(e))
        return false;
    return true;
}

// Referral entries in scope answer as continuation references whatever
// the filter (RFC 3296), so an index's candidates gain them.
int AddReferralCandidates(Operation* op, KeydirDb* kd, std::vector<EntryId>* ids, bool* all) {
    AttributeAssertion ava = {};
    ava.aa_desc = slap_schema.si_ad_objectClass;
    ava.aa_value = slap_schema.si_oc_referral->soc_cname;
    Filter f = {};
    f.f_choice = LDAP_FILTER_EQUALITY;
    f.f_ava = &ava;
    std::vector<EntryId> refs, out;
    int rc = FilterCandidates(op, kd, &f, &refs, all);
    if (rc != LDAP_SUCCESS || *all)
        return rc;
    std::set_union(ids->begin(), ids->end(), refs.begin(), refs.end(), std::back_inserter(out));
    ids->swap(out);
    return LDAP_SUCCESS;
}

// size.unchecked counts an index's candidates, but as in back-mdb a search
// whose scope holds fewer entries than that (and no more than the limit)
// goes on over the scope: *ids becomes the candidates in scope. Not for
// unindexed or paged searches (back-mdb refuses those at once).
bool ScopeWithinUnchecked(Operation* op, KeydirDb* kd, bool unindexed_or_paged,
                          std::vector<EntryId>* ids) {
    if (unindexed_or_paged || op->ors_scope == LDAP_SCOPE_BASE)
        return false;
    std::string base_key;
    std::vector<EntryId> in_scope, both;
    if (!DnKey(&op->o_req_ndn, &base_key).ok() ||
        !kd->store->ScopeIds(base_key, ToScope(op->ors_scope), &in_scope).ok())
        return false;
    if (in_scope.size() > static_cast<size_t>(op->ors_limit->lms_s_unchecked) ||
        in_scope.size() >= ids->size())
        return false;
    std::set_intersection(ids->begin(), ids->end(), in_scope.begin(), in_scope.end(),
                          std::back_inserter(both));
    ids->swap(both);
    return true;
}

enum class Step { kNext, kStop };

// Sends one candidate if it is in scope and matches. kStop once a result
// has been sent (size limit, page full, error).
Step SendCandidate(Operation* op, SlapReply* rs, Entry* e, bool from_index, bool manage_dsa_it,
                   EntryId* last_sent) {
    if (from_index && op->o_req_ndn.bv_len &&
        !dnIsSuffixScope(&e->e_nname, &op->o_req_ndn, op->ors_scope))
        return Step::kNext;
    if (from_index && !op->o_req_ndn.bv_len && op->ors_scope == LDAP_SCOPE_ONELEVEL) {
        struct berval pdn;
        dnParent(&e->e_nname, &pdn);
        if (pdn.bv_len)
            return Step::kNext;
    }
    if (!Visible(op, e, manage_dsa_it))
        return Step::kNext;

    if (!manage_dsa_it && op->ors_scope != LDAP_SCOPE_BASE && is_entry_referral(e)) {
        BerVarray erefs = get_entry_referrals(op, e);
        rs->sr_ref = referral_rewrite(
            erefs, &e->e_name, nullptr,
            op->ors_scope == LDAP_SCOPE_ONELEVEL ? LDAP_SCOPE_BASE : LDAP_SCOPE_SUBTREE);
        rs->sr_entry = e;
        rs->sr_flags = 0;
        send_search_reference(op, rs);
        rs->sr_entry = nullptr;
        ber_bvarray_free(rs->sr_ref);
        ber_bvarray_free(erefs);
        rs->sr_ref = nullptr;
        return Step::kNext;
    }

    if (test_filter(op, e, op->ors_filter) != LDAP_COMPARE_TRUE)
        return Step::kNext;

    if (get_pagedresults(op) > SLAP_CONTROL_IGNORED) {
        PagedResultsState* ps = static_cast<PagedResultsState*>(op->o_pagedresults_state);
        if (rs->sr_nentries >= ps->ps_size) {
            SendPagedResponse(op, rs, *last_sent);
            return Step::kStop;
        }
    }
    // Members go out with their usable certificates only (keys.h).
    Entry* usable = manage_dsa_it ? nullptr : UsableCopy(Kd(op), e);
    rs->sr_attrs = op->ors_attrs;
    rs->sr_operational_attrs = nullptr;
    rs->sr_ctrls = nullptr;
    rs->sr_entry = usable ? usable : e;
    rs->sr_flags = 0;
    rs->sr_err = LDAP_SUCCESS;
    rs->sr_err = send_search_entry(op, rs);
    rs->sr_attrs = nullptr;
    rs->sr_entry = nullptr;
    if (usable)
        entry_free(usable);
    switch (rs->sr_err) {
        case LDAP_SUCCESS:
            *last_sent = e->e_id;
            return Step::kNext;
        case LDAP_BUSY:
            send_ldap_result(op, rs);
            return Step::kStop;
        case LDAP_SIZELIMIT_EXCEEDED:
            rs->sr_ref = rs->sr_v2ref;
            send_ldap_result(op, rs);
            rs->sr_err = LDAP_SUCCESS;
            return Step::kStop;
        case LDAP_UNAVAILABLE:
            rs->sr_err = LDAP_OTHER;
            return Step::kStop;
        default:
            return Step::kNext;  // entry not sent (access), go on
    }
}

// RFC 2798 clients (Outlook) ask for userSMIMECertificate;binary, which
// slapd's schema refuses (;binary belongs to certificate syntaxes) and
// back-mdb answers with nothing: here it gets userSMIMECertificate.
void AcceptSmimeBinary(Operation* op) {
    static AttributeDescription* smime = [] {
        AttributeDescription* ad = nullptr;
        const char* text = nullptr;
        return slap_str2ad("userSMIMECertificate", &ad, &text) == LDAP_SUCCESS ? ad : nullptr;
    }();
    static const struct berval binary_name = BER_BVC("userSMIMECertificate;binary");
    if (!smime)
        return;
    for (AttributeName* an = op->ors_attrs; an && an->an_name.bv_val; ++an)
        if (an->an_name.bv_len == binary_name.bv_len &&
            strncasecmp(an->an_name.bv_val, binary_name.bv_val, binary_name.bv_len) == 0)
            an->an_desc = smime;
}

int Search(Operation* op, SlapReply* rs) {
    KeydirDb* kd = Kd(op);
    AcceptSmimeBinary(op);
    ++kd->searches;
    bool manage_dsa_it = get_manageDSAit(op);
    bool null_base = op->o_req_ndn.bv_len == 0;
    Entry* base = nullptr;
    Entry* matched = nullptr;
    std::vector<EntryId> ids;
    bool all = false;
    std::string base_key;
    time_t stoptime = op->o_time + op->ors_tlimit;
    EntryId after = 0, last_sent = 0;
    bool paged = get_pagedresults(op) > SLAP_CONTROL_IGNORED;
    slap_mask_t mask;
    Status s;

    if (null_base && op->ors_scope == LDAP_SCOPE_BASE) {
        // Only internal searches get here (clients get the root DSE):
        // syncprov looks for its context entry.
        rs->sr_err = FetchEntry(op, &op->o_req_ndn, &base, nullptr, &rs->sr_text);
        if (rs->sr_err != LDAP_SUCCESS) {
            send_ldap_result(op, rs);
            goto done;
        }
    } else if (!null_base) {
        rs->sr_err = FetchEntry(op, &op->o_req_ndn, &base, &matched, &rs->sr_text);
        if (rs->sr_err == LDAP_NO_SUCH_OBJECT) {
            SendNoSuchObject(op, rs, matched, op->ors_scope);
            goto done;
        }
        if (rs->sr_err != LDAP_SUCCESS) {
            send_ldap_result(op, rs);
            goto done;
        }
        if (!access_allowed_mask(op, base, slap_schema.si_ad_entry, nullptr, ACL_SEARCH, nullptr,
                                 &mask)) {
            rs->sr_err =
                ACL_GRANT(mask, ACL_DISCLOSE) ? LDAP_INSUFFICIENT_ACCESS : LDAP_NO_SUCH_OBJECT;
            send_ldap_result(op, rs);
            goto done;
        }
        if (!manage_dsa_it && is_entry_referral(base)) {
            SendEntryReferral(op, rs, base, op->ors_scope);
            goto done;
        }
        if (get_assert(op) && test_filter(op, base, AssertionFilter(op)) != LDAP_COMPARE_TRUE) {
            rs->sr_err = LDAP_ASSERTION_FAILED;
            send_ldap_result(op, rs);
            goto done;
        }
    }

    // Candidates: the base alone, the index's answer, or all in scope.
    if (op->ors_scope == LDAP_SCOPE_BASE) {
        if (base)
            ids.push_back(base->e_id);
    } else {
        rs->sr_err = FilterCandidates(op, kd, op->ors_filter, &ids, &all);
        if (rs->sr_err == LDAP_SUCCESS && !all && !manage_dsa_it)
            rs->sr_err = AddReferralCandidates(op, kd, &ids, &all);
        if (rs->sr_err == LDAP_SUCCESS && all) {
            DnKey(&op->o_req_ndn, &base_key);
            s = kd->store->ScopeIds(base_key, ToScope(op->ors_scope), &ids);
            rs->sr_err = LdapResult(s, &rs->sr_text);
        }
        if (rs->sr_err != LDAP_SUCCESS) {
            send_ldap_result(op, rs);
            goto done;
        }
    }
    if (op->ors_limit && op->ors_limit->lms_s_unchecked != -1 &&
        ids.size() > static_cast<size_t>(op->ors_limit->lms_s_unchecked) &&
        !ScopeWithinUnchecked(op, kd, all || paged, &ids)) {
        rs->sr_err = LDAP_ADMINLIMIT_EXCEEDED;
        send_ldap_result(op, rs);
        rs->sr_err = LDAP_SUCCESS;
        goto done;
    }
    if (paged) {
        rs->sr_err = ParsePagedCookie(op, rs, &after);
        if (rs->sr_err != LDAP_SUCCESS) {
            send_ldap_result(op, rs);
            goto done;
        }
        PagedResultsState* ps = static_cast<PagedResultsState*>(op->o_pagedresults_state);
        if (after && ps->ps_size == 0) {
            rs->sr_err = LDAP_SUCCESS;
            rs->sr_text = "search abandoned by pagedResult size=0";
            send_ldap_result(op, rs);
            goto done;
        }
    }

    for (EntryId id : ids) {
        if (after && id <= after)
            continue;
        if (op->o_abandon) {
            rs->sr_err = SLAPD_ABANDON;
            send_ldap_result(op, rs);
            goto done;
        }
        if (slapd_shutdown) {
            rs->sr_err = LDAP_UNAVAILABLE;
            send_ldap_disconnect(op, rs);
            goto done;
        }
        if (op->ors_tlimit != SLAP_NO_LIMIT && slap_get_time() > stoptime) {
            rs->sr_err = LDAP_TIMELIMIT_EXCEEDED;
            rs->sr_ref = rs->sr_v2ref;
            send_ldap_result(op, rs);
            rs->sr_err = LDAP_SUCCESS;
            goto done;
        }
        Entry* e = nullptr;
        if (base && id == base->e_id) {
            e = base;
        } else {
            std::shared_ptr<const std::string> record;
            s = kd->store->GetShared(id, &record);
            if (s.IsNotFound())
                continue;  // deleted since the candidates were read
            if (s.ok())
                s = DecodeEntry(*record, id, &e);
            if (!s.ok()) {
                rs->sr_err = LdapResult(s, &rs->sr_text);
                send_ldap_result(op, rs);
                goto done;
            }
        }
        Step step = SendCandidate(op, rs, e, !all, manage_dsa_it, &last_sent);
        if (e != base)
            entry_free(e);
        if (step == Step::kStop)
            goto done;
    }

    rs->sr_ctrls = nullptr;
    rs->sr_ref = rs->sr_v2ref;
    rs->sr_err = rs->sr_v2ref ? LDAP_REFERRAL : LDAP_SUCCESS;
    rs->sr_rspoid = nullptr;
    if (paged)
        SendPagedResponse(op, rs, 0);
    else
        send_ldap_result(op, rs);
    rs->sr_err = LDAP_SUCCESS;

done:
    if (base)
        entry_free(base);
    if (matched)
        entry_free(matched);
    if (rs->sr_v2ref) {
        ber_bvarray_free(rs->sr_v2ref);
        rs->sr_v2ref = nullptr;
    }
    return rs->sr_err;
}

}  // namespace

extern "C" int kd_search(Operation* op, SlapReply* rs) {
    KD_GUARD_OP(op, rs, { return Search(op, rs); })
}

}  // namespace backend
}  // namespace keydir
