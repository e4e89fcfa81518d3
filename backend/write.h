// Helpers shared by the write operations (add, modify, delete, modrdn).
#ifndef KEYDIR_BACKEND_WRITE_H
#define KEYDIR_BACKEND_WRITE_H

#include <functional>

#include "back_keydir.h"

namespace keydir {
namespace backend {

// Runs fn, which makes the operation's CSN (slap_add_opattrs,
// slap_mods_opattrs, slap_get_csn), while no other write of this database
// makes one. slapd queues each CSN as pending right after making it, and
// syncprov tells consumers they have everything up to the newest committed
// CSN that has no pending one before it in that queue. Two writers
// interleaving between making and queueing put a newer CSN before an older
// one: a consumer then skipped the older change as already seen. (back-mdb
// makes its CSNs inside its single write transaction.)
template <typename Fn>
void InCsnOrder(KeydirDb* kd, Fn&& fn) {
    std::lock_guard<std::mutex> lock(kd->csn_mutex);
    fn();
}

// Runs fn in one store transaction with the transaction attached to op (see
// back_keydir.h). With the no-op control the transaction runs in full and is
// then aborted; *noop tells the caller so.
Status RunWrite(Operation* op, KeydirDb* kd, const std::function<Status(Txn&)>& fn, bool* noop);

// What RunWrite's status and *noop mean for the client: true when the
// change was committed; else false with rs->sr_err (and sr_text) set.
bool Committed(SlapReply* rs, const Status& s, bool noop);

// Reads, for update, the entry at `key` (NotFound when there is none).
Status ReadForUpdate(Txn& t, const std::string& key, EntryId* id, std::string* record);

// The index keys of a stored record (Corruption when they cannot be
// computed): what a delete or a replace removes from the indexes.
Status StoredIndexKeys(Operation* op, KeydirDb* kd, const std::string& record, EntryId id,
                       std::vector<IndexKey>* keys);

// Reads, for update, the entry that delete is to change, which
// must be a leaf: *gone when there is no such entry (NotFound), *nonleaf
// when it has children (InvalidArgument).
Status ReadLeafForUpdate(Txn& t, const std::string& key, EntryId* id, std::string* record,
                         bool* gone, bool* nonleaf);

// Deletes the leaf entry at `key` with its DN and index keys, in t (ldapdelete
// and slapmodify); *gone and *nonleaf as ReadLeafForUpdate.
Status DeleteLeaf(Operation* op, KeydirDb* kd, Txn& t, const std::string& key, bool* gone,
                  bool* nonleaf);

// Pre-read and post-read controls (RFC 4527) of one operation.
class ReadControls {
  public:
    explicit ReadControls(Operation* op) : op_(op) { ctrls_[0] = nullptr; }
    ~ReadControls();
    ReadControls(const ReadControls&) = delete;
    ReadControls& operator=(const ReadControls&) = delete;
    // False if the control was critical and could not be built.
    bool PreRead(SlapReply* rs, Entry* e);
    bool PostRead(SlapReply* rs, Entry* e);
    void Attach(SlapReply* rs) {
        if (n_)
            rs->sr_ctrls = ctrls_;
    }

  private:
    bool Read(SlapReply* rs, Entry* e, struct berval* which, int flag);
    Operation* op_;
    LDAPControl* ctrls_[SLAP_MAX_RESPONSE_CONTROLS];
    int n_ = 0;
};

// Applies a modification list to e (a private, fully allocated copy):
// write access per attribute, every modification type, then the schema.
// Returns an LDAP code with *text; on failure e is as it was.
int ApplyModifications(Operation* op, Entry* e, Modifications* modlist, const char** text,
                       char* textbuf, size_t textlen);

// The index keys to remove and to add when an entry changes from old to new.
void IndexDiff(std::vector<IndexKey>* old_keys, std::vector<IndexKey>* new_keys);

// modify and modrdn: *updated becomes a copy of `current` (which is freed),
// renamed to `name` when it is given, with `modlist` applied and the member
// keys checked; *old_keys and *new_keys the index keys to remove and add.
// Returns an LDAP code with *text.
int UpdateEntry(Operation* op, KeydirDb* kd, Entry* current, const struct berval* name,
                const struct berval* nname, Modifications* modlist, Entry** updated,
                std::vector<IndexKey>* old_keys, std::vector<IndexKey>* new_keys, const char** text,
                char* textbuf, size_t textlen);

}  // namespace backend
}  // namespace keydir

#endif  // KEYDIR_BACKEND_WRITE_H
