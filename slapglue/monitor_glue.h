// Attaching a database's extra attributes to its entry under
// cn=Databases,cn=Monitor, shared by back_keydir and keychase (both are
// slapd glue; neither includes the other). Include after slap_headers.h.
#ifndef KEYDIR_SLAPGLUE_MONITOR_GLUE_H
#define KEYDIR_SLAPGLUE_MONITOR_GLUE_H

#include <cstring>

namespace keydir {
namespace slapglue {

// The monitor backend's entry points, or nullptr when slapd runs no
// monitor database.
inline monitor_extra_t* MonitorExtra() {
    BackendInfo* mi = backend_info("monitor");
    if (!mi || !mi->bi_extra)
        return nullptr;
    monitor_extra_t* mbe = static_cast<monitor_extra_t*>(mi->bi_extra);
    return mbe->is_configured() ? mbe : nullptr;
}

// Gives be's monitor entry the object class `oc`; `update` refreshes the
// attributes whenever the entry is read, `free` removes them. On success
// *ndn is the entry's DN (monitor's own string: never free it) and *cb
// what Detach needs.
using MonitorUpdateFn = int (*)(Operation*, SlapReply*, Entry*, void*);
using MonitorFreeFn = int (*)(Entry*, void**);

inline int AttachMonitorCallback(BackendDB* be, ObjectClass* oc, MonitorUpdateFn update,
                                 MonitorFreeFn free_fn, void* priv, struct berval* ndn,
                                 void** cb_out) {
    monitor_extra_t* mbe = MonitorExtra();
    if (!mbe)
        return 0;
    Attribute* a = attrs_alloc(1);
    a->a_desc = slap_schema.si_ad_objectClass;
    attr_valadd(a, &oc->soc_cname, nullptr, 1);
    monitor_callback_t* cb =
        static_cast<monitor_callback_t*>(ch_calloc(sizeof(monitor_callback_t), 1));
    cb->mc_update = update;
    cb->mc_free = free_fn;
    cb->mc_private = priv;
    int rc = mbe->register_database(be, ndn);
    if (rc == 0)
        rc = mbe->register_entry_attrs(ndn, a, cb, nullptr, -1, nullptr);
    attrs_free(a);
    if (rc != 0) {
        ch_free(cb);
        BER_BVZERO(ndn);
        return rc;
    }
    *cb_out = cb;
    return 0;
}

inline void DetachMonitorCallback(struct berval* ndn, void** cb) {
    if (BER_BVISNULL(ndn))
        return;
    monitor_callback_t* target = static_cast<monitor_callback_t*>(*cb);
    if (monitor_extra_t* mbe = MonitorExtra()) {
        if (!slapd_shutdown) {
            struct berval none = BER_BVNULL;  // no search base or filter: the ndn names it
            mbe->unregister_entry_callback(ndn, target, &none, 0, &none);
        } else if (Entry* e = mbe->entry_get_unlocked(ndn)) {
            // At shutdown the monitor backend unregisters nothing and frees
            // the callbacks itself when it is destroyed; slapd 2.5's
            // monitor_entry_destroy frees the list's head once per callback
            // (a double free when an entry has two). Take ours out here,
            // while only this thread runs.
            monitor_entry_t* mp = static_cast<monitor_entry_t*>(e->e_private);
            for (monitor_callback_t** p = mp ? &mp->mp_cb : nullptr; p && *p; p = &(*p)->mc_next) {
                if (*p != target)
                    continue;
                *p = target->mc_next;
                if (target->mc_free)
                    target->mc_free(e, &target->mc_private);
                ch_free(target);
                break;
            }
        }
    }
    // The ndn is the monitor entry's own (register_database does not copy it).
    BER_BVZERO(ndn);
    *cb = nullptr;
}

}  // namespace slapglue
}  // namespace keydir

#endif  // KEYDIR_SLAPGLUE_MONITOR_GLUE_H
