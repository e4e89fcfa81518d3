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
    if (monitor_extra_t* mbe = MonitorExtra()) {
        struct berval none = BER_BVNULL;  // no search base or filter: the ndn names it
        mbe->unregister_entry_callback(ndn, static_cast<monitor_callback_t*>(*cb), &none, 0, &none);
    }
    // The ndn is the monitor entry's own (register_database does not copy it).
    BER_BVZERO(ndn);
    *cb = nullptr;
}

}  // namespace slapglue
}  // namespace keydir

#endif  // KEYDIR_SLAPGLUE_MONITOR_GLUE_H
