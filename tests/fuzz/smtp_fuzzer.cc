// libFuzzer target: keydir-gateway's SMTP/LMTP session (gateway/session.h)
// as Postfix's side of the connection drives it — the command state
// machine, MAIL/RCPT paths and parameters, the DATA phase — and behind it
// the whole Processor on the message: MIME checks, Bcc detection, key
// lookups with the certificate checks, encryption (EC and RSA), signing for
// a local sender, decryption for a local member, the policies.
//
// Input: the bytes the client sends. A scripted connection hands them to
// the session line by line with TimedSocket's framing (lines end at LF,
// a CR before it is dropped; DATA ends at ".", dot-unstuffed); the end of
// the input is the client going away. No sockets: TimedSocket itself (the
// Asio reads and timeouts) is not part of this target. The key server is
// an in-memory directory with the fuzz PKI (fuzz_pki.h); re-injection is a
// sink that answers per recipient. The gateway's log goes to a checking
// sink here instead of stderr (gateway/log.cc is not linked); with
// KEYDIR_FUZZ_VERBOSE set in the environment it and the replies are
// printed (to replay one input).
//
// Properties besides "no crash, no sanitizer report":
// - every reply line is a 2xx-5xx code, a space or '-', and text without
//   control characters (a reply cannot be split or forged by the client);
// - no log line holds a line feed (a log line cannot be forged);
// - a copy that is not encrypted (S/MIME or OpenPGP) goes to no outbound
//   recipient whose policy is not "plain" (hold, reject, no key);
// - an X-Keydir-Decrypted field is only ever the gateway's own, on a copy
//   for the one local member it decrypted for.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/evp.h>

#include "base/env.h"
#include "cert/member_cert.h"
#include "cert/x509_util.h"
#include "fuzz_pki.h"
#include "gateway/address.h"
#include "gateway/key_source.h"
#include "gateway/log.h"
#include "gateway/mime.h"
#include "gateway/processor.h"
#include "gateway/session.h"

namespace gw = keydir::gateway;
using keydir::Status;

// The gateway's log (gateway/log.h), replacing gateway/log.cc.
namespace keydir {
namespace gateway {
void LogToSyslog(bool) {}
void SetLogVerbose(bool) {}
void Log(LogLevel, const std::string& line) {
    if (line.find('\n') != std::string::npos)
        __builtin_trap();
    static const bool verbose = std::getenv("KEYDIR_FUZZ_VERBOSE") != nullptr;
    if (verbose)
        std::fprintf(stderr, "log: %s\n", line.c_str());
}
}  // namespace gateway
}  // namespace keydir

namespace {

std::string Der(const char* pem) {
    std::string der;
    if (!keydir::PemToDer(pem, &der).ok())
        __builtin_trap();
    return der;
}

std::string Unbase64(const char* b64) {
    std::string in(b64);
    std::string out(in.size(), '\0');
    int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(&out[0]),
                            reinterpret_cast<const unsigned char*>(in.data()),
                            static_cast<int>(in.size()));
    if (n < 0)
        __builtin_trap();
    while (!in.empty() && in.back() == '=') {  // EVP_DecodeBlock counts the padding
        in.pop_back();
        --n;
    }
    out.resize(static_cast<size_t>(n));
    return out;
}

// A field value with its folding blanks as single spaces.
std::string Unfolded(const std::string& value) {
    std::string out;
    for (char c : value) {
        if (c == '\t')
            c = ' ';
        if (c != ' ' || out.empty() || out.back() != ' ')
            out += c;
    }
    return out;
}

// The key server: members of the fuzz PKI, a revoked one, and a domain
// whose server is down.
class FakeDirectory : public gw::Directory {
  public:
    FakeDirectory() {
        records_["bob@enc.example"].certificates = {Der(fuzzpki::kBobPem)};
        records_["kconley@tovaris.com"].certificates = {Der(fuzzpki::kKconleyPem)};
        gw::MemberRecord& carol = records_["carol@local.example"];
        carol.certificates = {Der(fuzzpki::kCarolPem)};
        carol.pkcs12 = {Unbase64(fuzzpki::kCarolP12Base64)};
        gw::MemberRecord& eve = records_["eve@enc.example"];
        eve.status = "revoked";
        eve.certificates = {Der(fuzzpki::kBobPem)};
        gw::MemberRecord& mallory = records_["mallory@referral.example"];
        mallory.via_referral = true;
        mallory.certificates = {Der(fuzzpki::kBobPem)};  // not Mallory's
        for (auto& r : records_)
            r.second.dn = "mail=" + r.first + ",dc=example";
    }
    Status Lookup(const std::string& address, bool with_private_key,
                  gw::MemberRecord* out) override {
        if (gw::DomainOf(address) == "down.example")
            return Status::Unavailable("the key server is down");
        auto it = records_.find(address);
        if (it == records_.end())
            return Status::NotFound("no entry");
        *out = it->second;
        if (!with_private_key)
            out->pkcs12.clear();
        return Status::OK();
    }

  private:
    std::map<std::string, gw::MemberRecord> records_;
};

struct World {
    std::unique_ptr<keydir::TrustAnchors> anchors;
    FakeDirectory directory;
    gw::ProcessorOptions processor_options;
    gw::SessionOptions session_options;
    std::string carol_fingerprint;
    World() {
        if (!keydir::TrustAnchors::FromPem(fuzzpki::kCaPem, "fuzz CA", &anchors).ok())
            __builtin_trap();
        gw::ProcessorOptions& p = processor_options;
        p.gateway_name = "gw.local.example";
        p.local_domains = {"local.example"};
        p.policies.set_default(gw::Policy::kHold);
        if (!p.policies.AddRule("plain.example", gw::Policy::kPlain).ok() ||
            !p.policies.AddRule(".reject.example", gw::Policy::kReject).ok() ||
            !p.policies.AddRule("reject.example", gw::Policy::kReject).ok() ||
            !p.policies.AddRule("someone@enc.example", gw::Policy::kPlain).ok())
            __builtin_trap();
        p.sign = true;
        p.lookup_failure = gw::LookupFailure::kDefer;
        session_options.hostname = "gw.local.example";
        session_options.max_message_size = 8 * 1024;  // limits the fuzzer can reach
        session_options.max_recipients = 8;
        session_options.max_errors = 20;
        carol_fingerprint = keydir::Sha256Hex(Der(fuzzpki::kCarolPem));
    }
};

// The client's bytes, framed as TimedSocket frames them; the replies.
class ScriptedConnection : public gw::SessionConnection {
  public:
    explicit ScriptedConnection(std::string_view input) : in_(input) {}

    Status ReadLine(std::string* line, size_t max_len, std::chrono::seconds,
                    const std::atomic<bool>*) override {
        std::string_view l;
        if (!NextLine(&l))
            return Status::NotFound("end of input");
        if (l.size() > max_len)
            return Status::InvalidArgument("line too long");
        line->assign(l);
        return Status::OK();
    }

    Status ReadData(std::string* out, size_t max_size, size_t max_line, std::chrono::seconds,
                    bool* too_big, bool* line_too_long) override {
        std::string_view l;
        while (NextLine(&l)) {
            if (l.size() > max_line) {
                *line_too_long = true;
                continue;
            }
            if (!l.empty() && l[0] == '.') {
                if (l.size() == 1)
                    return Status::OK();
                l.remove_prefix(1);
            }
            if (*too_big)
                continue;
            if (out->size() + l.size() + 2 > max_size) {
                *too_big = true;
                out->clear();
                continue;
            }
            out->append(l);
            out->append("\r\n");
        }
        return Status::NotFound("end of input in DATA");
    }

    void Queue(std::string_view data) override { replies_.append(data); }
    Status Flush(std::chrono::seconds) override { return Status::OK(); }
    std::string peer() const override { return "192.0.2.25:40000"; }

    const std::string& replies() const { return replies_; }

  private:
    // A complete line (LF-terminated, a CR before the LF removed); a last
    // line without LF is never complete: the client went away.
    bool NextLine(std::string_view* line) {
        size_t nl = in_.find('\n', pos_);
        if (nl == std::string_view::npos)
            return false;
        size_t end = nl > pos_ && in_[nl - 1] == '\r' ? nl - 1 : nl;
        *line = in_.substr(pos_, end - pos_);
        pos_ = nl + 1;
        return true;
    }

    std::string_view in_;
    size_t pos_ = 0;
    std::string replies_;
};

// Re-injection: checks each copy, and answers each recipient by its local
// part.
class CheckingSender : public gw::CopySender {
  public:
    explicit CheckingSender(const World& world) : w_(world) {}

    void Send(const std::string&, const std::vector<std::string>& recipients,
              const std::string& data, std::vector<gw::Reply>* replies) override {
        if (recipients.empty())
            __builtin_trap();
        gw::Message m = gw::Message::Parse(data);
        const bool protected_copy = gw::ClassifyProtection(m) != gw::Protection::kNone;
        for (const std::string& r : recipients) {
            if (!gw::IsValidMailbox(r) || gw::NormalizeAddress(r) != r)
                __builtin_trap();
            // Plain text goes out only where the policy allows it.
            if (!protected_copy && gw::DomainOf(r) != "local.example" &&
                w_.processor_options.policies.For(r) != gw::Policy::kPlain)
                __builtin_trap();
        }
        for (const gw::HeaderField& f : m.headers()) {
            if (!f.Is(gw::kDecryptedField))
                continue;
            if (recipients.size() != 1 || gw::DomainOf(recipients[0]) != "local.example" ||
                Unfolded(f.Value()) != "yes; for <" + recipients[0] +
                                           ">; certificate sha256:" + w_.carol_fingerprint ||
                m.Count(gw::kDecryptedField) != 1)
                __builtin_trap();
        }
        replies->clear();
        for (const std::string& r : recipients) {
            gw::Reply reply;
            if (r.rfind("tempfail", 0) == 0) {
                reply.code = 451;
                reply.enhanced = "4.3.0";
                reply.text = "try later";
            } else if (r.rfind("bounce", 0) == 0) {
                reply.code = 550;
                reply.enhanced = "5.1.1";
                reply.text = "no such user";
            }
            replies->push_back(reply);
        }
    }

  private:
    const World& w_;
};

void CheckReplies(const std::string& replies) {
    if (replies.compare(0, 4, "220 ") != 0)
        __builtin_trap();
    size_t pos = 0;
    while (pos < replies.size()) {
        size_t end = replies.find("\r\n", pos);
        if (end == std::string::npos)
            __builtin_trap();
        std::string_view line(replies.data() + pos, end - pos);
        if (line.size() < 4 || line[0] < '2' || line[0] > '5' || line[1] < '0' || line[1] > '9' ||
            line[2] < '0' || line[2] > '9' || (line[3] != ' ' && line[3] != '-'))
            __builtin_trap();
        for (char c : line)
            if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
                __builtin_trap();
        pos = end + 2;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static World* world = new World;
    std::string_view input(reinterpret_cast<const char*>(data), size);

    // Fresh per input: the key cache, the clock.
    keydir::FakeClockEnv env;
    env.SetUnixSeconds(fuzzpki::kFuzzNow);
    gw::KeySourceOptions ko;
    ko.anchors = world->anchors.get();
    ko.key_password = fuzzpki::kCarolP12Password;
    gw::DirectoryKeySource keys(&world->directory, ko, &env);
    gw::Processor processor(world->processor_options, &keys);

    ScriptedConnection connection(input);
    CheckingSender sender(*world);
    const std::atomic<bool> stopping{false};
    gw::Session session(&connection, world->session_options, &processor, &keys, &sender, &stopping,
                        "fuzz");
    session.Run();
    static const bool verbose = std::getenv("KEYDIR_FUZZ_VERBOSE") != nullptr;
    if (verbose)
        std::fprintf(stderr, "replies:\n%s", connection.replies().c_str());
    CheckReplies(connection.replies());
    return 0;
}
