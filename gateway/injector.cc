#include "gateway/injector.h"

#include <algorithm>
#include <cctype>

namespace keydir {
namespace gateway {

struct Injector::Conn {
    TimedSocket socket;
    bool pipelining = false;
    bool eightbit = false;
    bool size = false;
    std::chrono::steady_clock::time_point last_used;
};

namespace {

Reply ConnectionFailure(const Status& s) {
    Reply r;
    r.code = 451;
    r.enhanced = "4.4.2";
    r.text = "next hop: " + s.message();
    return r;
}

bool Has8Bit(const std::string& data) {
    return std::any_of(data.begin(), data.end(),
                       [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
}

}  // namespace

Reply ParseReply(const std::vector<std::string>& lines) {
    Reply r;
    r.code = 0;
    r.enhanced.clear();
    r.text.clear();
    for (const auto& l : lines) {
        if (l.size() < 3)
            continue;
        if (r.code == 0)
            r.code = std::atoi(l.substr(0, 3).c_str());
        std::string t = l.size() > 4 ? l.substr(4) : "";
        if (!r.text.empty())
            r.text += " ";
        r.text += t;
    }
    // "2.0.0 Ok" -> enhanced code and text.
    size_t sp = r.text.find(' ');
    std::string first = r.text.substr(0, sp);
    if (first.size() >= 5 && std::isdigit(static_cast<unsigned char>(first[0])) &&
        first[1] == '.' && std::count(first.begin(), first.end(), '.') == 2) {
        r.enhanced = first;
        r.text = sp == std::string::npos ? "" : r.text.substr(sp + 1);
    } else {
        r.enhanced = std::to_string(r.code / 100) + ".0.0";
    }
    if (r.code < 200 || r.code > 599) {
        r.code = 451;
        r.enhanced = "4.5.0";
        r.text = "next hop sent a malformed reply";
    }
    return r;
}

std::string DotStuff(std::string_view data) {
    std::string out;
    out.reserve(data.size() + data.size() / 64 + 8);
    size_t pos = 0;
    while (pos < data.size()) {
        size_t eol = data.find("\r\n", pos);
        size_t end = eol == std::string_view::npos ? data.size() : eol;
        if (data[pos] == '.')
            out += '.';
        out.append(data.substr(pos, end - pos));
        out += "\r\n";
        pos = eol == std::string_view::npos ? data.size() : eol + 2;
    }
    out += ".\r\n";
    return out;
}

Injector::Injector(InjectorOptions options) : options_(std::move(options)) {}
Injector::~Injector() = default;

Status Injector::ReadReply(Conn* conn, Reply* reply) {
    std::vector<std::string> lines;
    for (;;) {
        std::string line;
        Status s = conn->socket.ReadLine(&line, 4096, options_.timeout);
        if (!s.ok())
            return s;
        lines.push_back(line);
        if (lines.size() > 100)
            return Status::IOError("next hop sent an endless reply");
        if (line.size() < 4 || line[3] != '-')
            break;
    }
    *reply = ParseReply(lines);
    return Status::OK();
}

Status Injector::Open(std::unique_ptr<Conn>* out) {
    auto conn = std::make_unique<Conn>();
    Status s = conn->socket.Connect(options_.host, options_.port,
                                    std::min(options_.timeout, std::chrono::seconds(30)));
    if (!s.ok())
        return s;
    Reply r;
    s = ReadReply(conn.get(), &r);
    if (!s.ok())
        return Status::Unavailable("next hop greeting: " + s.message());
    if (r.code != 220)
        return Status::Unavailable("next hop greeting: " + r.ToString());
    s = conn->socket.Write("EHLO " + options_.helo_name + "\r\n", options_.timeout);
    std::vector<std::string> lines;
    while (s.ok()) {
        std::string line;
        s = conn->socket.ReadLine(&line, 4096, options_.timeout);
        if (!s.ok())
            break;
        lines.push_back(line);
        std::string kw = line.size() > 4 ? line.substr(4) : "";
        std::transform(kw.begin(), kw.end(), kw.begin(),
                       [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
        if (kw == "PIPELINING")
            conn->pipelining = true;
        if (kw == "8BITMIME")
            conn->eightbit = true;
        if (kw.rfind("SIZE", 0) == 0)
            conn->size = true;
        if (line.size() < 4 || line[3] != '-')
            break;
    }
    if (!s.ok())
        return Status::Unavailable("next hop EHLO: " + s.message());
    r = ParseReply(lines);
    if (r.code != 250)
        return Status::Unavailable("next hop refused EHLO: " + r.ToString());
    *out = std::move(conn);
    return Status::OK();
}

std::unique_ptr<Injector::Conn> Injector::TakeIdle() {
    std::lock_guard<std::mutex> lock(mu_);
    auto now = std::chrono::steady_clock::now();
    while (!idle_.empty()) {
        std::unique_ptr<Conn> c = std::move(idle_.back());
        idle_.pop_back();
        if (now - c->last_used < options_.idle_timeout)
            return c;
    }
    return nullptr;
}

void Injector::GiveBack(std::unique_ptr<Conn> conn) {
    conn->last_used = std::chrono::steady_clock::now();
    std::lock_guard<std::mutex> lock(mu_);
    if (idle_.size() < options_.pool_size)
        idle_.push_back(std::move(conn));
}

Status Injector::Probe() {
    std::unique_ptr<Conn> c;
    Status s = Open(&c);
    if (s.ok())
        GiveBack(std::move(c));
    return s;
}

Status Injector::SendData(Conn* conn, const std::string& data) {
    // Base64 lines never start with '.': most copies go out as they are,
    // without a dot-stuffed copy of megabytes.
    const bool ends_crlf = data.size() >= 2 && data.compare(data.size() - 2, 2, "\r\n") == 0;
    if (ends_crlf && !data.empty() && data[0] != '.' && data.find("\n.") == std::string::npos)
        return conn->socket.Write(data, ".\r\n", options_.timeout);
    return conn->socket.Write(DotStuff(data), options_.timeout);
}

Status Injector::Transaction(Conn* conn, const std::string& sender,
                             const std::vector<std::string>& recipients, const std::string& data,
                             std::vector<Reply>* replies, bool* reusable) {
    *reusable = false;
    std::string mail = "MAIL FROM:<" + sender + ">";
    if (conn->size)
        mail += " SIZE=" + std::to_string(data.size());
    if (conn->eightbit && Has8Bit(data))
        mail += " BODY=8BITMIME";
    mail += "\r\n";
    std::vector<std::string> rcpt_cmds;
    for (const auto& r : recipients)
        rcpt_cmds.push_back("RCPT TO:<" + r + ">\r\n");
    replies->assign(recipients.size(), Reply());

    Reply mail_reply;
    std::vector<Reply> rcpt_replies(recipients.size());
    Reply data_reply;
    Status s;
    if (conn->pipelining) {
        std::string batch = mail;
        for (const auto& c : rcpt_cmds)
            batch += c;
        batch += "DATA\r\n";
        s = conn->socket.Write(batch, options_.timeout);
        if (s.ok())
            s = ReadReply(conn, &mail_reply);
        if (!s.ok())
            return s;  // nothing happened yet: the caller may retry
        if (mail_reply.code == 421)
            return Status::Unavailable(mail_reply.ToString());
        for (size_t i = 0; s.ok() && i < recipients.size(); ++i)
            s = ReadReply(conn, &rcpt_replies[i]);
        if (s.ok())
            s = ReadReply(conn, &data_reply);
    } else {
        s = conn->socket.Write(mail, options_.timeout);
        if (s.ok())
            s = ReadReply(conn, &mail_reply);
        if (!s.ok())
            return s;
        if (mail_reply.code == 421)
            return Status::Unavailable(mail_reply.ToString());
        if (mail_reply.ok()) {
            for (size_t i = 0; s.ok() && i < recipients.size(); ++i) {
                s = conn->socket.Write(rcpt_cmds[i], options_.timeout);
                if (s.ok())
                    s = ReadReply(conn, &rcpt_replies[i]);
            }
            bool any = std::any_of(rcpt_replies.begin(), rcpt_replies.end(),
                                   [](const Reply& r) { return r.ok(); });
            if (s.ok() && any) {
                s = conn->socket.Write("DATA\r\n", options_.timeout);
                if (s.ok())
                    s = ReadReply(conn, &data_reply);
            } else if (s.ok()) {
                data_reply.code = 503;
            }
        }
    }
    if (!s.ok()) {
        replies->assign(recipients.size(), ConnectionFailure(s));
        return Status::OK();
    }
    if (!mail_reply.ok()) {
        replies->assign(recipients.size(), mail_reply);
        if (data_reply.code == 354) {  // a pipelined DATA went through anyway: end it
            s = conn->socket.Write(".\r\n", options_.timeout);
            Reply ignored;
            if (s.ok())
                s = ReadReply(conn, &ignored);
        } else {
            s = conn->socket.Write("RSET\r\n", options_.timeout);
            Reply ignored;
            if (s.ok())
                s = ReadReply(conn, &ignored);
        }
        *reusable = s.ok();
        return Status::OK();
    }
    if (data_reply.code != 354) {
        for (size_t i = 0; i < recipients.size(); ++i)
            (*replies)[i] = rcpt_replies[i].ok() ? (data_reply.code == 503 ? Reply() : data_reply)
                                                 : rcpt_replies[i];
        // Every recipient refused: nothing to send.
        s = conn->socket.Write("RSET\r\n", options_.timeout);
        Reply ignored;
        if (s.ok())
            s = ReadReply(conn, &ignored);
        *reusable = s.ok();
        return Status::OK();
    }
    bool any = std::any_of(rcpt_replies.begin(), rcpt_replies.end(),
                           [](const Reply& r) { return r.ok(); });
    Reply final_reply;
    if (!any) {
        // DATA was accepted with no valid recipient (pipelining): send an
        // empty message, which the server then rejects.
        s = conn->socket.Write(".\r\n", options_.timeout);
        if (s.ok())
            s = ReadReply(conn, &final_reply);
    } else {
        s = SendData(conn, data);
        if (s.ok())
            s = ReadReply(conn, &final_reply);
    }
    if (!s.ok()) {
        replies->assign(recipients.size(), ConnectionFailure(s));
        return Status::OK();
    }
    for (size_t i = 0; i < recipients.size(); ++i)
        (*replies)[i] = rcpt_replies[i].ok() ? final_reply : rcpt_replies[i];
    *reusable = true;
    return Status::OK();
}

void Injector::Send(const std::string& sender, const std::vector<std::string>& recipients,
                    const std::string& data, std::vector<Reply>* replies) {
    // A pooled connection may have been closed by the next hop: when it
    // fails before MAIL got a reply, try once more on a fresh connection.
    for (int attempt = 0; attempt < 2; ++attempt) {
        std::unique_ptr<Conn> conn = attempt == 0 ? TakeIdle() : nullptr;
        const bool pooled = conn != nullptr;
        if (!conn) {
            Status s = Open(&conn);
            if (!s.ok()) {
                replies->assign(recipients.size(), ConnectionFailure(s));
                return;
            }
        }
        bool reusable = false;
        Status s = Transaction(conn.get(), sender, recipients, data, replies, &reusable);
        if (s.ok()) {
            if (reusable)
                GiveBack(std::move(conn));
            return;
        }
        if (!pooled) {
            replies->assign(recipients.size(), ConnectionFailure(s));
            return;
        }
    }
}

}  // namespace gateway
}  // namespace keydir
