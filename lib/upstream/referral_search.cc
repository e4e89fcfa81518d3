#include "upstream/referral_search.h"

#include <strings.h>
#include <sys/time.h>

#include <algorithm>
#include <memory>

#include "base/ascii.h"
#include "cert/address.h"  // EscapeFilterValue
#include "chase/ldap_url.h"

namespace keydir {
namespace {

// A DN in libldap's normal form (so that "DC=X, dc=com" and "dc=x,dc=com"
// are one place for loop detection), or lower case if it does not parse.
std::string NormalDn(const std::string& dn) {
    char* out = nullptr;
    if (ldap_dn_normalize(dn.c_str(), LDAP_DN_FORMAT_LDAP, &out, LDAP_DN_FORMAT_LDAPV3) ==
            LDAP_SUCCESS &&
        out != nullptr) {
        std::string s = Lower(out);
        ldap_memfree(out);
        return s;
    }
    return Lower(dn);
}

struct LdapFree {
    void operator()(LDAP* ld) const { ldap_unbind_ext_s(ld, nullptr, nullptr); }
    void operator()(LDAPMessage* m) const { ldap_msgfree(m); }
};

std::string LdapText(int rc, const std::string& diagnostic) {
    std::string text =
        std::string(ldap_err2string(rc)) + " (LDAP result " + std::to_string(rc) + ")";
    if (!diagnostic.empty())
        text += ": " + diagnostic;
    return text;
}

}  // namespace

std::string SearchPlace(const std::string& server, const std::string& base) {
    return Lower(server) + "/" + NormalDn(base);
}

ReferralSearch::ReferralSearch(std::string address, ReferralSearchOptions options,
                               EntryHandler on_entry)
    : address_(std::move(address)),
      options_(std::move(options)),
      on_entry_(std::move(on_entry)),
      deadline_(std::chrono::steady_clock::now() +
                std::chrono::seconds(options_.total_timeout_seconds > 0
                                         ? options_.total_timeout_seconds
                                         : options_.max_searches * options_.timeout_seconds)) {}

int ReferralSearch::SecondsLeft() const {
    auto left = std::chrono::duration_cast<std::chrono::seconds>(deadline_ -
                                                                 std::chrono::steady_clock::now())
                    .count();
    if (left <= 0)
        return 0;
    return static_cast<int>(std::min<int64_t>(left, options_.timeout_seconds));
}

Status ReferralSearch::Follow(const std::vector<std::string>& urls, const std::string& current_base,
                              int hops, const std::vector<std::string>& path, bool is_reference) {
    Status last = Status::OK();
    for (const auto& url : urls) {
        SearchTarget t;
        Status s = ParseReferralUrl(url, current_base, &t);
        if (s.ok() && options_.policy) {
            LdapUrl server;
            s = ParseServerUrl(t.server, &server);
            if (s.ok())
                s = options_.policy->Check(server.host, server.port, SystemResolveHost);
            if (!s.ok())
                s = Status::InvalidArgument("referral to " + t.server +
                                            " not followed: " + s.message());
        }
        if (!s.ok()) {
            last = s;
            continue;
        }
        // A continuation reference to another member's pointer cannot hold
        // this address: a zone's subtree search returns one per member.
        if (is_reference && NamesOtherMember(t.base, address_))
            return Status::OK();
        s = Search(t.server, t.base, hops + 1, path);
        if (s.ok())
            return s;
        // A loop or too many hops is no reason to try another server.
        if (s.code() != Status::Code::kUnavailable && s.code() != Status::Code::kTimedOut)
            return s;
        last = s;
    }
    return last;
}

Status ReferralSearch::Search(const std::string& server, const std::string& base, int hops,
                              std::vector<std::string> path) {
    std::string place = SearchPlace(server, base);
    for (const auto& p : path)
        if (p == place) {
            std::string chain;
            for (const auto& q : path)
                chain += q + " -> ";
            return Status::InvalidArgument("referral loop refused: " + chain + place);
        }
    if (hops > options_.max_hops)
        return Status::InvalidArgument("more than " + std::to_string(options_.max_hops) +
                                       " referral hops (at " + place + ")");
    path.push_back(place);
    if (!searched_.insert(place).second)
        return Status::OK();  // another branch did it
    if (++searches_ > options_.max_searches)
        return Status::InvalidArgument("more than " + std::to_string(options_.max_searches) +
                                       " searches for one address (at " + place + ")");

    LDAP* raw = nullptr;
    int rc = ldap_initialize(&raw, server.empty() ? nullptr : server.c_str());
    if (rc != LDAP_SUCCESS)
        return Status::InvalidArgument("'" + server +
                                       "' is not a usable LDAP URI: " + ldap_err2string(rc));
    std::unique_ptr<LDAP, LdapFree> ld(raw);
    int version = LDAP_VERSION3;
    ldap_set_option(raw, LDAP_OPT_PROTOCOL_VERSION, &version);
    ldap_set_option(raw, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
    if (options_.max_message_bytes) {
        // A longer message breaks the connection before libldap buffers it.
        Sockbuf* sb = nullptr;
        ber_len_t max = options_.max_message_bytes;
        if (ldap_get_option(raw, LDAP_OPT_SOCKBUF, &sb) != LDAP_OPT_SUCCESS || !sb ||
            ber_sockbuf_ctrl(sb, LBER_SB_OPT_SET_MAX_INCOMING, &max) != 1)
            return Status::Unavailable("cannot limit the message size for " + server);
    }
    int seconds = SecondsLeft();
    if (seconds == 0)
        return Status::TimedOut("the search for " + address_ + " ran out of time before " + place);
    struct timeval tv = {seconds, 0};
    ldap_set_option(raw, LDAP_OPT_NETWORK_TIMEOUT, &tv);
    ldap_set_option(raw, LDAP_OPT_TIMEOUT, &tv);
    std::string label = server;
    if (label.empty()) {
        char* uri = nullptr;
        ldap_get_option(raw, LDAP_OPT_URI, &uri);
        label = uri ? uri : "(ldap.conf default)";
        if (uri)
            ldap_memfree(uri);
    }

    std::string filter = "(mail=" + EscapeFilterValue(address_) + ")";
    std::vector<char*> attrs;
    for (const auto& a : options_.attributes)
        attrs.push_back(const_cast<char*>(a.c_str()));
    attrs.push_back(nullptr);
    int msgid = 0;
    rc = ldap_search_ext(raw, base.c_str(), LDAP_SCOPE_SUBTREE, filter.c_str(), attrs.data(), 0,
                         nullptr, nullptr, &tv, 16, &msgid);
    auto failed = [&](int code, const std::string& what, const std::string& diag) -> Status {
        std::string msg = label + ": " + what + ": " + LdapText(code, diag);
        if (code == LDAP_SERVER_DOWN || code == LDAP_CONNECT_ERROR || code == LDAP_UNAVAILABLE ||
            code == LDAP_BUSY)
            return Status::Unavailable(msg);
        if (code == LDAP_TIMEOUT || code == LDAP_TIMELIMIT_EXCEEDED)
            return Status::TimedOut(msg);
        return Status::InvalidArgument(msg);
    };
    if (rc != LDAP_SUCCESS)
        return failed(rc, "search", "");

    std::vector<std::vector<std::string>> references;
    std::vector<std::string> referral;
    int result_code = -1;
    std::string diagnostic;
    while (result_code < 0) {
        LDAPMessage* msg = nullptr;
        tv = {SecondsLeft(), 0};
        if (tv.tv_sec == 0)
            return Status::TimedOut(label + ": the search for " + address_ + " ran out of time");
        rc = ldap_result(raw, msgid, LDAP_MSG_ONE, &tv, &msg);
        std::unique_ptr<LDAPMessage, LdapFree> owner(msg);
        if (rc == 0)
            return Status::TimedOut(label + ": no answer within " +
                                    std::to_string(options_.timeout_seconds) + " s");
        if (rc < 0) {
            int err = LDAP_OTHER;
            ldap_get_option(raw, LDAP_OPT_RESULT_CODE, &err);
            return failed(err, "search", "");
        }
        switch (ldap_msgtype(msg)) {
            case LDAP_RES_SEARCH_ENTRY:
                if (++entries_ > options_.max_entries)
                    return Status::InvalidArgument(label + ": more than " +
                                                   std::to_string(options_.max_entries) +
                                                   " entries for " + address_);
                on_entry_(raw, msg, label, hops);
                break;
            case LDAP_RES_SEARCH_REFERENCE: {
                char** refs = nullptr;
                if (ldap_parse_reference(raw, msg, &refs, nullptr, 0) == LDAP_SUCCESS && refs) {
                    std::vector<std::string> urls;
                    for (char** r = refs; *r; ++r)
                        urls.emplace_back(*r);
                    references.push_back(std::move(urls));
                    ber_memvfree(reinterpret_cast<void**>(refs));
                }
                break;
            }
            case LDAP_RES_SEARCH_RESULT: {
                int code = LDAP_OTHER;
                char* diag = nullptr;
                char** refs = nullptr;
                rc = ldap_parse_result(raw, msg, &code, nullptr, &diag, &refs, nullptr, 0);
                if (rc != LDAP_SUCCESS)
                    code = rc;
                if (diag) {
                    diagnostic = diag;
                    ldap_memfree(diag);
                }
                for (char** r = refs; r && *r; ++r)
                    referral.emplace_back(*r);
                if (refs)
                    ber_memvfree(reinterpret_cast<void**>(refs));
                result_code = code;
                break;
            }
            default:
                break;
        }
    }
    ld.reset();  // hang up before following pointers elsewhere

    if (result_code == LDAP_REFERRAL) {
        if (referral.empty())
            return Status::InvalidArgument(label + ": a referral without a URL");
        return Follow(referral, base, hops, path, /*is_reference=*/false);
    }
    if (result_code != LDAP_SUCCESS && result_code != LDAP_NO_SUCH_OBJECT &&
        result_code != LDAP_SIZELIMIT_EXCEEDED)
        return failed(result_code, "search for " + filter + " at " + base, diagnostic);
    Status first_error = Status::OK();
    for (const auto& urls : references) {
        Status s = Follow(urls, base, hops, path, /*is_reference=*/true);
        if (!s.ok() && first_error.ok())
            first_error = s;
    }
    return first_error;
}

Status ParseReferralUrl(const std::string& url, const std::string& current_base,
                        SearchTarget* target) {
    size_t colon = url.find("://");
    if (colon != std::string::npos) {
        std::string scheme = Lower(url.substr(0, colon));
        if (scheme != "ldap" && scheme != "ldaps")
            return Status::InvalidArgument(
                "referral to '" + url + "' refused: only ldap:// and ldaps:// URLs are followed");
    }
    LDAPURLDesc* lud = nullptr;
    if (ldap_url_parse(url.c_str(), &lud) != LDAP_URL_SUCCESS || lud == nullptr)
        return Status::InvalidArgument("referral to '" + url + "' refused: not an LDAP URL");
    std::unique_ptr<LDAPURLDesc, void (*)(LDAPURLDesc*)> owner(lud, ldap_free_urldesc);
    std::string scheme = Lower(lud->lud_scheme ? lud->lud_scheme : "");
    if (scheme != "ldap" && scheme != "ldaps")
        return Status::InvalidArgument("referral to '" + url +
                                       "' refused: only ldap:// and ldaps:// URLs are followed");
    if (lud->lud_host == nullptr || *lud->lud_host == '\0')
        return Status::InvalidArgument("referral to '" + url + "' refused: it names no host");
    int port = lud->lud_port != 0 ? lud->lud_port : (scheme == "ldaps" ? 636 : 389);
    std::string host = Lower(lud->lud_host);
    if (host.find(':') != std::string::npos)
        host = "[" + host + "]";  // IPv6
    target->server = scheme + "://" + host + ":" + std::to_string(port);
    target->base = lud->lud_dn && *lud->lud_dn ? lud->lud_dn : current_base;
    return Status::OK();
}

bool NamesOtherMember(const std::string& dn, const std::string& address) {
    LDAPDN parsed = nullptr;
    if (ldap_str2dn(dn.c_str(), &parsed, LDAP_DN_FORMAT_LDAP) != LDAP_SUCCESS || parsed == nullptr)
        return false;
    bool other = false;
    LDAPRDN rdn = parsed[0];
    if (rdn != nullptr && rdn[0] != nullptr && rdn[1] == nullptr) {
        LDAPAVA* ava = rdn[0];
        std::string attr(ava->la_attr.bv_val, ava->la_attr.bv_len);
        std::string value(ava->la_value.bv_val, ava->la_value.bv_len);
        other = strcasecmp(attr.c_str(), "mail") == 0 &&
                strcasecmp(value.c_str(), address.c_str()) != 0;
    }
    ldap_dnfree(parsed);
    return other;
}

}  // namespace keydir
