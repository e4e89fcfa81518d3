// A member entry of a local database, as that database shows it to the
// client: keychase never answers from a stored copy of its own, because a
// copy skips what the holding database applies on the way out (its ACLs,
// evaluated at the entry's real DN for the client's identity, and
// back_keydir's usable-certificates filter).
#include "keychase.h"

namespace keydir {
namespace keychase {
namespace {

AttributeDescription* Pkcs12Ad() {
    static AttributeDescription* ad = NamedAd("userPKCS12");
    return ad;
}

// What the client may read of e under the ACLs of op->o_bd, without any
// private key: an attribute or value the client could not read is left
// out, so that a filter tested on the copy cannot reveal it either.
Entry* ReadableCopy(Operation* op, Entry* e) {
    if (!access_allowed(op, e, slap_schema.si_ad_entry, nullptr, ACL_READ, nullptr))
        return nullptr;
    Entry* copy = entry_alloc();
    ber_dupbv(&copy->e_name, &e->e_name);
    ber_dupbv(&copy->e_nname, &e->e_nname);
    for (Attribute* a = e->e_attrs; a; a = a->a_next) {
        if (a->a_desc == Pkcs12Ad() ||
            !access_allowed(op, e, a->a_desc, nullptr, ACL_READ, nullptr))
            continue;
        for (unsigned i = 0; i < a->a_numvals; ++i) {
            struct berval* nval = a->a_nvals ? &a->a_nvals[i] : &a->a_vals[i];
            if (access_allowed(op, e, a->a_desc, nval, ACL_READ, nullptr))
                attr_merge_one(copy, a->a_desc, &a->a_vals[i], nval);
        }
    }
    return copy;
}

struct Capture {
    Entry* entry = nullptr;
    int result = LDAP_OTHER;
};

// Keeps what the holding database sends; nothing reaches the client.
int CaptureResponse(Operation* op, SlapReply* rs) {
    Capture* c = static_cast<Capture*>(op->o_callback->sc_private);
    KC_GUARD(0, {
        if (rs->sr_type == REP_SEARCH && rs->sr_entry && !c->entry)
            c->entry = ReadableCopy(op, rs->sr_entry);
        else if (rs->sr_type == REP_RESULT)
            c->result = rs->sr_err;
        return 0;
    })
}

// Replaces e's names by dn; false (e unchanged) when dn is not a valid DN,
// e.g. longer than slapd allows.
bool Rename(Entry* e, struct berval* dn) {
    struct berval pretty = BER_BVNULL, normal = BER_BVNULL;
    if (dnPrettyNormal(nullptr, dn, &pretty, &normal, nullptr) != LDAP_SUCCESS)
        return false;
    ber_memfree(e->e_name.bv_val);
    ber_memfree(e->e_nname.bv_val);
    e->e_name = pretty;
    e->e_nname = normal;
    return true;
}

// Set while this thread runs HolderView's internal search: keychase on the
// holding database must let it through untouched (it could otherwise try
// to chase and go asynchronous on an Operation that lives on this stack).
thread_local bool in_holder_view = false;

struct HolderViewScope {
    HolderViewScope() { in_holder_view = true; }
    ~HolderViewScope() { in_holder_view = false; }
};

}  // namespace

bool InHolderView() {
    return in_holder_view;
}

Entry* HolderView(Operation* op, Wanted* w) {
    struct berval client_dn = BER_BVNULL;
    std::string real(w->local_dn.bv_val, w->local_dn.bv_len);
    if (!DnForClient(op, *w, real, &client_dn))
        return nullptr;

    // A base search of the member in its own database, made with the
    // client's identity and none of the client's controls (they were meant
    // for the database searched, not for this one).
    Capture capture;
    slap_callback cb = {};
    cb.sc_response = CaptureResponse;
    cb.sc_private = &capture;
    Operation op2 = *op;
    SlapReply rs2 = {REP_RESULT};
    op2.o_bd = w->local_db;
    op2.o_callback = &cb;
    op2.o_ctrls = nullptr;
    memset(op2.o_ctrlflag, 0, sizeof op2.o_ctrlflag);
    op2.o_req_dn = w->local_dn;
    op2.o_req_ndn = w->local_ndn;
    op2.ors_scope = LDAP_SCOPE_BASE;
    op2.ors_deref = LDAP_DEREF_NEVER;
    op2.ors_slimit = SLAP_NO_LIMIT;
    op2.ors_tlimit = SLAP_NO_LIMIT;
    op2.ors_limit = nullptr;
    op2.ors_attrsonly = 0;
    op2.ors_attrs = slap_anlist_all_attributes;
    op2.ors_filter = const_cast<Filter*>(slap_filter_objectClass_pres);
    op2.ors_filterstr = *slap_filterstr_objectClass_pres;
    int rc = LDAP_UNWILLING_TO_PERFORM;
    if (op2.o_bd->be_search) {
        HolderViewScope scope;
        rc = op2.o_bd->be_search(&op2, &rs2);
    }

    Entry* e = capture.entry;
    if (e && (rc != LDAP_SUCCESS || capture.result != LDAP_SUCCESS || !Rename(e, &client_dn))) {
        entry_free(e);
        e = nullptr;
    }
    ber_memfree(client_dn.bv_val);
    return e;
}

}  // namespace keychase
}  // namespace keydir
