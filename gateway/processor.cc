#include "gateway/processor.h"

#include <algorithm>
#include <map>
#include <set>

#include "base/ascii.h"
#include "gateway/address.h"
#include "gateway/mime.h"

namespace keydir {
namespace gateway {
namespace {

Reply MakeReply(int code, const char* enhanced, std::string text) {
    Reply r;
    r.code = code;
    r.enhanced = enhanced;
    r.text = std::move(text);
    return r;
}

// X-Keydir-* fields other than the trace field (which counts the passes
// through the gateway, like Received:) claim what only this gateway may
// say: X-Keydir-Decrypted, X-Keydir-Decrypt-Failed and any future one.
bool IsStatusField(const HeaderField& f) {
    constexpr std::string_view kPrefix = "x-keydir-";
    return f.name.size() > kPrefix.size() && Lower(f.name.substr(0, kPrefix.size())) == kPrefix &&
           !f.Is(kTraceField);
}

bool HasStatusFields(const Message& m) {
    return std::any_of(m.headers().begin(), m.headers().end(), IsStatusField);
}

// The message without fields that claim a decryption: only this gateway
// may say that.
std::string WithoutStatusFields(const Message& m) {
    std::string out;
    out.reserve(m.text().size());
    for (const auto& f : m.headers())
        if (!IsStatusField(f))
            out += f.raw;
    out += "\r\n";
    out.append(m.body());
    return out;
}

std::string OuterWithoutStatusFields(const Message& m) {
    std::string out;
    for (const auto& f : m.headers())
        if (!IsContentField(f) && !IsStatusField(f))
            out += f.raw;
    return out;
}

}  // namespace

const char* DispositionName(Disposition d) {
    switch (d) {
        case Disposition::kEncrypted:
            return "encrypted";
        case Disposition::kPlain:
            return "plain";
        case Disposition::kUntouched:
            return "untouched";
        case Disposition::kDecrypted:
            return "decrypted";
        case Disposition::kUndecryptable:
            return "undecryptable";
        case Disposition::kRejected:
            return "rejected";
        case Disposition::kHeld:
            return "held";
        case Disposition::kDeferred:
            return "deferred";
    }
    return "?";
}

Processor::Processor(ProcessorOptions options, KeySource* keys)
    : options_(std::move(options)), keys_(keys) {}

bool Processor::IsLocal(const std::string& address) const {
    std::string d = DomainOf(address);
    return std::find(options_.local_domains.begin(), options_.local_domains.end(), d) !=
           options_.local_domains.end();
}

Reply Processor::CheckRecipient(const std::string& address, KeySource* keys) {
    Reply ok;
    if (IsLocal(address))
        return ok;
    std::vector<CertPtr> certs;
    Status s = keys->RecipientCertificates(address, &certs);
    if (s.ok())
        return ok;
    if (!s.IsNotFound() && options_.lookup_failure == LookupFailure::kDefer)
        return MakeReply(451, "4.4.3",
                         "<" + address + ">: key server unavailable, try again later");
    switch (options_.policies.For(address)) {
        case Policy::kPlain:
            return ok;
        case Policy::kReject:
            return MakeReply(550, "5.7.1",
                             "<" + address +
                                 ">: no usable encryption key and the policy forbids sending "
                                 "unencrypted");
        case Policy::kHold:
            return MakeReply(
                450, "4.7.1",
                "<" + address + ">: no usable encryption key yet; held by policy, will retry");
    }
    return ok;
}

namespace {

// One run of Processor::Process: the steps it takes, in order.
//   Refused()   the message as a whole: a mail loop, broken MIME
//   Decide()    per recipient: decrypt, encrypt (own or shared copy), pass
//               untouched, send plain, or refuse by policy (key lookups)
//   Build()     the copies, one at a time: each is handed to the CopySink
//               (sent) and freed before the next is made, so that memory
//               does not grow with the number of recipients
//   Summarise() the log line
class Run {
  public:
    Run(const Processor& processor, KeySource* keys, const std::string& sender,
        const std::vector<std::string>& recipients, std::string data, const CopySink& send,
        Plan* plan)
        : p_(processor),
          o_(processor.options()),
          keys_(keys),
          sender_(sender),
          send_(send),
          plan_(plan),
          msg_(Message::Parse(std::move(data))),
          trace_suffix_("by " + o_.gateway_name) {
        for (const auto& r : recipients) {
            RecipientResult rr;
            rr.address = r;
            plan_->recipients.push_back(std::move(rr));
        }
        plan_->message_id = msg_.Get("Message-ID").value_or("");
    }

    bool Refused();
    void Decide();
    void Build();
    void Summarise();

  private:
    void FailAll(Reply reply, Disposition d, const std::string& why);
    void DecideLocal(size_t i);
    void DecideOutbound(size_t i);
    void Defer(size_t i, const std::string& what, const Status& s);
    bool IsBcc(const std::string& address) const { return visible_.count(Lower(address)) == 0; }
    // Adds the copy to the plan; with a CopySink, sends it and frees its data.
    void Emit(OutputCopy copy);
    void BuildInbound(size_t i);
    void BuildPassThrough();
    void BuildEncrypted();

    const Processor& p_;
    const ProcessorOptions& o_;
    KeySource* const keys_;
    const std::string& sender_;
    const CopySink& send_;
    Plan* const plan_;
    const Message msg_;
    const std::string trace_suffix_;

    bool smime_in_ = false;
    Protection protection_ = Protection::kNone;
    std::set<std::string> visible_;          // To/Cc addresses, lower case
    std::vector<size_t> inbound_;            // local recipients of S/MIME mail
    std::map<size_t, Identity> identities_;  // their keys, when found
    std::map<size_t, Status> identity_status_;
    std::vector<size_t> untouched_, plain_, shared_encrypt_;
    std::vector<size_t> local_status_stripped_;  // plain local mail that carried forged fields
    std::vector<std::pair<size_t, std::vector<CertPtr>>> own_encrypt_;  // Bcc recipients
    std::vector<CertPtr> shared_certs_;
    std::string smime_der_;
    Status smime_decoded_ = Status::NotFound("");
};

void Run::FailAll(Reply reply, Disposition d, const std::string& why) {
    for (auto& r : plan_->recipients) {
        r.disposition = d;
        r.reply = reply;
        r.detail = why;
    }
    plan_->summary = why;
}

bool Run::Refused() {
    int passes = 0;
    for (const auto& v : msg_.GetAll(kTraceField))
        if (v.size() >= trace_suffix_.size() &&
            v.compare(v.size() - trace_suffix_.size(), trace_suffix_.size(), trace_suffix_) == 0)
            ++passes;
    if (passes >= o_.max_passes) {
        FailAll(MakeReply(554, "5.4.6",
                          "Mail loop: the message passed " + o_.gateway_name + " " +
                              std::to_string(passes) + " times"),
                Disposition::kRejected, "mail loop");
        return true;
    }
    Status mime = CheckMimeStructure(msg_);
    if (!mime.ok()) {
        FailAll(MakeReply(554, "5.6.0", "Malformed MIME: " + mime.message()),
                Disposition::kRejected, "malformed MIME: " + mime.message());
        return true;
    }
    return false;
}

void Run::Defer(size_t i, const std::string& what, const Status& s) {
    RecipientResult& r = plan_->recipients[i];
    r.disposition = Disposition::kDeferred;
    r.reply =
        MakeReply(451, "4.4.3", "<" + r.address + ">: key server unavailable, try again later");
    r.detail = what + ": " + s.ToString();
}

void Run::Decide() {
    protection_ = ClassifyProtection(msg_);
    smime_in_ = protection_ == Protection::kSmimeEnveloped ||
                protection_ == Protection::kSmimeAuthEnveloped;
    // Recipients named in the header; the others are Bcc recipients.
    for (const char* name : {"To", "Cc", "Resent-To", "Resent-Cc"})
        for (const auto& v : msg_.GetAll(name))
            for (auto& a : ExtractAddresses(v))
                visible_.insert(Lower(a));
    for (size_t i = 0; i < plan_->recipients.size(); ++i) {
        if (p_.IsLocal(plan_->recipients[i].address))
            DecideLocal(i);
        else
            DecideOutbound(i);
    }
}

void Run::DecideLocal(size_t i) {
    RecipientResult& r = plan_->recipients[i];
    if (!smime_in_) {
        // Mail to a local member that is not S/MIME: as it came, but a
        // sender may not claim that we decrypted it.
        if (HasStatusFields(msg_))
            local_status_stripped_.push_back(i);
        else
            untouched_.push_back(i);
        r.disposition = Disposition::kUntouched;
        r.detail = protection_ == Protection::kPgp ? "local, OpenPGP" : "local, not encrypted";
        return;
    }
    // Inbound S/MIME: decrypted with the member's key (in Build), else
    // delivered as it came.
    Identity id;
    Status s = keys_->PrivateIdentity(r.address, &id);
    if (!s.ok() &&
        !(s.IsNotFound() || s.IsInvalidArgument() || s.code() == Status::Code::kPermissionDenied)) {
        Defer(i, "private key lookup failed", s);
        return;
    }
    if (s.ok())
        identities_[i] = std::move(id);
    identity_status_[i] = s;
    inbound_.push_back(i);
}

void Run::DecideOutbound(size_t i) {
    RecipientResult& r = plan_->recipients[i];
    if (protection_ != Protection::kNone) {
        untouched_.push_back(i);
        r.disposition = Disposition::kUntouched;
        r.detail = protection_ == Protection::kPgp ? "already encrypted (OpenPGP)"
                                                   : "already encrypted (S/MIME)";
        return;
    }
    std::vector<CertPtr> certs;
    Status s = keys_->RecipientCertificates(r.address, &certs);
    if (s.ok()) {
        r.disposition = Disposition::kEncrypted;
        r.detail = std::to_string(certs.size()) + " certificate(s):";
        for (const auto& c : certs)
            r.detail += " " + CertFingerprint(c.get()).substr(0, 16);
        if (IsBcc(r.address)) {
            r.detail += " (Bcc: own copy)";
            own_encrypt_.emplace_back(i, std::move(certs));
        } else {
            shared_encrypt_.push_back(i);
            for (auto& c : certs)
                shared_certs_.push_back(std::move(c));
        }
        return;
    }
    std::string why = s.message();
    if (!s.IsNotFound()) {
        if (o_.lookup_failure == LookupFailure::kDefer) {
            Defer(i, "key lookup failed", s);
            return;
        }
        why = "key server unavailable (" + s.ToString() + ")";
    }
    switch (o_.policies.For(r.address)) {
        case Policy::kPlain:
            plain_.push_back(i);
            r.disposition = Disposition::kPlain;
            r.detail = why + "; policy plain";
            break;
        case Policy::kReject:
            r.disposition = Disposition::kRejected;
            r.reply = MakeReply(550, "5.7.1",
                                "<" + r.address +
                                    ">: no usable encryption key and the policy forbids "
                                    "sending unencrypted");
            r.detail = why + "; policy reject";
            break;
        case Policy::kHold:
            r.disposition = Disposition::kHeld;
            r.reply = MakeReply(450, "4.7.1",
                                "<" + r.address +
                                    ">: no usable encryption key yet; held by policy, will "
                                    "retry");
            r.detail = why + "; policy hold";
            break;
    }
}

void Run::Emit(OutputCopy copy) {
    const int index = static_cast<int>(plan_->copies.size());
    for (size_t i : copy.recipients)
        plan_->recipients[i].copy = index;
    plan_->copies.push_back(std::move(copy));
    if (send_) {
        send_(plan_->copies.back());
        std::string().swap(plan_->copies.back().data);
    }
}

void Run::Build() {
    for (size_t i : inbound_)
        BuildInbound(i);
    BuildPassThrough();
    BuildEncrypted();
}

void Run::BuildInbound(size_t i) {
    RecipientResult& r = plan_->recipients[i];
    Status s = identity_status_[i];
    std::string entity;
    if (s.ok()) {
        if (smime_decoded_.IsNotFound()) {
            std::string c = Lower(msg_.Get("Content-Transfer-Encoding").value_or(""));
            smime_decoded_ = c == "base64"
                                 ? DecodeBase64Body(msg_.body(), &smime_der_)
                                 : Status::InvalidArgument("the S/MIME body is not base64 encoded");
        }
        s = smime_decoded_.ok() ? DecryptDer(smime_der_, identities_[i], &entity) : smime_decoded_;
    }
    OutputCopy copy;
    copy.recipients.push_back(i);
    if (s.ok()) {
        const Identity& id = identities_[i];
        std::string fields =
            MakeField(kDecryptedField, "yes; for <" + r.address + ">; certificate sha256:" +
                                           CertFingerprint(id.cert.get())) +
            MakeField(kTraceField, "decrypted " + trace_suffix_);
        // Only the inner entity's Content-* fields become header fields:
        // a sender cannot add a From:, Subject: or X-Keydir-Decrypted: of
        // its own by putting them inside the encryption.
        std::string text = OuterWithoutStatusFields(msg_);
        text += fields;
        text += "MIME-Version: 1.0\r\n";
        text += InnerEntity(Message::Parse(std::move(entity)));
        copy.data = std::move(text);
        copy.kind = "decrypted";
        r.disposition = Disposition::kDecrypted;
        r.detail = "decrypted with certificate " + CertFingerprint(id.cert.get());
    } else {
        std::string fields = MakeField(kDecryptFailedField, s.message()) +
                             MakeField(kTraceField, "not decrypted " + trace_suffix_);
        copy.data = PrependFields(fields, WithoutStatusFields(msg_));
        copy.kind = "undecryptable";
        r.disposition = Disposition::kUndecryptable;
        r.detail = "not decrypted: " + s.message();
    }
    identities_.erase(i);
    Emit(std::move(copy));
}

// Copies that need no cryptography. Fields that claim a decryption are
// removed from all of them: only this gateway may say that.
void Run::BuildPassThrough() {
    if (!untouched_.empty()) {
        OutputCopy c;
        c.recipients = untouched_;
        c.data = HasStatusFields(msg_) ? WithoutStatusFields(msg_) : msg_.text();
        c.kind = "untouched";
        Emit(std::move(c));
    }
    if (!local_status_stripped_.empty()) {
        OutputCopy c;
        c.recipients = local_status_stripped_;
        c.data = WithoutStatusFields(msg_);
        c.kind = "untouched";
        for (size_t i : local_status_stripped_)
            plan_->recipients[i].detail += " (removed forged " + std::string(kDecryptedField) + ")";
        Emit(std::move(c));
    }
    if (!plain_.empty()) {
        OutputCopy c;
        c.recipients = plain_;
        c.data = PrependFields(
            MakeField(kTraceField, "not encrypted (no key; policy plain) " + trace_suffix_),
            WithoutStatusFields(msg_));
        c.kind = "plain";
        Emit(std::move(c));
    }
}

// Encrypted copies: one for the visible recipients, one per Bcc recipient.
void Run::BuildEncrypted() {
    if (shared_encrypt_.empty() && own_encrypt_.empty())
        return;
    std::string entity = InnerEntity(msg_);
    bool defer_all = false;
    std::string defer_why;
    std::string signed_note;
    if (o_.sign && !sender_.empty() && p_.IsLocal(sender_)) {
        Identity signer;
        Status s = keys_->PrivateIdentity(sender_, &signer);
        if (s.ok()) {
            std::string signed_entity;
            s = SignEntity(signer, entity, &signed_entity);
            if (s.ok()) {
                entity = std::move(signed_entity);
                signed_note = ", signed";
            }
        }
        if (!s.ok() && !(s.IsNotFound() || s.IsInvalidArgument() ||
                         s.code() == Status::Code::kPermissionDenied)) {
            defer_all = true;
            defer_why = "sender key lookup failed: " + s.ToString();
        } else if (!s.ok()) {
            signed_note = ", not signed (" + s.message() + ")";
        }
    }
    const std::string outer = OuterWithoutStatusFields(msg_);
    const std::string fields = MakeField(kTraceField, "encrypted " + trace_suffix_);
    auto make_copy = [&](const std::vector<size_t>& idx, const std::vector<CertPtr>& certs) {
        std::string der, type;
        Status s = defer_all ? Status::Unavailable(defer_why)
                             : EncryptEntity(certs, entity, o_.encrypt, &der, &type);
        if (!s.ok()) {
            for (size_t i : idx) {
                auto& r = plan_->recipients[i];
                r.disposition = Disposition::kDeferred;
                r.reply = defer_all
                              ? MakeReply(451, "4.4.3", "key server unavailable, try again later")
                              : MakeReply(451, "4.3.0", "encryption failed: " + s.message());
                r.detail = s.ToString();
            }
            return;
        }
        OutputCopy c;
        c.recipients = idx;
        c.data = BuildSmimeMessage(outer, fields, type, der);
        std::string().swap(der);
        c.kind = "encrypted";
        for (size_t i : idx)
            plan_->recipients[i].detail += signed_note;
        Emit(std::move(c));
    };
    if (!shared_encrypt_.empty())
        make_copy(shared_encrypt_, shared_certs_);
    for (auto& [i, certs] : own_encrypt_)
        make_copy({i}, certs);
}

void Run::Summarise() {
    std::map<Disposition, int> counts;
    for (const auto& r : plan_->recipients)
        ++counts[r.disposition];
    for (const auto& [d, n] : counts) {
        if (!plan_->summary.empty())
            plan_->summary += " ";
        plan_->summary += std::string(DispositionName(d)) + "=" + std::to_string(n);
    }
    plan_->summary += " copies=" + std::to_string(plan_->copies.size());
}

}  // namespace

Plan Processor::Process(const std::string& sender, const std::vector<std::string>& recipients,
                        std::string data, KeySource* keys, const CopySink& send) {
    Plan plan;
    Run run(*this, keys ? keys : keys_, sender, recipients, std::move(data), send, &plan);
    if (run.Refused())
        return plan;
    run.Decide();
    run.Build();
    run.Summarise();
    return plan;
}

}  // namespace gateway
}  // namespace keydir
