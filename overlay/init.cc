// Registration of the keychase overlay and the life of its instances. The
// resolver's threads start in db_open (after slapd has forked) and stop in
// db_close; tool mode (slapadd ...) starts none.
#include "keychase.h"
#include "signing.h"

namespace keydir {
namespace keychase {

int keychase_cid = -1;

namespace {

slap_overinst keychase;

// The control's value is checked later, by the search hook, where this
// database's keys are known; here it is only kept.
int ParseControl(Operation* op, SlapReply* rs, LDAPControl* ctrl) {
    if (op->o_ctrlflag[keychase_cid] != SLAP_CONTROL_NONE) {
        rs->sr_text = "keychase control specified more than once";
        return LDAP_PROTOCOL_ERROR;
    }
    PeerControl* pc =
        static_cast<PeerControl*>(op->o_tmpalloc(sizeof(PeerControl), op->o_tmpmemctx));
    ber_dupbv_x(&pc->value, &ctrl->ldctl_value, op->o_tmpmemctx);
    // The limits as the peer sent them (what its signature covers); an
    // extended operation (a publication) has none.
    pc->size_limit = op->o_tag == LDAP_REQ_SEARCH ? op->ors_slimit : 0;
    pc->time_limit = op->o_tag == LDAP_REQ_SEARCH ? op->ors_tlimit : 0;
    op->o_controls[keychase_cid] = pc;
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
        if (overlay_register_control(real, const_cast<char*>(KEYDIR_SIGNATURE_CONTROL_OID)) != 0) {
            snprintf(cr->msg, sizeof cr->msg, "keychase: cannot enable its control");
            return 1;
        }
        if (slapMode & SLAP_TOOL_MODE)
            return 0;
        SigningOptions so;
        so.fudge_seconds = so.max_fudge_seconds = static_cast<uint32_t>(inst->settings.fudge);
        inst->signing = std::make_unique<SigningContext>(&inst->keyring, so);
        inst->signing->SetServerIdentities(ServerIdentities(chase));
        inst->upstream_signing = std::make_unique<UpstreamSigning>(inst);
        inst->cache = std::make_unique<KeyCache>(CacheOptions(inst->settings));
        if (!chase.upstreams.empty() || !chase.roots.empty()) {
            UpstreamOptions uo;
            uo.tls_ca_file = inst->settings.tls_cacert;
            inst->upstream = std::make_unique<UpstreamClient>(uo);
            ResolverOptions ro;
            ro.chase = chase;
            ro.threads = inst->settings.threads;
            ro.max_queued = inst->settings.max_queued;
            inst->resolver = std::make_unique<Resolver>(ro, inst->upstream.get(), inst->cache.get(),
                                                        inst->upstream_signing.get());
        }
        if (!StartPublisher(inst, &error)) {
            snprintf(cr->msg, sizeof cr->msg, "keychase: %s", error.c_str());
            Debug(LDAP_DEBUG_ANY, "%s\n", cr->msg);
            return 1;
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
        StopPublisher(inst);
        if (inst->resolver)
            inst->resolver->Shutdown();
        inst->resolver.reset();
        inst->upstream.reset();
        inst->cache.reset();
        inst->upstream_signing.reset();
        inst->signing.reset();
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
extern "C" int kc_add(Operation* op, SlapReply* rs);
extern "C" int kc_delete(Operation* op, SlapReply* rs);
extern "C" int kc_modrdn(Operation* op, SlapReply* rs);

// The control comes with searches and with publications.
char* control_exops[] = {const_cast<char*>(KEYDIR_PUBLISH_OID), nullptr};

int Initialize() {
    int rc = register_supported_control2(const_cast<char*>(KEYDIR_SIGNATURE_CONTROL_OID),
                                         SLAP_CTRL_SEARCH, control_exops, ParseControl, 0,
                                         &keychase_cid);
    if (rc != LDAP_SUCCESS) {
        Debug(LDAP_DEBUG_ANY, "keychase: cannot register control %s\n",
              KEYDIR_SIGNATURE_CONTROL_OID);
        return rc;
    }
    if ((rc = RegisterEntrySchema()) != LDAP_SUCCESS)
        return rc;
    if ((rc = FlushExopInit()) != LDAP_SUCCESS)
        return rc;
    if ((rc = PublishExopInit()) != LDAP_SUCCESS)
        return rc;
    MonitorInit();
    keychase.on_bi.bi_type = const_cast<char*>("keychase");
    keychase.on_bi.bi_flags = SLAPO_BFLAG_DBONLY;
    keychase.on_bi.bi_db_init = kc_db_init;
    keychase.on_bi.bi_db_open = kc_db_open;
    keychase.on_bi.bi_db_close = kc_db_close;
    keychase.on_bi.bi_db_destroy = kc_db_destroy;
    keychase.on_bi.bi_op_search = kc_search;
    keychase.on_bi.bi_op_add = kc_add;
    keychase.on_bi.bi_op_delete = kc_delete;
    keychase.on_bi.bi_op_modrdn = kc_modrdn;
    if ((rc = ConfigInit(&keychase)) != 0)
        return rc;
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
