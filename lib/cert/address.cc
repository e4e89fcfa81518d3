#include "cert/address.h"

#include <cstdio>
#include <cstring>

namespace keydir {
namespace {

bool IsAlnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool IsAtext(char c) {
    return IsAlnum(c) || (c != '\0' && std::strchr("!#$%&'*+-/=?^_`{|}~", c));
}

std::string Printable(std::string_view s) {
    std::string out;
    for (unsigned char c : s) {
        if (c >= 0x20 && c < 0x7f) {
            out.push_back(static_cast<char>(c));
        } else {
            char buf[8];
            snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        }
    }
    return out;
}

// What is wrong with `domain` ("" when nothing is).
std::string DomainProblem(std::string_view domain, std::string* normalized) {
    if (domain.empty())
        return "it is empty";
    if (domain.size() > 253)
        return "longer than 253 characters";
    std::string out;
    size_t start = 0;
    for (;;) {
        size_t dot = domain.find('.', start);
        std::string_view label = domain.substr(
            start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
        if (label.empty())
            return "an empty label (two dots, or a dot at the start or end)";
        if (label.size() > 63)
            return "a label longer than 63 characters";
        if (label.front() == '-' || label.back() == '-')
            return "a label starts or ends with '-'";
        for (char c : label) {
            if (!IsAlnum(c) && c != '-')
                return "the character '" + Printable(std::string_view(&c, 1)) +
                       "' (only letters, digits, '-' and '.')";
            out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
        }
        if (dot == std::string_view::npos)
            break;
        out.push_back('.');
        start = dot + 1;
    }
    *normalized = std::move(out);
    return std::string();
}

}  // namespace

Status ValidateDomain(std::string_view domain, std::string* normalized) {
    std::string why = DomainProblem(domain, normalized);
    if (why.empty())
        return Status::OK();
    return Status::InvalidArgument("'" + Printable(domain) + "' is not a valid domain: " + why);
}

Status ValidateAddress(std::string_view address, std::string* normalized) {
    auto bad = [&](const std::string& why) {
        return Status::InvalidArgument("'" + Printable(address) +
                                       "' is not a valid e-mail address: " + why);
    };
    size_t at = address.rfind('@');
    if (at == std::string_view::npos)
        return bad("no '@'");
    std::string_view local = address.substr(0, at);
    std::string_view domain = address.substr(at + 1);
    if (local.empty())
        return bad("nothing before the '@'");
    if (local.size() > 64)
        return bad("the part before the '@' is longer than 64 characters");
    if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos)
        return bad("a '.' at the start or end of the local part, or two in a row");
    for (char c : local) {
        if (c == '.')
            continue;
        if (!IsAtext(c))
            return bad(std::string("the character '") + Printable(std::string_view(&c, 1)) +
                       "' in the local part");
    }
    if (domain.empty())
        return bad("nothing after the '@'");
    std::string norm_domain;
    std::string why = DomainProblem(domain, &norm_domain);
    if (!why.empty())
        return bad("in its domain, " + why);
    if (address.size() > 254)
        return bad("longer than 254 characters");
    *normalized = std::string(local) + "@" + norm_domain;
    return Status::OK();
}

std::string DomainOf(std::string_view address) {
    size_t at = address.rfind('@');
    return at == std::string_view::npos ? std::string() : std::string(address.substr(at + 1));
}

std::string ZoneDn(std::string_view domain) {
    std::string dn;
    size_t start = 0;
    for (;;) {
        size_t dot = domain.find('.', start);
        if (!dn.empty())
            dn += ",";
        dn += "dc=";
        dn += EscapeDnValue(domain.substr(
            start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
        if (dot == std::string_view::npos)
            break;
        start = dot + 1;
    }
    return dn;
}

std::string MemberDn(std::string_view address) {
    return "mail=" + EscapeDnValue(address) + "," + ZoneDn(DomainOf(address));
}

std::string EscapeDnValue(std::string_view value) {
    std::string out;
    for (size_t i = 0; i < value.size(); ++i) {
        char c = value[i];
        bool special = std::strchr(",+\"\\<>;=", c) != nullptr && c != '\0';
        if ((i == 0 && (c == '#' || c == ' ')) || (i + 1 == value.size() && c == ' ') || special) {
            out.push_back('\\');
            out.push_back(c);
        } else if (c == '\0' || static_cast<unsigned char>(c) < 0x20) {
            char buf[4];
            snprintf(buf, sizeof buf, "\\%02x", static_cast<unsigned char>(c));
            out += buf;
        } else {
            out.push_back(c);
        }
    }
    return out;
}

std::string EscapeFilterValue(std::string_view value) {
    std::string out;
    for (char c : value) {
        if (c == '*' || c == '(' || c == ')' || c == '\\' || c == '\0') {
            char buf[4];
            snprintf(buf, sizeof buf, "\\%02x", static_cast<unsigned char>(c));
            out += buf;
        } else {
            out.push_back(c);
        }
    }
    return out;
}

}  // namespace keydir
