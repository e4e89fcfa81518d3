#include "gateway/address.h"

#include "base/ascii.h"
#include "chase/quote.h"  // the client's text in replies and the log

#include <algorithm>
#include <cctype>

namespace keydir {
namespace gateway {
namespace {

bool IsAtext(char c) {
    if (std::isalnum(static_cast<unsigned char>(c)))
        return true;
    switch (c) {
        case '!':
        case '#':
        case '$':
        case '%':
        case '&':
        case '\'':
        case '*':
        case '+':
        case '-':
        case '/':
        case '=':
        case '?':
        case '^':
        case '_':
        case '`':
        case '{':
        case '|':
        case '}':
        case '~':
            return true;
        default:
            return false;
    }
}

bool ValidDotAtom(std::string_view s) {
    if (s.empty() || s.front() == '.' || s.back() == '.')
        return false;
    char prev = 0;
    for (char c : s) {
        if (c == '.') {
            if (prev == '.')
                return false;
        } else if (!IsAtext(c)) {
            return false;
        }
        prev = c;
    }
    return true;
}

bool ValidQuotedLocal(std::string_view s) {
    if (s.size() < 2 || s.front() != '"' || s.back() != '"')
        return false;
    for (size_t i = 1; i + 1 < s.size(); ++i) {
        unsigned char c = s[i];
        if (c == '\\') {
            // quoted-pairSMTP (RFC 5321 4.1.2): a backslash and a printable
            // ASCII character, never a control character.
            if (++i + 1 >= s.size())
                return false;
            unsigned char e = s[i];
            if (e < 32 || e > 126)
                return false;
            continue;
        }
        if (c == '"' || c < 32 || c == 127)
            return false;
    }
    return true;
}

bool ValidDomain(std::string_view d) {
    if (d.empty() || d.size() > 255)
        return false;
    if (d.front() == '[') {  // address literal: [1.2.3.4] or [IPv6:...]
        if (d.back() != ']' || d.size() < 3)
            return false;
        for (char c : d.substr(1, d.size() - 2))
            if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == ':' || c == '-'))
                return false;
        return true;
    }
    size_t start = 0;
    while (start <= d.size()) {
        size_t dot = d.find('.', start);
        std::string_view label =
            d.substr(start, dot == std::string_view::npos ? d.npos : dot - start);
        if (label.empty() || label.size() > 63)
            return false;
        if (label.front() == '-' || label.back() == '-')
            return false;
        for (char c : label)
            if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-'))
                return false;
        if (dot == std::string_view::npos)
            break;
        start = dot + 1;
    }
    return true;
}

// Skips an RFC 5322 comment starting at s[i] == '('; returns the index after it.
size_t SkipComment(std::string_view s, size_t i) {
    int depth = 0;
    for (; i < s.size(); ++i) {
        if (s[i] == '\\') {
            ++i;
        } else if (s[i] == '(') {
            ++depth;
        } else if (s[i] == ')') {
            if (--depth == 0)
                return i + 1;
        }
    }
    return s.size();
}

// The addr-spec of one mailbox ("Name <a@b>" or "a@b"), "" when none.
std::string MailboxAddress(std::string_view m) {
    // Remove comments outside quoted strings, remember an angle-addr.
    std::string plain;
    std::string angle;
    bool in_angle = false, quoted = false;
    for (size_t i = 0; i < m.size(); ++i) {
        char c = m[i];
        if (quoted) {
            (in_angle ? angle : plain) += c;
            if (c == '\\' && i + 1 < m.size()) {
                (in_angle ? angle : plain) += m[++i];
            } else if (c == '"') {
                quoted = false;
            }
            continue;
        }
        if (c == '"') {
            quoted = true;
            (in_angle ? angle : plain) += c;
        } else if (c == '(') {
            i = SkipComment(m, i) - 1;
        } else if (c == '<') {
            in_angle = true;
            angle.clear();
        } else if (c == '>') {
            in_angle = false;
        } else if (!std::isspace(static_cast<unsigned char>(c))) {
            (in_angle ? angle : plain) += c;
        }
    }
    std::string addr = !angle.empty() ? angle : plain;
    // A source route "@a,@b:x@y" leaves x@y.
    if (!addr.empty() && addr[0] == '@') {
        size_t colon = addr.find(':');
        addr = colon == std::string::npos ? "" : addr.substr(colon + 1);
    }
    if (addr.find('@') == std::string::npos)
        return "";
    return NormalizeAddress(addr);
}

}  // namespace

bool IsValidMailbox(std::string_view address) {
    size_t at = address.rfind('@');
    if (at == std::string_view::npos || at == 0)
        return false;
    std::string_view local = address.substr(0, at), domain = address.substr(at + 1);
    if (local.size() > 64 || address.size() > 254)
        return false;
    if (!(ValidDotAtom(local) || ValidQuotedLocal(local)))
        return false;
    return ValidDomain(domain);
}

std::string NormalizeAddress(std::string_view address) {
    size_t at = address.rfind('@');
    if (at == std::string_view::npos)
        return std::string(address);
    return std::string(address.substr(0, at + 1)) + Lower(address.substr(at + 1));
}

std::string DomainOf(std::string_view address) {
    size_t at = address.rfind('@');
    if (at == std::string_view::npos)
        return "";
    return Lower(address.substr(at + 1));
}

bool SameAddress(std::string_view a, std::string_view b) {
    return Lower(a) == Lower(b);
}

Status ParseSmtpPath(std::string_view arg, bool allow_null, std::string* address,
                     std::vector<std::string>* params) {
    size_t i = 0;
    while (i < arg.size() && arg[i] == ' ')
        ++i;
    if (i >= arg.size() || arg[i] != '<')
        return Status::InvalidArgument("the address must be enclosed in <...>");
    size_t close = std::string_view::npos;
    bool quoted = false;
    for (size_t j = i + 1; j < arg.size(); ++j) {
        if (quoted) {
            if (arg[j] == '\\') {
                ++j;
            } else if (arg[j] == '"') {
                quoted = false;
            }
        } else if (arg[j] == '"') {
            quoted = true;
        } else if (arg[j] == '>') {
            close = j;
            break;
        }
    }
    if (close == std::string_view::npos)
        return Status::InvalidArgument("missing '>' after the address");
    std::string_view path = arg.substr(i + 1, close - i - 1);
    if (!path.empty() && path[0] == '@') {  // obsolete source route: ignore it
        size_t colon = path.find(':');
        if (colon == std::string_view::npos)
            return Status::InvalidArgument("bad source route");
        path = path.substr(colon + 1);
    }
    if (path.empty()) {
        if (!allow_null)
            return Status::InvalidArgument("the null address <> is not allowed here");
        address->clear();
    } else {
        if (!IsValidMailbox(path))
            return Status::InvalidArgument(QuoteForMessage(path) + " is not a valid mailbox");
        *address = NormalizeAddress(path);
    }
    params->clear();
    std::string_view rest = arg.substr(close + 1);
    size_t p = 0;
    while (p < rest.size()) {
        while (p < rest.size() && rest[p] == ' ')
            ++p;
        size_t e = rest.find(' ', p);
        if (e == std::string_view::npos)
            e = rest.size();
        if (e > p)
            params->emplace_back(rest.substr(p, e - p));
        p = e;
    }
    if (!rest.empty() && rest[0] != ' ')
        return Status::InvalidArgument("garbage after the address");
    return Status::OK();
}

std::vector<std::string> ExtractAddresses(std::string_view value) {
    // Split at commas (and group delimiters ':' ';') outside quotes, comments
    // and angle brackets.
    std::vector<std::string> out;
    std::string cur;
    bool quoted = false, in_angle = false;
    auto flush = [&] {
        std::string a = MailboxAddress(cur);
        if (!a.empty())
            out.push_back(a);
        cur.clear();
    };
    for (size_t i = 0; i < value.size(); ++i) {
        char c = value[i];
        if (quoted) {
            cur += c;
            if (c == '\\' && i + 1 < value.size()) {
                cur += value[++i];
            } else if (c == '"') {
                quoted = false;
            }
            continue;
        }
        if (c == '(') {
            size_t end = SkipComment(value, i);
            i = end - 1;
            cur += ' ';
            continue;
        }
        if (c == '"')
            quoted = true;
        if (c == '<')
            in_angle = true;
        if (c == '>')
            in_angle = false;
        if (!in_angle && (c == ',' || c == ';')) {
            flush();
            continue;
        }
        if (!in_angle && c == ':') {  // "group:" starts a group: drop its name
            cur.clear();
            continue;
        }
        cur += c;
    }
    flush();
    return out;
}

}  // namespace gateway
}  // namespace keydir
