#include "gateway/mime.h"

#include "base/ascii.h"
#include "chase/quote.h"
#include "gateway/smime.h"  // ClassifyCms, DecodeBase64Body

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace keydir {
namespace gateway {
namespace {

bool IEquals(std::string_view a, std::string_view b) {
    if (a.size() != b.size())
        return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) !=
            std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    return true;
}

bool IStartsWith(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() && IEquals(s.substr(0, prefix.size()), prefix);
}

std::string Trim(std::string_view s) {
    size_t b = 0, e = s.size();
    while (b < e && std::isspace(static_cast<unsigned char>(s[b])))
        ++b;
    while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1])))
        --e;
    return std::string(s.substr(b, e - b));
}

// Text of the message in a reason: the reason goes into the SMTP reply
// and the log, so control bytes are written as \xNN (and it is cut).
std::string Quoted(std::string_view s) {
    return QuoteForMessage(Trim(s));
}

// RFC 2045 token characters.
bool IsTokenChar(char c) {
    unsigned char u = c;
    if (u <= 32 || u >= 127)
        return false;
    return std::strchr("()<>@,;:\\\"/[]?=", c) == nullptr;
}

// Length of a header field name at the start of `line` followed by ':'
// (optional blanks before the colon, as RFC 5322's obsolete syntax allows);
// 0 when the line is not a field.
size_t FieldNameLength(std::string_view line) {
    size_t i = 0;
    while (i < line.size()) {
        unsigned char c = line[i];
        if (c == ':' || c <= 32 || c >= 127)
            break;
        ++i;
    }
    if (i == 0)
        return 0;
    size_t j = i;
    while (j < line.size() && (line[j] == ' ' || line[j] == '\t'))
        ++j;
    if (j < line.size() && line[j] == ':')
        return i;
    return 0;
}

// Removes RFC 822 comments (outside quoted strings).
std::string StripComments(std::string_view s) {
    std::string out;
    bool quoted = false;
    int depth = 0;
    for (size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (depth > 0) {
            if (c == '\\') {
                ++i;
            } else if (c == '(') {
                ++depth;
            } else if (c == ')') {
                --depth;
            }
            continue;
        }
        if (quoted) {
            out += c;
            if (c == '\\' && i + 1 < s.size()) {
                out += s[++i];
            } else if (c == '"') {
                quoted = false;
            }
            continue;
        }
        if (c == '"')
            quoted = true;
        if (c == '(') {
            depth = 1;
            out += ' ';
            continue;
        }
        out += c;
    }
    return out;
}

// The lines of a body, without their CRLF.
template <typename F>
void ForEachLine(std::string_view text, F f) {
    size_t pos = 0;
    while (pos < text.size()) {
        size_t eol = text.find("\r\n", pos);
        if (eol == std::string_view::npos) {
            f(text.substr(pos));
            return;
        }
        f(text.substr(pos, eol - pos));
        pos = eol + 2;
    }
}

}  // namespace

std::string ToCrlf(std::string_view text) {
    std::string out;
    out.reserve(text.size() + text.size() / 50);
    for (size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == '\r') {
            out += "\r\n";
            if (i + 1 < text.size() && text[i + 1] == '\n')
                ++i;
        } else if (c == '\n') {
            out += "\r\n";
        } else {
            out += c;
        }
    }
    return out;
}

std::string HeaderField::Value() const {
    std::string_view v(raw);
    v.remove_prefix(std::min(v.size(), v.find(':') + 1));
    std::string out;
    out.reserve(v.size());
    for (size_t i = 0; i < v.size(); ++i) {
        if (v[i] == '\r' && i + 1 < v.size() && v[i + 1] == '\n') {
            ++i;
            continue;  // unfold: drop CRLF, keep the blank that follows
        }
        out += v[i];
    }
    return Trim(out);
}

bool HeaderField::Is(std::string_view other) const {
    return IEquals(name, other);
}

std::string ContentType::Param(const std::string& name) const {
    auto it = params.find(name);
    return it == params.end() ? "" : it->second;
}

Status ParseContentType(std::string_view value, ContentType* out) {
    std::string v = StripComments(value);
    size_t i = 0;
    auto skip_ws = [&] {
        while (i < v.size() && std::isspace(static_cast<unsigned char>(v[i])))
            ++i;
    };
    auto token = [&] {
        size_t b = i;
        while (i < v.size() && IsTokenChar(v[i]))
            ++i;
        return v.substr(b, i - b);
    };
    skip_ws();
    std::string type = token();
    skip_ws();
    if (type.empty() || i >= v.size() || v[i] != '/')
        return Status::InvalidArgument("Content-Type " + Quoted(value) + " is not type/subtype");
    ++i;
    skip_ws();
    std::string subtype = token();
    if (subtype.empty())
        return Status::InvalidArgument("Content-Type " + Quoted(value) + " has no subtype");
    ContentType ct;
    ct.type = Lower(type);
    ct.subtype = Lower(subtype);
    skip_ws();
    while (i < v.size()) {
        if (v[i] != ';')
            return Status::InvalidArgument("Content-Type " + Quoted(value) +
                                           ": expected ';' before a parameter");
        ++i;
        skip_ws();
        if (i >= v.size())
            break;  // a trailing ';' is common and harmless
        std::string name = Lower(token());
        skip_ws();
        if (name.empty() || i >= v.size() || v[i] != '=')
            return Status::InvalidArgument("Content-Type " + Quoted(value) +
                                           ": a parameter lacks '=value'");
        ++i;
        skip_ws();
        std::string val;
        if (i < v.size() && v[i] == '"') {
            ++i;
            bool closed = false;
            while (i < v.size()) {
                if (v[i] == '\\' && i + 1 < v.size()) {
                    val += v[i + 1];
                    i += 2;
                } else if (v[i] == '"') {
                    ++i;
                    closed = true;
                    break;
                } else {
                    val += v[i++];
                }
            }
            if (!closed)
                return Status::InvalidArgument("Content-Type " + Quoted(value) +
                                               ": unterminated quoted parameter");
        } else {
            val = token();
        }
        ct.params[name] = val;
        skip_ws();
    }
    *out = std::move(ct);
    return Status::OK();
}

Message Message::Parse(std::string crlf_text) {
    Message m;
    m.text_ = std::move(crlf_text);
    std::string_view t(m.text_);
    size_t pos = 0;
    while (pos < t.size()) {
        size_t eol = t.find("\r\n", pos);
        size_t next = eol == std::string_view::npos ? t.size() : eol + 2;
        std::string_view line =
            t.substr(pos, (eol == std::string_view::npos ? t.size() : eol) - pos);
        if (line.empty()) {  // the separator line
            pos = next;
            break;
        }
        if ((line[0] == ' ' || line[0] == '\t') && !m.headers_.empty()) {
            std::string& raw = m.headers_.back().raw;
            raw.append(t.substr(pos, next - pos));
            // Like a field's first line, a folded line that ends the text
            // gets its CRLF: fields are copied one after the other (outer
            // headers, then the gateway's own), and a field without its
            // line end would swallow the next one.
            if (eol == std::string_view::npos)
                raw += "\r\n";
            pos = next;
            continue;
        }
        size_t n = FieldNameLength(line);
        if (n == 0)
            break;  // body starts without a separator
        HeaderField f;
        f.name = std::string(line.substr(0, n));
        f.raw = std::string(t.substr(pos, next - pos));
        if (eol == std::string_view::npos)
            f.raw += "\r\n";
        m.headers_.push_back(std::move(f));
        pos = next;
    }
    m.body_offset_ = std::min(pos, t.size());
    return m;
}

std::optional<std::string> Message::Get(std::string_view name) const {
    for (const auto& f : headers_)
        if (f.Is(name))
            return f.Value();
    return std::nullopt;
}

std::vector<std::string> Message::GetAll(std::string_view name) const {
    std::vector<std::string> out;
    for (const auto& f : headers_)
        if (f.Is(name))
            out.push_back(f.Value());
    return out;
}

size_t Message::Count(std::string_view name) const {
    return std::count_if(headers_.begin(), headers_.end(),
                         [&](const HeaderField& f) { return f.Is(name); });
}

Status Message::GetContentType(ContentType* out) const {
    auto v = Get("Content-Type");
    if (!v) {
        *out = ContentType();
        out->params["charset"] = "us-ascii";
        return Status::OK();
    }
    return ParseContentType(*v, out);
}

namespace {

constexpr std::string_view kPgpBegin = "-----BEGIN PGP MESSAGE-----";
constexpr std::string_view kPgpEnd = "-----END PGP MESSAGE-----";

// The whole text (blank lines and white space around it aside) is one
// OpenPGP MESSAGE armour block (RFC 4880 6.2): nothing before its BEGIN
// line, nothing after its END line, no second block.
bool IsOnlyPgpMessage(std::string_view text) {
    std::string t = Trim(text);
    if (t.size() < kPgpBegin.size() + kPgpEnd.size() ||
        std::string_view(t).substr(0, kPgpBegin.size()) != kPgpBegin)
        return false;
    size_t end = t.find(kPgpEnd);
    if (end == std::string::npos || end + kPgpEnd.size() != t.size())
        return false;
    // The BEGIN line ends with the line; no other armour line inside.
    std::string_view inner = std::string_view(t).substr(kPgpBegin.size(), end - kPgpBegin.size());
    return !inner.empty() && (inner[0] == '\r' || inner[0] == '\n') &&
           inner.find("-----BEGIN ") == std::string_view::npos &&
           inner.find("-----END ") == std::string_view::npos;
}

// The body parts of a multipart body (what lies between the delimiter
// lines, each with its own header fields).
std::vector<std::string_view> MultipartParts(std::string_view body, const std::string& boundary) {
    std::vector<std::string_view> parts;
    const std::string open = "--" + boundary;
    size_t start = std::string_view::npos;
    size_t pos = 0;
    while (pos < body.size()) {
        size_t eol = body.find('\n', pos);
        size_t next = eol == std::string_view::npos ? body.size() : eol + 1;
        std::string_view line = body.substr(pos, next - pos);
        if (line.substr(0, open.size()) == open) {
            std::string_view rest = line.substr(open.size());
            bool close = rest.substr(0, 2) == "--";
            if (close || Trim(rest).empty()) {
                if (start != std::string_view::npos) {
                    // The CRLF before the delimiter belongs to the delimiter.
                    size_t end = pos;
                    if (end > start && body[end - 1] == '\n')
                        --end;
                    if (end > start && body[end - 1] == '\r')
                        --end;
                    parts.push_back(body.substr(start, end - start));
                }
                if (close)
                    return parts;
                start = next;
            }
        }
        pos = next;
    }
    return parts;  // no closing delimiter: CheckMimeStructure refuses that
}

// An S/MIME application/pkcs7-mime body whose CMS ContentType is
// EnvelopedData or AuthEnvelopedData.
Protection SmimeProtection(const Message& message) {
    std::string cte = "7bit";
    if (auto v = message.Get("Content-Transfer-Encoding"))
        cte = Lower(Trim(StripComments(*v)));
    std::string der;
    if (cte == "base64") {
        if (!DecodeBase64Body(message.body(), &der).ok())
            return Protection::kNone;
    } else if (cte == "binary") {
        der = std::string(message.body());
    } else {
        return Protection::kNone;
    }
    switch (ClassifyCms(der)) {
        case CmsKind::kEnveloped:
            return Protection::kSmimeEnveloped;
        case CmsKind::kAuthEnveloped:
            return Protection::kSmimeAuthEnveloped;
        default:
            return Protection::kNone;
    }
}

// PGP/MIME (RFC 3156 4): multipart/encrypted with
// protocol="application/pgp-encrypted", a first part of that type and a
// second part that is one PGP MESSAGE.
bool IsPgpMime(const Message& message, const ContentType& ct) {
    if (Lower(ct.Param("protocol")) != "application/pgp-encrypted")
        return false;
    std::vector<std::string_view> parts = MultipartParts(message.body(), ct.Param("boundary"));
    if (parts.size() != 2)
        return false;
    Message control = Message::Parse(std::string(parts[0]));
    Message data = Message::Parse(std::string(parts[1]));
    ContentType c1, c2;
    if (!control.GetContentType(&c1).ok() || !c1.Is("application", "pgp-encrypted") ||
        !data.GetContentType(&c2).ok() || !c2.Is("application", "octet-stream"))
        return false;
    auto cte = data.Get("Content-Transfer-Encoding");
    if (cte && Lower(Trim(StripComments(*cte))) != "7bit")
        return false;
    return IsOnlyPgpMessage(data.body());
}

}  // namespace

Protection ClassifyProtection(const Message& message) {
    ContentType ct;
    if (!message.GetContentType(&ct).ok())
        return Protection::kNone;
    // S/MIME: what the CMS says, not the smime-type parameter or the file
    // name (.p7m is opaque signed data too, RFC 8551 3.2.2).
    if (ct.type == "application" && (ct.subtype == "pkcs7-mime" || ct.subtype == "x-pkcs7-mime"))
        return SmimeProtection(message);
    if (ct.Is("multipart", "encrypted"))
        return IsPgpMime(message, ct) ? Protection::kPgp : Protection::kNone;
    if (ct.type == "text" || ct.type == "application") {
        // Inline OpenPGP: the body is one armoured message and nothing else
        // (not encoded: base64 or quoted-printable hide what it is).
        auto cte = message.Get("Content-Transfer-Encoding");
        std::string c = cte ? Lower(Trim(StripComments(*cte))) : "7bit";
        if ((c == "7bit" || c == "8bit") && IsOnlyPgpMessage(message.body()))
            return Protection::kPgp;
    }
    return Protection::kNone;
}

Status CheckMimeStructure(const Message& message) {
    if (message.text().find('\0') != std::string::npos)
        return Status::InvalidArgument("the message contains NUL characters");
    if (message.Count("Content-Type") > 1)
        return Status::InvalidArgument("the message has more than one Content-Type header field");
    ContentType ct;
    Status s = message.GetContentType(&ct);
    if (!s.ok())
        return s;
    std::string cte = "7bit";
    if (auto v = message.Get("Content-Transfer-Encoding"))
        cte = Lower(Trim(StripComments(*v)));
    static const char* const kKnown[] = {"7bit", "8bit", "binary", "quoted-printable", "base64"};
    bool known = std::any_of(std::begin(kKnown), std::end(kKnown),
                             [&](const char* k) { return cte == k; }) ||
                 IStartsWith(cte, "x-");
    if (!known)
        return Status::InvalidArgument("unknown Content-Transfer-Encoding " + QuoteForMessage(cte));
    bool composite = ct.type == "multipart" || ct.type == "message";
    if (composite && cte != "7bit" && cte != "8bit" && cte != "binary")
        return Status::InvalidArgument("a " + ct.type + "/" + ct.subtype +
                                       " entity cannot have Content-Transfer-Encoding " +
                                       QuoteForMessage(cte));
    if (ct.type != "multipart")
        return Status::OK();
    std::string boundary = ct.Param("boundary");
    if (boundary.empty())
        return Status::InvalidArgument("Content-Type " + ct.type + "/" + ct.subtype +
                                       " has no boundary parameter");
    if (boundary.size() > 70)
        return Status::InvalidArgument("the multipart boundary is longer than 70 characters");
    const std::string open = "--" + boundary;
    bool saw_open = false, saw_close = false;
    ForEachLine(message.body(), [&](std::string_view line) {
        if (saw_close || line.substr(0, open.size()) != open)
            return;
        std::string_view rest = line.substr(open.size());
        if (rest.substr(0, 2) == "--") {
            if (saw_open)
                saw_close = true;
            return;
        }
        if (Trim(rest).empty())
            saw_open = true;
    });
    if (!saw_open)
        return Status::InvalidArgument("the multipart body has no part delimited by boundary " +
                                       QuoteForMessage(boundary));
    if (!saw_close)
        return Status::InvalidArgument("the multipart body lacks its closing boundary " +
                                       QuoteForMessage("--" + boundary + "--"));
    return Status::OK();
}

bool IsContentField(const HeaderField& field) {
    return IStartsWith(field.name, "Content-") || field.Is("MIME-Version");
}

std::string InnerEntity(const Message& message) {
    std::string out;
    for (const auto& f : message.headers())
        if (IStartsWith(f.name, "Content-"))
            out += f.raw;
    out += "\r\n";
    out.append(message.body());
    return out;
}

std::string OuterHeaders(const Message& message) {
    std::string out;
    for (const auto& f : message.headers())
        if (!IsContentField(f))
            out += f.raw;
    return out;
}

std::string Base64Lines(std::string_view data) {
    std::string out;
    out.reserve((data.size() + 2) / 3 * 4 + data.size() / 57 * 2 + 2);
    unsigned char buf[80];
    for (size_t i = 0; i < data.size(); i += 57) {
        size_t n = std::min<size_t>(57, data.size() - i);
        int len = EVP_EncodeBlock(buf, reinterpret_cast<const unsigned char*>(data.data() + i),
                                  static_cast<int>(n));
        out.append(reinterpret_cast<char*>(buf), len);
        out += "\r\n";
    }
    return out;
}

std::string BuildSmimeMessage(std::string_view outer_headers, std::string_view extra_fields,
                              std::string_view smime_type, std::string_view der) {
    std::string out;
    std::string b64 = Base64Lines(der);
    out.reserve(outer_headers.size() + extra_fields.size() + b64.size() + 300);
    out.append(outer_headers);
    out.append(extra_fields);
    out += "MIME-Version: 1.0\r\n";
    out += "Content-Type: application/pkcs7-mime; smime-type=";
    out.append(smime_type);
    out += "; name=\"smime.p7m\"\r\n";
    out += "Content-Disposition: attachment; filename=\"smime.p7m\"\r\n";
    out += "Content-Transfer-Encoding: base64\r\n";
    out += "Content-Description: S/MIME Encrypted Message\r\n";
    out += "\r\n";
    out += b64;
    return out;
}

std::string BuildDecryptedMessage(const Message& envelope, std::string_view extra_fields,
                                  std::string_view entity) {
    std::string out = OuterHeaders(envelope);
    out.append(extra_fields);
    out += "MIME-Version: 1.0\r\n";
    out += InnerEntity(Message::Parse(std::string(entity)));
    return out;
}

std::string PrependFields(std::string_view fields, std::string_view text) {
    std::string out;
    out.reserve(fields.size() + text.size());
    out.append(fields);
    out.append(text);
    return out;
}

std::string MakeField(std::string_view name, std::string_view value) {
    std::string clean(value);
    for (char& c : clean)
        if (static_cast<unsigned char>(c) < 32 || c == 127)
            c = ' ';
    std::string out(name);
    out += ":";
    size_t col = out.size();
    size_t i = 0;
    while (i < clean.size()) {
        size_t sp = clean.find(' ', i);
        std::string_view word =
            std::string_view(clean).substr(i, sp == std::string::npos ? std::string::npos : sp - i);
        if (col + 1 + word.size() > 78 && col > name.size() + 1) {
            out += "\r\n\t";
            col = 8;
        } else {
            out += ' ';
            col += 1;
        }
        out.append(word);
        col += word.size();
        if (sp == std::string::npos)
            break;
        i = sp + 1;
        while (i < clean.size() && clean[i] == ' ')
            ++i;
    }
    out += "\r\n";
    return out;
}

}  // namespace gateway
}  // namespace keydir
