#include "gateway/processor.h"

#include <algorithm>
#include <map>
#include <set>

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

bool IsStatusField(const HeaderField& f) {
    return f.Is(kDecryptedField) || f.Is(kDecryptFailedField);
}

// The message without fields that claim a decryption: only this gateway
// may say that to a local member.
std::string WithoutStatusFields(const Message& m, bool* removed) {
    *removed = false;
    std::string out;
    out.reserve(m.text().size());
    for (const auto& f : m.headers()) {
        if (IsStatusField(f)) {
            *removed = true;
            continue;
        }
        out += f.raw;
    }
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

Plan Processor::Process(const std::string& sender, const std::vector<std::string>& recipients,
                        std::string data, KeySource* keys) {
    KeySource* const ks = keys ? keys : keys_;
    Plan plan;
    for (const auto& r : recipients) {
        RecipientResult rr;
        rr.address = r;
        plan.recipients.push_back(std::move(rr));
    }
    auto fail_all = [&](Reply reply, Disposition d, const std::string& why) {
        for (auto& r : plan.recipients) {
            r.disposition = d;
            r.reply = reply;
            r.detail = why;
        }
        plan.summary = why;
        return plan;
    };

    Message msg = Message::Parse(std::move(data));
    plan.message_id = msg.Get("Message-ID").value_or("");
    const std::string trace_suffix = "by " + options_.gateway_name;
    int passes = 0;
    for (const auto& v : msg.GetAll(kTraceField))
        if (v.size() >= trace_suffix.size() &&
            v.compare(v.size() - trace_suffix.size(), trace_suffix.size(), trace_suffix) == 0)
            ++passes;
    if (passes >= options_.max_passes)
        return fail_all(MakeReply(554, "5.4.6",
                                  "Mail loop: the message passed " + options_.gateway_name + " " +
                                      std::to_string(passes) + " times"),
                        Disposition::kRejected, "mail loop");
    Status mime = CheckMimeStructure(msg);
    if (!mime.ok())
        return fail_all(MakeReply(554, "5.6.0", "Malformed MIME: " + mime.message()),
                        Disposition::kRejected, "malformed MIME: " + mime.message());

    const Protection protection = ClassifyProtection(msg);
    const bool smime_in =
        protection == Protection::kSmimeEnveloped || protection == Protection::kSmimeAuthEnveloped;

    // Recipients named in the header; the others are Bcc recipients.
    std::set<std::string> visible;
    for (const char* name : {"To", "Cc", "Resent-To", "Resent-Cc"})
        for (const auto& v : msg.GetAll(name))
            for (auto& a : ExtractAddresses(v)) {
                std::string l = a;
                std::transform(l.begin(), l.end(), l.begin(),
                               [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
                visible.insert(l);
            }
    auto is_bcc = [&](const std::string& a) {
        std::string l = a;
        std::transform(l.begin(), l.end(), l.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        return visible.count(l) == 0;
    };

    std::vector<size_t> untouched, plain, shared_encrypt;
    std::vector<size_t> local_status_stripped;  // plain local mail that carried forged fields
    std::vector<std::pair<size_t, std::vector<CertPtr>>> own_encrypt;  // Bcc recipients
    std::vector<CertPtr> shared_certs;
    std::string smime_der;
    Status smime_decoded = Status::NotFound("");

    for (size_t i = 0; i < plan.recipients.size(); ++i) {
        RecipientResult& r = plan.recipients[i];
        if (IsLocal(r.address)) {
            if (!smime_in) {
                // Mail to a local member that is not S/MIME: as it came, but
                // a sender may not claim that we decrypted it.
                if (msg.Count(kDecryptedField) + msg.Count(kDecryptFailedField) > 0) {
                    local_status_stripped.push_back(i);
                } else {
                    untouched.push_back(i);
                }
                r.disposition = Disposition::kUntouched;
                r.detail =
                    protection == Protection::kPgp ? "local, OpenPGP" : "local, not encrypted";
                continue;
            }
            // Inbound S/MIME: decrypt with the member's key, else deliver as it came.
            Identity id;
            Status s = ks->PrivateIdentity(r.address, &id);
            std::string entity;
            if (s.ok()) {
                if (smime_decoded.IsNotFound()) {
                    auto cte = msg.Get("Content-Transfer-Encoding");
                    std::string c = cte ? *cte : "";
                    std::transform(c.begin(), c.end(), c.begin(), [](unsigned char ch) {
                        return static_cast<char>(std::tolower(ch));
                    });
                    smime_decoded =
                        c == "base64"
                            ? DecodeBase64Body(msg.body(), &smime_der)
                            : Status::InvalidArgument("the S/MIME body is not base64 encoded");
                }
                s = smime_decoded.ok() ? DecryptDer(smime_der, id, &entity) : smime_decoded;
            } else if (!(s.IsNotFound() || s.IsInvalidArgument() ||
                         s.code() == Status::Code::kPermissionDenied)) {
                r.disposition = Disposition::kDeferred;
                r.reply = MakeReply(451, "4.4.3",
                                    "<" + r.address + ">: key server unavailable, try again later");
                r.detail = "private key lookup failed: " + s.ToString();
                continue;
            }
            OutputCopy copy;
            copy.recipients.push_back(i);
            std::string trace = MakeField(kTraceField, "decrypted " + trace_suffix);
            if (s.ok()) {
                std::string fields =
                    MakeField(kDecryptedField, "yes; for <" + r.address + ">; certificate sha256:" +
                                                   CertFingerprint(id.cert.get())) +
                    trace;
                std::string text = OuterWithoutStatusFields(msg);
                text += fields;
                text += "MIME-Version: 1.0\r\n";
                text += entity;
                copy.data = std::move(text);
                copy.kind = "decrypted";
                r.disposition = Disposition::kDecrypted;
                r.detail = "decrypted with certificate " + CertFingerprint(id.cert.get());
            } else {
                bool removed;
                std::string fields = MakeField(kDecryptFailedField, s.message()) +
                                     MakeField(kTraceField, "not decrypted " + trace_suffix);
                copy.data = PrependFields(fields, WithoutStatusFields(msg, &removed));
                copy.kind = "undecryptable";
                r.disposition = Disposition::kUndecryptable;
                r.detail = "not decrypted: " + s.message();
            }
            r.copy = static_cast<int>(plan.copies.size());
            plan.copies.push_back(std::move(copy));
            continue;
        }
        // Outbound.
        if (protection != Protection::kNone) {
            untouched.push_back(i);
            r.disposition = Disposition::kUntouched;
            r.detail = protection == Protection::kPgp ? "already encrypted (OpenPGP)"
                                                      : "already encrypted (S/MIME)";
            continue;
        }
        std::vector<CertPtr> certs;
        Status s = ks->RecipientCertificates(r.address, &certs);
        if (s.ok()) {
            r.disposition = Disposition::kEncrypted;
            r.detail = std::to_string(certs.size()) + " certificate(s):";
            for (const auto& c : certs)
                r.detail += " " + CertFingerprint(c.get()).substr(0, 16);
            if (is_bcc(r.address)) {
                r.detail += " (Bcc: own copy)";
                own_encrypt.emplace_back(i, std::move(certs));
            } else {
                shared_encrypt.push_back(i);
                for (auto& c : certs)
                    shared_certs.push_back(std::move(c));
            }
            continue;
        }
        std::string why = s.message();
        if (!s.IsNotFound()) {
            if (options_.lookup_failure == LookupFailure::kDefer) {
                r.disposition = Disposition::kDeferred;
                r.reply = MakeReply(451, "4.4.3",
                                    "<" + r.address + ">: key server unavailable, try again later");
                r.detail = "key lookup failed: " + s.ToString();
                continue;
            }
            why = "key server unavailable (" + s.ToString() + ")";
        }
        Policy p = options_.policies.For(r.address);
        switch (p) {
            case Policy::kPlain:
                plain.push_back(i);
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

    // Copies that need no cryptography.
    if (!untouched.empty()) {
        OutputCopy c;
        c.recipients = untouched;
        c.data = msg.text();
        c.kind = "untouched";
        for (size_t i : untouched)
            plan.recipients[i].copy = static_cast<int>(plan.copies.size());
        plan.copies.push_back(std::move(c));
    }
    if (!local_status_stripped.empty()) {
        OutputCopy c;
        bool removed;
        c.recipients = local_status_stripped;
        c.data = WithoutStatusFields(msg, &removed);
        c.kind = "untouched";
        for (size_t i : local_status_stripped) {
            plan.recipients[i].copy = static_cast<int>(plan.copies.size());
            plan.recipients[i].detail += " (removed forged " + std::string(kDecryptedField) + ")";
        }
        plan.copies.push_back(std::move(c));
    }
    if (!plain.empty()) {
        OutputCopy c;
        c.recipients = plain;
        c.data = PrependFields(
            MakeField(kTraceField, "not encrypted (no key; policy plain) " + trace_suffix),
            msg.text());
        c.kind = "plain";
        for (size_t i : plain)
            plan.recipients[i].copy = static_cast<int>(plan.copies.size());
        plan.copies.push_back(std::move(c));
    }

    // Encrypted copies: one for the visible recipients, one per Bcc recipient.
    if (!shared_encrypt.empty() || !own_encrypt.empty()) {
        std::string entity = InnerEntity(msg);
        bool defer_all = false;
        std::string defer_why;
        std::string signed_note;
        if (options_.sign && !sender.empty() && IsLocal(sender)) {
            Identity signer;
            Status s = ks->PrivateIdentity(sender, &signer);
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
        const std::string outer = OuterHeaders(msg);
        const std::string fields = MakeField(kTraceField, "encrypted " + trace_suffix);
        auto make_copy = [&](const std::vector<size_t>& idx, const std::vector<CertPtr>& certs) {
            std::string der, type;
            Status s = defer_all ? Status::Unavailable(defer_why)
                                 : EncryptEntity(certs, entity, options_.encrypt, &der, &type);
            if (!s.ok()) {
                for (size_t i : idx) {
                    auto& r = plan.recipients[i];
                    r.disposition = Disposition::kDeferred;
                    r.reply =
                        defer_all
                            ? MakeReply(451, "4.4.3", "key server unavailable, try again later")
                            : MakeReply(451, "4.3.0", "encryption failed: " + s.message());
                    r.detail = s.ToString();
                }
                return;
            }
            OutputCopy c;
            c.recipients = idx;
            c.data = BuildSmimeMessage(outer, fields, type, der);
            c.kind = "encrypted";
            for (size_t i : idx) {
                plan.recipients[i].copy = static_cast<int>(plan.copies.size());
                plan.recipients[i].detail += signed_note;
            }
            plan.copies.push_back(std::move(c));
        };
        if (!shared_encrypt.empty())
            make_copy(shared_encrypt, shared_certs);
        for (auto& [i, certs] : own_encrypt)
            make_copy({i}, certs);
    }

    std::map<Disposition, int> counts;
    for (const auto& r : plan.recipients)
        ++counts[r.disposition];
    for (const auto& [d, n] : counts) {
        if (!plan.summary.empty())
            plan.summary += " ";
        plan.summary += std::string(DispositionName(d)) + "=" + std::to_string(n);
    }
    plan.summary += " copies=" + std::to_string(plan.copies.size());
    return plan;
}

}  // namespace gateway
}  // namespace keydir
