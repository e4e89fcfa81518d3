#include "sign/signer.h"

#include <algorithm>

#include "chase/quote.h"
#include "sign/canonical_writer.h"

namespace keydir {
namespace {

constexpr char kRequestLabel[] = "keydir-signature-v2 request";
constexpr char kAnswerLabel[] = "keydir-signature-v2 answer";
constexpr uint8_t kItemEnd = 0;
constexpr uint8_t kItemEntry = 1;
constexpr uint8_t kItemReference = 2;

// |now - signed| <= window, without overflow.
bool WithinWindow(int64_t time_signed, int64_t now, uint32_t window) {
    int64_t diff = now >= time_signed ? now - time_signed : time_signed - now;
    return diff <= static_cast<int64_t>(window);
}

Status StartMac(const HmacKey& key, MacAlgorithm algorithm, Hmac* hmac) {
    const HmacPads* pads = key.pads(algorithm);
    if (pads == nullptr)
        return Status::Unavailable("OpenSSL could not prepare key " + key.name());
    return hmac->Init(*pads);
}

std::string TimeText(int64_t time_signed, int64_t now, uint32_t window) {
    int64_t diff = now - time_signed;
    return "signed at " + std::to_string(time_signed) + ", " +
           std::to_string(diff < 0 ? -diff : diff) + " s " + (diff < 0 ? "ahead of" : "behind") +
           " this server's clock (" + std::to_string(now) + "), more than the fudge of " +
           std::to_string(window) + " s";
}

}  // namespace

const char* VerifyResultName(VerifyResult r) {
    switch (r) {
        case VerifyResult::kOk:
            return "ok";
        case VerifyResult::kMissing:
            return "missing";
        case VerifyResult::kMalformed:
            return "malformed";
        case VerifyResult::kWrongDirection:
            return "wrong direction";
        case VerifyResult::kUnknownKey:
            return "unknown key";
        case VerifyResult::kUnknownAlgorithm:
            return "unknown algorithm";
        case VerifyResult::kBadMacLength:
            return "bad MAC length";
        case VerifyResult::kUncanonical:
            return "uncanonical";
        case VerifyResult::kBadMac:
            return "bad MAC";
        case VerifyResult::kBadTime:
            return "bad time";
        case VerifyResult::kReplayed:
            return "replayed";
        case VerifyResult::kReplayUnverifiable:
            return "replay unverifiable";
        case VerifyResult::kKeyMismatch:
            return "key mismatch";
        case VerifyResult::kForeignControl:
            return "foreign control";
        case VerifyResult::kMisdirected:
            return "misdirected";
    }
    return "?";
}

int SuggestedLdapResultCode(VerifyResult r) {
    switch (r) {
        case VerifyResult::kOk:
            return 0;  // success
        case VerifyResult::kMissing:
            return 8;  // strongerAuthRequired
        case VerifyResult::kMalformed:
            return 2;  // protocolError
        case VerifyResult::kWrongDirection:
            return 2;  // protocolError
        case VerifyResult::kUnknownKey:
            return 48;  // inappropriateAuthentication
        case VerifyResult::kUnknownAlgorithm:
            return 7;  // authMethodNotSupported
        case VerifyResult::kBadMacLength:
            return 19;  // constraintViolation
        case VerifyResult::kUncanonical:
            return 12;  // unavailableCriticalExtension
        case VerifyResult::kBadMac:
            return 49;  // invalidCredentials
        case VerifyResult::kBadTime:
            return 53;  // unwillingToPerform
        case VerifyResult::kReplayed:
            return 50;  // insufficientAccessRights
        case VerifyResult::kReplayUnverifiable:
            return 51;  // busy
        case VerifyResult::kKeyMismatch:
            return 49;  // invalidCredentials
        case VerifyResult::kForeignControl:
            return 53;  // unwillingToPerform
        case VerifyResult::kMisdirected:
            return 53;  // unwillingToPerform
    }
    return 80;  // other
}

uint64_t VerifyCounters::Failures() const {
    uint64_t n = 0;
    for (size_t i = 1; i < kVerifyResultCount; ++i)
        n += counts_[i].load(std::memory_order_relaxed);
    return n;
}

std::string RequestMacInput(const SignatureControl& c, std::string_view canonical_request) {
    CanonicalWriter w;
    w.Str(kRequestLabel);
    w.Str(c.key_name);
    w.Str(c.algorithm);
    w.U64(static_cast<uint64_t>(c.time_signed));
    w.U16(static_cast<uint16_t>(c.fudge));
    w.Str(c.nonce);
    w.U8(static_cast<uint8_t>(c.hop_count));
    w.U8(c.recursion ? 1 : 0);
    w.Str(c.server);
    w.Str(canonical_request);
    return w.Take();
}

std::string AnswerMacPrefix(std::string_view key_name, std::string_view algorithm,
                            std::string_view request_mac) {
    CanonicalWriter w;
    w.Str(kAnswerLabel);
    w.Str(key_name);
    w.Str(algorithm);
    w.Str(request_mac);
    return w.Take();
}

std::string AnswerMacEntryItem(std::string_view canonical_entry) {
    CanonicalWriter w;
    w.U8(kItemEntry);
    w.Str(canonical_entry);
    return w.Take();
}

namespace {

// AnswerMacEntryItem() fed to the MAC without copying the entry again.
void UpdateWithEntryItem(Hmac* hmac, std::string_view canonical_entry) {
    CanonicalWriter header;
    header.U8(kItemEntry);
    header.U32(static_cast<uint32_t>(canonical_entry.size()));
    hmac->Update(header.data());
    hmac->Update(canonical_entry);
}

}  // namespace

std::string AnswerMacReferenceItem(std::string_view canonical_urls) {
    CanonicalWriter w;
    w.U8(kItemReference);
    w.Str(canonical_urls);
    return w.Take();
}

std::string AnswerMacSuffix(int result_code, const std::vector<std::string>& referrals,
                            int64_t time_signed, uint32_t fudge, std::string_view nonce) {
    CanonicalWriter w;
    w.U8(kItemEnd);
    w.U32(static_cast<uint32_t>(result_code));
    w.Str(CanonicalUrls(referrals));
    w.U64(static_cast<uint64_t>(time_signed));
    w.U16(static_cast<uint16_t>(fudge));
    w.Str(nonce);
    return w.Take();
}

// ---------------------------------------------------------------------------
// SigningContext

SigningContext::SigningContext(const Keyring* keyring, const SigningOptions& options, Env* env)
    : keyring_(keyring), options_(options), env_(env), replay_(options.replay_cache_entries) {
    options_.fudge_seconds = std::min<uint32_t>(options_.fudge_seconds, kMaxFudge);
}

Status SigningContext::SignRequest(std::string_view key_name, MacAlgorithm algorithm,
                                   const SearchRequestParts& request, uint32_t hop_count,
                                   bool recursion, std::string_view server, SignedRequest* out) {
    std::string canonical;
    Status s = CanonicalRequest(request, &canonical);
    if (!s.ok())
        return s;
    return SignCanonical(key_name, algorithm, canonical, hop_count, recursion, server, out);
}

Status SigningContext::SignCanonical(std::string_view key_name, MacAlgorithm algorithm,
                                     std::string_view canonical, uint32_t hop_count, bool recursion,
                                     std::string_view server, SignedRequest* out) {
    std::shared_ptr<const HmacKey> key = keyring_->Find(key_name);
    if (!key)
        return Status::NotFound("no key named " + QuoteForMessage(key_name) + " to sign with");
    if (hop_count > kMaxHopCount)
        return Status::InvalidArgument("hop count above 255");
    if (server.empty() || server.size() > kMaxServerLen)
        return Status::InvalidArgument("a request names the server asked, in 1 to 255 bytes");
    Status s;
    SignatureControl c;
    c.direction = SignedDirection::kRequest;
    c.key_name = key->name();
    c.algorithm = MacAlgorithmName(algorithm);
    c.time_signed = env_->NowUnixSeconds();
    c.fudge = options_.fudge_seconds;
    c.nonce.resize(16);
    s = env_->NonceBytes(&c.nonce[0], c.nonce.size());
    if (!s.ok())
        return s;
    c.hop_count = hop_count;
    c.recursion = recursion;
    c.server.assign(server.data(), server.size());
    Hmac hmac;
    s = StartMac(*key, algorithm, &hmac);
    if (!s.ok())
        return s;
    hmac.Update(RequestMacInput(c, canonical));
    s = hmac.Final(&c.mac);
    if (!s.ok())
        return s;
    SignedRequest signed_request;
    s = EncodeSignatureControl(c, &signed_request.control_value_);
    if (!s.ok())
        return s;
    signed_request.key_ = std::move(key);
    signed_request.algorithm_ = algorithm;
    signed_request.mac_ = c.mac;
    *out = std::move(signed_request);
    requests_signed_.fetch_add(1, std::memory_order_relaxed);
    return Status::OK();
}

AnswerVerifier SigningContext::StartAnswerCheck(const SignedRequest& request) {
    return AnswerVerifier(request, env_, options_.max_fudge_seconds, &answer_counters_);
}

VerifyOutcome SigningContext::Refuse(VerifyResult r, std::string text) {
    request_counters_.Add(r);
    return VerifyOutcome{r, "keydir signature: " + text};
}

VerifyOutcome SigningContext::DecodeControl(const std::string* control_value, SignatureControl* c) {
    if (control_value == nullptr)
        return Refuse(VerifyResult::kMissing, "the request carries no signature control");
    Status s = DecodeSignatureControl(*control_value, c);
    if (!s.ok())
        return Refuse(VerifyResult::kMalformed, s.message());
    return VerifyOutcome{};
}

VerifyOutcome SigningContext::CheckControl(const SignatureControl& c,
                                           std::shared_ptr<const HmacKey>* key,
                                           MacAlgorithm* algorithm) {
    if (c.direction != SignedDirection::kRequest)
        return Refuse(VerifyResult::kWrongDirection, "an answer's signature on a request");
    *key = keyring_->Find(c.key_name);
    if (!*key)
        return Refuse(VerifyResult::kUnknownKey, "unknown key " + QuoteForMessage(c.key_name));
    if (!MacAlgorithmFromName(c.algorithm, algorithm))
        return Refuse(VerifyResult::kUnknownAlgorithm, "unsupported algorithm " +
                                                           QuoteForMessage(c.algorithm) +
                                                           " (hmac-sha256 or hmac-sha512)");
    if (c.mac.size() != MacLength(*algorithm))
        return Refuse(VerifyResult::kBadMacLength, "MAC of " + std::to_string(c.mac.size()) +
                                                       " bytes; " + c.algorithm + " makes " +
                                                       std::to_string(MacLength(*algorithm)));
    return VerifyOutcome{};
}

VerifyOutcome SigningContext::VerifyRequest(const std::string* control_value,
                                            const SearchRequestParts& request,
                                            std::optional<VerifiedRequest>* verified) {
    verified->reset();
    SignatureControl c;
    VerifyOutcome o = DecodeControl(control_value, &c);
    return o.ok() ? VerifyRequest(c, request, verified) : o;
}

VerifyOutcome SigningContext::VerifyRequest(const SignatureControl& c,
                                            const SearchRequestParts& request,
                                            std::optional<VerifiedRequest>* verified) {
    verified->reset();
    std::shared_ptr<const HmacKey> key;
    MacAlgorithm algorithm;
    VerifyOutcome o = CheckControl(c, &key, &algorithm);
    if (!o.ok())
        return o;
    std::string canonical;
    Status s = CanonicalRequest(request, &canonical);
    if (!s.ok())
        return Refuse(VerifyResult::kUncanonical,
                      "the request has no canonical form: " + s.message());
    return VerifyChecked(c, std::move(key), algorithm, canonical, verified);
}

VerifyOutcome SigningContext::VerifyCanonical(const std::string* control_value,
                                              std::string_view canonical,
                                              std::optional<VerifiedRequest>* verified) {
    verified->reset();
    SignatureControl c;
    std::shared_ptr<const HmacKey> key;
    MacAlgorithm algorithm;
    VerifyOutcome o = DecodeControl(control_value, &c);
    if (o.ok())
        o = CheckControl(c, &key, &algorithm);
    if (!o.ok())
        return o;
    return VerifyChecked(c, std::move(key), algorithm, canonical, verified);
}

// The checks from the MAC on (doc/signing.md §6.1 steps 7-9).
VerifyOutcome SigningContext::VerifyChecked(const SignatureControl& c,
                                            std::shared_ptr<const HmacKey> key,
                                            MacAlgorithm algorithm, std::string_view canonical,
                                            std::optional<VerifiedRequest>* verified) {
    Status s;
    Hmac hmac;
    std::string mac;
    s = StartMac(*key, algorithm, &hmac);
    if (s.ok()) {
        hmac.Update(RequestMacInput(c, canonical));
        s = hmac.Final(&mac);
    }
    if (!s.ok())
        return Refuse(VerifyResult::kBadMac, "cannot compute the MAC: " + s.message());
    if (!ConstantTimeEquals(mac, c.mac))
        return Refuse(VerifyResult::kBadMac, "the MAC does not verify with key " + c.key_name);
    {
        std::lock_guard<std::mutex> lock(identities_mu_);
        if (std::find(identities_.begin(), identities_.end(), c.server) == identities_.end()) {
            std::string mine;
            for (const std::string& id : identities_)
                mine += (mine.empty() ? "" : ", ") + id;
            return Refuse(VerifyResult::kMisdirected,
                          "the request was signed for server " + QuoteForMessage(c.server) +
                              ", not this one (" +
                              (mine.empty() ? std::string("it has no names") : mine) +
                              "; see keychase-self)");
        }
    }
    int64_t now = env_->NowUnixSeconds();
    uint32_t window = std::min(c.fudge, options_.max_fudge_seconds);
    if (!WithinWindow(c.time_signed, now, window))
        return Refuse(VerifyResult::kBadTime, TimeText(c.time_signed, now, window));
    switch (replay_.CheckAndRemember(c.key_name, c.nonce, c.time_signed, window, now)) {
        case ReplayCache::Verdict::kFresh:
            break;
        case ReplayCache::Verdict::kReplayed:
            return Refuse(VerifyResult::kReplayed, "the nonce was seen before: a replayed request");
        case ReplayCache::Verdict::kUnverifiable:
            if (c.time_signed > now + ReplayCache::kAheadToleranceSeconds)
                return Refuse(VerifyResult::kReplayUnverifiable,
                              "the replay cache is full of requests signed ahead of this "
                              "server's clock (this one " +
                                  std::to_string(c.time_signed - now) +
                                  " s ahead); check the clocks or send a fresh request");
            return Refuse(VerifyResult::kReplayUnverifiable,
                          "the replay cache is full; send a fresh request");
    }
    VerifiedRequest v;
    v.key_ = std::move(key);
    v.algorithm_ = algorithm;
    v.mac_ = c.mac;
    v.hop_count_ = c.hop_count;
    v.recursion_ = c.recursion;
    v.server_ = c.server;
    v.time_signed_ = c.time_signed;
    verified->emplace(std::move(v));
    request_counters_.Add(VerifyResult::kOk);
    return VerifyOutcome{};
}

void SigningContext::SetServerIdentities(std::vector<std::string> servers) {
    std::lock_guard<std::mutex> lock(identities_mu_);
    identities_ = std::move(servers);
}

std::vector<std::string> SigningContext::server_identities() const {
    std::lock_guard<std::mutex> lock(identities_mu_);
    return identities_;
}

VerifyOutcome SigningContext::CheckRequestControls(const std::vector<std::string>& oids) {
    for (const std::string& oid : oids) {
        if (oid == kSignatureControlOid || oid == kManageDsaItOid)
            continue;
        return Refuse(VerifyResult::kForeignControl,
                      "the request carries control " + QuoteForMessage(oid) +
                          ", which the signature does not cover; a peer request may carry "
                          "only the signature and ManageDsaIT");
    }
    return VerifyOutcome{};
}

AnswerSigner SigningContext::StartAnswer(const VerifiedRequest& request) {
    return AnswerSigner(request, env_, options_.fudge_seconds);
}

// ---------------------------------------------------------------------------
// AnswerSigner

AnswerSigner::AnswerSigner(const VerifiedRequest& request, Env* env, uint32_t fudge)
    : key_(request.key_), algorithm_(request.algorithm()), env_(env), fudge_(fudge) {
    status_ = StartMac(*key_, algorithm_, &hmac_);
    if (status_.ok())
        hmac_.Update(AnswerMacPrefix(key_->name(), MacAlgorithmName(algorithm_), request.mac()));
}

Status AnswerSigner::AddEntry(const LdapEntry& entry) {
    if (!status_.ok() || finished_)
        return status_;
    std::string canonical;
    Status s = CanonicalEntry(entry, &canonical);
    if (!s.ok()) {
        status_ = s;
        return s;
    }
    UpdateWithEntryItem(&hmac_, canonical);
    return Status::OK();
}

void AnswerSigner::AddReference(const std::vector<std::string>& urls) {
    if (!status_.ok() || finished_)
        return;
    hmac_.Update(AnswerMacReferenceItem(CanonicalUrls(urls)));
}

Status AnswerSigner::Finish(int result_code, const std::vector<std::string>& referrals,
                            std::string* control_value) {
    if (finished_)
        return Status::InvalidArgument("the answer was signed already");
    finished_ = true;
    if (!status_.ok())
        return status_;
    SignatureControl c;
    c.direction = SignedDirection::kAnswer;
    c.key_name = key_->name();
    c.algorithm = MacAlgorithmName(algorithm_);
    c.time_signed = env_->NowUnixSeconds();
    c.fudge = fudge_;
    c.nonce.resize(16);
    Status s = env_->NonceBytes(&c.nonce[0], c.nonce.size());
    if (!s.ok())
        return s;
    hmac_.Update(AnswerMacSuffix(result_code, referrals, c.time_signed, c.fudge, c.nonce));
    s = hmac_.Final(&c.mac);
    if (!s.ok())
        return s;
    return EncodeSignatureControl(c, control_value);
}

// ---------------------------------------------------------------------------
// AnswerVerifier

AnswerVerifier::AnswerVerifier(const SignedRequest& request, Env* env, uint32_t max_fudge,
                               VerifyCounters* counters)
    : key_(request.key_),
      algorithm_(request.algorithm()),
      env_(env),
      max_fudge_(max_fudge),
      counters_(counters) {
    if (key_ && StartMac(*key_, algorithm_, &hmac_).ok())
        hmac_.Update(AnswerMacPrefix(key_->name(), MacAlgorithmName(algorithm_), request.mac()));
}

void AnswerVerifier::AddEntry(const LdapEntry& entry) {
    if (!uncanonical_.empty() || finished_)
        return;
    std::string canonical;
    Status s = CanonicalEntry(entry, &canonical);
    if (!s.ok()) {
        uncanonical_ = s.message();
        return;
    }
    UpdateWithEntryItem(&hmac_, canonical);
}

void AnswerVerifier::AddReference(const std::vector<std::string>& urls) {
    if (!uncanonical_.empty() || finished_)
        return;
    hmac_.Update(AnswerMacReferenceItem(CanonicalUrls(urls)));
}

VerifyOutcome AnswerVerifier::Finish(int result_code, const std::vector<std::string>& referrals,
                                     const std::string* control_value) {
    VerifyOutcome v = Check(result_code, referrals, control_value);
    if (counters_)
        counters_->Add(v.result);
    if (!v.ok())
        v.text = "keydir signature on the answer: " + v.text;
    return v;
}

VerifyOutcome AnswerVerifier::Check(int result_code, const std::vector<std::string>& referrals,
                                    const std::string* control_value) {
    if (finished_)
        return {VerifyResult::kMalformed, "the answer was checked already"};
    finished_ = true;
    if (!key_)
        return {VerifyResult::kUnknownKey, "the request was never signed"};
    if (control_value == nullptr)
        return {VerifyResult::kMissing, "the answer is not signed"};
    SignatureControl c;
    Status s = DecodeSignatureControl(*control_value, &c);
    if (!s.ok())
        return {VerifyResult::kMalformed, s.message()};
    if (c.direction != SignedDirection::kAnswer)
        return {VerifyResult::kWrongDirection, "a request's signature on an answer"};
    if (c.key_name != key_->name() || c.algorithm != MacAlgorithmName(algorithm_))
        return {VerifyResult::kKeyMismatch,
                "signed with " + QuoteForMessage(c.key_name) + "/" + QuoteForMessage(c.algorithm) +
                    ", the request with " + key_->name() + "/" + MacAlgorithmName(algorithm_)};
    if (c.mac.size() != MacLength(algorithm_))
        return {VerifyResult::kBadMacLength, "MAC of " + std::to_string(c.mac.size()) + " bytes; " +
                                                 c.algorithm + " makes " +
                                                 std::to_string(MacLength(algorithm_))};
    if (!uncanonical_.empty())
        return {VerifyResult::kUncanonical, "an entry has no canonical form: " + uncanonical_};
    hmac_.Update(AnswerMacSuffix(result_code, referrals, c.time_signed, c.fudge, c.nonce));
    std::string mac;
    s = hmac_.Final(&mac);
    if (!s.ok())
        return {VerifyResult::kBadMac, "cannot compute the MAC: " + s.message()};
    if (!ConstantTimeEquals(mac, c.mac))
        return {VerifyResult::kBadMac,
                "the MAC does not verify (altered, trimmed or another "
                "request's answer)"};
    int64_t now = env_->NowUnixSeconds();
    uint32_t window = std::min(c.fudge, max_fudge_);
    if (!WithinWindow(c.time_signed, now, window))
        return {VerifyResult::kBadTime, TimeText(c.time_signed, now, window)};
    return VerifyOutcome{};
}

}  // namespace keydir
