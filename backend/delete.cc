// Delete: leaf entries only (a non-leaf is refused with notAllowedOnNonLeaf),
// with delete access on the entry and on its parent's children.
#include "write.h"

namespace keydir {
namespace backend {
namespace {

int Delete(Operation* op, SlapReply* rs) {
    KeydirDb* kd = Kd(op);
    Entry* e = nullptr;
    Entry* matched = nullptr;
    Entry* parent = nullptr;
    Entry* parent_fetched = nullptr;
    struct berval pdn = BER_BVNULL;
    std::string key;
    bool noop = false, nonleaf = false, gone = false;
    ReadControls controls(op);
    Status s;

    // A delete carries no entryCSN of its own: syncprov (contextCSN, the
    // session log) takes the operation's, as for back-mdb.
    if (BER_BVISNULL(&op->o_csn)) {
        char csnbuf[LDAP_PVT_CSNSTR_BUFSIZE];
        struct berval csn = {sizeof csnbuf, csnbuf};
        InCsnOrder(kd, [&] { slap_get_csn(op, &csn, 1); });
    }
    rs->sr_err = FetchEntry(op, &op->o_req_ndn, &e, &matched, &rs->sr_text);
    if (rs->sr_err == LDAP_NO_SUCH_OBJECT) {
        SendNoSuchObject(op, rs, matched, LDAP_SCOPE_DEFAULT);
        goto done;
    }
    if (rs->sr_err != LDAP_SUCCESS)
        goto send;

    // Delete access on the parent's children, then on the entry.
    if (be_issuffix(op->o_bd, &e->e_nname) || (dnParent(&e->e_nname, &pdn), pdn.bv_len == 0)) {
        parent = RootEntry();
    } else {
        const char* text = nullptr;
        if (FetchEntry(op, &pdn, &parent_fetched, nullptr, &text) == LDAP_SUCCESS)
            parent = parent_fetched;
    }
    if (parent &&
        !access_allowed(op, parent, slap_schema.si_ad_children, nullptr, ACL_WDEL, nullptr)) {
        rs->sr_err = LDAP_INSUFFICIENT_ACCESS;
        rs->sr_text = "no write access to parent";
        goto send;
    }
    if (!access_allowed(op, e, slap_schema.si_ad_entry, nullptr, ACL_WDEL, nullptr)) {
        rs->sr_err = LDAP_INSUFFICIENT_ACCESS;
        rs->sr_text = "no write access to entry";
        goto send;
    }
    if (!get_manageDSAit(op) && is_entry_referral(e)) {
        SendEntryReferral(op, rs, e, LDAP_SCOPE_DEFAULT);
        goto done;
    }
    if (get_assert(op) && test_filter(op, e, AssertionFilter(op)) != LDAP_COMPARE_TRUE) {
        rs->sr_err = LDAP_ASSERTION_FAILED;
        goto send;
    }
    if (!controls.PreRead(rs, e))
        goto send;
    if (!DnKey(&e->e_nname, &key).ok()) {
        rs->sr_err = LDAP_INVALID_DN_SYNTAX;
        goto send;
    }

    s = RunWrite(
        op, kd,
        [&](Txn& t) {
            nonleaf = gone = false;
            return DeleteLeaf(op, kd, t, key, &gone, &nonleaf);
        },
        &noop);
    if (nonleaf) {
        rs->sr_err = LDAP_NOT_ALLOWED_ON_NONLEAF;
        rs->sr_text = "subordinate objects must be deleted first";
        goto send;
    }
    if (gone) {
        rs->sr_err = LDAP_NO_SUCH_OBJECT;
        rs->sr_text = "the entry was deleted meanwhile";
        goto send;
    }
    if (!Committed(rs, s, noop))
        goto send;
    controls.Attach(rs);
    rs->sr_text = nullptr;

send:
    send_ldap_result(op, rs);
    rs->sr_ctrls = nullptr;
done:
    slap_graduate_commit_csn(op);
    if (e)
        entry_free(e);
    if (matched)
        entry_free(matched);
    if (parent_fetched)
        entry_free(parent_fetched);
    return rs->sr_err;
}

}  // namespace

extern "C" int kd_delete(Operation* op, SlapReply* rs) {
    KD_GUARD_OP(op, rs, { return Delete(op, rs); })
}

}  // namespace backend
}  // namespace keydir
