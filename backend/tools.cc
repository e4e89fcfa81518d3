// slapadd, slapcat, slapindex, slapmodify: slapd's tool-mode hooks.
//
// Tool mode runs one database at a time in one thread, so the iteration
// state lives here. slapadd writes each entry in its own transaction without
// syncing; closing the tool checkpoints, which makes everything durable.
//
// slapadd takes entries before their parents, as back-mdb does: a missing
// ancestor becomes a glue entry (objectClass glue, nothing else; searches
// show it only with ManageDsaIT), which the real entry replaces when it
// comes, keeping its ID. Glue that no entry replaced is reported when the
// tool closes, and slapadd fails, as back-mdb's "entries missing" does; the
// glue stays, so the tree is whole.
#include <map>

#include "back_keydir.h"
#include "keys.h"
#include "write.h"

namespace keydir {
namespace backend {
namespace {

struct ToolState {
    EntryId next = 0;     // slapcat: where the next scan starts (0: a null-suffix root)
    EntryId current = 0;  // the entry the last next() found
    std::string record;   // its record, for tool_entry_get
    struct berval* base = nullptr;
    int scope = LDAP_SCOPE_DEFAULT;
    Filter* filter = nullptr;
    bool reindex_started = false;
    // Glue entries this slapadd put and no entry has replaced yet, by DN key.
    std::map<std::string, std::pair<EntryId, std::string>> glue;
};

ToolState tool;

// A minimal operation for indexers and test_filter outside a connection.
struct ToolOp {
    Operation op = {};
    Opheader hdr = {};
    explicit ToolOp(BackendDB* be) {
        op.o_hdr = &hdr;
        op.o_bd = be;
        op.o_tmpmemctx = nullptr;
        op.o_tmpmfuncs = &ch_mfuncs;
    }
};

void SetText(struct berval* text, const std::string& msg) {
    if (!text || !text->bv_val)
        return;
    snprintf(text->bv_val, text->bv_len, "%s", msg.c_str());
}

// slapadd's replace (and slapindex): the old record's index keys go,
// the new record takes its place.
Status ReplaceRecord(Txn& t, Operation* op, KeydirDb* kd, EntryId id, const std::string& record) {
    std::string old_record;
    std::vector<IndexKey> old_keys;
    Status r = t.Get(id, &old_record, true);
    if (r.ok())
        r = StoredIndexKeys(op, kd, old_record, id, &old_keys);
    if (r.ok())
        r = ApplyIndexKeys(t, old_keys, id, false);
    if (r.ok())
        r = t.PutEntry(id, record);
    return r;
}

// Stores a new entry with its DN and index keys in one transaction.
Status AddNew(KeydirDb* kd, const std::string& key, const std::string& record,
              const std::vector<IndexKey>& keys, EntryId* id) {
    return kd->store->Update([&](Txn& t) {
        Status r = t.AppendEntry(record, id);
        if (r.ok())
            r = t.InsertDn(key, *id);
        if (r.ok())
            r = ApplyIndexKeys(t, keys, *id, true);
        return r;
    });
}

// Puts a glue entry at each missing ancestor of e, down to the suffix
// (which may be missing too), the highest first so that IDs grow downwards.
bool PutMissingAncestors(BackendDB* be, Operation* op, Entry* e, struct berval* text) {
    KeydirDb* kd = Kd(be);
    std::vector<std::pair<struct berval, struct berval>> missing;  // dn, ndn: parts of e's
    struct berval dn = e->e_name, ndn = e->e_nname;
    while (!be_issuffix(be, &ndn)) {
        struct berval pdn, pndn;
        dnParent(&dn, &pdn);
        dnParent(&ndn, &pndn);
        if (pndn.bv_len == 0 || !dnIsSuffix(&pndn, &be->be_nsuffix[0]))
            break;
        std::string pkey;
        EntryId pid;
        Status s = DnKey(&pndn, &pkey);
        if (s.ok())
            s = kd->store->FindId(pkey, &pid);
        if (s.ok())
            break;
        if (!s.IsNotFound()) {
            SetText(text, s.ToString());
            return false;
        }
        missing.emplace_back(pdn, pndn);
        dn = pdn;
        ndn = pndn;
    }
    for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
        Entry* glue = GlueEntry(&it->first, &it->second);
        std::string key, record;
        std::vector<IndexKey> keys;
        EntryId id = 0;
        Status s = DnKey(&glue->e_nname, &key);
        if (s.ok() && EntryIndexKeys(op, kd, glue, &keys) != LDAP_SUCCESS)
            s = Status::Corruption("index generation failed");
        if (s.ok())
            s = EncodeEntry(glue, &record);
        if (s.ok())
            s = AddNew(kd, key, record, keys, &id);
        if (s.ok())
            tool.glue[key] = {id, std::string(glue->e_name.bv_val, glue->e_name.bv_len)};
        entry_free(glue);
        if (!s.ok()) {
            SetText(text, "cannot add glue for a missing parent: " + s.ToString());
            return false;
        }
    }
    return true;
}

// The ID of the glue entry stored at key, if there is one: slapadd puts
// the real entry in its place.
bool StoredGlue(KeydirDb* kd, const std::string& key, EntryId* id) {
    std::string record;
    if (!kd->store->FindId(key, id).ok() || !kd->store->Get(*id, &record).ok())
        return false;
    Entry* stored = nullptr;
    if (!DecodeEntry(record, *id, &stored).ok())
        return false;
    bool glue = is_entry_glue(stored);
    entry_free(stored);
    return glue;
}

// Writes e (new when e->e_id is NOID) with its DN and index keys.
ID PutEntry(BackendDB* be, Entry* e, struct berval* text, bool replace) {
    KeydirDb* kd = Kd(be);
    ToolOp top(be);
    std::string key, parent_key, record;
    std::vector<IndexKey> keys;
    Status s = DnKey(&e->e_nname, &key);
    if (!s.ok()) {
        SetText(text, "malformed DN");
        return NOID;
    }
    EntryId glue_id;
    if (!replace && StoredGlue(kd, key, &glue_id)) {
        replace = true;  // the real entry takes the glue's place and ID
        e->e_id = glue_id;
    }
    bool at_root = be_issuffix(be, &e->e_nname);
    if (!at_root) {
        struct berval pdn;
        dnParent(&e->e_nname, &pdn);
        at_root = pdn.bv_len == 0;
        DnKey(&pdn, &parent_key);
    }
    char textbuf[SLAP_TEXT_BUFLEN];
    const char* why = nullptr;
    if (CheckMemberKeys(&top.op, kd, e, nullptr, true, &why, textbuf, sizeof textbuf) !=
        LDAP_SUCCESS) {
        SetText(text, why ? why : "certificate check failed");
        return NOID;
    }
    if (EntryIndexKeys(&top.op, kd, e, &keys) != LDAP_SUCCESS) {
        SetText(text, "index generation failed");
        return NOID;
    }
    s = EncodeEntry(e, &record);
    if (s.ok() && IsNullSuffixRoot(&top.op, key)) {
        // The root of a null-suffix database (what slapcat wrote of it).
        s = kd->store->Update([&](Txn& t) { return t.PutEntry(kRootEntryId, record); });
        if (!s.ok()) {
            SetText(text, s.ToString());
            return NOID;
        }
        e->e_id = kRootEntryId;
        return kRootEntryId;
    }
    if (s.ok() && !replace && !at_root && !PutMissingAncestors(be, &top.op, e, text))
        return NOID;
    EntryId id = replace ? e->e_id : 0;
    bool parent_missing = false;
    if (s.ok())
        s = kd->store->Update([&](Txn& t) {
            parent_missing = false;
            Status r;
            if (!replace)
                r = t.AppendEntry(record, &id);
            if (r.ok() && !at_root) {
                EntryId pid;
                r = t.FindId(parent_key, &pid);
                parent_missing = r.IsNotFound();
            }
            if (r.ok() && replace)
                r = ReplaceRecord(t, &top.op, kd, id, record);
            else if (r.ok())
                r = t.InsertDn(key, id);
            if (r.ok())
                r = ApplyIndexKeys(t, keys, id, true);
            return r;
        });
    if (parent_missing) {
        SetText(text, "parent entry does not exist");
        return NOID;
    }
    if (!s.ok()) {
        SetText(text, s.IsExists() ? "entry already exists" : s.ToString());
        return NOID;
    }
    e->e_id = id;
    tool.glue.erase(key);
    return id;
}

}  // namespace

extern "C" int kd_tool_entry_open(BackendDB* be, int mode) {
    (void)be;
    (void)mode;
    tool = ToolState();
    return 0;
}

extern "C" int kd_tool_entry_close(BackendDB* be) {
    KD_GUARD(-1, {
        KeydirDb* kd = Kd(be);
        if (kd->store && !(slapMode & SLAP_TOOL_READONLY)) {
            Status s = kd->store->Checkpoint();
            if (!s.ok()) {
                fprintf(stderr, "keydir: checkpoint at close failed: %s\n", s.ToString().c_str());
                return -1;
            }
        }
        bool missing = !tool.glue.empty();
        if (missing) {
            fprintf(stderr, "Error, entries missing (glue in their place)!\n");
            for (const auto& g : tool.glue)
                fprintf(stderr, "  entry %lu: %s\n", (unsigned long)g.second.first,
                        g.second.second.c_str());
        }
        tool = ToolState();
        return missing ? -1 : 0;
    })
}

extern "C" ID kd_tool_entry_first_x(BackendDB* be, struct berval* base, int scope, Filter* f) {
    // From ID 0: a null-suffix database's root entry (kRootEntryId) holds
    // syncprov's contextCSN, which a backup must keep, as back-mdb's does.
    tool.next = kRootEntryId;
    tool.base = base;
    tool.scope = scope;
    tool.filter = f;
    return kd_tool_entry_next(be);
}

extern "C" ID kd_tool_entry_next(BackendDB* be) {
    KD_GUARD(NOID, {
        KeydirDb* kd = Kd(be);
        ToolOp top(be);
        for (;;) {
            EntryId found = 0;
            bool any = false;
            Status s = kd->store->ForEach(tool.next, [&](EntryId id, std::string_view rec) {
                found = id;
                any = true;
                tool.record.assign(rec.data(), rec.size());
                return false;
            });
            if (!s.ok() || !any)
                return NOID;
            tool.next = found + 1;
            tool.current = found;
            if (!tool.base && !tool.filter)
                return found;
            Entry* e = nullptr;
            if (!DecodeEntry(tool.record, found, &e).ok())
                return NOID;
            bool ok = (!tool.base || dnIsSuffixScope(&e->e_nname, tool.base, tool.scope)) &&
                      (!tool.filter || test_filter(&top.op, e, tool.filter) == LDAP_COMPARE_TRUE);
            entry_free(e);
            if (ok)
                return found;
        }
    })
}

extern "C" Entry* kd_tool_entry_get(BackendDB* be, ID id) {
    KD_GUARD(nullptr, {
        KeydirDb* kd = Kd(be);
        if (id != tool.current || tool.record.empty()) {
            if (!kd->store->Get(id, &tool.record).ok())
                return nullptr;
            tool.current = id;
        }
        Entry* e = nullptr;
        if (!DecodeEntry(tool.record, id, &e).ok())
            return nullptr;
        return e;
    })
}

extern "C" ID kd_tool_entry_put(BackendDB* be, Entry* e, struct berval* text) {
    KD_GUARD(NOID, { return PutEntry(be, e, text, false); })
}

extern "C" ID kd_tool_entry_modify(BackendDB* be, Entry* e, struct berval* text) {
    KD_GUARD(NOID, { return PutEntry(be, e, text, true); })
}

extern "C" ID kd_tool_dn2id_get(BackendDB* be, struct berval* dn) {
    KD_GUARD(NOID, {
        std::string key;
        EntryId id;
        if (!DnKey(dn, &key).ok() || !Kd(be)->store->FindId(key, &id).ok())
            return NOID;
        return id;
    })
}

// slapindex: the first call empties the indexes being rebuilt (all of
// them, or those in adv), so that no stale key survives.
extern "C" int kd_tool_entry_reindex(BackendDB* be, ID id, AttributeDescription** adv) {
    KD_GUARD(-1, {
        KeydirDb* kd = Kd(be);
        ToolOp top(be);
        std::vector<IndexSpec> which;
        for (const IndexSpec& ix : kd->indexes) {
            bool wanted = !adv;
            for (int i = 0; adv && adv[i]; ++i)
                if (adv[i]->ad_type == ix.type)
                    wanted = true;
            if (wanted)
                which.push_back(ix);
        }
        if (!tool.reindex_started) {
            tool.reindex_started = true;
            for (const IndexSpec& ix : which) {
                Status s = kd->store->DropIndex(ix.name);
                if (s.ok())
                    s = kd->store->AddIndex(ix.name);
                if (!s.ok()) {
                    fprintf(stderr, "keydir: cannot rebuild index %s: %s\n", ix.name.c_str(),
                            s.ToString().c_str());
                    return -1;
                }
            }
        }
        Status s = kd->store->Update([&](Txn& t) {
            std::string record;
            Status r = t.Get(id, &record);
            if (!r.ok())
                return r;
            Entry* e = nullptr;
            r = DecodeEntry(record, id, &e);
            if (!r.ok())
                return r;
            std::vector<IndexKey> keys;
            for (const IndexSpec& ix : which)
                for (Attribute* a = e->e_attrs; a; a = a->a_next)
                    if (a->a_desc->ad_type == ix.type)
                        ValueIndexKeys(&top.op, ix, a->a_desc, a->a_nvals, &keys);
            entry_free(e);
            return ApplyIndexKeys(t, keys, id, true);
        });
        if (!s.ok()) {
            fprintf(stderr, "keydir: reindexing entry %lu: %s\n", (unsigned long)id,
                    s.ToString().c_str());
            return -1;
        }
        return 0;
    })
}

extern "C" int kd_tool_entry_delete(BackendDB* be, struct berval* ndn, struct berval* text) {
    KD_GUARD(LDAP_OTHER, {
        KeydirDb* kd = Kd(be);
        ToolOp top(be);
        std::string key;
        if (!DnKey(ndn, &key).ok()) {
            SetText(text, "malformed DN");
            return LDAP_INVALID_DN_SYNTAX;
        }
        bool nonleaf = false;
        Status s = kd->store->Update([&](Txn& t) {
            bool gone = false;
            return DeleteLeaf(&top.op, kd, t, key, &gone, &nonleaf);
        });
        if (nonleaf) {
            SetText(text, "entry has subordinates");
            return LDAP_NOT_ALLOWED_ON_NONLEAF;
        }
        if (s.IsNotFound()) {
            SetText(text, "no such entry");
            return LDAP_NO_SUCH_OBJECT;
        }
        if (!s.ok()) {
            SetText(text, s.ToString());
            return LDAP_OTHER;
        }
        return LDAP_SUCCESS;
    })
}

}  // namespace backend
}  // namespace keydir
