#include "write.h"

#include <algorithm>

#include "keys.h"

namespace keydir {
namespace backend {
namespace {

// Removes op's transaction from o_extra however fn leaves.
class AttachTxn {
  public:
    AttachTxn(Operation* op, KeydirDb* kd, Txn* t) : op_(op) {
        slot_.oe.oe_key = kd;
        slot_.txn = t;
        LDAP_SLIST_INSERT_HEAD(&op_->o_extra, &slot_.oe, oe_next);
    }
    ~AttachTxn() { LDAP_SLIST_REMOVE(&op_->o_extra, &slot_.oe, OpExtra, oe_next); }
    AttachTxn(const AttachTxn&) = delete;
    AttachTxn& operator=(const AttachTxn&) = delete;

  private:
    Operation* op_;
    KdOpTxn slot_;
};

bool KeyLess(const IndexKey& a, const IndexKey& b) {
    if (*a.index != *b.index)
        return *a.index < *b.index;
    return a.key < b.key;
}

}  // namespace

Status RunWrite(Operation* op, KeydirDb* kd, const std::function<Status(Txn&)>& fn, bool* noop) {
    *noop = false;
    bool aborted_for_noop = false;
    ++kd->writes;
    Status s = kd->store->Update([&](Txn& t) {
        aborted_for_noop = false;
        AttachTxn attach(op, kd, &t);
        Status r = fn(t);
        if (r.ok() && op->o_noop) {
            aborted_for_noop = true;
            return Status::Unavailable("no-op: aborted on purpose");
        }
        return r;
    });
    if (aborted_for_noop) {
        *noop = true;
        return Status::OK();
    }
    return s;
}

bool Committed(SlapReply* rs, const Status& s, bool noop) {
    rs->sr_err = LdapResult(s, &rs->sr_text);
    if (rs->sr_err == LDAP_SUCCESS && noop)
        rs->sr_err = LDAP_X_NO_OPERATION;
    return rs->sr_err == LDAP_SUCCESS;
}

Status ReadForUpdate(Txn& t, const std::string& key, EntryId* id, std::string* record) {
    Status r = t.FindId(key, id, true);
    if (r.ok())
        r = t.Get(*id, record, true);
    return r;
}

Status StoredIndexKeys(Operation* op, KeydirDb* kd, const std::string& record, EntryId id,
                       std::vector<IndexKey>* keys) {
    Entry* stored = nullptr;
    Status r = DecodeEntry(record, id, &stored);
    if (!r.ok())
        return r;
    int rc = EntryIndexKeys(op, kd, stored, keys);
    entry_free(stored);
    if (rc != LDAP_SUCCESS)
        return Status::Corruption("cannot compute index keys");
    return Status::OK();
}

Status ReadLeafForUpdate(Txn& t, const std::string& key, EntryId* id, std::string* record,
                         bool* gone, bool* nonleaf) {
    Status r = ReadForUpdate(t, key, id, record);
    if (r.IsNotFound())
        *gone = true;
    if (!r.ok())
        return r;
    bool children = false;
    r = t.HasChildren(key, &children);
    if (!r.ok())
        return r;
    if (children) {
        *nonleaf = true;
        return Status::InvalidArgument("entry has children");
    }
    return Status::OK();
}

Status DeleteLeaf(Operation* op, KeydirDb* kd, Txn& t, const std::string& key, bool* gone,
                  bool* nonleaf) {
    EntryId id;
    std::string record;
    std::vector<IndexKey> keys;
    Status r = ReadLeafForUpdate(t, key, &id, &record, gone, nonleaf);
    if (r.ok())
        r = StoredIndexKeys(op, kd, record, id, &keys);
    if (r.ok())
        r = ApplyIndexKeys(t, keys, id, false);
    if (r.ok())
        r = t.DeleteDn(key);
    if (r.ok())
        r = t.DeleteEntry(id);
    return r;
}

int UpdateEntry(Operation* op, KeydirDb* kd, Entry* current, const struct berval* name,
                const struct berval* nname, Modifications* modlist, Entry** updated,
                std::vector<IndexKey>* old_keys, std::vector<IndexKey>* new_keys, const char** text,
                char* textbuf, size_t textlen) {
    int rc = EntryIndexKeys(op, kd, current, old_keys);
    *updated = entry_dup(current);
    if (name) {
        ber_memfree((*updated)->e_name.bv_val);
        ber_memfree((*updated)->e_nname.bv_val);
        ber_dupbv(&(*updated)->e_name, const_cast<struct berval*>(name));
        ber_dupbv(&(*updated)->e_nname, const_cast<struct berval*>(nname));
    }
    if (rc == LDAP_SUCCESS)
        rc = ApplyModifications(op, *updated, modlist, text, textbuf, textlen);
    if (rc == LDAP_SUCCESS)
        rc = CheckMemberKeys(op, kd, *updated, current, false, text, textbuf, textlen);
    entry_free(current);
    if (rc == LDAP_SUCCESS)
        rc = EntryIndexKeys(op, kd, *updated, new_keys);
    if (rc == LDAP_SUCCESS)
        IndexDiff(old_keys, new_keys);
    return rc;
}

ReadControls::~ReadControls() {
    for (int i = 0; i < n_; ++i) {
        if (!ctrls_[i])
            continue;
        slap_sl_free(ctrls_[i]->ldctl_value.bv_val, op_->o_tmpmemctx);
        slap_sl_free(ctrls_[i], op_->o_tmpmemctx);
    }
}

bool ReadControls::Read(SlapReply* rs, Entry* e, struct berval* which, int flag) {
    if (!flag)
        return true;
    LDAPControl** slot = &ctrls_[n_++];
    *slot = nullptr;
    ctrls_[n_] = nullptr;
    if (slap_read_controls(op_, rs, e, which, slot) != LDAP_SUCCESS) {
        Debug(LDAP_DEBUG_TRACE, "keydir: read control failed\n");
        if (flag & SLAP_CONTROL_CRITICAL)
            return false;
    }
    return true;
}

bool ReadControls::PreRead(SlapReply* rs, Entry* e) {
    return Read(rs, e, const_cast<struct berval*>(&slap_pre_read_bv), op_->o_preread);
}

bool ReadControls::PostRead(SlapReply* rs, Entry* e) {
    return Read(rs, e, const_cast<struct berval*>(&slap_post_read_bv), op_->o_postread);
}

void IndexDiff(std::vector<IndexKey>* old_keys, std::vector<IndexKey>* new_keys) {
    // Without repeats: two values (or two tagged forms of one attribute)
    // that share a key keep it while either remains.
    auto key_equal = [](const IndexKey& a, const IndexKey& b) {
        return *a.index == *b.index && a.key == b.key;
    };
    for (std::vector<IndexKey>* v : {old_keys, new_keys}) {
        std::sort(v->begin(), v->end(), KeyLess);
        v->erase(std::unique(v->begin(), v->end(), key_equal), v->end());
    }
    std::vector<IndexKey> removed, added;
    std::set_difference(old_keys->begin(), old_keys->end(), new_keys->begin(), new_keys->end(),
                        std::back_inserter(removed), KeyLess);
    std::set_difference(new_keys->begin(), new_keys->end(), old_keys->begin(), old_keys->end(),
                        std::back_inserter(added), KeyLess);
    old_keys->swap(removed);
    new_keys->swap(added);
}

}  // namespace backend
}  // namespace keydir
