#include "common/ldap_session.h"

#include <ldap.h>
#include <sys/time.h>

#include "base/secret_file.h"

namespace keydir {

std::string LdapErrorText(int rc, const char* diagnostic) {
    std::string text =
        std::string(ldap_err2string(rc)) + " (LDAP result " + std::to_string(rc) + ")";
    if (diagnostic != nullptr && *diagnostic != '\0')
        text += ": " + std::string(diagnostic);
    return text;
}

namespace {

Status FromLdap(int rc, const std::string& what, const char* diagnostic) {
    std::string msg = what + ": " + LdapErrorText(rc, diagnostic);
    switch (rc) {
        case LDAP_SUCCESS:
            return Status::OK();
        case LDAP_ALREADY_EXISTS:
            return Status::Exists(msg);
        case LDAP_NO_SUCH_OBJECT:
            return Status::NotFound(msg);
        case LDAP_INVALID_CREDENTIALS:
        case LDAP_INSUFFICIENT_ACCESS:
        case LDAP_INAPPROPRIATE_AUTH:
        case LDAP_STRONG_AUTH_REQUIRED:
        case LDAP_CONFIDENTIALITY_REQUIRED:
            return Status::PermissionDenied(msg);
        case LDAP_SERVER_DOWN:
        case LDAP_CONNECT_ERROR:
        case LDAP_UNAVAILABLE:
        case LDAP_BUSY:
            return Status::Unavailable(msg);
        case LDAP_TIMEOUT:
        case LDAP_TIMELIMIT_EXCEEDED:
            return Status::TimedOut(msg);
        default:
            return Status::InvalidArgument(msg);
    }
}

// berval views of `values`, for LDAPMod arrays. They point into `values`.
struct BervalArray {
    explicit BervalArray(const std::vector<std::string>& values) {
        for (const auto& v : values)
            vals.push_back(berval{static_cast<ber_len_t>(v.size()), const_cast<char*>(v.data())});
        for (auto& b : vals)
            ptrs.push_back(&b);
        ptrs.push_back(nullptr);
    }
    std::vector<berval> vals;
    std::vector<berval*> ptrs;
};

// An LDAPMod* array over attributes; owns what the pointers point to.
class ModArray {
  public:
    void Add(int op, const std::string& attr, const std::vector<std::string>& values) {
        names_.push_back(std::make_unique<std::string>(attr));
        bervals_.push_back(std::make_unique<BervalArray>(values));
        auto mod = std::make_unique<LDAPMod>();
        mod->mod_op = op | LDAP_MOD_BVALUES;
        mod->mod_type = &(*names_.back())[0];
        mod->mod_bvalues =
            values.empty() && op == LDAP_MOD_DELETE ? nullptr : bervals_.back()->ptrs.data();
        mods_.push_back(std::move(mod));
    }
    LDAPMod** Get() {
        ptrs_.clear();
        for (auto& m : mods_)
            ptrs_.push_back(m.get());
        ptrs_.push_back(nullptr);
        return ptrs_.data();
    }

  private:
    std::vector<std::unique_ptr<std::string>> names_;
    std::vector<std::unique_ptr<BervalArray>> bervals_;
    std::vector<std::unique_ptr<LDAPMod>> mods_;
    std::vector<LDAPMod*> ptrs_;
};

}  // namespace

Status LdapSession::Open(const LdapOptions& o, std::unique_ptr<LdapSession>* out) {
    LDAP* ld = nullptr;
    int rc = ldap_initialize(&ld, o.uri.c_str());
    if (rc != LDAP_SUCCESS)
        return Status::InvalidArgument("'" + o.uri +
                                       "' is not a usable LDAP URI: " + ldap_err2string(rc));
    std::unique_ptr<LdapSession> session(new LdapSession(ld, o.timeout_seconds));
    int version = LDAP_VERSION3;
    ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version);
    ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
    struct timeval tv = {o.timeout_seconds, 0};
    ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv);
    ldap_set_option(ld, LDAP_OPT_TIMEOUT, &tv);
    if (o.start_tls) {
        rc = ldap_start_tls_s(ld, nullptr, nullptr);
        if (rc != LDAP_SUCCESS)
            return session->Result(rc, "StartTLS with " + o.uri);
    }
    std::string password;
    if (!o.bind_dn.empty()) {
        if (o.password_file.empty())
            return Status::InvalidArgument("-D needs -y FILE (the bind password)");
        Status s = ReadSecretFile(Env::Default(), o.password_file, &password);
        if (!s.ok())
            return Status::InvalidArgument("bind password: " + s.message());
    }
    berval cred{static_cast<ber_len_t>(password.size()), &password[0]};
    rc = ldap_sasl_bind_s(ld, o.bind_dn.empty() ? nullptr : o.bind_dn.c_str(), LDAP_SASL_SIMPLE,
                          &cred, nullptr, nullptr, nullptr);
    std::fill(password.begin(), password.end(), '\0');
    if (rc != LDAP_SUCCESS)
        return session->Result(
            rc, "bind to " + o.uri + (o.bind_dn.empty() ? " (anonymous)" : " as " + o.bind_dn));
    *out = std::move(session);
    return Status::OK();
}

LdapSession::~LdapSession() {
    ldap_unbind_ext_s(ld_, nullptr, nullptr);
}

Status LdapSession::Result(int rc, const std::string& what) {
    char* diag = nullptr;
    if (rc != LDAP_SUCCESS)
        ldap_get_option(ld_, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
    Status s = FromLdap(rc, what, diag);
    if (diag)
        ldap_memfree(diag);
    return s;
}

Status LdapSession::Add(const std::string& dn, const LdapAttrs& attrs) {
    ModArray mods;
    for (const auto& [name, values] : attrs)
        mods.Add(LDAP_MOD_ADD, name, values);
    return Result(ldap_add_ext_s(ld_, dn.c_str(), mods.Get(), nullptr, nullptr), "add " + dn);
}

Status LdapSession::Modify(const std::string& dn, const std::vector<LdapChange>& changes) {
    ModArray mods;
    for (const auto& c : changes) {
        int op = c.op == LdapChange::kAdd      ? LDAP_MOD_ADD
                 : c.op == LdapChange::kDelete ? LDAP_MOD_DELETE
                                               : LDAP_MOD_REPLACE;
        mods.Add(op, c.attr, c.values);
    }
    return Result(ldap_modify_ext_s(ld_, dn.c_str(), mods.Get(), nullptr, nullptr), "modify " + dn);
}

Status LdapSession::Read(const std::string& dn, const std::vector<std::string>& attrs,
                         LdapAttrs* entry) {
    std::vector<char*> names;
    for (const auto& a : attrs)
        names.push_back(const_cast<char*>(a.c_str()));
    names.push_back(nullptr);
    struct timeval tv = {timeout_, 0};
    LDAPMessage* res = nullptr;
    LDAPControl manage_dsa_it = {const_cast<char*>(LDAP_CONTROL_MANAGEDSAIT), {0, nullptr}, 1};
    LDAPControl* controls[] = {&manage_dsa_it, nullptr};
    int rc = ldap_search_ext_s(ld_, dn.c_str(), LDAP_SCOPE_BASE, "(objectClass=*)", names.data(), 0,
                               controls, nullptr, &tv, 1, &res);
    std::unique_ptr<LDAPMessage, int (*)(LDAPMessage*)> owner(res, ldap_msgfree);
    if (rc != LDAP_SUCCESS)
        return Result(rc, "read " + dn);
    LDAPMessage* e = ldap_first_entry(ld_, res);
    if (e == nullptr)
        return Status::NotFound("read " + dn + ": no such entry");
    entry->clear();
    BerElement* ber = nullptr;
    for (char* a = ldap_first_attribute(ld_, e, &ber); a != nullptr;
         a = ldap_next_attribute(ld_, e, ber)) {
        berval** vals = ldap_get_values_len(ld_, e, a);
        auto& out = (*entry)[a];
        for (int i = 0; vals && vals[i]; ++i)
            out.emplace_back(vals[i]->bv_val, vals[i]->bv_len);
        ldap_value_free_len(vals);
        ldap_memfree(a);
    }
    if (ber)
        ber_free(ber, 0);
    return Status::OK();
}

Status LdapSession::Extended(const std::string& oid, const std::string* value, std::string* text) {
    struct berval bv = {0, nullptr};
    if (value) {
        bv.bv_val = const_cast<char*>(value->data());
        bv.bv_len = value->size();
    }
    int msgid = 0;
    int rc =
        ldap_extended_operation(ld_, oid.c_str(), value ? &bv : nullptr, nullptr, nullptr, &msgid);
    if (rc != LDAP_SUCCESS)
        return Result(rc, "extended operation " + oid);
    struct timeval tv = {timeout_, 0};
    LDAPMessage* res = nullptr;
    rc = ldap_result(ld_, msgid, LDAP_MSG_ALL, &tv, &res);
    if (rc <= 0)
        return Result(rc == 0 ? LDAP_TIMEOUT : LDAP_SERVER_DOWN, "extended operation " + oid);
    int err = LDAP_OTHER;
    char* diag = nullptr;
    rc = ldap_parse_result(ld_, res, &err, nullptr, &diag, nullptr, nullptr, 1);
    if (rc != LDAP_SUCCESS)
        return Result(rc, "extended operation " + oid);
    if (text)
        *text = diag ? diag : "";
    Status s = FromLdap(err, "extended operation " + oid, diag);
    if (diag)
        ldap_memfree(diag);
    return s;
}

}  // namespace keydir
