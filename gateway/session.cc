#include "gateway/session.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "chase/quote.h"  // the client's text in replies: no control bytes
#include "gateway/address.h"
#include "gateway/log.h"
#include "gateway/mime.h"

namespace keydir {
namespace gateway {
namespace {

constexpr size_t kMaxCommandLine = 2048;
constexpr size_t kMaxTextLine = 1 << 20;  // longer DATA lines are refused

std::string Upper(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return s;
}

bool IStartsWith(const std::string& s, const char* p) {
    size_t n = std::char_traits<char>::length(p);
    return s.size() >= n && Upper(s.substr(0, n)) == p;
}

}  // namespace

Session::Session(SessionConnection* socket, const SessionOptions& options, Processor* processor,
                 KeySource* keys, CopySender* injector, const std::atomic<bool>* stopping,
                 std::string id)
    : socket_(socket),
      options_(options),
      processor_(processor),
      keys_(keys),
      injector_(injector),
      stopping_(stopping),
      id_(std::move(id)) {}

void Session::ResetTransaction() {
    have_mail_ = false;
    size_hint_ = 0;
    sender_.clear();
    recipients_.clear();
    keys_.Clear();
}

void Session::Run() {
    LogDebug(id_ + ": connect from " + socket_->peer());
    Send("220 " + options_.hostname + " ESMTP keydir-gateway");
    for (;;) {
        std::string line;
        Status s = socket_->ReadLine(&line, kMaxCommandLine, options_.timeout,
                                     have_mail_ ? nullptr : stopping_);
        if (s.code() == Status::Code::kUnavailable) {
            Send("421 4.3.2 " + options_.hostname + " Service shutting down, closing connection");
            break;
        }
        if (s.code() == Status::Code::kTimedOut) {
            Send("421 4.4.2 " + options_.hostname + " Error: timeout exceeded");
            LogInfo(id_ + ": timeout after " + std::to_string(options_.timeout.count()) + "s");
            break;
        }
        if (s.IsInvalidArgument()) {
            Send("500 5.5.2 Error: command line too long");
            if (++errors_ >= options_.max_errors)
                break;
            continue;
        }
        if (!s.ok())
            break;  // the peer went away
        if (!HandleCommand(line))
            break;
        if (errors_ >= options_.max_errors) {
            Send("421 4.7.0 " + options_.hostname + " Error: too many errors");
            break;
        }
    }
    socket_->Flush(std::chrono::seconds(10));
    LogDebug(id_ + ": disconnect");
}

bool Session::HandleCommand(const std::string& line) {
    size_t sp = line.find(' ');
    std::string verb = Upper(line.substr(0, sp));
    std::string arg = sp == std::string::npos ? "" : line.substr(sp + 1);
    if (verb == "EHLO" || verb == "HELO" || verb == "LHLO") {
        Hello(verb, arg);
    } else if (verb == "MAIL") {
        Mail(arg);
    } else if (verb == "RCPT") {
        Rcpt(arg);
    } else if (verb == "DATA") {
        return Data();
    } else if (verb == "RSET") {
        ResetTransaction();
        Send("250 2.0.0 Ok");
    } else if (verb == "NOOP") {
        Send("250 2.0.0 Ok");
    } else if (verb == "QUIT") {
        Send("221 2.0.0 Bye");
        return false;
    } else if (verb == "VRFY") {
        Send("252 2.5.2 Cannot VRFY user");
    } else if (verb == "HELP") {
        Send("214 2.0.0 keydir-gateway: EHLO LHLO HELO MAIL RCPT DATA RSET NOOP QUIT");
    } else {
        Send("500 5.5.2 Error: command not recognized");
        ++errors_;
    }
    return true;
}

void Session::Hello(const std::string& verb, const std::string& arg) {
    if (arg.empty()) {
        Send("501 5.5.4 Syntax: " + verb + " hostname");
        ++errors_;
        return;
    }
    ResetTransaction();
    mode_ = verb == "LHLO" ? Mode::kLmtp : Mode::kSmtp;
    if (verb == "HELO") {
        Send("250 " + options_.hostname);
        return;
    }
    Send("250-" + options_.hostname);
    Send("250-PIPELINING");
    Send("250-SIZE " + std::to_string(options_.max_message_size));
    Send("250-8BITMIME");
    Send("250 ENHANCEDSTATUSCODES");
}

void Session::Mail(const std::string& arg) {
    if (mode_ == Mode::kNone) {
        Send("503 5.5.1 Error: send EHLO or LHLO first");
        ++errors_;
        return;
    }
    if (have_mail_) {
        Send("503 5.5.1 Error: nested MAIL command");
        ++errors_;
        return;
    }
    if (!IStartsWith(arg, "FROM:")) {
        Send("501 5.5.4 Syntax: MAIL FROM:<address>");
        ++errors_;
        return;
    }
    std::string address;
    std::vector<std::string> params;
    Status s = ParseSmtpPath(arg.substr(5), true, &address, &params);
    if (!s.ok()) {
        Send("501 5.1.7 Bad sender address syntax: " + s.message());
        ++errors_;
        return;
    }
    for (const auto& p : params) {
        std::string u = Upper(p);
        if (u.rfind("SIZE=", 0) == 0) {
            char* end = nullptr;
            unsigned long long n = std::strtoull(p.c_str() + 5, &end, 10);
            if (!end || *end || p.size() == 5) {
                Send("501 5.5.4 Bad SIZE parameter");
                ++errors_;
                return;
            }
            size_hint_ = static_cast<size_t>(n);
            if (n > options_.max_message_size) {
                Send("552 5.3.4 Message size exceeds fixed limit of " +
                     std::to_string(options_.max_message_size) + " bytes");
                return;
            }
        } else if (u == "BODY=7BIT" || u == "BODY=8BITMIME") {
            // Both are fine: the gateway passes 8-bit data through.
        } else {
            Send("555 5.5.4 Unsupported option: " + QuoteForMessage(p));
            ++errors_;
            return;
        }
    }
    have_mail_ = true;
    sender_ = address;
    Send("250 2.1.0 Ok");
}

void Session::Rcpt(const std::string& arg) {
    if (!have_mail_) {
        Send("503 5.5.1 Error: need MAIL command");
        ++errors_;
        return;
    }
    if (!IStartsWith(arg, "TO:")) {
        Send("501 5.5.4 Syntax: RCPT TO:<address>");
        ++errors_;
        return;
    }
    std::string address;
    std::vector<std::string> params;
    Status s = ParseSmtpPath(arg.substr(3), false, &address, &params);
    if (!s.ok()) {
        Send("501 5.1.3 Bad recipient address syntax: " + s.message());
        ++errors_;
        return;
    }
    if (!params.empty()) {
        Send("555 5.5.4 Unsupported option: " + QuoteForMessage(params.front()));
        ++errors_;
        return;
    }
    if (recipients_.size() >= options_.max_recipients) {
        Send("452 4.5.3 Error: too many recipients");
        return;
    }
    if (mode_ == Mode::kSmtp) {
        // SMTP has one reply after DATA: refuse recipients by policy now.
        Reply r = processor_->CheckRecipient(address, &keys_);
        if (!r.ok()) {
            Send(r.ToString());
            LogInfo(id_ + ": to=<" + address + ">, refused at RCPT: " + r.ToString());
            return;
        }
    }
    recipients_.push_back(address);
    Send("250 2.1.5 Ok");
}

bool Session::Data() {
    if (!have_mail_) {
        Send("503 5.5.1 Error: need MAIL command");
        ++errors_;
        return true;
    }
    if (recipients_.empty()) {
        Send("554 5.5.1 Error: no valid recipients");
        return true;
    }
    Send("354 End data with <CR><LF>.<CR><LF>");
    std::string message;
    // Postfix announces the size: one allocation instead of a growing copy.
    if (size_hint_ > 0 && size_hint_ <= options_.max_message_size)
        message.reserve(size_hint_ + size_hint_ / 32 + 1024);
    bool too_big = false, line_too_long = false;
    Status s = socket_->ReadData(&message, options_.max_message_size, kMaxTextLine,
                                 options_.timeout, &too_big, &line_too_long);
    if (!s.ok()) {
        LogInfo(id_ + ": lost connection in DATA: " + s.ToString());
        return false;
    }
    const size_t n = recipients_.size();
    auto refuse_all = [&](const std::string& reply) {
        size_t count = mode_ == Mode::kLmtp ? n : 1;
        for (size_t i = 0; i < count; ++i)
            Send(reply);
        LogInfo(id_ + ": from=<" + sender_ + ">, nrcpt=" + std::to_string(n) + ": " + reply);
    };
    if (too_big) {
        refuse_all("552 5.3.4 Message size exceeds fixed limit of " +
                   std::to_string(options_.max_message_size) + " bytes");
    } else if (line_too_long) {
        refuse_all("554 5.6.0 Malformed message: a line is longer than " +
                   std::to_string(kMaxTextLine) + " bytes");
    } else {
        Deliver(std::move(message));
    }
    ResetTransaction();
    return true;
}

void Session::Deliver(std::string message) {
    const std::string tid = id_ + "." + std::to_string(++transactions_);
    const size_t size = message.size();
    // Each copy is sent as soon as it is built, and freed before the next.
    std::vector<Reply> sent(recipients_.size());
    std::vector<std::string> status(recipients_.size());
    auto send = [&](const OutputCopy& copy) {
        std::vector<std::string> rcpts;
        for (size_t i : copy.recipients)
            rcpts.push_back(recipients_[i]);
        std::vector<Reply> replies;
        injector_->Send(sender_, rcpts, copy.data, &replies);
        for (size_t k = 0; k < copy.recipients.size(); ++k) {
            size_t i = copy.recipients[k];
            sent[i] = replies[k];
            status[i] =
                replies[k].ok() ? "sent" : (replies[k].temporary() ? "deferred" : "bounced");
        }
    };
    Plan plan = processor_->Process(sender_, recipients_, std::move(message), &keys_, send);
    std::vector<Reply> final_replies(plan.recipients.size());
    for (size_t i = 0; i < plan.recipients.size(); ++i)
        final_replies[i] = plan.recipients[i].copy >= 0 ? sent[i] : plan.recipients[i].reply;
    LogInfo(tid + ": message-id=" + (plan.message_id.empty() ? "none" : plan.message_id) +
            ", from=<" + sender_ + ">, size=" + std::to_string(size) +
            ", nrcpt=" + std::to_string(plan.recipients.size()) + ", " + plan.summary);
    for (size_t i = 0; i < plan.recipients.size(); ++i) {
        const RecipientResult& r = plan.recipients[i];
        std::string st =
            r.copy >= 0 ? status[i] : (final_replies[i].temporary() ? "deferred" : "refused");
        LogInfo(tid + ": to=<" + r.address + ">, action=" + DispositionName(r.disposition) + " (" +
                r.detail + "), status=" + st + " (" + final_replies[i].ToString() + ")");
    }
    if (mode_ == Mode::kLmtp) {
        for (const Reply& r : final_replies)
            Send(r.ToString());
        return;
    }
    // SMTP: one reply for all recipients.
    bool all_ok = std::all_of(final_replies.begin(), final_replies.end(),
                              [](const Reply& r) { return r.ok(); });
    if (all_ok) {
        Send("250 2.0.0 Ok: " + plan.summary);
        return;
    }
    auto temp = std::find_if(final_replies.begin(), final_replies.end(),
                             [](const Reply& r) { return r.temporary(); });
    if (temp != final_replies.end()) {
        Send(temp->ToString());
        return;
    }
    // Only permanent failures (a retry would fail the same way).
    auto perm = std::find_if(final_replies.begin(), final_replies.end(),
                             [](const Reply& r) { return !r.ok(); });
    Send(perm->ToString());
}

}  // namespace gateway
}  // namespace keydir
