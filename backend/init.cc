// Lifecycle of the keydir backend: registration with slapd, per-database
// init/open/close/destroy, and the background tasks (checkpoints, building
// new indexes). The store is opened in db_open, after slapd has forked.
#include <sys/stat.h>

#include "back_keydir.h"

namespace keydir {
namespace backend {
namespace {

const char* kControls[] = {LDAP_CONTROL_ASSERT,
                           LDAP_CONTROL_MANAGEDSAIT,
                           LDAP_CONTROL_NOOP,
                           LDAP_CONTROL_PAGEDRESULTS,
                           LDAP_CONTROL_PRE_READ,
                           LDAP_CONTROL_POST_READ,
                           LDAP_CONTROL_SUBENTRIES,
                           LDAP_CONTROL_X_PERMISSIVE_MODIFY,
                           nullptr};

// Runs on slapd's run queue: Berkeley DB writes a checkpoint when the log
// or the time since the last one says so.
void* CheckpointTask(void* ctx, void* arg) {
    (void)ctx;
    struct re_s* rtask = static_cast<struct re_s*>(arg);
    KeydirDb* kd = static_cast<KeydirDb*>(rtask->arg);
    try {
        if (kd->store) {
            Status s = kd->store->Checkpoint(kd->checkpoint_kbytes, kd->checkpoint_minutes);
            if (!s.ok())
                Debug(LDAP_DEBUG_ANY, "keydir: checkpoint: %s\n", s.ToString().c_str());
        }
    } catch (...) {
        Debug(LDAP_DEBUG_ANY, "keydir: checkpoint failed\n");
    }
    ldap_pvt_thread_mutex_lock(&slapd_rq.rq_mutex);
    ldap_pvt_runqueue_stoptask(&slapd_rq, rtask);
    ldap_pvt_thread_mutex_unlock(&slapd_rq.rq_mutex);
    return nullptr;
}

void RemoveTask(void** task) {
    if (!*task)
        return;
    struct re_s* re = static_cast<struct re_s*>(*task);
    *task = nullptr;
    ldap_pvt_thread_mutex_lock(&slapd_rq.rq_mutex);
    if (ldap_pvt_runqueue_isrunning(&slapd_rq, re))
        ldap_pvt_runqueue_stoptask(&slapd_rq, re);
    ldap_pvt_runqueue_remove(&slapd_rq, re);
    ldap_pvt_thread_mutex_unlock(&slapd_rq.rq_mutex);
}

// Fills indexes that are not ready yet from every entry, a transaction per
// entry (so that concurrent writes keep them exact), then lets searches use
// them. Runs once on the run queue.
void* ReindexTask(void* ctx, void* arg) {
    struct re_s* rtask = static_cast<struct re_s*>(arg);
    KeydirDb* kd = static_cast<KeydirDb*>(rtask->arg);
    Connection conn = {};
    OperationBuffer opbuf;
    connection_fake_init(&conn, &opbuf, ctx);
    Operation* op = &opbuf.ob_op;  // for the indexers' memory context only
    bool failed = false;
    try {
        std::vector<IndexSpec> pending;  // copies: cn=config may change the list
        for (const IndexSpec& ix : kd->indexes)
            if (!ix.ready)
                pending.push_back(ix);
        std::vector<EntryId> ids;
        Status s = kd->store->ScopeIds("", Scope::kSubtree, &ids);
        for (size_t i = 0; s.ok() && i < ids.size() && !slapd_shutdown; ++i) {
            s = kd->store->Update([&](Txn& t) {
                std::string record;
                Status r = t.Get(ids[i], &record);
                if (r.IsNotFound())
                    return Status::OK();  // deleted meanwhile
                if (!r.ok())
                    return r;
                Entry* e = nullptr;
                r = DecodeEntry(record, ids[i], &e);
                if (!r.ok())
                    return r;
                std::vector<IndexKey> keys;
                for (const IndexSpec& ix : pending)
                    for (Attribute* a = e->e_attrs; a; a = a->a_next)
                        if (a->a_desc->ad_type == ix.type)
                            ValueIndexKeys(op, ix, a->a_desc, a->a_nvals, &keys);
                entry_free(e);
                return ApplyIndexKeys(t, keys, ids[i], true);
            });
            if (i % 1000 == 999)
                ldap_pvt_thread_pool_pausecheck(&connection_pool);
        }
        if (!s.ok()) {
            failed = true;
            Debug(LDAP_DEBUG_ANY, "keydir: building indexes of %s failed: %s\n", kd->suffix.c_str(),
                  s.ToString().c_str());
        }
    } catch (...) {
        failed = true;
    }
    if (!failed && !slapd_shutdown) {
        // Flip to ready with the pool paused, so no search sees half of it.
        ldap_pvt_thread_pool_pause(&connection_pool);
        for (IndexSpec& ix : kd->indexes)
            ix.ready = true;
        ldap_pvt_thread_pool_resume(&connection_pool);
        Debug(LDAP_DEBUG_STATS, "keydir: indexes of %s are built\n", kd->suffix.c_str());
    }
    ldap_pvt_thread_mutex_lock(&slapd_rq.rq_mutex);
    ldap_pvt_runqueue_stoptask(&slapd_rq, rtask);
    kd->reindex_task = nullptr;
    ldap_pvt_runqueue_remove(&slapd_rq, rtask);
    ldap_pvt_thread_mutex_unlock(&slapd_rq.rq_mutex);
    return nullptr;
}

extern "C" int kd_db_init(BackendDB* be, ConfigReply* cr) {
    (void)cr;
    KD_GUARD(1, {
        be->be_private = new KeydirDb;
        be->be_cf_ocs = be->bd_info->bi_cf_ocs;
        MonitorInit();
        if (backend_info("monitor"))
            SLAP_DBFLAGS(be) |= SLAP_DBFLAG_MONITORING;
        return 0;
    })
}

extern "C" int kd_db_open(BackendDB* be, ConfigReply* cr) {
    KD_GUARD(1, {
        KeydirDb* kd = Kd(be);
        const char* text = nullptr;
        if (be->be_suffix == nullptr) {
            snprintf(cr->msg, sizeof cr->msg, "keydir: database needs a suffix");
            Debug(LDAP_DEBUG_ANY, "%s\n", cr->msg);
            return 1;
        }
        if (kd->directory.empty()) {
            snprintf(cr->msg, sizeof cr->msg,
                     "keydir: database \"%s\" has no directory (directory DIR)",
                     be->be_suffix[0].bv_val);
            Debug(LDAP_DEBUG_ANY, "%s\n", cr->msg);
            return 1;
        }
        kd->suffix = be->be_suffix[0].bv_val;
        kd->suffix_ndn.assign(be->be_nsuffix[0].bv_val, be->be_nsuffix[0].bv_len);
        bool tool = (slapMode & SLAP_TOOL_MODE) != 0;
        bool read_only = tool && (slapMode & SLAP_TOOL_READONLY);
        if (OpenStore(be, tool, read_only, &text) != 0) {
            snprintf(cr->msg, sizeof cr->msg, "keydir: database \"%s\": %s",
                     be->be_suffix[0].bv_val, text);
            Debug(LDAP_DEBUG_ANY, "%s\n", cr->msg);
            return 1;
        }
        if (!tool) {
            ScheduleCheckpoint(be);
            MonitorDbOpen(be);
            for (const IndexSpec& ix : kd->indexes)
                if (!ix.ready) {
                    StartReindex(be);
                    break;
                }
        }
        return 0;
    })
}

extern "C" int kd_db_close(BackendDB* be, ConfigReply* cr) {
    (void)cr;
    KD_GUARD(1, {
        KeydirDb* kd = Kd(be);
        RemoveTask(&kd->checkpoint_task);
        RemoveTask(&kd->reindex_task);
        if (!(slapMode & SLAP_TOOL_MODE))
            MonitorDbClose(be);
        kd->store.reset();  // checkpoints and closes the environment
        kd->open = false;
        return 0;
    })
}

extern "C" int kd_db_destroy(BackendDB* be, ConfigReply* cr) {
    (void)cr;
    KD_GUARD(1, {
        delete Kd(be);
        be->be_private = nullptr;
        return 0;
    })
}

extern "C" int kd_back_initialize(BackendInfo* bi) {
    KD_GUARD(1, {
        // ALIASES lets alias entries be stored (slapd's schema check refuses
        // them otherwise); keydir does not dereference them (slapd-keydir(5)).
        bi->bi_flags |= SLAP_BFLAG_INCREMENT | SLAP_BFLAG_SUBENTRIES | SLAP_BFLAG_ALIASES |
                        SLAP_BFLAG_REFERRALS;
        bi->bi_controls = const_cast<char**>(kControls);
        bi->bi_open = nullptr;
        bi->bi_close = nullptr;
        bi->bi_config = nullptr;
        bi->bi_destroy = nullptr;
        bi->bi_db_init = kd_db_init;
        bi->bi_db_config = config_generic_wrapper;
        bi->bi_db_open = kd_db_open;
        bi->bi_db_close = kd_db_close;
        bi->bi_db_destroy = kd_db_destroy;
        bi->bi_op_bind = kd_bind;
        bi->bi_op_unbind = nullptr;
        bi->bi_op_search = kd_search;
        bi->bi_op_compare = kd_compare;
        bi->bi_op_modify = kd_modify;
        bi->bi_op_modrdn = kd_modrdn;
        bi->bi_op_add = kd_add;
        bi->bi_op_delete = kd_delete;
        bi->bi_op_abandon = nullptr;
        bi->bi_extended = nullptr;
        bi->bi_chk_referrals = kd_referrals;
        bi->bi_operational = kd_operational;
        bi->bi_has_subordinates = kd_has_subordinates;
        bi->bi_entry_get_rw = kd_entry_get;
        bi->bi_entry_release_rw = kd_entry_release;
        bi->bi_connection_init = nullptr;
        bi->bi_connection_destroy = nullptr;
        bi->bi_tool_entry_open = kd_tool_entry_open;
        bi->bi_tool_entry_close = kd_tool_entry_close;
        bi->bi_tool_entry_first = backend_tool_entry_first;
        bi->bi_tool_entry_first_x = kd_tool_entry_first_x;
        bi->bi_tool_entry_next = kd_tool_entry_next;
        bi->bi_tool_entry_get = kd_tool_entry_get;
        bi->bi_tool_entry_put = kd_tool_entry_put;
        bi->bi_tool_entry_reindex = kd_tool_entry_reindex;
        bi->bi_tool_sync = nullptr;
        bi->bi_tool_dn2id_get = kd_tool_dn2id_get;
        bi->bi_tool_entry_modify = kd_tool_entry_modify;
        bi->bi_tool_entry_delete = kd_tool_entry_delete;
        return ConfigInit(bi);
    })
}

}  // namespace

int OpenStore(BackendDB* be, bool tool_mode, bool read_only, const char** text) {
    KeydirDb* kd = Kd(be);
    static thread_local std::string error;
    struct stat st;
    if (::stat(kd->directory.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
        error = "directory " + kd->directory + " does not exist";
        *text = error.c_str();
        return 1;
    }
    StoreOptions options;
    options.directory = kd->directory;
    options.cache_bytes = kd->cache_bytes;
    // slapadd writes without syncing each entry; the tool's close
    // checkpoints everything before it exits.
    options.durability = tool_mode ? Durability::kNoSync : kd->durability;
    options.read_only = read_only;
    // slapadd and slapcat read each entry once: no entry cache for them.
    options.entry_cache = tool_mode ? 0 : kd->entry_cache;
    options.error_log = [](const std::string& msg) {
        Debug(LDAP_DEBUG_ANY, "keydir: berkeley db: %s\n", msg.c_str());
    };
    std::unique_ptr<Store> store;
    Status s = Store::Open(options, &store);
    if (!s.ok()) {
        error = s.ToString();
        *text = error.c_str();
        return 1;
    }
    uint64_t entries = store->EntryCount();
    for (IndexSpec& ix : kd->indexes) {
        bool created = false;
        s = store->AddIndex(ix.name, &created);
        if (!s.ok()) {
            error = s.ToString();
            *text = error.c_str();
            return 1;
        }
        // A new index over existing entries is built before it is used.
        ix.ready = !(created && entries > 0 && !tool_mode);
    }
    kd->store = std::move(store);
    kd->open = true;
    return 0;
}

void ScheduleCheckpoint(BackendDB* be) {
    KeydirDb* kd = Kd(be);
    RemoveTask(&kd->checkpoint_task);
    if (kd->checkpoint_minutes == 0 && kd->checkpoint_kbytes == 0)
        return;
    // Every minute Berkeley DB decides whether the kbytes or minutes are up.
    ldap_pvt_thread_mutex_lock(&slapd_rq.rq_mutex);
    kd->checkpoint_task =
        ldap_pvt_runqueue_insert(&slapd_rq, 60, CheckpointTask, kd,
                                 const_cast<char*>("keydir_checkpoint"), be->be_suffix[0].bv_val);
    ldap_pvt_thread_mutex_unlock(&slapd_rq.rq_mutex);
}

void StartReindex(BackendDB* be) {
    KeydirDb* kd = Kd(be);
    if (kd->reindex_task)
        return;
    // A long interval: the task runs once and removes itself.
    ldap_pvt_thread_mutex_lock(&slapd_rq.rq_mutex);
    kd->reindex_task =
        ldap_pvt_runqueue_insert(&slapd_rq, 36000, ReindexTask, kd,
                                 const_cast<char*>("keydir_reindex"), be->be_suffix[0].bv_val);
    ldap_pvt_thread_mutex_unlock(&slapd_rq.rq_mutex);
}

}  // namespace backend
}  // namespace keydir

extern "C" __attribute__((visibility("default"))) int init_module(int argc, char* argv[]) {
    (void)argc;
    (void)argv;
    static BackendInfo bi;
    bi.bi_type = const_cast<char*>("keydir");
    bi.bi_init = keydir::backend::kd_back_initialize;
    backend_add(&bi);
    return 0;
}
