// Signing and verifying server-to-server requests and their answers with
// the keydir signature control (signature_control.h, doc/signing.md).
//
// Asking side (the server that chases):
//
//   SignedRequest sent;
//   Status s = ctx.SignRequest("tovaris-root", MacAlgorithm::kHmacSha256,
//                              parts, hop_count, recursion, &sent);
//   ... send the search with control (kSignatureControlOid, critical,
//       sent.control_value()) ...
//   AnswerVerifier check = ctx.StartAnswerCheck(sent);
//   for each entry / reference received: check.AddEntry(e) / AddReference(urls)
//   VerifyOutcome v = check.Finish(result_code, referrals, control_or_null);
//   if (!v.ok()) discard the whole answer, as if the server had failed.
//
// Serving side (the server asked):
//
//   std::optional<VerifiedRequest> verified;
//   VerifyOutcome v = ctx.VerifyRequest(control, parts, &verified);
//   if (!v.ok()) refuse, unsigned: SuggestedLdapResultCode(v.result), v.text
//   AnswerSigner answer = ctx.StartAnswer(*verified);
//   for each entry / reference sent: answer.AddEntry(e) / AddReference(urls)
//   answer.Finish(result_code, referrals, &control_value);  // on the result
//
// Only VerifyRequest() makes a VerifiedRequest and only StartAnswer(), which
// takes one, makes an AnswerSigner: an answer cannot be signed for a
// request that did not verify, so no one gets a signature over bytes of
// their choosing (BIND's CVE-2017-3142/3143).
//
// Verification of a request, in this order, each failure its own result:
// the control decodes; it is a request's; the key is known; the algorithm
// is supported; the MAC is as long as the algorithm makes it; the request
// has a canonical form; the MAC is right (constant-time compare); the
// request names one of this server's names (SetServerIdentities()); the time
// signed is within the fudge (the smaller of the request's and this
// server's maximum) of this server's clock; the nonce was not seen within
// that window (replay_cache.h). Only a request whose MAC verified reaches
// the replay cache, so forgeries cannot fill it.
//
// Verification of an answer: the control is there; it decodes; it is an
// answer's; it names the request's key and algorithm; the MAC length; the
// entries have canonical forms; the MAC (over the request's MAC, every
// entry and reference in order, the result code and referrals); the time.
// The answer's nonce needs no replay cache: the answer is bound to the
// request's MAC, whose nonce was fresh.
//
// Thread safety: a SigningContext may be used by many threads at once;
// AnswerSigner and AnswerVerifier belong to one exchange and one thread.
#ifndef KEYDIR_SIGN_SIGNER_H
#define KEYDIR_SIGN_SIGNER_H

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/env.h"
#include "base/status.h"
#include "sign/canonical.h"
#include "sign/hmac.h"
#include "sign/keyring.h"
#include "sign/replay_cache.h"
#include "sign/signature_control.h"

namespace keydir {

enum class VerifyResult {
    kOk = 0,
    kMissing,             // no signature control where one is required
    kMalformed,           // the control value does not decode
    kWrongDirection,      // a request's control on an answer, or the reverse
    kUnknownKey,          // no key of that name here
    kUnknownAlgorithm,    // not hmac-sha256 or hmac-sha512
    kBadMacLength,        // MAC not exactly as long as the algorithm's output
    kUncanonical,         // the request or answer has no canonical form
    kBadMac,              // the MAC does not verify
    kBadTime,             // signed further from our clock than the fudge
    kReplayed,            // the nonce was seen before
    kReplayUnverifiable,  // older than the bounded replay cache can vouch for
    kKeyMismatch,         // an answer signed with another key or algorithm
    kForeignControl,      // a peer request with a control the MAC does not cover
    kMisdirected,         // signed for another server than this one
};
inline constexpr size_t kVerifyResultCount = 15;

// The only request control a peer may send besides the signature: the MAC
// covers its presence (doc/signing.md §4.5).
inline constexpr char kManageDsaItOid[] = "2.16.840.1.113730.3.4.2";

// "ok", "missing", "malformed", ...: for logs and counter names.
const char* VerifyResultName(VerifyResult result);

// The LDAP result code a refusal carries (doc/signing.md §6):
// missing 8, malformed 2, wrong direction 2, unknown key 48, unknown
// algorithm 7, bad MAC length 19, uncanonical 12, bad MAC 49, bad time 53,
// replayed 50, replay unverifiable 51, key mismatch 49, foreign control 53,
// misdirected 53.
int SuggestedLdapResultCode(VerifyResult result);

struct VerifyOutcome {
    VerifyResult result = VerifyResult::kOk;
    std::string text;  // diagnostic text for the refusal and the log
    bool ok() const { return result == VerifyResult::kOk; }
};

// One counter per VerifyResult (cn=monitor). Thread-safe.
class VerifyCounters {
  public:
    void Add(VerifyResult r) {
        counts_[static_cast<size_t>(r)].fetch_add(1, std::memory_order_relaxed);
    }
    uint64_t Get(VerifyResult r) const {
        return counts_[static_cast<size_t>(r)].load(std::memory_order_relaxed);
    }
    uint64_t Failures() const;

  private:
    std::array<std::atomic<uint64_t>, kVerifyResultCount> counts_{};
};

struct SigningOptions {
    uint32_t fudge_seconds = 300;      // written into what this server signs
    uint32_t max_fudge_seconds = 300;  // the largest window accepted from a signer
    size_t replay_cache_entries = 262144;
};

// A request this server signed; kept until its answer is checked.
class SignedRequest {
  public:
    SignedRequest() = default;
    const std::string& control_value() const { return control_value_; }
    const std::string& mac() const { return mac_; }
    const std::string& key_name() const {
        static const std::string kNone;
        return key_ ? key_->name() : kNone;
    }
    MacAlgorithm algorithm() const { return algorithm_; }
    bool valid() const { return key_ != nullptr; }

  private:
    friend class SigningContext;
    friend class AnswerVerifier;
    std::shared_ptr<const HmacKey> key_;
    MacAlgorithm algorithm_ = MacAlgorithm::kHmacSha256;
    std::string mac_;
    std::string control_value_;
};

// Proof that a request verified; only SigningContext::VerifyRequest()
// makes one. What the overlay may act on (hop count, recursion) is read
// from here, never from the unverified control.
class VerifiedRequest {
  public:
    const std::string& key_name() const { return key_->name(); }
    MacAlgorithm algorithm() const { return algorithm_; }
    uint32_t hop_count() const { return hop_count_; }
    bool recursion() const { return recursion_; }
    const std::string& server() const { return server_; }  // one of this server's identities
    int64_t time_signed() const { return time_signed_; }
    const std::string& mac() const { return mac_; }

  private:
    friend class SigningContext;
    friend class AnswerSigner;
    VerifiedRequest() = default;
    std::shared_ptr<const HmacKey> key_;
    MacAlgorithm algorithm_ = MacAlgorithm::kHmacSha256;
    std::string mac_;
    uint32_t hop_count_ = 0;
    bool recursion_ = false;
    std::string server_;
    int64_t time_signed_ = 0;
};

// The serving side's signature over one answer, built as it is sent.
class AnswerSigner {
  public:
    // Fails if the entry has no canonical form; Finish() then fails too,
    // and the answer must go without the control.
    Status AddEntry(const LdapEntry& entry);
    void AddReference(const std::vector<std::string>& urls);
    // The control value for the SearchResultDone.
    Status Finish(int result_code, const std::vector<std::string>& referrals,
                  std::string* control_value);

  private:
    friend class SigningContext;
    AnswerSigner(const VerifiedRequest& request, Env* env, uint32_t fudge);

    std::shared_ptr<const HmacKey> key_;
    MacAlgorithm algorithm_;
    Env* env_;
    uint32_t fudge_;
    Hmac hmac_;
    Status status_;
    bool finished_ = false;
};

// The asking side's check of one answer, fed as it arrives.
class AnswerVerifier {
  public:
    void AddEntry(const LdapEntry& entry);
    void AddReference(const std::vector<std::string>& urls);
    // `control_value`: the signature control of the SearchResultDone, or
    // nullptr when it had none.
    VerifyOutcome Finish(int result_code, const std::vector<std::string>& referrals,
                         const std::string* control_value);

  private:
    friend class SigningContext;
    AnswerVerifier(const SignedRequest& request, Env* env, uint32_t max_fudge,
                   VerifyCounters* counters);
    VerifyOutcome Check(int result_code, const std::vector<std::string>& referrals,
                        const std::string* control_value);

    std::shared_ptr<const HmacKey> key_;
    MacAlgorithm algorithm_;
    Env* env_;
    uint32_t max_fudge_;
    VerifyCounters* counters_;
    Hmac hmac_;
    std::string uncanonical_;  // why an entry had no canonical form
    bool finished_ = false;
};

class SigningContext {
  public:
    // `keyring` must outlive the context.
    SigningContext(const Keyring* keyring, const SigningOptions& options,
                   Env* env = Env::Default());

    // Asking side: signs `request` with the named key; fresh nonce, now.
    // `server` names the server it is meant for, canonical: "host:port"
    // as LdapUrl::ServerKey() writes it (doc/signing.md §2); the server
    // refuses a request that names another (security review #6).
    Status SignRequest(std::string_view key_name, MacAlgorithm algorithm,
                       const SearchRequestParts& request, uint32_t hop_count, bool recursion,
                       std::string_view server, SignedRequest* out);
    // The same for a request whose canonical form the caller made (the
    // publication extended operation, doc/signing.md §4.7).
    Status SignCanonical(std::string_view key_name, MacAlgorithm algorithm,
                         std::string_view canonical, uint32_t hop_count, bool recursion,
                         std::string_view server, SignedRequest* out);
    AnswerVerifier StartAnswerCheck(const SignedRequest& request);

    // Serving side. `control_value` is the raw value (decoded here), or
    // nullptr when the request carried no control (kMissing).
    VerifyOutcome VerifyRequest(const std::string* control_value, const SearchRequestParts& request,
                                std::optional<VerifiedRequest>* verified);
    // The same with a control already decoded by slapd's control parser.
    VerifyOutcome VerifyRequest(const SignatureControl& control, const SearchRequestParts& request,
                                std::optional<VerifiedRequest>* verified);
    VerifyOutcome VerifyCanonical(const std::string* control_value, std::string_view canonical,
                                  std::optional<VerifiedRequest>* verified);
    AnswerSigner StartAnswer(const VerifiedRequest& request);
    // Serving side, before VerifyRequest(): the OIDs of every control on the
    // peer's request (the signature's included). Any other than the
    // signature and ManageDsaIT is refused (kForeignControl): the MAC does
    // not cover them, and some make an honest server sign a wrong answer
    // (subentries or pagedResults of size 0: "success, no entries";
    // security review #3).
    VerifyOutcome CheckRequestControls(const std::vector<std::string>& oids);

    // Serving side: the names ("host:port") under which this server is
    // asked; a request naming none of them is refused (kMisdirected). None
    // at first: then every request is refused.
    void SetServerIdentities(std::vector<std::string> servers);
    std::vector<std::string> server_identities() const;

    const VerifyCounters& request_counters() const { return request_counters_; }  // serving
    const VerifyCounters& answer_counters() const { return answer_counters_; }    // asking
    uint64_t requests_signed() const { return requests_signed_.load(); }
    const ReplayCache& replay_cache() const { return replay_; }
    const SigningOptions& options() const { return options_; }

  private:
    VerifyOutcome Refuse(VerifyResult r, std::string text);
    // The checks before the MAC (doc/signing.md §6.1): a control is there
    // and decodes; it signs a request, with a known key, a supported
    // algorithm and a MAC of that algorithm's length.
    VerifyOutcome DecodeControl(const std::string* control_value, SignatureControl* c);
    VerifyOutcome CheckControl(const SignatureControl& c, std::shared_ptr<const HmacKey>* key,
                               MacAlgorithm* algorithm);
    VerifyOutcome VerifyChecked(const SignatureControl& c, std::shared_ptr<const HmacKey> key,
                                MacAlgorithm algorithm, std::string_view canonical,
                                std::optional<VerifiedRequest>* verified);

    const Keyring* keyring_;
    SigningOptions options_;
    Env* env_;
    mutable std::mutex identities_mu_;
    std::vector<std::string> identities_;
    ReplayCache replay_;
    VerifyCounters request_counters_;
    VerifyCounters answer_counters_;
    std::atomic<uint64_t> requests_signed_{0};
};

// The MAC inputs (doc/signing.md §5), exposed for the test vectors and for
// other implementations to compare against.
std::string RequestMacInput(const SignatureControl& control, std::string_view canonical_request);
std::string AnswerMacPrefix(std::string_view key_name, std::string_view algorithm,
                            std::string_view request_mac);
std::string AnswerMacEntryItem(std::string_view canonical_entry);
std::string AnswerMacReferenceItem(std::string_view canonical_urls);
std::string AnswerMacSuffix(int result_code, const std::vector<std::string>& referrals,
                            int64_t time_signed, uint32_t fudge, std::string_view nonce);

}  // namespace keydir

#endif  // KEYDIR_SIGN_SIGNER_H
