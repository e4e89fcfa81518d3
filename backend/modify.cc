// Modify: every modification type (add, delete, replace, increment and
// slapd's internal soft variants), applied to the entry as stored inside the
// write transaction, then schema-checked, re-encoded and re-indexed.
#include "keys.h"
#include "write.h"

namespace keydir {
namespace backend {

// Applies modlist to e (a private copy). Returns an LDAP code; *text says
// what failed. Write access is checked per attribute first.
int ApplyModifications(Operation* op, Entry* e, Modifications* modlist, const char** text,
                       char* textbuf, size_t textlen) {
    if (!acl_check_modlist(op, e, modlist))
        return LDAP_INSUFFICIENT_ACCESS;
    Attribute* save_attrs = e->e_attrs;
    e->e_attrs = attrs_dup(e->e_attrs);
    int rc = LDAP_SUCCESS;
    bool objectclass_changed = false;
    int permissive = get_permissiveModify(op);
    for (Modifications* ml = modlist; ml && rc == LDAP_SUCCESS; ml = ml->sml_next) {
        Modification* mod = &ml->sml_mod;
        if (mod->sm_desc == slap_schema.si_ad_objectClass)
            objectclass_changed = true;
        switch (mod->sm_op) {
            case LDAP_MOD_ADD:
                rc = modify_add_values(e, mod, permissive, text, textbuf, textlen);
                break;
            case LDAP_MOD_DELETE:
                rc = modify_delete_values(e, mod, permissive, text, textbuf, textlen);
                break;
            case LDAP_MOD_REPLACE:
                rc = modify_replace_values(e, mod, permissive, text, textbuf, textlen);
                break;
            case LDAP_MOD_INCREMENT:
                rc = modify_increment_values(e, mod, permissive, text, textbuf, textlen);
                break;
            case SLAP_MOD_SOFTADD:
                mod->sm_op = LDAP_MOD_ADD;
                rc = modify_add_values(e, mod, permissive, text, textbuf, textlen);
                mod->sm_op = SLAP_MOD_SOFTADD;
                if (rc == LDAP_TYPE_OR_VALUE_EXISTS)
                    rc = LDAP_SUCCESS;
                break;
            case SLAP_MOD_SOFTDEL:
                mod->sm_op = LDAP_MOD_DELETE;
                rc = modify_delete_values(e, mod, permissive, text, textbuf, textlen);
                mod->sm_op = SLAP_MOD_SOFTDEL;
                if (rc == LDAP_NO_SUCH_ATTRIBUTE)
                    rc = LDAP_SUCCESS;
                break;
            case SLAP_MOD_ADD_IF_NOT_PRESENT:
                if (attr_find(e->e_attrs, mod->sm_desc))
                    break;
                mod->sm_op = LDAP_MOD_ADD;
                rc = modify_add_values(e, mod, permissive, text, textbuf, textlen);
                mod->sm_op = SLAP_MOD_ADD_IF_NOT_PRESENT;
                break;
            default:
                rc = LDAP_PROTOCOL_ERROR;
                *text = "unknown modification type";
        }
    }
    if (rc == LDAP_SUCCESS) {
        *text = nullptr;
        if (objectclass_changed)
            e->e_ocflags = 0;
        rc = entry_schema_check(op, e, save_attrs, get_relax(op), 0, nullptr, text, textbuf,
                                textlen);
    }
    if (rc == LDAP_SUCCESS) {
        attrs_free(save_attrs);
    } else {
        attrs_free(e->e_attrs);
        e->e_attrs = save_attrs;
    }
    return rc;
}

namespace {

int Modify(Operation* op, SlapReply* rs) {
    KeydirDb* kd = Kd(op);
    char textbuf[SLAP_TEXT_BUFLEN];
    Entry* e = nullptr;
    Entry* matched = nullptr;
    Entry* updated = nullptr;
    std::string key;
    bool noop = false, gone = false;
    int mod_rc = LDAP_SUCCESS;
    ReadControls controls(op);
    Status s;

    if (!be_isupdate(op) || !op->orm_modlist || op->orm_modlist->sml_next ||
        op->orm_modlist->sml_desc != slap_schema.si_ad_contextCSN)
        InCsnOrder(kd, [&] { slap_mods_opattrs(op, &op->orm_modlist, 1); });

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
    if (get_assert(op) && test_filter(op, e, AssertionFilter(op)) != LDAP_COMPARE_TRUE) {
        rs->sr_err = LDAP_ASSERTION_FAILED;
        goto send;
    }
    if (!controls.PreRead(rs, e))
        goto send;
    if (DnKey(&e->e_nname, &key).ok() == false) {
        rs->sr_err = LDAP_INVALID_DN_SYNTAX;
        goto send;
    }

    s = RunWrite(
        op, kd,
        [&](Txn& t) {
            gone = false;
            mod_rc = LDAP_SUCCESS;
            if (updated)
                entry_free(updated);
            updated = nullptr;
            EntryId id = kRootEntryId;
            std::string record;
            bool root = IsNullSuffixRoot(op, key);
            Status r =
                root ? ReadRootRecord(&t, kd, &record, true) : ReadForUpdate(t, key, &id, &record);
            gone = r.IsNotFound();
            if (!r.ok())
                return r;
            Entry* current = nullptr;
            r = DecodeEntry(record, id, &current);
            if (!r.ok())
                return r;
            std::vector<IndexKey> old_keys, new_keys;
            int rc = UpdateEntry(op, kd, current, nullptr, nullptr, op->orm_modlist, &updated,
                                 &old_keys, &new_keys, &rs->sr_text, textbuf, sizeof textbuf);
            if (rc != LDAP_SUCCESS) {
                mod_rc = rc;
                return Status::InvalidArgument("modification refused");
            }
            if (root)
                old_keys.clear(), new_keys.clear();  // searches never list the root
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
    if (gone) {
        rs->sr_err = LDAP_NO_SUCH_OBJECT;
        rs->sr_text = "the entry was deleted meanwhile";
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
    if (e)
        entry_free(e);
    if (matched)
        entry_free(matched);
    if (updated)
        entry_free(updated);
    return rs->sr_err;
}

}  // namespace

extern "C" int kd_modify(Operation* op, SlapReply* rs) {
    KD_GUARD_OP(op, rs, { return Modify(op, rs); })
}

}  // namespace backend
}  // namespace keydir
