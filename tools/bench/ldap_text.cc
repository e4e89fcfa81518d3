#include "ldap_text.h"

#include <cstdio>

#include "sign/base64.h"

namespace keydir {
namespace bench {
namespace {

void AppendHex(std::string* out, unsigned char c) {
    static const char kHex[] = "0123456789abcdef";
    out->push_back('\\');
    out->push_back(kHex[c >> 4]);
    out->push_back(kHex[c & 15]);
}

bool SafeLdifValue(std::string_view v) {
    if (v.empty())
        return true;
    unsigned char first = static_cast<unsigned char>(v[0]);
    if (first == ' ' || first == ':' || first == '<')
        return false;
    if (v.back() == ' ')
        return false;
    for (unsigned char c : v) {
        if (c == 0 || c == '\n' || c == '\r' || c >= 0x80)
            return false;
    }
    return true;
}

}  // namespace

std::string EscapeDnValue(std::string_view value) {
    std::string out;
    out.reserve(value.size() + 8);
    for (size_t i = 0; i < value.size(); ++i) {
        unsigned char c = static_cast<unsigned char>(value[i]);
        bool lead = i == 0 && (c == ' ' || c == '#');
        bool trail = i + 1 == value.size() && c == ' ';
        if (c == ',' || c == '+' || c == '"' || c == '\\' || c == '<' || c == '>' || c == ';' ||
            c == '=' || lead || trail) {
            out.push_back('\\');
            out.push_back(static_cast<char>(c));
        } else if (c < 0x20 || c == 0x7f) {
            AppendHex(&out, c);
        } else {
            out.push_back(static_cast<char>(c));
        }
    }
    return out;
}

std::string MemberDn(std::string_view address, std::string_view base) {
    std::string dn = "mail=" + EscapeDnValue(address);
    if (!base.empty()) {
        dn.push_back(',');
        dn.append(base);
    }
    return dn;
}

std::string EscapeFilterValue(std::string_view value) {
    std::string out;
    out.reserve(value.size() + 8);
    for (unsigned char c : value) {
        if (c == '*' || c == '(' || c == ')' || c == '\\' || c == 0)
            AppendHex(&out, c);
        else
            out.push_back(static_cast<char>(c));
    }
    return out;
}

std::string FilterFor(std::string_view pattern, std::string_view address) {
    std::string out;
    for (size_t i = 0; i < pattern.size(); ++i) {
        if (pattern[i] == '%' && i + 1 < pattern.size()) {
            if (pattern[i + 1] == 's') {
                out += EscapeFilterValue(address);
                ++i;
                continue;
            }
            if (pattern[i + 1] == '%') {
                out.push_back('%');
                ++i;
                continue;
            }
        }
        out.push_back(pattern[i]);
    }
    return out;
}

std::string LdifLine(std::string_view name, std::string_view value) {
    std::string line(name);
    if (SafeLdifValue(value)) {
        line += ": ";
        line.append(value);
    } else {
        line += ":: ";
        line += Base64Encode(value);
    }
    line.push_back('\n');
    return line;
}

}  // namespace bench
}  // namespace keydir
