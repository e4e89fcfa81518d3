#include "gateway/key_source.h"

#include "base/ascii.h"

#include <algorithm>
#include <cctype>

#include "cert/address.h"  // ValidateAddress: the syntax of member addresses

namespace keydir {
namespace gateway {
DirectoryKeySource::DirectoryKeySource(Directory* directory, KeySourceOptions options, Env* env)
    : directory_(directory), options_(std::move(options)), env_(env) {}

bool DirectoryKeySource::FromCache(const std::string& key, Cached* out) {
    if (options_.cache_ttl_seconds <= 0)
        return false;
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(key);
    if (it == cache_.end())
        return false;
    if (it->second.first.expires <= env_->NowMonotonicMicros()) {
        lru_.erase(it->second.second);
        cache_.erase(it);
        return false;
    }
    lru_.splice(lru_.begin(), lru_, it->second.second);
    *out = it->second.first;
    return true;
}

void DirectoryKeySource::ToCache(const std::string& key, Cached entry) {
    if (options_.cache_ttl_seconds <= 0)
        return;
    entry.expires = env_->NowMonotonicMicros() + int64_t{options_.cache_ttl_seconds} * 1000000;
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(key);
    if (it != cache_.end()) {
        lru_.erase(it->second.second);
        cache_.erase(it);
    }
    lru_.push_front(key);
    cache_.emplace(key, std::make_pair(std::move(entry), lru_.begin()));
    while (cache_.size() > std::max<size_t>(1, options_.cache_entries)) {
        cache_.erase(lru_.back());
        lru_.pop_back();
    }
}

Status DirectoryKeySource::SelectCertificates(const MemberRecord& record,
                                              const std::string& address,
                                              std::vector<CertPtr>* certs) const {
    certs->clear();
    // What a referral's server says against a key is as unchecked as its
    // "no entry": a lookup failure, never "no key".
    auto no_key = [&record](const std::string& why) {
        return record.via_referral
                   ? Status::Unavailable(why +
                                         " (said by a server a referral named; an "
                                         "unchecked answer is not taken as \"no key\")")
                   : Status::NotFound(why);
    };
    if (Lower(record.status) == "revoked")
        return no_key("the key of " + address + " is revoked (keydirStatus)");
    if (record.certificates.empty())
        return no_key(address + " has no certificate in the directory");
    CertCheckOptions check_options;
    check_options.now = env_->NowUnixSeconds();
    check_options.anchors = options_.anchors;
    std::string reasons;
    std::vector<std::pair<int64_t, CertPtr>> usable;
    for (const std::string& der : record.certificates) {
        if (std::find(record.revoked.begin(), record.revoked.end(), der) != record.revoked.end()) {
            reasons += (reasons.empty() ? "" : "; ") + std::string("a certificate is revoked");
            continue;
        }
        CertCheck check = CheckMemberCertificate(der, address, check_options);
        if (check.verdict != CertVerdict::kOk) {
            reasons += (reasons.empty() ? "" : "; ") + check.reason;
            continue;
        }
        CertPtr cert;
        if (!ParseCertificateDer(der, &cert).ok())
            continue;
        if (!CanEncryptTo(cert.get())) {
            reasons += (reasons.empty() ? "" : "; ") +
                       std::string("a certificate's key type cannot be used with CMS");
            continue;
        }
        usable.emplace_back(check.facts.not_before, std::move(cert));
    }
    if (usable.empty())
        return no_key("no usable certificate for " + address + ": " + reasons);
    if (options_.selection == CertSelection::kNewest) {
        auto newest =
            std::max_element(usable.begin(), usable.end(),
                             [](const auto& a, const auto& b) { return a.first < b.first; });
        certs->push_back(newest->second);
    } else {
        for (auto& u : usable)
            certs->push_back(std::move(u.second));
    }
    return Status::OK();
}

Status DirectoryKeySource::Resolve(
    const std::string& kind, const std::string& address, bool private_key,
    const std::function<Status(const MemberRecord&, const std::string&, Cached*)>& use,
    Cached* out) {
    // SMTP allows addresses (quoted local parts, address literals) that can
    // never be a member's: no need to ask the key server.
    std::string member;
    if (!MemberKey(address, &member).ok())
        return Status::NotFound(address + " cannot be a directory member (address syntax)");
    // Everything below depends only on `member` (the lookup, the
    // certificate check, the cache): one decision per member, whatever the
    // case the sender wrote the address in.
    const std::string key = kind + ":" + member;
    if (FromCache(key, out))
        return out->status;
    MemberRecord record;
    Status s = directory_->Lookup(member, private_key, &record);
    const bool answered = s.ok() || s.IsNotFound();
    if (s.IsNotFound())
        s = Status::NotFound(member + " is not in the directory");
    else if (s.ok())
        s = use(record, member, out);
    if (answered) {
        out->status = s;
        ToCache(key, *out);
    }
    return s;
}

Status DirectoryKeySource::RecipientCertificates(const std::string& address,
                                                 std::vector<CertPtr>* certs) {
    Cached c;
    Status s = Resolve(
        "pub", address, false,
        [&](const MemberRecord& record, const std::string& member, Cached* out) {
            return SelectCertificates(record, member, &out->certs);
        },
        &c);
    *certs = std::move(c.certs);
    return s;
}

Status DirectoryKeySource::PrivateIdentity(const std::string& address, Identity* out) {
    Cached c;
    // A PKCS#12 that does not open stays so: that answer is cached too.
    Status s = Resolve(
        "priv", address, true,
        [&](const MemberRecord& record, const std::string& member, Cached* found) {
            if (record.pkcs12.empty())
                return Status::NotFound("the directory holds no private key (userPKCS12) for " +
                                        member + " or the gateway may not read it");
            return OpenPkcs12(record.pkcs12.front(), options_.key_password, &found->identity);
        },
        &c);
    *out = std::move(c.identity);
    return s;
}

Status MemoKeySource::RecipientCertificates(const std::string& address,
                                            std::vector<CertPtr>* certs) {
    auto it = public_.find(address);
    if (it == public_.end()) {
        std::vector<CertPtr> found;
        Status s = base_->RecipientCertificates(address, &found);
        it = public_.emplace(address, std::make_pair(s, std::move(found))).first;
    }
    *certs = it->second.second;
    return it->second.first;
}

Status MemoKeySource::PrivateIdentity(const std::string& address, Identity* out) {
    auto it = private_.find(address);
    if (it == private_.end()) {
        Identity id;
        Status s = base_->PrivateIdentity(address, &id);
        it = private_.emplace(address, std::make_pair(s, std::move(id))).first;
    }
    *out = it->second.second;
    return it->second.first;
}

}  // namespace gateway
}  // namespace keydir
