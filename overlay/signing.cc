#include "signing.h"

#include <string>

namespace keydir {
namespace keychase {
namespace {

LdapEntry ToLdapEntry(const UpstreamEntry& e) {
    LdapEntry out;
    out.dn = e.dn;
    for (const UpstreamAttribute& a : e.attributes)
        out.attributes.push_back({a.name, a.values});
    return out;
}

class SignedAnswerCheck : public HopCheck {
  public:
    SignedAnswerCheck(SigningContext* ctx, SignedRequest sent)
        : ctx_(ctx), sent_(std::move(sent)) {}
    Status Verify(const UpstreamResponse& resp) override {
        AnswerVerifier v = ctx_->StartAnswerCheck(sent_);
        for (const UpstreamResponse::Item& item : resp.order) {
            if (item.is_reference)
                v.AddReference(resp.references[item.index]);
            else
                v.AddEntry(ToLdapEntry(resp.entries[item.index]));
        }
        const std::string* control = nullptr;
        for (const LdapControlValue& c : resp.controls)
            if (c.oid == kSignatureControlOid)
                control = &c.value;
        VerifyOutcome o = v.Finish(resp.result_code, resp.referrals, control);
        if (o.ok())
            return Status::OK();
        return Status::PermissionDenied(o.text);
    }

  private:
    SigningContext* ctx_;
    SignedRequest sent_;
};

// The parts of the request a signature covers, as slapd parsed them.
SearchRequestParts RequestParts(Operation* op, const PeerControl* pc) {
    SearchRequestParts p;
    p.base_dn.assign(op->o_req_dn.bv_val ? op->o_req_dn.bv_val : "", op->o_req_dn.bv_len);
    p.scope = static_cast<uint8_t>(op->ors_scope);
    p.deref = static_cast<uint8_t>(op->ors_deref);
    p.size_limit = pc->size_limit > 0 ? static_cast<uint32_t>(pc->size_limit) : 0;
    p.time_limit = pc->time_limit > 0 ? static_cast<uint32_t>(pc->time_limit) : 0;
    p.types_only = op->ors_attrsonly != 0;
    p.manage_dsa_it = get_manageDSAit(op) != 0;
    p.filter.assign(op->ors_filterstr.bv_val ? op->ors_filterstr.bv_val : "",
                    op->ors_filterstr.bv_len);
    for (AttributeName* an = op->ors_attrs; an && an->an_name.bv_val; ++an)
        p.attributes.emplace_back(an->an_name.bv_val, an->an_name.bv_len);
    return p;
}

// --- signing the answer --------------------------------------------------

struct AnswerState {
    Instance* inst;
    AnswerSigner signer;
    struct berval value = BER_BVNULL;  // the control's value, freed after the result
};

// Would slapd send attribute ad of this search at all?
bool Requested(Operation* op, AttributeDescription* ad) {
    AttributeName* attrs = op->ors_attrs;
    if (is_at_operational(ad->ad_type))
        return an_find(attrs, slap_bv_all_operational_attrs) || ad_inlist(ad, attrs);
    return !attrs || an_find(attrs, slap_bv_all_user_attrs) || ad_inlist(ad, attrs);
}

// The entry exactly as it will go out: requested attributes, and the
// values this client may read. It replaces the one in rs, so that slapd's
// own filtering finds nothing more to remove and the signature covers
// what is sent.
Entry* AsSent(Operation* op, Entry* e, LdapEntry* canonical) {
    Entry* out = entry_alloc();
    ber_dupbv(&out->e_name, &e->e_name);
    ber_dupbv(&out->e_nname, &e->e_nname);
    canonical->dn.assign(e->e_name.bv_val, e->e_name.bv_len);
    AccessControlState acl_state = ACL_STATE_INIT;
    for (Attribute* a = e->e_attrs; a; a = a->a_next) {
        if (!Requested(op, a->a_desc))
            continue;
        if (!access_allowed(op, e, a->a_desc, nullptr, ACL_READ, &acl_state))
            continue;
        std::vector<struct berval> vals, nvals;
        LdapAttribute la;
        la.description.assign(a->a_desc->ad_cname.bv_val, a->a_desc->ad_cname.bv_len);
        for (unsigned i = 0; i < a->a_numvals; ++i) {
            if (!access_allowed(op, e, a->a_desc, &a->a_nvals[i], ACL_READ, &acl_state))
                continue;
            vals.push_back(a->a_vals[i]);
            nvals.push_back(a->a_nvals[i]);
            if (!op->ors_attrsonly)
                la.values.emplace_back(a->a_vals[i].bv_val, a->a_vals[i].bv_len);
        }
        if (vals.empty())
            continue;
        vals.push_back(BER_BVNULL);
        nvals.push_back(BER_BVNULL);
        attr_merge(out, a->a_desc, vals.data(), a->a_nvals == a->a_vals ? nullptr : nvals.data());
        canonical->attributes.push_back(std::move(la));
    }
    return out;
}

int SignResponse(Operation* op, SlapReply* rs) {
    AnswerState* st = static_cast<AnswerState*>(op->o_callback->sc_private);
    KC_GUARD(SLAP_CB_CONTINUE, {
        if (rs->sr_type == REP_SEARCH && rs->sr_entry) {
            if (!access_allowed(op, rs->sr_entry, slap_schema.si_ad_entry, nullptr, ACL_READ,
                                nullptr))
                return SLAP_CB_CONTINUE;  // slapd will not send it either
            LdapEntry canonical;
            Entry* sent = AsSent(op, rs->sr_entry, &canonical);
            rs_replace_entry(op, rs, nullptr, sent);
            rs->sr_flags |= REP_ENTRY_MUSTBEFREED;
            st->signer.AddEntry(canonical);
        } else if (rs->sr_type == REP_SEARCHREF && rs->sr_ref) {
            std::vector<std::string> urls;
            for (int i = 0; rs->sr_ref[i].bv_val; ++i)
                urls.emplace_back(rs->sr_ref[i].bv_val, rs->sr_ref[i].bv_len);
            st->signer.AddReference(urls);
        } else if (rs->sr_type == REP_RESULT) {
            std::vector<std::string> referrals;
            if (rs->sr_err == LDAP_REFERRAL && rs->sr_ref)
                for (int i = 0; rs->sr_ref[i].bv_val; ++i)
                    referrals.emplace_back(rs->sr_ref[i].bv_val, rs->sr_ref[i].bv_len);
            std::string value;
            Status s = st->signer.Finish(rs->sr_err, referrals, &value);
            if (!s.ok()) {
                Debug(LDAP_DEBUG_ANY, "%s keychase: the answer cannot be signed: %s\n",
                      op->o_log_prefix, s.ToString().c_str());
                return SLAP_CB_CONTINUE;
            }
            LDAPControl* c =
                static_cast<LDAPControl*>(op->o_tmpalloc(sizeof(LDAPControl), op->o_tmpmemctx));
            c->ldctl_oid = const_cast<char*>(kSignatureControlOid);
            struct berval bv = {value.size(), const_cast<char*>(value.data())};
            ber_dupbv(&st->value, &bv);
            c->ldctl_value = st->value;
            c->ldctl_iscritical = 0;
            LDAPControl* ctrls[2] = {c, nullptr};
            slap_add_ctrls(op, rs, ctrls);
        }
        return SLAP_CB_CONTINUE;
    })
}

int SignCleanup(Operation* op, SlapReply* rs) {
    if (rs->sr_type != REP_RESULT && !op->o_abandon && rs->sr_err != SLAPD_ABANDON)
        return 0;
    for (slap_callback** scp = &op->o_callback; *scp; scp = &(*scp)->sc_next) {
        if ((*scp)->sc_cleanup == SignCleanup) {
            slap_callback* cb = *scp;
            *scp = cb->sc_next;
            AnswerState* st = static_cast<AnswerState*>(cb->sc_private);
            ber_memfree(st->value.bv_val);
            delete st;
            op->o_tmpfree(cb, op->o_tmpmemctx);
            break;
        }
    }
    return 0;
}

}  // namespace

Status UpstreamSigning::Prepare(const ChaseStep& step, UpstreamRequest* request,
                                std::unique_ptr<HopCheck>* check) {
    if (inst_->settings.sign_key.empty() || !inst_->signing)
        return Status::OK();
    SearchRequestParts parts;
    parts.base_dn = request->base_dn;
    parts.scope = static_cast<uint8_t>(request->scope);
    parts.time_limit = static_cast<uint32_t>(request->time_limit_seconds);
    parts.filter = request->filter;
    parts.attributes = request->attributes;
    SignedRequest sent;
    Status s = inst_->signing->SignRequest(inst_->settings.sign_key, inst_->settings.sign_algorithm,
                                           parts, static_cast<uint32_t>(step.hop_count),
                                           step.recursion, step.server.ServerKey(), &sent);
    if (!s.ok())
        return s;
    request->controls.push_back({kSignatureControlOid, sent.control_value(), true});
    check->reset(new SignedAnswerCheck(inst_->signing.get(), std::move(sent)));
    return Status::OK();
}

std::vector<std::string> RequestControlOids(Operation* op) {
    std::vector<std::string> oids;
    for (LDAPControl** c = op->o_ctrls; c && *c; ++c)
        oids.emplace_back((*c)->ldctl_oid ? (*c)->ldctl_oid : "");
    return oids;
}

namespace {

// Refuses a peer request, unsigned; the text lives in op memory until sent.
int RefusePeer(Operation* op, SlapReply* rs, int code, const std::string& why) {
    Debug(LDAP_DEBUG_STATS, "%s keychase: refused a peer request: %s\n", op->o_log_prefix,
          why.c_str());
    struct berval text = {why.size(), const_cast<char*>(why.c_str())}, copy;
    ber_dupbv_x(&copy, &text, op->o_tmpmemctx);
    rs->sr_err = code;
    rs->sr_text = copy.bv_val;
    send_ldap_result(op, rs);
    rs->sr_text = nullptr;
    op->o_tmpfree(copy.bv_val, op->o_tmpmemctx);
    return rs->sr_err;
}

}  // namespace

int VerifyPeer(Operation* op, SlapReply* rs, Instance* inst,
               std::optional<VerifiedRequest>* verified) {
    // What a server may show depends on who is bound, which the signature
    // does not cover: a relay that binds its own low account would get a
    // genuinely signed "no entries". keychase's own peers never bind.
    if (!BER_BVISEMPTY(&op->o_ndn))
        return RefusePeer(op, rs, LDAP_UNWILLING_TO_PERFORM,
                          "a signed request must come on an anonymous connection (the answer "
                          "would depend on the bind identity, which the signature does not cover)");
    const PeerControl* pc = static_cast<const PeerControl*>(op->o_controls[keychase_cid]);
    std::string value(pc->value.bv_val ? pc->value.bv_val : "", pc->value.bv_len);
    VerifyOutcome v = inst->signing->CheckRequestControls(RequestControlOids(op));
    if (v.ok())
        v = inst->signing->VerifyRequest(&value, RequestParts(op, pc), verified);
    if (v.ok())
        return LDAP_SUCCESS;
    return RefusePeer(op, rs, SuggestedLdapResultCode(v.result), v.text);
}

void SignAnswer(Operation* op, Instance* inst, const VerifiedRequest& verified) {
    slap_callback* cb =
        static_cast<slap_callback*>(op->o_tmpcalloc(1, sizeof(slap_callback), op->o_tmpmemctx));
    cb->sc_response = SignResponse;
    cb->sc_cleanup = SignCleanup;
    cb->sc_private = new AnswerState{inst, inst->signing->StartAnswer(verified)};
    cb->sc_next = op->o_callback;
    op->o_callback = cb;
}

}  // namespace keychase
}  // namespace keydir
