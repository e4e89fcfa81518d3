// Add: the parent must exist (or the entry is the suffix), the schema and
// write access are checked as back-mdb does, then DN, entry and index keys
// are written in one transaction.
#include "keys.h"
#include "write.h"

namespace keydir {
namespace backend {
namespace {

// Checks the parent found for a new entry; sends the result and returns
// false when the add cannot go on.
bool CheckParent(Operation* op, SlapReply* rs, Entry* parent) {
    if (!access_allowed(op, parent, slap_schema.si_ad_children, nullptr, ACL_WADD, nullptr)) {
        rs->sr_err = LDAP_INSUFFICIENT_ACCESS;
        rs->sr_text = "no write access to parent";
        return false;
    }
    if (parent == RootEntry())
        return true;
    if (is_entry_subentry(parent)) {
        rs->sr_err = LDAP_OBJECT_CLASS_VIOLATION;
        rs->sr_text = "parent is a subentry";
        return false;
    }
    if (is_entry_alias(parent)) {
        rs->sr_err = LDAP_ALIAS_PROBLEM;
        rs->sr_text = "parent is an alias";
        return false;
    }
    return true;
}

int Add(Operation* op, SlapReply* rs) {
    KeydirDb* kd = Kd(op);
    Entry* e = op->ora_e;
    char textbuf[SLAP_TEXT_BUFLEN];
    Entry* existing = nullptr;
    Entry* matched = nullptr;
    Entry* parent = nullptr;
    struct berval pdn = BER_BVNULL;
    std::string key, parent_key, record;
    std::vector<IndexKey> keys;
    bool noop = false, parent_gone = false;
    EntryId id = 0;
    ReadControls controls(op);
    Status s;

    rs->sr_err = entry_schema_check(op, e, nullptr, get_relax(op), 1, nullptr, &rs->sr_text,
                                    textbuf, sizeof textbuf);
    if (rs->sr_err != LDAP_SUCCESS)
        goto send;
    InCsnOrder(
        kd, [&] { rs->sr_err = slap_add_opattrs(op, &rs->sr_text, textbuf, sizeof textbuf, 1); });
    if (rs->sr_err != LDAP_SUCCESS)
        goto send;
    rs->sr_err = CheckMemberKeys(op, kd, e, nullptr, false, &rs->sr_text, textbuf, sizeof textbuf);
    if (rs->sr_err != LDAP_SUCCESS)
        goto send;
    if (get_assert(op) && test_filter(op, e, AssertionFilter(op)) != LDAP_COMPARE_TRUE) {
        rs->sr_err = LDAP_ASSERTION_FAILED;
        goto send;
    }

    // The entry must not exist; what does exist above it must be its parent.
    rs->sr_err = FetchEntry(op, &e->e_nname, &existing, &matched, &rs->sr_text);
    if (rs->sr_err == LDAP_SUCCESS) {
        rs->sr_err = LDAP_ALREADY_EXISTS;
        goto send;
    }
    if (rs->sr_err != LDAP_NO_SUCH_OBJECT)
        goto send;
    if (be_issuffix(op->o_bd, &e->e_nname))
        pdn = slap_empty_bv;
    else
        dnParent(&e->e_nname, &pdn);
    if (pdn.bv_len == 0 || be_issuffix(op->o_bd, &e->e_nname)) {
        parent = RootEntry();
    } else if (matched && dn_match(&matched->e_nname, &pdn)) {
        parent = matched;
    } else {
        // The parent is missing: report the closest ancestor (where
        // disclose allows, as every other operation does).
        SendNoSuchObject(op, rs, matched, LDAP_SCOPE_DEFAULT);
        goto done;
    }
    if (!CheckParent(op, rs, parent))
        goto send;
    if (parent != RootEntry() && is_entry_referral(parent)) {
        SendEntryReferral(op, rs, parent, LDAP_SCOPE_DEFAULT);
        goto done;
    }
    if (!access_allowed(op, e, slap_schema.si_ad_entry, nullptr, ACL_WADD, nullptr)) {
        rs->sr_err = LDAP_INSUFFICIENT_ACCESS;
        rs->sr_text = "no write access to entry";
        goto send;
    }
    if (!acl_check_modlist(op, e, op->ora_modlist)) {
        rs->sr_err = LDAP_INSUFFICIENT_ACCESS;
        rs->sr_text = "no write access to attribute";
        goto send;
    }

    rs->sr_err = EntryIndexKeys(op, kd, e, &keys);
    if (rs->sr_err != LDAP_SUCCESS) {
        rs->sr_text = "index generation failed";
        goto send;
    }
    s = EncodeEntry(e, &record);
    if (s.ok())
        s = DnKey(&e->e_nname, &key);
    if (s.ok() && parent != RootEntry())
        s = DnKey(&parent->e_nname, &parent_key);
    if (!s.ok()) {
        rs->sr_err = LdapResult(s, &rs->sr_text);
        goto send;
    }
    if (!controls.PostRead(rs, e))
        goto send;  // the entry as it will be stored
    s = RunWrite(
        op, kd,
        [&](Txn& t) {
            parent_gone = false;
            Status r = t.AppendEntry(record, &id);
            if (r.ok() && parent != RootEntry()) {
                EntryId pid;
                r = t.FindId(parent_key, &pid);
                parent_gone = r.IsNotFound();
            }
            if (r.ok())
                r = t.InsertDn(key, id);
            if (r.ok())
                r = ApplyIndexKeys(t, keys, id, true);
            return r;
        },
        &noop);
    if (parent_gone) {
        rs->sr_err = LDAP_NO_SUCH_OBJECT;
        rs->sr_text = "the parent was deleted meanwhile";
        goto send;
    }
    if (!Committed(rs, s, noop))
        goto send;
    e->e_id = id;
    Debug(LDAP_DEBUG_TRACE, "keydir_add: added id=%08lx dn=\"%s\"\n", (unsigned long)id, e->e_dn);
    controls.Attach(rs);
    rs->sr_text = nullptr;

send:
    send_ldap_result(op, rs);
    rs->sr_ctrls = nullptr;
done:
    slap_graduate_commit_csn(op);
    if (existing)
        entry_free(existing);
    if (matched)
        entry_free(matched);
    return rs->sr_err;
}

}  // namespace

extern "C" int kd_add(Operation* op, SlapReply* rs) {
    KD_GUARD_OP(op, rs, { return Add(op, rs); })
}

}  // namespace backend
}  // namespace keydir
