// ModRDN: renames an entry, optionally under a new superior in the same
// database (a new superior in another database is refused with
// affectsMultipleDSAs by the frontend). An entry with subordinates takes its
// whole subtree along, in the same transaction: each descendant's DN key
// and stored DN change, its ID stays (so its index keys, which come from
// attribute values, stay right). A subtree of more than kMaxRenamedSubtree
// descendants is refused with adminLimitExceeded.
#include "keys.h"
#include "write.h"

namespace keydir {
namespace backend {
namespace {

// The most descendants one modrdn moves: every one is rewritten under a
// write lock in one transaction, which must fit in the lock table (see
// lib/store) and not hold up other writers for long.
constexpr size_t kMaxRenamedSubtree = 20000;

// The first `rdns` RDNs of dn (without the separator after them).
struct berval LeadingRdns(const struct berval* dn, size_t rdns) {
    struct berval rest = *dn;
    for (size_t i = 0; i < rdns; ++i) {
        struct berval parent;
        dnParent(&rest, &parent);
        rest = parent;
    }
    struct berval lead;
    lead.bv_val = dn->bv_val;
    lead.bv_len = rest.bv_len ? dn->bv_len - rest.bv_len - 1 : dn->bv_len;
    return lead;
}

// Replaces one DN of an entry by `lead`, a comma, `tail` (false, with the
// DN as it was, when there is no memory for it).
bool SetDn(struct berval* dn, const struct berval& lead, const struct berval* tail) {
    std::string s(lead.bv_val, lead.bv_len);
    s.push_back(',');
    s.append(tail->bv_val, tail->bv_len);
    struct berval replacement;
    if (!ber_str2bv(s.c_str(), s.size(), 1, &replacement))
        return false;
    ber_memfree(dn->bv_val);
    *dn = replacement;
    return true;
}

// Moves the descendants of the entry at old_key (depth: its number of RDNs)
// under new_key, named under name/nname, in t.
Status MoveDescendants(Txn& t, const std::string& old_key, const std::string& new_key,
                       const std::vector<std::pair<std::string, EntryId>>& subtree,
                       const struct berval* name, const struct berval* nname) {
    size_t depth = DnKeyDepth(old_key);
    Status r;
    // The old DN keys go first, then the new ones (the two subtrees are
    // disjoint: the new DN is free and the new superior outside).
    for (const auto& d : subtree)
        if (!(r = t.DeleteDn(d.first)).ok())
            return r;
    for (const auto& d : subtree) {
        std::string record;
        Entry* de = nullptr;
        r = t.Get(d.second, &record, true);
        if (r.ok())
            r = DecodeEntry(record, d.second, &de);
        if (!r.ok())
            return r;
        size_t rdns = DnKeyDepth(d.first) - depth;
        if (SetDn(&de->e_name, LeadingRdns(&de->e_name, rdns), name) &&
            SetDn(&de->e_nname, LeadingRdns(&de->e_nname, rdns), nname))
            r = EncodeEntry(de, &record);
        else
            r = Status::NoSpace("out of memory");
        entry_free(de);
        if (r.ok())
            r = t.PutEntry(d.second, record);
        if (r.ok())
            r = t.InsertDn(new_key + d.first.substr(old_key.size()), d.second);
        if (!r.ok())
            return r;
    }
    return Status::OK();
}

struct NewName {
    struct berval dn = BER_BVNULL;
    struct berval ndn = BER_BVNULL;
    Operation* op;
    explicit NewName(Operation* o) : op(o) {}
    ~NewName() {
        if (dn.bv_val)
            op->o_tmpfree(dn.bv_val, op->o_tmpmemctx);
        if (ndn.bv_val)
            op->o_tmpfree(ndn.bv_val, op->o_tmpmemctx);
    }
};

int ModRdn(Operation* op, SlapReply* rs) {
    KeydirDb* kd = Kd(op);
    char textbuf[SLAP_TEXT_BUFLEN];
    Entry* e = nullptr;
    Entry* matched = nullptr;
    Entry* old_parent = nullptr;
    Entry* new_parent = nullptr;
    Entry* updated = nullptr;
    Entry* fetched_old_parent = nullptr;
    struct berval opdn = BER_BVNULL, new_parent_dn = BER_BVNULL;
    NewName name(op);
    std::string old_key, new_key, new_parent_key;
    bool noop = false, gone = false, parent_gone = false, too_big = false;
    int mod_rc = LDAP_SUCCESS;
    const char* text = nullptr;
    ReadControls controls(op);
    Status s;

    InCsnOrder(kd, [&] { slap_mods_opattrs(op, &op->orr_modlist, 1); });

    rs->sr_err = FetchEntry(op, &op->o_req_ndn, &e, &matched, &rs->sr_text);
    if (rs->sr_err == LDAP_NO_SUCH_OBJECT) {
        SendNoSuchObject(op, rs, matched, LDAP_SCOPE_DEFAULT);
        goto done;
    }
    if (rs->sr_err != LDAP_SUCCESS)
        goto send;
    if (!get_manageDSAit(op) && is_entry_referral(e)) {
        SendEntryReferral(op, rs, e, LDAP_SCOPE_DEFAULT);
        goto done;
    }
    if (!DnKey(&e->e_nname, &old_key).ok()) {
        rs->sr_err = LDAP_OTHER;
        rs->sr_text = "database error";
        goto send;
    }
    if (op->o_bd->be_nsuffix[0].bv_len && be_issuffix(op->o_bd, &e->e_nname)) {
        rs->sr_err = LDAP_NAMING_VIOLATION;  // as back-mdb: one suffix entry
        rs->sr_text = "cannot rename suffix entry";
        goto send;
    }

    // Access: the old parent's children, the entry, the new parent's children.
    if (be_issuffix(op->o_bd, &e->e_nname) || (dnParent(&e->e_nname, &opdn), opdn.bv_len == 0)) {
        old_parent = RootEntry();
    } else if (FetchEntry(op, &opdn, &fetched_old_parent, nullptr, &text) == LDAP_SUCCESS) {
        old_parent = fetched_old_parent;
    }
    if (old_parent && !access_allowed(op, old_parent, slap_schema.si_ad_children, nullptr,
                                      op->orr_newSup ? ACL_WDEL : ACL_WRITE, nullptr)) {
        rs->sr_err = LDAP_INSUFFICIENT_ACCESS;
        rs->sr_text = "no write access to parent's children";
        goto send;
    }
    if (!access_allowed(op, e, slap_schema.si_ad_entry, nullptr, ACL_WRITE, nullptr)) {
        rs->sr_err = LDAP_INSUFFICIENT_ACCESS;
        rs->sr_text = "no write access to entry";
        goto send;
    }
    if (get_assert(op) && test_filter(op, e, AssertionFilter(op)) != LDAP_COMPARE_TRUE) {
        rs->sr_err = LDAP_ASSERTION_FAILED;
        goto send;
    }
    if (op->orr_newSup) {
        if (dnIsSuffix(op->orr_nnewSup, &e->e_nname)) {
            // The entry itself or one below it: back-mdb's answer.
            rs->sr_err = LDAP_NO_SUCH_OBJECT;
            rs->sr_text = "new superior not found";
            goto send;
        }
        rs->sr_err = FetchEntry(op, op->orr_nnewSup, &new_parent, nullptr, &rs->sr_text);
        if (rs->sr_err == LDAP_NO_SUCH_OBJECT)
            rs->sr_text = "new superior not found";
        if (rs->sr_err != LDAP_SUCCESS)
            goto send;
        if (is_entry_referral(new_parent) || is_entry_alias(new_parent)) {
            rs->sr_err = LDAP_UNWILLING_TO_PERFORM;
            rs->sr_text = "new superior is a referral or an alias";
            goto send;
        }
        if (!access_allowed(op, new_parent, slap_schema.si_ad_children, nullptr, ACL_WADD,
                            nullptr)) {
            rs->sr_err = LDAP_INSUFFICIENT_ACCESS;
            rs->sr_text = "no write access to new superior's children";
            goto send;
        }
        new_parent_dn = new_parent->e_name;
        DnKey(&new_parent->e_nname, &new_parent_key);
    } else {
        dnParent(&e->e_name, &new_parent_dn);
    }
    build_new_dn(&name.dn, &new_parent_dn, &op->orr_newrdn, op->o_tmpmemctx);
    dnNormalize(0, nullptr, nullptr, &name.dn, &name.ndn, op->o_tmpmemctx);
    if (!DnKey(&name.ndn, &new_key).ok()) {
        rs->sr_err = LDAP_INVALID_DN_SYNTAX;
        goto send;
    }
    if (!controls.PreRead(rs, e))
        goto send;

    s = RunWrite(
        op, kd,
        [&](Txn& t) {
            gone = parent_gone = too_big = false;
            mod_rc = LDAP_SUCCESS;
            if (updated)
                entry_free(updated);
            updated = nullptr;
            EntryId id, pid;
            std::string record;
            std::vector<std::pair<std::string, EntryId>> subtree;
            Status r = ReadForUpdate(t, old_key, &id, &record);
            gone = r.IsNotFound();
            if (r.ok() && new_key != old_key) {
                r = t.Descendants(old_key, kMaxRenamedSubtree, &subtree);
                too_big = r.code() == Status::Code::kNoSpace;
            }
            if (!r.ok())
                return r;
            if (new_key != old_key) {
                // A taken DN is reported before the new RDN's schema, as back-mdb does.
                EntryId taken;
                r = t.FindId(new_key, &taken);
                if (r.ok())
                    return Status::Exists("the new DN exists");
                if (!r.IsNotFound())
                    return r;
            }
            if (!new_parent_key.empty()) {
                r = t.FindId(new_parent_key, &pid);
                if (r.IsNotFound())
                    parent_gone = true;
                if (!r.ok())
                    return r;
            }
            Entry* current = nullptr;
            r = DecodeEntry(record, id, &current);
            if (!r.ok())
                return r;
            std::vector<IndexKey> old_keys, new_keys;
            int rc = UpdateEntry(op, kd, current, &name.dn, &name.ndn, op->orr_modlist, &updated,
                                 &old_keys, &new_keys, &rs->sr_text, textbuf, sizeof textbuf);
            if (rc != LDAP_SUCCESS) {
                mod_rc = rc;
                return Status::InvalidArgument("modification refused");
            }
            if (new_key != old_key) {
                r = t.DeleteDn(old_key);
                if (r.ok())
                    r = t.InsertDn(new_key, id);
                if (r.ok())
                    r = MoveDescendants(t, old_key, new_key, subtree, &name.dn, &name.ndn);
            }
            if (r.ok())
                r = EncodeEntry(updated, &record);
            if (r.ok())
                r = t.PutEntry(id, record);
            if (r.ok())
                r = ApplyIndexKeys(t, old_keys, id, false);
            if (r.ok())
                r = ApplyIndexKeys(t, new_keys, id, true);
            return r;
        },
        &noop);
    if (mod_rc != LDAP_SUCCESS) {
        rs->sr_err = mod_rc;
        goto send;
    }
    if (too_big) {
        rs->sr_err = LDAP_ADMINLIMIT_EXCEEDED;
        rs->sr_text = "subtree too large to rename";
        goto send;
    }
    if (gone || parent_gone) {
        rs->sr_err = LDAP_NO_SUCH_OBJECT;
        rs->sr_text =
            gone ? "the entry was deleted meanwhile" : "new superior was deleted meanwhile";
        goto send;
    }
    if (!Committed(rs, s, noop))
        goto send;
    if (!controls.PostRead(rs, updated))
        goto send;
    controls.Attach(rs);
    rs->sr_text = nullptr;

send:
    send_ldap_result(op, rs);
    rs->sr_ctrls = nullptr;
done:
    slap_graduate_commit_csn(op);
    for (Entry* x : {e, matched, new_parent, updated, fetched_old_parent})
        if (x)
            entry_free(x);
    return rs->sr_err;
}

}  // namespace

extern "C" int kd_modrdn(Operation* op, SlapReply* rs) {
    KD_GUARD_OP(op, rs, { return ModRdn(op, rs); })
}

}  // namespace backend
}  // namespace keydir
