#include "gateway/directory.h"

#include "cert/address.h"              // EscapeFilterValue
#include "upstream/referral_search.h"  // following referrals and references

#include <ldap.h>
#include <strings.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>

namespace keydir {
namespace gateway {
namespace {

Status FromLdap(int rc, const std::string& what) {
    std::string m = what + ": " + ldap_err2string(rc) + " (" + std::to_string(rc) + ")";
    if (rc == LDAP_TIMEOUT || rc == LDAP_TIMELIMIT_EXCEEDED)
        return Status::TimedOut(m);
    if (rc == LDAP_INVALID_CREDENTIALS || rc == LDAP_INSUFFICIENT_ACCESS ||
        rc == LDAP_INAPPROPRIATE_AUTH || rc == LDAP_STRONG_AUTH_REQUIRED)
        return Status::PermissionDenied(m);
    return Status::Unavailable(m);
}

// The attributes of one entry.
void ReadOneEntry(LDAP* ld, LDAPMessage* e, MemberRecord* rec) {
    char* dn = ldap_get_dn(ld, e);
    if (dn)
        rec->dn = dn;
    ldap_memfree(dn);
    BerElement* ber = nullptr;
    for (char* a = ldap_first_attribute(ld, e, &ber); a; a = ldap_next_attribute(ld, e, ber)) {
        std::string name = a;
        ldap_memfree(a);
        for (auto& c : name)
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        berval** vals = ldap_get_values_len(ld, e, name.c_str());
        std::vector<std::string>* dest = nullptr;
        if (name == "usercertificate;binary" || name == "usercertificate") {
            dest = &rec->certificates;
        } else if (name == "keydirrevokedcertificate" ||
                   name == "keydirrevokedcertificate;binary") {
            dest = &rec->revoked;
        } else if (name == "userpkcs12" || name == "userpkcs12;binary") {
            dest = &rec->pkcs12;
        }
        for (int i = 0; vals && vals[i]; ++i) {
            std::string v(vals[i]->bv_val, vals[i]->bv_len);
            if (dest) {
                dest->push_back(std::move(v));
            } else if (name == "keydirstatus" && rec->status.empty()) {
                rec->status = v;
            }
        }
        ldap_value_free_len(vals);
    }
    if (ber)
        ber_free(ber, 0);
}

bool Revoked(const std::string& status) {
    return strcasecmp(status.c_str(), "revoked") == 0;
}

// One entry added to *rec. Several entries (the same address in several
// databases) add up, each with its own status: a revoked entry's
// certificates count as revoked, and the record is revoked only when every
// entry is. The first DN wins.
void ReadEntry(LDAP* ld, LDAPMessage* e, MemberRecord* rec) {
    MemberRecord one;
    ReadOneEntry(ld, e, &one);
    bool first = rec->dn.empty() && rec->certificates.empty() && rec->revoked.empty();
    bool revoked = Revoked(one.status);
    auto append = [](std::vector<std::string>* to, std::vector<std::string>* from) {
        to->insert(to->end(), std::make_move_iterator(from->begin()),
                   std::make_move_iterator(from->end()));
    };
    append(revoked ? &rec->revoked : &rec->certificates, &one.certificates);
    append(&rec->revoked, &one.revoked);
    append(&rec->pkcs12, &one.pkcs12);
    if (rec->dn.empty())
        rec->dn = std::move(one.dn);
    if (first || (Revoked(rec->status) && !revoked))
        rec->status = std::move(one.status);
}

}  // namespace

Status KeyServerResult(int rc, const std::string& what) {
    switch (rc) {
        case LDAP_SUCCESS:
        case LDAP_SIZELIMIT_EXCEEDED:
            return Status::OK();
        case LDAP_NO_SUCH_OBJECT:
            return Status::NotFound(what + ": no such object");
        case LDAP_REFERRAL:
            // Only the key server's own verdict is "no key": a referral is
            // "ask elsewhere", and when nobody did, nothing is known.
            return Status::Unavailable(what + ": a referral that was not followed (10)");
        default:
            // unwillingToPerform (53: keychase-require-signed refusing an
            // unsigned client), busy, unavailable, other, ...
            return FromLdap(rc, what);
    }
}

struct LdapDirectory::Conn {
    LDAP* ld = nullptr;
    ~Conn() {
        if (ld)
            ldap_unbind_ext_s(ld, nullptr, nullptr);
    }
};

LdapDirectory::LdapDirectory(LdapOptions options) : options_(std::move(options)) {
    // libldap initialises its global state on first use: do that here, in
    // one thread, before sessions open connections concurrently.
    int version = LDAP_VERSION3;
    ldap_set_option(nullptr, LDAP_OPT_PROTOCOL_VERSION, &version);
}

LdapDirectory::~LdapDirectory() = default;

Status LdapDirectory::Connect(std::unique_ptr<Conn>* out) {
    auto conn = std::make_unique<Conn>();
    int rc = ldap_initialize(&conn->ld, options_.uri.c_str());
    if (rc != LDAP_SUCCESS)
        return FromLdap(rc, "LDAP URI " + options_.uri);
    int version = LDAP_VERSION3;
    ldap_set_option(conn->ld, LDAP_OPT_PROTOCOL_VERSION, &version);
    // The local key server chases remote keys itself: never follow referrals.
    ldap_set_option(conn->ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
    struct timeval tv = {options_.timeout_seconds, 0};
    ldap_set_option(conn->ld, LDAP_OPT_NETWORK_TIMEOUT, &tv);
    ldap_set_option(conn->ld, LDAP_OPT_TIMEOUT, &tv);
    int restart = 1;
    ldap_set_option(conn->ld, LDAP_OPT_RESTART, &restart);
    struct berval cred;
    cred.bv_val = const_cast<char*>(options_.bind_password.data());
    cred.bv_len = options_.bind_password.size();
    // Bind (anonymously when no DN is set): this also opens the connection,
    // so a dead server shows here and not in the first search.
    rc = ldap_sasl_bind_s(conn->ld, options_.bind_dn.empty() ? nullptr : options_.bind_dn.c_str(),
                          LDAP_SASL_SIMPLE, &cred, nullptr, nullptr, nullptr);
    if (rc != LDAP_SUCCESS)
        return FromLdap(rc, options_.bind_dn.empty() ? "connecting to " + options_.uri
                                                     : "binding as " + options_.bind_dn);
    *out = std::move(conn);
    return Status::OK();
}

Status LdapDirectory::Acquire(std::unique_ptr<Conn>* out, bool fresh) {
    std::unique_lock<std::mutex> lock(mu_);
    auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(options_.timeout_seconds);
    for (;;) {
        if (!fresh && !idle_.empty()) {
            *out = std::move(idle_.back());
            idle_.pop_back();
            return Status::OK();
        }
        if (fresh && !idle_.empty()) {  // make room for a new connection
            idle_.pop_back();
            --open_;
        }
        if (open_ < std::max(1, options_.pool_size)) {
            ++open_;
            lock.unlock();
            Status s = Connect(out);
            if (!s.ok()) {
                lock.lock();
                --open_;
                cv_.notify_one();
            }
            return s;
        }
        if (cv_.wait_until(lock, deadline) == std::cv_status::timeout)
            return Status::TimedOut("all " + std::to_string(options_.pool_size) +
                                    " LDAP connections stayed busy for " +
                                    std::to_string(options_.timeout_seconds) + "s");
    }
}

void LdapDirectory::Release(std::unique_ptr<Conn> conn, bool healthy) {
    std::lock_guard<std::mutex> lock(mu_);
    if (healthy) {
        idle_.push_back(std::move(conn));
    } else {
        --open_;
        conn.reset();
    }
    cv_.notify_one();
}

Status LdapDirectory::Probe() {
    std::unique_ptr<Conn> conn;
    Status s = Acquire(&conn, false);
    if (s.ok())
        Release(std::move(conn), true);
    return s;
}

Status LdapDirectory::Search(Conn* conn, const std::string& address, bool with_private_key,
                             MemberRecord* out, Referrals* referrals) {
    std::string filter = "(mail=" + keydir::EscapeFilterValue(address) + ")";
    const char* attrs_pub[] = {"userCertificate;binary", "keydirStatus", "keydirRevokedCertificate",
                               nullptr};
    const char* attrs_priv[] = {"userCertificate;binary", "keydirStatus",
                                "keydirRevokedCertificate;binary", "userPKCS12", nullptr};
    struct timeval tv = {options_.timeout_seconds, 0};
    LDAPMessage* res = nullptr;
    int rc = ldap_search_ext_s(conn->ld, options_.base.c_str(), LDAP_SCOPE_SUBTREE, filter.c_str(),
                               const_cast<char**>(with_private_key ? attrs_priv : attrs_pub), 0,
                               nullptr, nullptr, &tv, 16, &res);
    // The null DN (--ldap-base "") is named, not left as nothing.
    const std::string base = options_.base.empty() ? "the null DN \"\"" : options_.base;
    const std::string what = "searching (mail=" + address + ") under " + base;
    if (rc == LDAP_NO_SUCH_OBJECT) {
        ldap_msgfree(res);
        return Status::NotFound("no entry with mail=" + address + " under " + base);
    }
    if (rc != LDAP_SUCCESS && rc != LDAP_SIZELIMIT_EXCEEDED && rc != LDAP_REFERRAL) {
        ldap_msgfree(res);
        return KeyServerResult(rc, what);
    }
    MemberRecord rec;
    int entries = 0;
    for (LDAPMessage* e = ldap_first_entry(conn->ld, res); e; e = ldap_next_entry(conn->ld, e)) {
        ++entries;
        ReadEntry(conn->ld, e, &rec);
    }
    // Continuation references (RFC 4511 4.5.3: part of the subtree is held
    // elsewhere) and a referral result: where else to ask.
    for (LDAPMessage* r = ldap_first_reference(conn->ld, res); r;
         r = ldap_next_reference(conn->ld, r)) {
        char** refs = nullptr;
        if (ldap_parse_reference(conn->ld, r, &refs, nullptr, 0) == LDAP_SUCCESS && refs) {
            std::vector<std::string> urls;
            for (char** u = refs; *u; ++u)
                urls.emplace_back(*u);
            referrals->push_back({std::move(urls), true});
        }
        if (refs)
            ber_memvfree(reinterpret_cast<void**>(refs));
    }
    if (rc == LDAP_REFERRAL) {
        std::vector<std::string> urls;
        char** refs = nullptr;
        LDAPMessage* result = ldap_first_message(conn->ld, res);
        while (result && ldap_msgtype(result) != LDAP_RES_SEARCH_RESULT)
            result = ldap_next_message(conn->ld, result);
        if (result && ldap_parse_result(conn->ld, result, nullptr, nullptr, nullptr, &refs, nullptr,
                                        0) == LDAP_SUCCESS) {
            for (char** u = refs; u && *u; ++u)
                urls.emplace_back(*u);
        }
        if (refs)
            ber_memvfree(reinterpret_cast<void**>(refs));
        if (urls.empty()) {
            ldap_msgfree(res);
            return KeyServerResult(rc, what + " (a referral without a URL)");
        }
        referrals->push_back({std::move(urls), false});
    }
    ldap_msgfree(res);
    if (entries > 0) {
        referrals->clear();  // the key server's own entry is the answer
        *out = std::move(rec);
        return Status::OK();
    }
    if (!referrals->empty())
        return Status::OK();  // the caller follows them
    return Status::NotFound("no entry with mail=" + address);
}

Status LdapDirectory::FollowReferrals(const std::string& address, bool with_private_key,
                                      const Referrals& referrals, MemberRecord* out) {
    auto urls_of = [&] {
        std::string all;
        for (const auto& r : referrals)
            for (const auto& u : r.urls)
                all += (all.empty() ? "" : " ") + u;
        return all;
    };
    if (with_private_key)
        return Status::Unavailable("the key server refers the search for " + address +
                                   " elsewhere (" + urls_of() +
                                   "); private keys are read from the configured key server only");
    ReferralSearchOptions o;
    o.max_hops = options_.max_referral_hops;
    o.max_searches = options_.max_referral_searches;
    o.timeout_seconds = options_.timeout_seconds;
    o.total_timeout_seconds = 3 * options_.timeout_seconds;
    o.policy = &options_.referral_policy;
    o.attributes = {"userCertificate;binary", "keydirStatus", "keydirRevokedCertificate"};
    MemberRecord rec;
    int entries = 0;
    ReferralSearch search(address, o, [&](LDAP* ld, LDAPMessage* e, const std::string&, int) {
        ++entries;
        ReadEntry(ld, e, &rec);
    });
    // The configured key server is where every path starts: a referral back
    // to it is a loop.
    std::string first_uri = options_.uri.substr(0, options_.uri.find(' '));
    SearchTarget first;
    std::string start = ParseReferralUrl(first_uri, options_.base, &first).ok()
                            ? SearchPlace(first.server, options_.base)
                            : SearchPlace(first_uri, options_.base);
    Status failed = Status::OK();
    for (const auto& r : referrals) {
        Status s = search.Follow(r.urls, options_.base, 0, {start}, r.is_reference);
        if (!s.ok() && failed.ok())
            failed = s;
    }
    if (entries > 0) {
        // Nothing vouches for what those servers said (no signature, maybe
        // no TLS): only a certificate that chains to a trust anchor can be
        // told from one a network attacker made.
        if (!options_.referral_certificates_checked)
            return Status::Unavailable(
                "the key server refers the search for " + address + " elsewhere (" + urls_of() +
                "); certificates found there are used only with --trust-anchor");
        rec.via_referral = true;
        *out = std::move(rec);
        return Status::OK();
    }
    if (!failed.ok())
        return Status::Unavailable(
            "the key server refers the search for " + address +
            " elsewhere and the referral could not be followed: " + failed.message());
    // An unauthenticated "no entry" is exactly what an attacker on the path
    // would forge to make the message go out under the no-key policy.
    return Status::Unavailable("the servers the key server referred to (" + urls_of() +
                               ") have no entry with mail=" + address +
                               "; an unsigned answer from there is not taken as \"no key\"");
}

Status LdapDirectory::Lookup(const std::string& address, bool with_private_key, MemberRecord* out) {
    // A pooled connection may have been closed by the server since its last
    // use: on server trouble, retry once on a fresh connection.
    for (int attempt = 0; attempt < 2; ++attempt) {
        std::unique_ptr<Conn> conn;
        Status s = Acquire(&conn, attempt > 0);
        if (!s.ok())
            return s;
        Referrals referrals;
        s = Search(conn.get(), address, with_private_key, out, &referrals);
        bool trouble = !s.ok() && !s.IsNotFound();
        Release(std::move(conn), !trouble);
        if (s.ok() && !referrals.empty())
            return FollowReferrals(address, with_private_key, referrals, out);
        if (!trouble || s.code() == Status::Code::kTimedOut)
            return s;
        if (attempt == 1)
            return s;
    }
    return Status::Unavailable("unreachable");
}

}  // namespace gateway
}  // namespace keydir
