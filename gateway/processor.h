// What the gateway does with one message: for every envelope recipient it
// decides (encrypt, send plain, pass untouched, decrypt, reject, hold,
// defer) and builds the copies to re-inject, each with the recipients it
// goes to. No network I/O besides the KeySource; the SMTP session sends the
// copies and reports the outcome per recipient.
#ifndef KEYDIR_GATEWAY_PROCESSOR_H
#define KEYDIR_GATEWAY_PROCESSOR_H

#include <functional>
#include <string>
#include <vector>

#include "gateway/key_source.h"
#include "gateway/policy.h"
#include "gateway/smime.h"

namespace keydir {
namespace gateway {

// An SMTP reply: "550 5.7.1 text".
struct Reply {
    int code = 250;
    std::string enhanced = "2.0.0";
    std::string text = "Ok";
    bool ok() const { return code >= 200 && code < 300; }
    bool temporary() const { return code >= 400 && code < 500; }
    std::string ToString() const { return std::to_string(code) + " " + enhanced + " " + text; }
};

enum class Disposition {
    kEncrypted,      // sent in an S/MIME copy
    kPlain,          // no usable key, policy plain: sent as it came
    kUntouched,      // already encrypted, or plain mail to a local member
    kDecrypted,      // S/MIME for a local member, delivered decrypted
    kUndecryptable,  // S/MIME for a local member, delivered as it came
    kRejected,       // no key, policy reject (or a malformed message, a loop)
    kHeld,           // no key, policy hold: temporary failure
    kDeferred,       // key server unavailable or an internal error
};
const char* DispositionName(Disposition d);

enum class LookupFailure {
    kDefer,   // key server unavailable: temporary failure for the recipient
    kPolicy,  // apply the recipient's no-key policy as if it had no key
};

struct ProcessorOptions {
    std::string gateway_name = "keydir-gateway";  // in the headers it adds
    std::vector<std::string> local_domains;       // lower case
    PolicyTable policies;
    EncryptOptions encrypt;
    bool sign = false;  // sign-then-encrypt for senders who are local members
    LookupFailure lookup_failure = LookupFailure::kDefer;
    int max_passes = 3;  // more of our own trace fields than this: a loop
};

struct RecipientResult {
    std::string address;
    Disposition disposition = Disposition::kDeferred;
    int copy = -1;       // index into Plan::copies, -1 when none
    Reply reply;         // the final reply when copy == -1
    std::string detail;  // for the log
};

struct OutputCopy {
    std::vector<size_t> recipients;  // indexes into Plan::recipients
    std::string data;                // the message, CRLF
    std::string kind;                // "encrypted", "plain", "untouched", ...
};

struct Plan {
    std::vector<OutputCopy> copies;
    std::vector<RecipientResult> recipients;  // in envelope order
    std::string summary;                      // one line for the log
    std::string message_id;                   // the Message-ID field, for the log
};

// The trace field the gateway adds to every message it changes.
constexpr char kTraceField[] = "X-Keydir-Gateway";
constexpr char kDecryptedField[] = "X-Keydir-Decrypted";
constexpr char kDecryptFailedField[] = "X-Keydir-Decrypt-Failed";

// Receives each copy as soon as it is built (Session: sends it); the copy's
// data is freed when it returns, before the next copy is built.
using CopySink = std::function<void(const OutputCopy& copy)>;

class Processor {
  public:
    Processor(ProcessorOptions options, KeySource* keys);

    // `data` is the message as received: CRLF line ends, dot-unstuffed.
    // `keys` replaces the KeySource given at construction when not null.
    // Every recipient is decided first (key lookups), then the copies are
    // built one at a time. With `send`, each is handed to it and its data
    // freed before the next is built (Plan::copies keep their recipients
    // and kind, with empty data): memory stays a small multiple of the
    // message size whatever the number of recipients. Without it, the
    // copies keep their data (tests).
    Plan Process(const std::string& sender, const std::vector<std::string>& recipients,
                 std::string data, KeySource* keys = nullptr, const CopySink& send = CopySink());

    // The reply to RCPT TO for an outbound recipient when the policy is
    // applied at RCPT time (SMTP input): OK to accept, or the refusal.
    Reply CheckRecipient(const std::string& address, KeySource* keys);

    bool IsLocal(const std::string& address) const;
    const ProcessorOptions& options() const { return options_; }

  private:
    ProcessorOptions options_;
    KeySource* keys_;
};

}  // namespace gateway
}  // namespace keydir

#endif  // KEYDIR_GATEWAY_PROCESSOR_H
