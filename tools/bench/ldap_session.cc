#include "ldap_session.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "bench_options.h"

namespace keydir {
namespace bench {
namespace {

struct berval Bv(const std::string& s) {
    struct berval bv;
    bv.bv_len = s.size();
    bv.bv_val = const_cast<char*>(s.data());
    return bv;
}

std::string LdapError(LDAP* ld, int rc) {
    std::string msg = ldap_err2string(rc);
    char* diag = nullptr;
    if (ld && ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag) == LDAP_OPT_SUCCESS && diag) {
        if (*diag)
            msg += " (" + std::string(diag) + ")";
        ldap_memfree(diag);
    }
    return msg;
}

}  // namespace

LdapSession::LdapSession(const BenchConfig& config, LDAP* ld) : config_(config), ld_(ld) {
    for (const auto& a : config.attributes)
        attrs_.push_back(const_cast<char*>(a.c_str()));
    attrs_.push_back(nullptr);
}

LdapSession::~LdapSession() {
    if (ld_)
        ldap_unbind_ext_s(ld_, nullptr, nullptr);
}

Status LdapSession::Open(const BenchConfig& config, std::unique_ptr<LdapSession>* out) {
    LDAP* ld = nullptr;
    int rc = ldap_initialize(&ld, config.uri.c_str());
    if (rc != LDAP_SUCCESS)
        return Status::InvalidArgument("bad URI '" + config.uri + "': " + ldap_err2string(rc));
    std::unique_ptr<LdapSession> s(new LdapSession(config, ld));
    int version = LDAP_VERSION3;
    ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version);
    // The benchmark measures the server it talks to: never follow referrals.
    ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
    struct timeval connect_timeout = {10, 0};
    ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &connect_timeout);
    if (config.bind) {
        struct berval cred = Bv(config.password);
        rc = ldap_sasl_bind_s(ld, config.bind_dn.c_str(), LDAP_SASL_SIMPLE, &cred, nullptr, nullptr,
                              nullptr);
        if (rc != LDAP_SUCCESS)
            return Status::Unavailable("bind as '" + config.bind_dn + "' to " + config.uri +
                                       " failed: " + LdapError(ld, rc));
    } else {
        rc = ldap_connect(ld);
        if (rc != LDAP_SUCCESS)
            return Status::Unavailable("cannot connect to " + config.uri + ": " +
                                       LdapError(ld, rc));
    }
    if (ldap_get_option(ld, LDAP_OPT_DESC, &s->fd_) != LDAP_OPT_SUCCESS || s->fd_ < 0)
        return Status::Unavailable("no socket for " + config.uri);
    // libldap sets TCP_NODELAY on every TCP socket it opens (os-ip.c);
    // check rather than assume, and report it.
    int on = 0;
    socklen_t len = sizeof on;
    if (getsockopt(s->fd_, IPPROTO_TCP, TCP_NODELAY, &on, &len) == 0)
        s->tcp_nodelay_ = on ? 1 : 0;
    *out = std::move(s);
    return Status::OK();
}

int LdapSession::Track(int rc, int msgid, const Pending& pending) {
    if (rc == LDAP_SUCCESS) {
        pending_[msgid] = pending;
    } else if (rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR) {
        dead_ = true;
    }
    return rc;
}

int LdapSession::SendSearch(const std::string& filter, const Pending& pending) {
    int msgid = 0;
    int rc = ldap_search_ext(ld_, config_.base.c_str(), config_.scope, filter.c_str(),
                             attrs_.data(), 0, nullptr, nullptr, nullptr, 0, &msgid);
    return Track(rc, msgid, pending);
}

int LdapSession::SendAdd(const MemberEntry& e, bool full, const Pending& pending) {
    // Values and modifications live on the stack until ldap_add_ext has
    // encoded the request.
    struct Attr {
        const char* type;
        std::vector<struct berval> values;
    };
    static const std::string kClass = "keydirMember", kActive = "active";
    std::vector<Attr> attrs = {
        {"objectClass", {Bv(kClass)}}, {"mail", {Bv(e.mail)}}, {"cn", {Bv(e.cn)}}};
    if (full) {
        attrs.push_back({"userCertificate;binary", {Bv(e.certificate_der)}});
        if (!e.pkcs12.empty())
            attrs.push_back({"userPKCS12", {Bv(e.pkcs12)}});
        attrs.push_back({"keydirFingerprint", {Bv(e.fingerprint)}});
        attrs.push_back({"keydirNotAfter", {Bv(e.not_after)}});
        attrs.push_back({"keydirStatus", {Bv(kActive)}});
    }
    std::vector<std::vector<struct berval*>> ptrs(attrs.size());
    std::vector<LDAPMod> mods(attrs.size());
    std::vector<LDAPMod*> modp;
    for (size_t i = 0; i < attrs.size(); ++i) {
        for (auto& v : attrs[i].values)
            ptrs[i].push_back(&v);
        ptrs[i].push_back(nullptr);
        mods[i].mod_op = LDAP_MOD_ADD | LDAP_MOD_BVALUES;
        mods[i].mod_type = const_cast<char*>(attrs[i].type);
        mods[i].mod_bvalues = ptrs[i].data();
        modp.push_back(&mods[i]);
    }
    modp.push_back(nullptr);
    int msgid = 0;
    int rc = ldap_add_ext(ld_, e.dn.c_str(), modp.data(), nullptr, nullptr, &msgid);
    return Track(rc, msgid, pending);
}

int LdapSession::SendModify(const std::string& dn, const std::string& value,
                            const Pending& pending) {
    struct berval bv = Bv(value);
    struct berval* vals[] = {&bv, nullptr};
    LDAPMod mod;
    mod.mod_op = LDAP_MOD_REPLACE | LDAP_MOD_BVALUES;
    mod.mod_type = const_cast<char*>(config_.modify_attribute.c_str());
    mod.mod_bvalues = vals;
    LDAPMod* mods[] = {&mod, nullptr};
    int msgid = 0;
    int rc = ldap_modify_ext(ld_, dn.c_str(), mods, nullptr, nullptr, &msgid);
    return Track(rc, msgid, pending);
}

void LdapSession::Receive(Env* env, const Completion& done) {
    if (dead_)
        return;
    struct timeval zero = {0, 0};
    for (;;) {
        LDAPMessage* msg = nullptr;
        int type = ldap_result(ld_, LDAP_RES_ANY, LDAP_MSG_ONE, &zero, &msg);
        if (type == 0)
            return;  // nothing more has arrived
        if (type < 0) {
            int err = LDAP_SERVER_DOWN;
            ldap_get_option(ld_, LDAP_OPT_RESULT_CODE, &err);
            if (err == LDAP_SUCCESS)
                err = LDAP_SERVER_DOWN;
            dead_ = true;
            FailAll(err, env->NowMonotonicMicros(), done);
            return;
        }
        int msgid = ldap_msgid(msg);
        auto it = pending_.find(msgid);
        if (it == pending_.end()) {
            // An answer to an abandoned request, or an unsolicited notice
            // (msgid 0): the server is closing the connection.
            ldap_msgfree(msg);
            if (msgid == 0) {
                dead_ = true;
                FailAll(LDAP_SERVER_DOWN, env->NowMonotonicMicros(), done);
                return;
            }
            continue;
        }
        if (type == LDAP_RES_SEARCH_ENTRY) {
            ++it->second.entries;
            ldap_msgfree(msg);
            continue;
        }
        if (type == LDAP_RES_SEARCH_REFERENCE || type == LDAP_RES_INTERMEDIATE) {
            ldap_msgfree(msg);
            continue;
        }
        int code = LDAP_OTHER;
        int rc = ldap_parse_result(ld_, msg, &code, nullptr, nullptr, nullptr, nullptr, 1);
        if (rc != LDAP_SUCCESS)
            code = rc;
        Pending p = it->second;
        pending_.erase(it);
        done(p, code, env->NowMonotonicMicros());
    }
}

void LdapSession::ExpireSentBefore(int64_t sent_before_us, int64_t now_us, const Completion& done) {
    for (auto it = pending_.begin(); it != pending_.end();) {
        if (it->second.sent_us < sent_before_us) {
            ldap_abandon_ext(ld_, it->first, nullptr, nullptr);
            Pending p = it->second;
            it = pending_.erase(it);
            done(p, LDAP_TIMEOUT, now_us);
        } else {
            ++it;
        }
    }
}

void LdapSession::FailAll(int code, int64_t now_us, const Completion& done) {
    auto pending = std::move(pending_);
    pending_.clear();
    for (auto& [msgid, p] : pending)
        done(p, code, now_us);
}

}  // namespace bench
}  // namespace keydir
