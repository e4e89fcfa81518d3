// Entries: slapd Entry <-> store record, fetching by DN, and the entry-get
// hooks that ACL groups and overlays (syncprov ...) use.
//
// A record is slapd's own entry_encode() form. Decoding places the berval
// arrays and the data in one block (e_bv), as entry_decode() expects; the
// DNs are copied out so that entry_free() can free the entry as usual.
#include "back_keydir.h"

#include <cstring>

namespace keydir {
namespace backend {

Txn* OpTxn(Operation* op, KeydirDb* kd) {
    OpExtra* oex;
    LDAP_SLIST_FOREACH(oex, &op->o_extra, oe_next) {
        if (oex->oe_key == kd)
            return reinterpret_cast<KdOpTxn*>(oex)->txn;
    }
    return nullptr;
}

int LdapResult(const Status& s, const char** text) {
    if (!s.ok())
        Debug(LDAP_DEBUG_TRACE, "keydir: store: %s\n", s.ToString().c_str());
    switch (s.code()) {
        case Status::Code::kOk:
            return LDAP_SUCCESS;
        case Status::Code::kNotFound:
            return LDAP_NO_SUCH_OBJECT;
        case Status::Code::kExists:
            return LDAP_ALREADY_EXISTS;
        case Status::Code::kBusy:
        case Status::Code::kTimedOut:
            *text = "the database is busy, try again";
            return LDAP_BUSY;
        case Status::Code::kNoSpace:
            *text = "the database is out of space";
            return LDAP_UNAVAILABLE;
        case Status::Code::kUnavailable:
            *text = "the database is unavailable";
            return LDAP_UNAVAILABLE;
        case Status::Code::kCorruption:
            Debug(LDAP_DEBUG_ANY, "keydir: %s\n", s.ToString().c_str());
            *text = "database corruption detected";
            return LDAP_OTHER;
        default:
            Debug(LDAP_DEBUG_ANY, "keydir: %s\n", s.ToString().c_str());
            *text = "database error";
            return LDAP_OTHER;
    }
}

Status DnKey(const struct berval* ndn, std::string* key) {
    return DnKeyFromDn(std::string_view(ndn->bv_val ? ndn->bv_val : "", ndn->bv_len), key);
}

Status EncodeEntry(Entry* e, std::string* record) {
    struct berval bv = BER_BVNULL;
    if (entry_encode(e, &bv) != 0)
        return Status::InvalidArgument("entry_encode failed");
    record->assign(bv.bv_val, bv.bv_len);
    ch_free(bv.bv_val);
    return Status::OK();
}

Status DecodeEntry(std::string_view record, EntryId id, Entry** out) {
    // entry_header reads the counts at the front of the record.
    EntryHeader eh;
    std::memset(&eh, 0, sizeof eh);
    eh.bv.bv_val = const_cast<char*>(record.data());
    eh.bv.bv_len = record.size();
    if (record.size() < 2 || entry_header(&eh) != LDAP_SUCCESS || eh.nvals < 0 || eh.nattrs < 0)
        return Status::Corruption("bad entry record");
    size_t offset = eh.data - record.data();
    size_t arrays = static_cast<size_t>(eh.nvals) * sizeof(struct berval);
    char* block = static_cast<char*>(ch_malloc(arrays + record.size()));
    std::memcpy(block + arrays, record.data(), record.size());
    eh.bv.bv_val = block;
    eh.bv.bv_len = arrays + record.size();
    eh.data = block + arrays + offset;
    Entry* e = nullptr;
    if (entry_decode(&eh, &e) != 0 || e == nullptr) {
        ch_free(block);
        return Status::Corruption("entry_decode failed");
    }
    // Own the DNs separately: entry_free() frees them one by one.
    struct berval name, nname;
    ber_dupbv(&name, &e->e_name);
    ber_dupbv(&nname, &e->e_nname);
    e->e_name = name;
    e->e_nname = nname;
    e->e_id = id;
    *out = e;
    return Status::OK();
}

bool IsNullSuffixRoot(Operation* op, const std::string& key) {
    return key.empty() && op->o_bd->be_nsuffix && op->o_bd->be_nsuffix[0].bv_len == 0;
}

Entry* GlueEntry(const struct berval* name, const struct berval* nname) {
    static struct berval glue = BER_BVC("glue");
    Entry* e = entry_alloc();
    ber_dupbv(&e->e_name, const_cast<struct berval*>(name));
    ber_dupbv(&e->e_nname, const_cast<struct berval*>(nname));
    attr_merge_one(e, slap_schema.si_ad_objectClass, &glue, nullptr);
    attr_merge_one(e, slap_schema.si_ad_structuralObjectClass, &glue, nullptr);
    return e;
}

Entry* GlueRootEntry() {
    Entry* e = GlueEntry(&slap_empty_bv, &slap_empty_bv);
    e->e_id = kRootEntryId;
    return e;
}

Status ReadRootRecord(Txn* t, KeydirDb* kd, std::string* record, bool for_update) {
    Status s = t ? t->Get(kRootEntryId, record, for_update) : kd->store->Get(kRootEntryId, record);
    if (!s.IsNotFound())
        return s;
    Entry* glue = GlueRootEntry();
    s = EncodeEntry(glue, record);
    entry_free(glue);
    return s;
}

namespace {

// Reads and decodes the entry with this key (through op's transaction if
// it has one).
Status ReadEntry(Operation* op, KeydirDb* kd, const std::string& key, Entry** e) {
    Txn* t = OpTxn(op, kd);
    if (IsNullSuffixRoot(op, key)) {
        std::string record;
        Status s = ReadRootRecord(t, kd, &record, false);
        return s.ok() ? DecodeEntry(record, kRootEntryId, e) : s;
    }
    EntryId id;
    Status s = t ? t->FindId(key, &id) : kd->store->FindId(key, &id);
    if (!s.ok())
        return s;
    std::string own;
    std::shared_ptr<const std::string> shared;
    s = t ? t->Get(id, &own) : kd->store->GetShared(id, &shared);
    if (s.IsNotFound() && !t) {
        // Outside a transaction the DN and the entry are two reads: a
        // delete may have committed between them.
        EntryId again;
        Status s2 = kd->store->FindId(key, &again);
        if (s2.IsNotFound() || (s2.ok() && again != id))
            return Status::NotFound("the entry was deleted while it was read");
    }
    if (s.IsNotFound())
        return Status::Corruption("dn2id names a missing entry");
    if (!s.ok())
        return s;
    return DecodeEntry(shared ? std::string_view(*shared) : std::string_view(own), id, e);
}

}  // namespace

int FetchEntry(Operation* op, const struct berval* ndn, Entry** e, Entry** matched,
               const char** text) {
    KeydirDb* kd = Kd(op);
    *e = nullptr;
    if (matched)
        *matched = nullptr;
    std::string key;
    Status s = DnKey(ndn, &key);
    if (!s.ok()) {
        *text = "malformed DN";
        return LDAP_INVALID_DN_SYNTAX;
    }
    s = ReadEntry(op, kd, key, e);
    if (s.ok())
        return LDAP_SUCCESS;
    if (!s.IsNotFound())
        return LdapResult(s, text);
    if (!matched)
        return LDAP_NO_SUCH_OBJECT;

    // Closest existing ancestor inside this database.
    struct berval pdn = *ndn;
    struct berval* suffix = &op->o_bd->be_nsuffix[0];
    while (pdn.bv_len > suffix->bv_len) {
        dnParent(&pdn, &pdn);
        if (!dnIsSuffix(&pdn, suffix))
            break;
        if (DnKey(&pdn, &key).ok() && ReadEntry(op, kd, key, matched).ok())
            break;
        *matched = nullptr;
        if (pdn.bv_len == 0)
            break;
    }
    return LDAP_NO_SUCH_OBJECT;
}

extern "C" int kd_entry_get(Operation* op, struct berval* ndn, ObjectClass* oc,
                            AttributeDescription* at, int rw, Entry** ent) {
    (void)rw;
    KD_GUARD(LDAP_OTHER, {
        Entry* e = nullptr;
        const char* text = nullptr;
        int rc = FetchEntry(op, ndn, &e, nullptr, &text);
        if (rc != LDAP_SUCCESS)
            return rc;
        if (oc && !is_entry_objectclass(e, oc, 0)) {
            entry_free(e);
            return LDAP_NO_SUCH_ATTRIBUTE;
        }
        if (at && attr_find(e->e_attrs, at) == nullptr) {
            entry_free(e);
            return LDAP_NO_SUCH_ATTRIBUTE;
        }
        *ent = e;
        return LDAP_SUCCESS;
    })
}

extern "C" int kd_entry_release(Operation* op, Entry* e, int rw) {
    (void)op;
    (void)rw;
    if (e)
        entry_free(e);
    return 0;
}

extern "C" int kd_has_subordinates(Operation* op, Entry* e, int* has_subordinates) {
    KD_GUARD(LDAP_OTHER, {
        KeydirDb* kd = Kd(op);
        std::string key;
        if (!DnKey(&e->e_nname, &key).ok())
            return LDAP_OTHER;
        bool has = false;
        Txn* t = OpTxn(op, kd);
        Status s = t ? t->HasChildren(key, &has) : kd->store->HasChildren(key, &has);
        if (!s.ok())
            return LDAP_OTHER;
        *has_subordinates = has ? LDAP_COMPARE_TRUE : LDAP_COMPARE_FALSE;
        return LDAP_SUCCESS;
    })
}

}  // namespace backend
}  // namespace keydir

namespace keydir {
namespace backend {

// Adds hasSubordinates to an entry being returned when the client asked
// for it (by name or with "+").
extern "C" int kd_operational(Operation* op, SlapReply* rs) {
    KD_GUARD(LDAP_SUCCESS, {
        Attribute** ap;
        for (ap = &rs->sr_operational_attrs; *ap; ap = &(*ap)->a_next)
            if ((*ap)->a_desc == slap_schema.si_ad_hasSubordinates)
                return LDAP_SUCCESS;
        if (attr_find(rs->sr_entry->e_attrs, slap_schema.si_ad_hasSubordinates))
            return LDAP_SUCCESS;
        if (!SLAP_OPATTRS(rs->sr_attr_flags) &&
            !ad_inlist(slap_schema.si_ad_hasSubordinates, rs->sr_attrs))
            return LDAP_SUCCESS;
        int has = LDAP_COMPARE_FALSE;
        if (kd_has_subordinates(op, rs->sr_entry, &has) == LDAP_SUCCESS)
            *ap = slap_operational_hasSubordinate(has == LDAP_COMPARE_TRUE);
        return LDAP_SUCCESS;
    })
}

}  // namespace backend
}  // namespace keydir
