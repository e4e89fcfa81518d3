// Referrals (RFC 3296): entries of class referral answer for themselves and
// for every DN below them, unless the client sends manageDSAit. Searches
// handle referrals themselves (continuation references); every other
// operation is checked here before it runs.
#include "back_keydir.h"

namespace keydir {
namespace backend {

void SendEntryReferral(Operation* op, SlapReply* rs, Entry* e, int scope) {
    BerVarray erefs = get_entry_referrals(op, e);
    rs->sr_ref = referral_rewrite(erefs, &e->e_name, &op->o_req_dn, scope);
    ber_bvarray_free(erefs);
    rs->sr_matched = e->e_name.bv_val;
    if (rs->sr_ref) {
        rs->sr_err = LDAP_REFERRAL;
    } else {
        rs->sr_err = LDAP_OTHER;
        rs->sr_text = "bad referral object";
    }
    send_ldap_result(op, rs);
    ber_bvarray_free(rs->sr_ref);
    rs->sr_ref = nullptr;
    rs->sr_matched = nullptr;
}

void SendNoSuchObject(Operation* op, SlapReply* rs, Entry* matched, int scope) {
    rs->sr_err = LDAP_NO_SUCH_OBJECT;
    if (matched &&
        access_allowed(op, matched, slap_schema.si_ad_entry, nullptr, ACL_DISCLOSE, nullptr)) {
        if (is_entry_referral(matched)) {
            SendEntryReferral(op, rs, matched, scope);
            return;
        }
        rs->sr_matched = matched->e_name.bv_val;
    }
    send_ldap_result(op, rs);
    rs->sr_matched = nullptr;
}

extern "C" int kd_referrals(Operation* op, SlapReply* rs) {
    KD_GUARD(LDAP_OTHER, {
        if (op->o_tag == LDAP_REQ_SEARCH || get_manageDSAit(op))
            return LDAP_SUCCESS;
        Entry* e = nullptr;
        Entry* matched = nullptr;
        int rc = FetchEntry(op, &op->o_req_ndn, &e, &matched, &rs->sr_text);
        if (rc == LDAP_NO_SUCH_OBJECT) {
            rc = LDAP_SUCCESS;
            // A referral above the target answers for it.
            if (matched && is_entry_referral(matched)) {
                SendEntryReferral(op, rs, matched, LDAP_SCOPE_DEFAULT);
                rc = rs->sr_err;
            }
        } else if (rc == LDAP_SUCCESS) {
            if (is_entry_referral(e)) {
                SendEntryReferral(op, rs, e, LDAP_SCOPE_DEFAULT);
                rc = rs->sr_err;
            }
        } else {
            // A storage error: the operation itself meets it and reports it.
            rs->sr_text = nullptr;
            rc = LDAP_SUCCESS;
        }
        if (e)
            entry_free(e);
        if (matched)
            entry_free(matched);
        return rc;
    })
}

}  // namespace backend
}  // namespace keydir
