// Simple bind against the rootdn (slapd's be_rootdn_bind) or an entry's
// userPassword; every failure is invalidCredentials, as with back-mdb, so
// that a bind does not tell which entries exist.
#include "back_keydir.h"

namespace keydir {
namespace backend {
namespace {

int Bind(Operation* op, SlapReply* rs) {
    Entry* e = nullptr;
    Attribute* a;
    switch (be_rootdn_bind(op, nullptr)) {
        case LDAP_SUCCESS:
            return rs->sr_err = LDAP_SUCCESS;  // the frontend sends the result
        default:
            break;  // not the rootdn (or a wrong rootpw): the entry may still bind
    }
    rs->sr_err = FetchEntry(op, &op->o_req_ndn, &e, nullptr, &rs->sr_text);
    if (rs->sr_err == LDAP_NO_SUCH_OBJECT) {
        rs->sr_err = LDAP_INVALID_CREDENTIALS;
        goto done;
    }
    if (rs->sr_err != LDAP_SUCCESS)
        goto done;
    ber_dupbv(&op->orb_edn, &e->e_name);
    if (is_entry_subentry(e) || is_entry_alias(e) || is_entry_referral(e)) {
        rs->sr_err = LDAP_INVALID_CREDENTIALS;
        goto done;
    }
    if (op->orb_method != LDAP_AUTH_SIMPLE) {
        rs->sr_err = LDAP_STRONG_AUTH_NOT_SUPPORTED;
        rs->sr_text = "authentication method not supported";
        goto done;
    }
    a = attr_find(e->e_attrs, slap_schema.si_ad_userPassword);
    if (!a || slap_passwd_check(op, e, a, &op->orb_cred, &rs->sr_text) != 0) {
        rs->sr_err = LDAP_INVALID_CREDENTIALS;
        goto done;
    }
    rs->sr_err = LDAP_SUCCESS;

done:
    if (e)
        entry_free(e);
    if (rs->sr_err != LDAP_SUCCESS)
        send_ldap_result(op, rs);
    return rs->sr_err;
}

}  // namespace

extern "C" int kd_bind(Operation* op, SlapReply* rs) {
    KD_GUARD_OP(op, rs, { return Bind(op, rs); })
}

}  // namespace backend
}  // namespace keydir
