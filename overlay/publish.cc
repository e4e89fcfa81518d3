// Pointer publication, the zone master's side: when a member is added,
// deleted or renamed in a database that has keychase-publish-to, the
// change goes into the durable queue (keychase-publish-queue) as soon as
// the write succeeded, and the Publisher delivers it upstream, signed
// (lib/publish). Writes that syncrepl applies are not published: the
// provider where the change was made publishes it.
#include <sys/stat.h>

#include "keychase.h"
#include "publish/publisher.h"
#include "publish/signed_sender.h"

namespace keydir {
namespace keychase {
namespace {

// The publications one write will make, queued when it succeeds.
struct PendingWrite {
    Instance* inst;
    std::vector<Publication> publications;
};

// The pointer's ref values: each keychase-publish-as server with the
// member's DN.
std::vector<std::string> PointerUrls(const Settings& s, const std::string& member_dn) {
    std::vector<std::string> urls;
    for (const std::string& server : s.publish_as) {
        LdapUrl url;
        if (!ParseServerUrl(server, &url).ok())
            continue;
        url.has_dn = true;
        url.dn = member_dn;
        urls.push_back(url.ToString());
    }
    return urls;
}

// A publication for the member at `ndn`, if it names one.
bool MemberPublication(Instance* inst, const struct berval* ndn, Publication::Action action,
                       Publication* out) {
    MailAddress address;
    if (!AddressFromMemberDn(std::string(ndn->bv_val, ndn->bv_len), &address).ok())
        return false;
    out->action = action;
    out->member_dn = address.MemberDn();
    out->urls.clear();
    if (action == Publication::Action::kAdd) {
        out->urls = PointerUrls(inst->settings, out->member_dn);
        if (out->urls.empty())
            return false;
    }
    return true;
}

bool IsReferralAt(Operation* op, const struct berval* ndn) {
    slap_overinst* on = reinterpret_cast<slap_overinst*>(op->o_bd->bd_info);
    Entry* e = nullptr;
    bool referral = false;
    if (overlay_entry_get_ov(op, const_cast<struct berval*>(ndn), nullptr, nullptr, 0, &e, on) ==
            LDAP_SUCCESS &&
        e) {
        referral = is_entry_referral(e) != 0;
        overlay_entry_release_ov(op, e, 0, on);
    }
    return referral;
}

int QueueOnSuccess(Operation* op, SlapReply* rs) {
    PendingWrite* pw = static_cast<PendingWrite*>(op->o_callback->sc_private);
    KC_GUARD(SLAP_CB_CONTINUE, {
        if (rs->sr_type != REP_RESULT || rs->sr_err != LDAP_SUCCESS)
            return SLAP_CB_CONTINUE;
        for (const Publication& p : pw->publications) {
            Status s = pw->inst->publisher->Enqueue(p);
            if (s.ok()) {
                Debug(LDAP_DEBUG_STATS, "%s keychase: queued publication %s %s\n", op->o_log_prefix,
                      PublicationActionName(p.action), p.member_dn.c_str());
            } else {
                // The write is done; the pointer upstream is now stale.
                Debug(LDAP_DEBUG_ANY, "%s keychase: cannot queue publication %s %s: %s\n",
                      op->o_log_prefix, PublicationActionName(p.action), p.member_dn.c_str(),
                      s.ToString().c_str());
            }
        }
        return SLAP_CB_CONTINUE;
    })
}

int ForgetWrite(Operation* op, SlapReply* rs) {
    if (rs->sr_type != REP_RESULT && !op->o_abandon && rs->sr_err != SLAPD_ABANDON)
        return 0;
    for (slap_callback** scp = &op->o_callback; *scp; scp = &(*scp)->sc_next) {
        if ((*scp)->sc_cleanup == ForgetWrite) {
            slap_callback* cb = *scp;
            *scp = cb->sc_next;
            delete static_cast<PendingWrite*>(cb->sc_private);
            op->o_tmpfree(cb, op->o_tmpmemctx);
            break;
        }
    }
    return 0;
}

int WatchWrite(Operation* op, std::vector<Publication> publications) {
    slap_overinst* on = reinterpret_cast<slap_overinst*>(op->o_bd->bd_info);
    if (publications.empty())
        return SLAP_CB_CONTINUE;
    slap_callback* cb =
        static_cast<slap_callback*>(op->o_tmpcalloc(1, sizeof(slap_callback), op->o_tmpmemctx));
    cb->sc_response = QueueOnSuccess;
    cb->sc_cleanup = ForgetWrite;
    cb->sc_private = new PendingWrite{Inst(on), std::move(publications)};
    cb->sc_next = op->o_callback;
    op->o_callback = cb;
    return SLAP_CB_CONTINUE;
}

// Does this database publish, and is this write its own (not replicated)?
Instance* Publishing(Operation* op) {
    slap_overinst* on = reinterpret_cast<slap_overinst*>(op->o_bd->bd_info);
    Instance* inst = Inst(on);
    if (!inst->open || !inst->publisher)
        return nullptr;
    if (be_shadow_update(op))
        return nullptr;
    return inst;
}

class Logger {
  public:
    explicit Logger(std::string suffix) : suffix_(std::move(suffix)) {}
    void operator()(const std::string& line) const {
        Debug(LDAP_DEBUG_ANY, "keychase (%s): %s\n", suffix_.c_str(), line.c_str());
    }

  private:
    std::string suffix_;
};

}  // namespace

extern "C" int kc_add(Operation* op, SlapReply* rs) {
    (void)rs;
    KC_GUARD(SLAP_CB_CONTINUE, {
        Instance* inst = Publishing(op);
        if (!inst || is_entry_referral(op->ora_e))
            return SLAP_CB_CONTINUE;
        Publication p;
        if (!MemberPublication(inst, &op->o_req_ndn, Publication::Action::kAdd, &p))
            return SLAP_CB_CONTINUE;
        return WatchWrite(op, {p});
    })
}

extern "C" int kc_delete(Operation* op, SlapReply* rs) {
    (void)rs;
    KC_GUARD(SLAP_CB_CONTINUE, {
        Instance* inst = Publishing(op);
        if (!inst)
            return SLAP_CB_CONTINUE;
        Publication p;
        if (!MemberPublication(inst, &op->o_req_ndn, Publication::Action::kDelete, &p))
            return SLAP_CB_CONTINUE;
        return WatchWrite(op, {p});
    })
}

extern "C" int kc_modrdn(Operation* op, SlapReply* rs) {
    (void)rs;
    KC_GUARD(SLAP_CB_CONTINUE, {
        Instance* inst = Publishing(op);
        if (!inst)
            return SLAP_CB_CONTINUE;
        // A renamed member: the old pointer goes, a new one comes (unless
        // the entry is itself a pointer, or is no member any more).
        std::vector<Publication> out;
        Publication p;
        if (MemberPublication(inst, &op->o_req_ndn, Publication::Action::kDelete, &p))
            out.push_back(p);
        struct berval parent, new_ndn = BER_BVNULL;
        if (op->orr_nnewSup)
            parent = *op->orr_nnewSup;
        else
            dnParent(&op->o_req_ndn, &parent);
        build_new_dn(&new_ndn, &parent, &op->orr_nnewrdn, op->o_tmpmemctx);
        if (!IsReferralAt(op, &op->o_req_ndn) &&
            MemberPublication(inst, &new_ndn, Publication::Action::kAdd, &p))
            out.push_back(p);
        op->o_tmpfree(new_ndn.bv_val, op->o_tmpmemctx);
        return WatchWrite(op, std::move(out));
    })
}

bool StartPublisher(Instance* inst, std::string* error) {
    const Settings& s = inst->settings;
    if (s.publish_to.empty())
        return true;
    if (s.publish_queue.empty()) {
        *error = "keychase-publish-to needs keychase-publish-queue (where publications wait)";
        return false;
    }
    if (s.publish_as.empty()) {
        *error = "keychase-publish-to needs keychase-publish-as (this zone's servers)";
        return false;
    }
    if (s.sign_key.empty()) {
        *error = "keychase-publish-to needs keychase-sign (publications are signed)";
        return false;
    }
    if (mkdir(s.publish_queue.c_str(), 0700) != 0 && errno != EEXIST) {
        *error = "keychase-publish-queue " + s.publish_queue + ": " + strerror(errno);
        return false;
    }
    Status st = PublishQueue::Open(s.publish_queue, Env::Default(), &inst->publish_queue);
    if (!st.ok()) {
        *error = "keychase-publish-queue " + s.publish_queue + ": " + st.ToString();
        return false;
    }
    if (!inst->publish_client) {
        UpstreamOptions uo;
        uo.tls_ca_file = s.tls_cacert;
        inst->publish_client = std::make_unique<UpstreamClient>(uo);
    }
    inst->publish_sender = std::make_unique<SignedSender>(inst->publish_client.get(),
                                                          inst->signing.get(), SenderOptions(s));
    inst->publisher =
        std::make_unique<Publisher>(inst->publish_queue.get(), inst->publish_sender.get(),
                                    Env::Default(), PublisherOptionsOf(s), Logger(inst->suffix));
    inst->publisher->Start();
    return true;
}

void StopPublisher(Instance* inst) {
    if (inst->publisher)
        inst->publisher->Stop();
    inst->publisher.reset();
    inst->publish_sender.reset();
    inst->publish_client.reset();
    inst->publish_queue.reset();
}

SignedSenderOptions SenderOptions(const Settings& s) {
    SignedSenderOptions o;
    o.servers = s.publish_to;
    o.key_name = s.sign_key;
    o.algorithm = s.sign_algorithm;
    o.timeout_micros = static_cast<int64_t>(s.timeout_seconds * 1e6);
    o.start_tls = s.start_tls;
    return o;
}

PublisherOptions PublisherOptionsOf(const Settings& s) {
    PublisherOptions o;
    o.max_backoff_seconds = s.publish_retry_max;
    return o;
}

}  // namespace keychase
}  // namespace keydir
