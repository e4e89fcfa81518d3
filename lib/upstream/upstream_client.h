// UpstreamClient: asks other key servers over LDAP (libldap's client API)
// on behalf of keychase. Connections are pooled per server and reused;
// libldap sets TCP_NODELAY on them; ldaps:// and StartTLS are supported;
// every request has a deadline after which it is abandoned and its
// connection dropped, so that a hung server costs one caller one timeout.
//
// Thread safety: Search may be called from many threads at once; each call
// uses a connection of its own for its whole duration.
#ifndef KEYDIR_UPSTREAM_UPSTREAM_CLIENT_H
#define KEYDIR_UPSTREAM_UPSTREAM_CLIENT_H

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/env.h"
#include "base/status.h"

namespace keydir {

struct LdapControlValue {
    std::string oid;
    std::string value;
    bool critical = false;
};

// What a server answered to an extended operation.
struct ExtendedResult {
    int result_code = 0;
    std::string text;  // the diagnostic message
    std::vector<LdapControlValue> controls;
};

struct UpstreamRequest {
    std::string server;  // "ldap://host:port" or "ldaps://host:port"
    bool start_tls = false;
    std::string base_dn;
    int scope = 0;  // LDAP_SCOPE_BASE (0), ONELEVEL (1), SUBTREE (2)
    std::string filter = "(objectClass=*)";
    std::vector<std::string> attributes;  // empty: all user attributes
    std::vector<LdapControlValue> controls;
    int64_t timeout_micros = 3000000;
    int time_limit_seconds = 0;  // the search's time limit; 0: from timeout_micros
    // Entries accepted before the search is abandoned and fails (a base
    // search needs one); 0: no limit.
    size_t max_entries = 0;
};

struct UpstreamAttribute {
    std::string name;  // as the server sent it, options included
    std::vector<std::string> values;
};

struct UpstreamEntry {
    std::string dn;
    std::vector<UpstreamAttribute> attributes;
};

struct UpstreamResponse {
    // What came back, in order: entries and continuation references.
    struct Item {
        bool is_reference = false;
        size_t index = 0;  // into entries or references
    };
    std::vector<UpstreamEntry> entries;
    std::vector<std::vector<std::string>> references;
    std::vector<Item> order;
    int result_code = -1;
    std::string matched_dn;
    std::string diagnostic;
    std::vector<std::string> referrals;      // of a referral result
    std::vector<LdapControlValue> controls;  // on the result
};

struct UpstreamOptions {
    size_t max_idle_per_server = 8;  // pooled connections kept per server
    // Pooled connections kept in all: servers that referrals name come and
    // go, and each pooled connection holds a file descriptor of slapd's.
    size_t max_idle_total = 256;
    std::string tls_ca_file;           // trust anchors for ldaps/StartTLS ("" = system)
    bool tls_verify = true;            // check the server's certificate and name
    int64_t idle_close_seconds = 300;  // pooled connections unused this long are closed
    // The largest LDAP message read from a server (LBER max incoming): a
    // longer one breaks the connection. 0: libldap's default (no limit).
    size_t max_message_bytes = 1 << 20;
    // What one search may buffer in all (entries and references, counted
    // by their values' sizes) before it is abandoned and fails. 0: no limit.
    size_t max_response_bytes = 1 << 20;
};

struct UpstreamCounters {
    uint64_t requests = 0;
    uint64_t connects = 0;  // new connections made
    uint64_t reused = 0;    // requests served on a pooled connection
    uint64_t timeouts = 0;
    uint64_t failures = 0;  // connection or protocol failures
};

// Asks one server one search. An interface so that tests can stand in for
// the network.
class Upstream {
  public:
    virtual ~Upstream() = default;
    // Runs one search. OK means the server answered (the LDAP result code is
    // in response->result_code, whatever it is); TimedOut, Unavailable (no
    // connection) and IOError (the connection broke) mean it did not;
    // Corruption: the answer went past max_entries or max_response_bytes
    // (or was malformed) and was abandoned.
    virtual Status Search(const UpstreamRequest& request, UpstreamResponse* response) = 0;
};

class UpstreamClient : public Upstream {
  public:
    explicit UpstreamClient(const UpstreamOptions& options, Env* env = Env::Default());
    ~UpstreamClient() override;
    UpstreamClient(const UpstreamClient&) = delete;
    UpstreamClient& operator=(const UpstreamClient&) = delete;

    Status Search(const UpstreamRequest& request, UpstreamResponse* response) override;

    // An extended operation on `server` (on a connection from the pool).
    // OK means the server answered: *result holds what it said.
    Status Extended(const std::string& server, bool start_tls, const std::string& oid,
                    const std::string& value, const std::vector<LdapControlValue>& controls,
                    int64_t timeout_micros, ExtendedResult* result);

    // Closes every pooled connection.
    void CloseAll();
    UpstreamCounters Counters() const;

  private:
    struct Connection;
    std::unique_ptr<Connection> Checkout(const UpstreamRequest& request, Status* status);
    void Checkin(const std::string& key, std::unique_ptr<Connection> conn);
    Status RunSearch(Connection* conn, const UpstreamRequest& request, int64_t deadline,
                     UpstreamResponse* response);
    Status RunExtended(Connection* conn, const std::string& oid, const std::string& value,
                       const std::vector<LdapControlValue>& controls, int64_t deadline,
                       ExtendedResult* result);

    UpstreamOptions options_;
    Env* env_;
    mutable std::mutex mu_;
    std::map<std::string, std::vector<std::unique_ptr<Connection>>> idle_;
    size_t idle_count_ = 0;  // connections in idle_
    UpstreamCounters counters_;
};

}  // namespace keydir

#endif  // KEYDIR_UPSTREAM_UPSTREAM_CLIENT_H
