// Registration of the keychase overlay and the life of its instances. The
// resolver's threads start in db_open (after slapd has forked) and stop in
// db_close; tool mode (slapadd ...) starts none.
#include "keychase.h"

namespace keydir {
namespace keychase {

int keychase_cid = -1;

namespace {

slap_overinst keychase;

// The control's value is checked later, by the search hook, where this
// database's keys are known; here it is only kept.
int ParseControl(Operation* op, SlapReply* rs, LDAPControl* ctrl) {
    (void)rs;
    struct berval* copy = static_cast<struct berval*>(
        op->o_tmpalloc(sizeof(struct berval), op->o_tmpmemctx));
    ber_dupbv_x(copy, &ctrl->ldctl_value, op->o_tmpmemctx);
    op->o_controls[keychase_cid] = copy;
    op->o_ctrlflag[keychase_cid] =
        ctrl->ldctl_iscritical ? SLAP_CONTROL_CRITICAL : SLAP_CONTROL_NONCRITICAL;
    return LDAP_SUCCESS;
}

extern "C" int kc_db_init(BackendDB* be, ConfigReply* cr) {
    (void)cr;
    slap_overinst* on = reinterpret_cast<slap_overinst*>(be->bd_info);
    KC_GUARD(1, {
        on->on_bi.bi_private = new Instance;
        return 0;
    })
}

extern "C" int kc_db_open(BackendDB* be, ConfigReply* cr) {
    slap_overinst* on = reinterpret_cast<slap_overinst*>(be->bd_info);
    KC_GUARD(1, {
        Instance* inst = Inst(on);
        BackendDB* real = on->on_info->oi_origdb;
        inst->suffix = real->be_suffix ? real->be_suffix[0].bv_val : "";
        ChaseConfig chase;
        std::string error;
        if (!BuildChaseConfig(inst->settings, &chase, &error)) {
            snprintf(cr->msg, sizeof cr->msg, "keychase: %s", error.c_str());
            Debug(LDAP_DEBUG_ANY, "%s\n", cr->msg);
            return 1;
        }
        if (overlay_register_control(real, const_cast<char*>(KEYCHASE_CONTROL_OID)) != 0) {
            snprintf(cr->msg, sizeof cr->msg, "keychase: cannot enable its control");
            return 1;
        }
        if (slapMode & SLAP_TOOL_MODE) return 0;
        inst->cache = std::make_unique<KeyCache>(CacheOptions(inst->settings));
        if (!chase.upstreams.empty() || !chase.roots.empty()) {
            UpstreamOptions uo;
            uo.tls_ca_file = inst->settings.tls_cacert;
            inst->upstream = std::make_unique<UpstreamClient>(uo);
            ResolverOptions ro;
            ro.chase = chase;
            ro.threads = inst->settings.threads;
            ro.max_queued = inst->settings.max_queued;
            inst->resolver = std::make_unique<Resolver>(ro, inst->upstream.get(),
                                                        inst->cache.get(), nullptr);
        }
        RegisterInstance(inst, real);
        MonitorDbOpen(real, inst);
        inst->open = true;
        return 0;
    })
}

extern "C" int kc_db_close(BackendDB* be, ConfigReply* cr) {
    (void)cr;
    slap_overinst* on = reinterpret_cast<slap_overinst*>(be->bd_info);
    KC_GUARD(1, {
        Instance* inst = Inst(on);
        inst->open = false;
        UnregisterInstance(inst);
        MonitorDbClose(inst);
        if (inst->resolver) inst->resolver->Shutdown();
        inst->resolver.reset();
        inst->upstream.reset();
        inst->cache.reset();
        return 0;
    })
}

extern "C" int kc_db_destroy(BackendDB* be, ConfigReply* cr) {
    (void)cr;
    slap_overinst* on = reinterpret_cast<slap_overinst*>(be->bd_info);
    KC_GUARD(1, {
        delete Inst(on);
        on->on_bi.bi_private = nullptr;
        return 0;
    })
}

extern "C" int kc_search(Operation* op, SlapReply* rs);

int Initialize() {
    int rc = register_supported_control(const_cast<char*>(KEYCHASE_CONTROL_OID), SLAP_CTRL_SEARCH,
                                        nullptr, ParseControl, &keychase_cid);
    if (rc != LDAP_SUCCESS) {
        Debug(LDAP_DEBUG_ANY, "keychase: cannot register control %s\n", KEYCHASE_CONTROL_OID);
        return rc;
    }
    if ((rc = RegisterEntrySchema()) != LDAP_SUCCESS) return rc;
    if ((rc = FlushExopInit()) != LDAP_SUCCESS) return rc;
    MonitorInit();
    keychase.on_bi.bi_type = const_cast<char*>("keychase");
    keychase.on_bi.bi_flags = SLAPO_BFLAG_DBONLY;
    keychase.on_bi.bi_db_init = kc_db_init;
    keychase.on_bi.bi_db_open = kc_db_open;
    keychase.on_bi.bi_db_close = kc_db_close;
    keychase.on_bi.bi_db_destroy = kc_db_destroy;
    keychase.on_bi.bi_op_search = kc_search;
    if ((rc = ConfigInit(&keychase)) != 0) return rc;
    return overlay_register(&keychase);
}

}  // namespace
}  // namespace keychase
}  // namespace keydir

extern "C" __attribute__((visibility("default"))) int init_module(int argc, char* argv[]) {
    (void)argc;
    (void)argv;
    try {
        return keydir::keychase::Initialize();
    } catch (...) {
        return -1;
    }
}
