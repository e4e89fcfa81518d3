#include "upstream/upstream_client.h"

#include <ldap.h>

#include <algorithm>
#include <cstring>

namespace keydir {
namespace {

timeval ToTimeval(int64_t micros) {
    if (micros < 1000)
        micros = 1000;
    timeval tv;
    tv.tv_sec = static_cast<time_t>(micros / 1000000);
    tv.tv_usec = static_cast<suseconds_t>(micros % 1000000);
    return tv;
}

std::string LdapErrorText(LDAP* ld, int rc) {
    char* diag = nullptr;
    std::string text = ldap_err2string(rc);
    if (ld && ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag) == LDAP_OPT_SUCCESS && diag) {
        if (*diag)
            text += std::string(" (") + diag + ")";
        ldap_memfree(diag);
    }
    return text;
}

// Copies libldap's controls (a NULL-terminated array, or NULL).
void FromLdapControls(LDAPControl** ctrls, std::vector<LdapControlValue>* out) {
    for (int i = 0; ctrls && ctrls[i]; ++i) {
        LdapControlValue c;
        c.oid = ctrls[i]->ldctl_oid;
        c.value.assign(ctrls[i]->ldctl_value.bv_val ? ctrls[i]->ldctl_value.bv_val : "",
                       ctrls[i]->ldctl_value.bv_len);
        c.critical = ctrls[i]->ldctl_iscritical != 0;
        out->push_back(std::move(c));
    }
}

// Points libldap controls at `controls` (which must outlive them).
void ToLdapControls(const std::vector<LdapControlValue>& controls, std::vector<LDAPControl>* store,
                    std::vector<LDAPControl*>* out) {
    store->resize(controls.size());
    out->clear();
    for (size_t i = 0; i < controls.size(); ++i) {
        const LdapControlValue& c = controls[i];
        (*store)[i].ldctl_oid = const_cast<char*>(c.oid.c_str());
        (*store)[i].ldctl_value.bv_val = const_cast<char*>(c.value.data());
        (*store)[i].ldctl_value.bv_len = c.value.size();
        (*store)[i].ldctl_iscritical = c.critical ? 1 : 0;
        out->push_back(&(*store)[i]);
    }
    out->push_back(nullptr);
}

// Reads an entry; returns the bytes it holds (DN, names and values).
size_t ReadEntry(LDAP* ld, LDAPMessage* msg, UpstreamEntry* entry) {
    size_t bytes = 0;
    char* dn = ldap_get_dn(ld, msg);
    if (dn) {
        entry->dn = dn;
        ldap_memfree(dn);
    }
    bytes += entry->dn.size();
    BerElement* ber = nullptr;
    for (char* attr = ldap_first_attribute(ld, msg, &ber); attr;
         attr = ldap_next_attribute(ld, msg, ber)) {
        UpstreamAttribute a;
        a.name = attr;
        struct berval** vals = ldap_get_values_len(ld, msg, attr);
        bytes += a.name.size();
        for (int i = 0; vals && vals[i]; ++i) {
            a.values.emplace_back(vals[i]->bv_val, vals[i]->bv_len);
            bytes += vals[i]->bv_len;
        }
        if (vals)
            ldap_value_free_len(vals);
        entry->attributes.push_back(std::move(a));
        ldap_memfree(attr);
    }
    if (ber)
        ber_free(ber, 0);
    return bytes;
}

}  // namespace

struct UpstreamClient::Connection {
    LDAP* ld = nullptr;
    std::string key;
    int64_t last_used_micros = 0;
    ~Connection() {
        if (ld)
            ldap_unbind_ext(ld, nullptr, nullptr);
    }
};

UpstreamClient::UpstreamClient(const UpstreamOptions& options, Env* env)
    : options_(options), env_(env) {}

UpstreamClient::~UpstreamClient() {
    CloseAll();
}

void UpstreamClient::CloseAll() {
    std::map<std::string, std::vector<std::unique_ptr<Connection>>> idle;
    {
        std::lock_guard<std::mutex> lock(mu_);
        idle.swap(idle_);
        idle_count_ = 0;
    }
    // Destroyed outside the lock: unbinding does I/O.
}

UpstreamCounters UpstreamClient::Counters() const {
    std::lock_guard<std::mutex> lock(mu_);
    return counters_;
}

std::unique_ptr<UpstreamClient::Connection> UpstreamClient::Checkout(const UpstreamRequest& request,
                                                                     Status* status) {
    std::string key = request.server + (request.start_tls ? " starttls" : "");
    int64_t now = env_->NowMonotonicMicros();
    std::vector<std::unique_ptr<Connection>> stale;
    {
        std::lock_guard<std::mutex> lock(mu_);
        auto it = idle_.find(key);
        while (it != idle_.end() && !it->second.empty()) {
            std::unique_ptr<Connection> conn = std::move(it->second.back());
            it->second.pop_back();
            --idle_count_;
            if (now - conn->last_used_micros > options_.idle_close_seconds * 1000000) {
                stale.push_back(std::move(conn));
                continue;
            }
            ++counters_.reused;
            return conn;
        }
        ++counters_.connects;
    }
    auto conn = std::make_unique<Connection>();
    conn->key = key;
    int rc = ldap_initialize(&conn->ld, request.server.c_str());
    if (rc != LDAP_SUCCESS) {
        *status = Status::InvalidArgument("bad server URL " + request.server + ": " +
                                          ldap_err2string(rc));
        return nullptr;
    }
    int version = LDAP_VERSION3;
    ldap_set_option(conn->ld, LDAP_OPT_PROTOCOL_VERSION, &version);
    ldap_set_option(conn->ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
    if (options_.max_message_bytes) {
        // A longer message fails ber_get_next(): the connection breaks
        // before libldap has buffered it.
        Sockbuf* sb = nullptr;
        ber_len_t max = options_.max_message_bytes;
        if (ldap_get_option(conn->ld, LDAP_OPT_SOCKBUF, &sb) != LDAP_OPT_SUCCESS || !sb ||
            ber_sockbuf_ctrl(sb, LBER_SB_OPT_SET_MAX_INCOMING, &max) != 1) {
            *status = Status::IOError("cannot limit the message size for " + request.server);
            return nullptr;
        }
    }
    if (request.start_tls || request.server.compare(0, 8, "ldaps://") == 0) {
        int require = options_.tls_verify ? LDAP_OPT_X_TLS_DEMAND : LDAP_OPT_X_TLS_NEVER;
        ldap_set_option(conn->ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &require);
        if (!options_.tls_ca_file.empty())
            ldap_set_option(conn->ld, LDAP_OPT_X_TLS_CACERTFILE, options_.tls_ca_file.c_str());
        int newctx = 0;
        ldap_set_option(conn->ld, LDAP_OPT_X_TLS_NEWCTX, &newctx);
    }
    return conn;
}

void UpstreamClient::Checkin(const std::string& key, std::unique_ptr<Connection> conn) {
    int64_t now = env_->NowMonotonicMicros();
    conn->last_used_micros = now;
    std::vector<std::unique_ptr<Connection>> closed;  // destroyed outside the lock (I/O)
    std::lock_guard<std::mutex> lock(mu_);
    // Servers asked once are not asked again: their stale connections go
    // here, not at their next checkout, and so does the oldest connection
    // when the pool is full.
    auto oldest = idle_.end();
    for (auto it = idle_.begin(); it != idle_.end();) {
        auto& pool = it->second;
        for (auto c = pool.begin(); c != pool.end();) {
            if (now - (*c)->last_used_micros > options_.idle_close_seconds * 1000000) {
                closed.push_back(std::move(*c));
                c = pool.erase(c);
                --idle_count_;
            } else {
                ++c;
            }
        }
        if (pool.empty() && it->first != key) {
            it = idle_.erase(it);
            continue;
        }
        if (!pool.empty() && it->first != key &&
            (oldest == idle_.end() ||
             pool.front()->last_used_micros < oldest->second.front()->last_used_micros))
            oldest = it;
        ++it;
    }
    auto& pool = idle_[key];
    if (pool.size() >= options_.max_idle_per_server) {
        closed.push_back(std::move(conn));
        return;
    }
    if (idle_count_ >= options_.max_idle_total) {
        if (oldest == idle_.end()) {
            closed.push_back(std::move(conn));
            return;
        }
        closed.push_back(std::move(oldest->second.front()));
        oldest->second.erase(oldest->second.begin());
        --idle_count_;
        if (oldest->second.empty())
            idle_.erase(oldest);
    }
    pool.push_back(std::move(conn));
    ++idle_count_;
}

Status UpstreamClient::RunSearch(Connection* conn, const UpstreamRequest& request, int64_t deadline,
                                 UpstreamResponse* response) {
    LDAP* ld = conn->ld;
    int64_t left = deadline - env_->NowMonotonicMicros();
    if (left <= 0)
        return Status::TimedOut("no time left to ask " + request.server);
    timeval tv = ToTimeval(left);
    ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv);
    ldap_set_option(ld, LDAP_OPT_TIMEOUT, &tv);

    if (request.start_tls && !ldap_tls_inplace(ld)) {
        int rc = ldap_start_tls_s(ld, nullptr, nullptr);
        if (rc != LDAP_SUCCESS) {
            Status s = Status::Unavailable("StartTLS with " + request.server +
                                           " failed: " + LdapErrorText(ld, rc));
            return rc == LDAP_TIMEOUT ? Status::TimedOut(s.message()) : s;
        }
    }

    std::vector<LDAPControl> ctrl_store;
    std::vector<LDAPControl*> ctrls;
    ToLdapControls(request.controls, &ctrl_store, &ctrls);
    std::vector<char*> attrs;
    for (const std::string& a : request.attributes)
        attrs.push_back(const_cast<char*>(a.c_str()));
    attrs.push_back(nullptr);

    // The server's own time limit follows the deadline, rounded up, unless
    // the request names one (it is part of what a signature covers).
    timeval server_limit = ToTimeval(left + 999999);
    if (request.time_limit_seconds > 0) {
        server_limit.tv_sec = request.time_limit_seconds;
        server_limit.tv_usec = 0;
    }
    int msgid = -1;
    int rc = ldap_search_ext(ld, request.base_dn.c_str(), request.scope, request.filter.c_str(),
                             request.attributes.empty() ? nullptr : attrs.data(), 0, ctrls.data(),
                             nullptr, &server_limit, 0, &msgid);
    if (rc != LDAP_SUCCESS) {
        std::string why = "asking " + request.server + ": " + LdapErrorText(ld, rc);
        if (rc == LDAP_TIMEOUT)
            return Status::TimedOut(why);
        if (rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR)
            return Status::Unavailable(why);
        return Status::IOError(why);
    }

    // What the answer holds so far, against options_.max_response_bytes
    // (every item counts a little more than its bytes, for its overhead).
    size_t buffered = 0;
    auto too_much = [&](const std::string& what) {
        ldap_abandon_ext(ld, msgid, nullptr, nullptr);
        return Status::Corruption(request.server + " sent " + what + "; answer refused");
    };
    for (;;) {
        left = deadline - env_->NowMonotonicMicros();
        if (left <= 0) {
            ldap_abandon_ext(ld, msgid, nullptr, nullptr);
            return Status::TimedOut(request.server + " did not answer in time");
        }
        tv = ToTimeval(left);
        LDAPMessage* msg = nullptr;
        rc = ldap_result(ld, msgid, LDAP_MSG_ONE, &tv, &msg);
        if (rc == 0) {
            ldap_abandon_ext(ld, msgid, nullptr, nullptr);
            return Status::TimedOut(request.server + " did not answer in time");
        }
        if (rc < 0) {
            int err = LDAP_OTHER;
            ldap_get_option(ld, LDAP_OPT_RESULT_CODE, &err);
            return Status::IOError("reading from " + request.server + ": " +
                                   LdapErrorText(ld, err));
        }
        switch (ldap_msgtype(msg)) {
            case LDAP_RES_SEARCH_ENTRY: {
                if (request.max_entries && response->entries.size() >= request.max_entries) {
                    ldap_msgfree(msg);
                    return too_much("more than " + std::to_string(request.max_entries) +
                                    (request.max_entries == 1 ? " entry" : " entries"));
                }
                UpstreamEntry entry;
                buffered += ReadEntry(ld, msg, &entry) + 64;
                ldap_msgfree(msg);
                if (options_.max_response_bytes && buffered > options_.max_response_bytes)
                    return too_much("more than " + std::to_string(options_.max_response_bytes) +
                                    " bytes");
                response->order.push_back({false, response->entries.size()});
                response->entries.push_back(std::move(entry));
                break;
            }
            case LDAP_RES_SEARCH_REFERENCE: {
                char** refs = nullptr;
                ldap_parse_reference(ld, msg, &refs, nullptr, 0);
                std::vector<std::string> urls;
                buffered += 64;
                for (int i = 0; refs && refs[i]; ++i) {
                    urls.emplace_back(refs[i]);
                    buffered += urls.back().size() + 64;
                }
                if (refs)
                    ber_memvfree(reinterpret_cast<void**>(refs));
                ldap_msgfree(msg);
                if (options_.max_response_bytes && buffered > options_.max_response_bytes)
                    return too_much("more than " + std::to_string(options_.max_response_bytes) +
                                    " bytes");
                response->order.push_back({true, response->references.size()});
                response->references.push_back(std::move(urls));
                break;
            }
            case LDAP_RES_SEARCH_RESULT: {
                int err = LDAP_OTHER;
                char* matched = nullptr;
                char* text = nullptr;
                char** refs = nullptr;
                LDAPControl** rctrls = nullptr;
                rc = ldap_parse_result(ld, msg, &err, &matched, &text, &refs, &rctrls, 1);
                if (rc != LDAP_SUCCESS)
                    return Status::IOError("bad result from " + request.server + ": " +
                                           ldap_err2string(rc));
                response->result_code = err;
                if (matched)
                    response->matched_dn = matched;
                if (text)
                    response->diagnostic = text;
                for (int i = 0; refs && refs[i]; ++i)
                    response->referrals.emplace_back(refs[i]);
                FromLdapControls(rctrls, &response->controls);
                if (matched)
                    ldap_memfree(matched);
                if (text)
                    ldap_memfree(text);
                if (refs)
                    ber_memvfree(reinterpret_cast<void**>(refs));
                if (rctrls)
                    ldap_controls_free(rctrls);
                return Status::OK();
            }
            default:
                ldap_msgfree(msg);
                break;
        }
    }
}

Status UpstreamClient::Search(const UpstreamRequest& request, UpstreamResponse* response) {
    int64_t deadline = env_->NowMonotonicMicros() + request.timeout_micros;
    {
        std::lock_guard<std::mutex> lock(mu_);
        ++counters_.requests;
    }
    Status s;
    // A pooled connection may have been closed by the server meanwhile: then
    // the search fails at once and is tried again on a new connection.
    for (int attempt = 0; attempt < 2; ++attempt) {
        *response = UpstreamResponse();
        std::unique_ptr<Connection> conn = Checkout(request, &s);
        if (!conn)
            break;
        bool pooled = conn->last_used_micros != 0;
        s = RunSearch(conn.get(), request, deadline, response);
        if (s.ok()) {
            std::string key = conn->key;  // before conn is moved from
            Checkin(key, std::move(conn));
            return s;
        }
        // The connection is dropped (closed by conn's destructor).
        if (!(pooled &&
              (s.code() == Status::Code::kIOError || s.code() == Status::Code::kUnavailable)))
            break;
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (s.code() == Status::Code::kTimedOut)
        ++counters_.timeouts;
    else
        ++counters_.failures;
    return s;
}

Status UpstreamClient::RunExtended(Connection* conn, const std::string& oid,
                                   const std::string& value,
                                   const std::vector<LdapControlValue>& controls, int64_t deadline,
                                   ExtendedResult* result) {
    LDAP* ld = conn->ld;
    int64_t left = deadline - env_->NowMonotonicMicros();
    if (left <= 0)
        return Status::TimedOut("no time left");
    timeval tv = ToTimeval(left);
    ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv);
    ldap_set_option(ld, LDAP_OPT_TIMEOUT, &tv);
    std::vector<LDAPControl> store;
    std::vector<LDAPControl*> ctrls;
    ToLdapControls(controls, &store, &ctrls);
    struct berval bv = {value.size(), const_cast<char*>(value.data())};
    int msgid = -1;
    int rc = ldap_extended_operation(ld, oid.c_str(), &bv, ctrls.data(), nullptr, &msgid);
    if (rc != LDAP_SUCCESS) {
        std::string why = ldap_err2string(rc);
        if (rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR)
            return Status::Unavailable(why);
        return Status::IOError(why);
    }
    LDAPMessage* msg = nullptr;
    tv = ToTimeval(deadline - env_->NowMonotonicMicros());
    rc = ldap_result(ld, msgid, LDAP_MSG_ALL, &tv, &msg);
    if (rc == 0) {
        ldap_abandon_ext(ld, msgid, nullptr, nullptr);
        return Status::TimedOut("no answer in time");
    }
    if (rc < 0)
        return Status::IOError("the connection broke");
    int err = LDAP_OTHER;
    char* diag = nullptr;
    LDAPControl** rctrls = nullptr;
    rc = ldap_parse_result(ld, msg, &err, nullptr, &diag, nullptr, &rctrls, 1);
    if (rc != LDAP_SUCCESS)
        return Status::IOError(std::string("bad result: ") + ldap_err2string(rc));
    ExtendedResult out;
    out.result_code = err;
    out.text = diag ? diag : "";
    FromLdapControls(rctrls, &out.controls);
    if (diag)
        ldap_memfree(diag);
    if (rctrls)
        ldap_controls_free(rctrls);
    *result = std::move(out);
    return Status::OK();
}

Status UpstreamClient::Extended(const std::string& server, bool start_tls, const std::string& oid,
                                const std::string& value,
                                const std::vector<LdapControlValue>& controls,
                                int64_t timeout_micros, ExtendedResult* result) {
    int64_t deadline = env_->NowMonotonicMicros() + timeout_micros;
    UpstreamRequest where;
    where.server = server;
    where.start_tls = start_tls;
    Status s;
    for (int attempt = 0; attempt < 2; ++attempt) {
        std::unique_ptr<Connection> conn = Checkout(where, &s);
        if (!conn)
            return s;
        bool pooled = conn->last_used_micros != 0;
        if (start_tls && !ldap_tls_inplace(conn->ld)) {
            int rc = ldap_start_tls_s(conn->ld, nullptr, nullptr);
            if (rc != LDAP_SUCCESS)
                return Status::Unavailable("StartTLS failed");
        }
        s = RunExtended(conn.get(), oid, value, controls, deadline, result);
        if (s.ok()) {
            std::string key = conn->key;
            Checkin(key, std::move(conn));
            return s;
        }
        if (!(pooled &&
              (s.code() == Status::Code::kIOError || s.code() == Status::Code::kUnavailable)))
            break;
    }
    return s;
}

}  // namespace keydir
