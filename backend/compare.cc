// Compare: slapd's slap_compare_entry (compare access, the assertion
// control, disclose) on the stored entry. Done here rather than left to the
// frontend's fallback so that a missing entry reports its closest ancestor
// as matched DN, and a referral its referral, as back-mdb does.
#include "back_keydir.h"

namespace keydir {
namespace backend {
namespace {

int Compare(Operation* op, SlapReply* rs) {
    Entry* e = nullptr;
    Entry* matched = nullptr;

    rs->sr_err = FetchEntry(op, &op->o_req_ndn, &e, &matched, &rs->sr_text);
    if (rs->sr_err == LDAP_NO_SUCH_OBJECT) {
        SendNoSuchObject(op, rs, matched, LDAP_SCOPE_DEFAULT);
        goto done;
    }
    if (rs->sr_err != LDAP_SUCCESS) {
        send_ldap_result(op, rs);
        goto done;
    }
    if (!get_manageDSAit(op) && is_entry_referral(e)) {
        if (access_allowed(op, e, slap_schema.si_ad_entry, nullptr, ACL_DISCLOSE, nullptr)) {
            SendEntryReferral(op, rs, e, LDAP_SCOPE_DEFAULT);
        } else {
            rs->sr_err = LDAP_NO_SUCH_OBJECT;
            send_ldap_result(op, rs);
        }
        goto done;
    }
    rs->sr_err = slap_compare_entry(op, e, op->orc_ava);
    send_ldap_result(op, rs);
    if (rs->sr_err == LDAP_COMPARE_TRUE || rs->sr_err == LDAP_COMPARE_FALSE)
        rs->sr_err = LDAP_SUCCESS;

done:
    if (e)
        entry_free(e);
    if (matched)
        entry_free(matched);
    return rs->sr_err;
}

}  // namespace

extern "C" int kd_compare(Operation* op, SlapReply* rs) {
    KD_GUARD_OP(op, rs, { return Compare(op, rs); })
}

}  // namespace backend
}  // namespace keydir
