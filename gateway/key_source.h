// Keys for the gateway: a recipient's usable encryption certificates and a
// local member's private identity, read from the key server, checked with
// lib/cert and kept for a short while so that a burst of mail to the same
// people does not ask the key server again for every message.
#ifndef KEYDIR_GATEWAY_KEY_SOURCE_H
#define KEYDIR_GATEWAY_KEY_SOURCE_H

#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/env.h"
#include "base/status.h"
#include "cert/member_cert.h"
#include "gateway/directory.h"
#include "gateway/smime.h"

namespace keydir {
namespace gateway {

class KeySource {
  public:
    virtual ~KeySource() = default;
    // OK with at least one certificate; NotFound (message: why) when the
    // directory has no usable key for the address; any other code when the
    // key server could not be asked (the caller defers).
    virtual Status RecipientCertificates(const std::string& address,
                                         std::vector<CertPtr>* certs) = 0;
    // A local member's certificate and private key from userPKCS12. NotFound
    // when there is none; PermissionDenied / InvalidArgument when it does not
    // open; Unavailable / TimedOut when the key server could not be asked.
    virtual Status PrivateIdentity(const std::string& address, Identity* out) = 0;
};

enum class CertSelection {
    kAllUsable,  // encrypt to every usable certificate (a rollover keeps working)
    kNewest,     // only to the usable one with the latest notBefore
};

struct KeySourceOptions {
    const TrustAnchors* anchors = nullptr;  // when set, certificates must chain to one
    std::string key_password;               // opens userPKCS12
    int cache_ttl_seconds = 60;             // 0: ask the key server every time
    size_t cache_entries = 10000;
    CertSelection selection = CertSelection::kAllUsable;
};

class DirectoryKeySource : public KeySource {
  public:
    DirectoryKeySource(Directory* directory, KeySourceOptions options, Env* env = Env::Default());

    Status RecipientCertificates(const std::string& address, std::vector<CertPtr>* certs) override;
    Status PrivateIdentity(const std::string& address, Identity* out) override;

    // The usable certificates of a record for `address` (exposed for tests).
    Status SelectCertificates(const MemberRecord& record, const std::string& address,
                              std::vector<CertPtr>* certs) const;

  private:
    struct Cached {
        int64_t expires = 0;  // monotonic micros
        Status status;
        std::vector<CertPtr> certs;
        Identity identity;
    };
    bool FromCache(const std::string& key, Cached* out);
    void ToCache(const std::string& key, Cached entry);
    // Both lookups: the address's syntax and its member key (MemberKey:
    // lower case), the cache, the key server, then `use` on the member's
    // record and key. Only the member key goes into the decision, so it is
    // the cache key. The key server's answer (found or not, and what `use`
    // made of it) is cached; a failure to reach it is not.
    Status Resolve(
        const std::string& kind, const std::string& address, bool private_key,
        const std::function<Status(const MemberRecord&, const std::string&, Cached*)>& use,
        Cached* out);

    Directory* const directory_;
    const KeySourceOptions options_;
    Env* const env_;
    std::mutex mu_;
    std::list<std::string> lru_;  // front = most recent
    std::unordered_map<std::string, std::pair<Cached, std::list<std::string>::iterator>> cache_;
};

// Remembers the answers of another KeySource for one SMTP transaction, so
// that a recipient checked at RCPT time gets the same answer after DATA.
class MemoKeySource : public KeySource {
  public:
    explicit MemoKeySource(KeySource* base) : base_(base) {}
    Status RecipientCertificates(const std::string& address, std::vector<CertPtr>* certs) override;
    Status PrivateIdentity(const std::string& address, Identity* out) override;
    void Clear() {
        public_.clear();
        private_.clear();
    }

  private:
    KeySource* const base_;
    std::unordered_map<std::string, std::pair<Status, std::vector<CertPtr>>> public_;
    std::unordered_map<std::string, std::pair<Status, Identity>> private_;
};

}  // namespace gateway
}  // namespace keydir

#endif  // KEYDIR_GATEWAY_KEY_SOURCE_H
