#include "chase/ldap_url.h"

#include "base/ascii.h"

#include <arpa/inet.h>

#include <vector>

#include "chase/dn.h"
#include "chase/quote.h"

namespace keydir {
namespace {

constexpr size_t kMaxUrl = 2048;

Status UrlError(std::string_view text, const std::string& what) {
    return Status::InvalidArgument("URL " + QuoteForMessage(text) + " " + what);
}

Status CheckHostName(std::string_view url, std::string_view host) {
    size_t start = 0;
    for (;;) {
        size_t dot = host.find('.', start);
        std::string_view label = host.substr(
            start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
        if (label.empty())
            return UrlError(url, "has an empty label in its host name");
        if (label.size() > 63)
            return UrlError(url, "has a host label longer than 63 bytes");
        if (label.front() == '-' || label.back() == '-')
            return UrlError(url, "has a host label that starts or ends with '-'");
        for (char c : label)
            if (!IsAlnum(c) && c != '-')
                return UrlError(url, std::string("has the character '") + c + "' in its host");
        if (dot == std::string_view::npos)
            break;
        start = dot + 1;
    }
    return Status::OK();
}

Status ParseHostPort(std::string_view url, std::string_view hostport, LdapUrl* out) {
    if (hostport.empty())
        return UrlError(url, "names no server (the host is empty)");
    if (hostport.find('@') != std::string_view::npos)
        return UrlError(url, "has user information before the host");
    if (hostport.find('%') != std::string_view::npos)
        return UrlError(url, "has a percent-encoded host");
    std::string_view host;
    std::string_view port;
    bool has_port = false;
    if (hostport.front() == '[') {
        size_t close = hostport.find(']');
        if (close == std::string_view::npos)
            return UrlError(url, "has '[' without ']'");
        host = hostport.substr(1, close - 1);
        std::string_view rest = hostport.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':')
                return UrlError(url, "has text after ']' that is not a port");
            port = rest.substr(1);
            has_port = true;
        }
        unsigned char buf[16];
        if (inet_pton(AF_INET6, std::string(host).c_str(), buf) != 1)
            return UrlError(url, "has a bad IPv6 address in brackets");
    } else {
        size_t colon = hostport.find(':');
        if (colon != std::string_view::npos) {
            if (hostport.find(':', colon + 1) != std::string_view::npos)
                return UrlError(url, "has an IPv6 address without brackets or a second ':'");
            port = hostport.substr(colon + 1);
            has_port = true;
        }
        host = hostport.substr(0, colon);
        if (host.empty())
            return UrlError(url, "names no server (the host is empty)");
        if (host.back() == '.')
            return UrlError(url, "has a host name that ends with '.'");
        Status s = CheckHostName(url, host);
        if (!s.ok())
            return s;
    }
    if (has_port) {
        if (port.empty())
            return UrlError(url, "has ':' but no port");
        if (port.size() > 5)
            return UrlError(url, "has a port above 65535");
        int value = 0;
        for (char c : port) {
            if (c < '0' || c > '9')
                return UrlError(url, "has a port that is not a number");
            value = value * 10 + (c - '0');
        }
        if (value < 1 || value > 65535)
            return UrlError(url, "has a port outside 1-65535");
        out->port = value;
    } else {
        out->port = out->tls ? 636 : 389;
    }
    out->host = Lower(host);
    return Status::OK();
}

Status PercentDecode(std::string_view url, std::string_view in, std::string* out) {
    out->clear();
    for (size_t i = 0; i < in.size(); ++i) {
        if (in[i] != '%') {
            *out += in[i];
            continue;
        }
        int hi = i + 1 < in.size() ? HexValue(in[i + 1]) : -1;
        int lo = i + 2 < in.size() ? HexValue(in[i + 2]) : -1;
        if (hi < 0 || lo < 0)
            return UrlError(url, "has '%' not followed by two hex digits");
        *out += static_cast<char>(hi * 16 + lo);
        i += 2;
    }
    return Status::OK();
}

std::string PercentEncodeDn(std::string_view dn) {
    static const char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : dn) {
        if (IsAlnum(static_cast<char>(c)) ||
            std::string_view("-._~=,+@").find(static_cast<char>(c)) != std::string_view::npos) {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += kHex[c >> 4];
            out += kHex[c & 15];
        }
    }
    return out;
}

}  // namespace

std::string LdapUrl::ServerKey() const {
    std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    return h + ":" + std::to_string(port);
}

std::string LdapUrl::ServerUrl() const {
    return (tls ? "ldaps://" : "ldap://") + ServerKey();
}

std::string LdapUrl::ToString() const {
    std::string s = ServerUrl();
    if (has_dn || has_scope)
        s += "/" + PercentEncodeDn(dn);
    if (has_scope) {
        s += "??";
        s += scope == UrlScope::kBase ? "base" : scope == UrlScope::kOneLevel ? "one" : "sub";
    }
    return s;
}

Status ParseLdapUrl(std::string_view text, LdapUrl* out) {
    if (text.empty())
        return Status::InvalidArgument("URL is empty");
    if (text.size() > kMaxUrl)
        return UrlError(text, "is longer than 2048 bytes");
    for (unsigned char c : text) {
        if (c <= 0x20 || c >= 0x7f)
            return UrlError(text,
                            "has white space, a control or a non-ASCII byte (percent-encode "
                            "it)");
    }
    size_t sep = text.find("://");
    if (sep == std::string_view::npos)
        return UrlError(text, "is not an LDAP URL (no scheme://)");
    std::string scheme = Lower(text.substr(0, sep));
    LdapUrl url;
    if (scheme == "ldap") {
        url.tls = false;
    } else if (scheme == "ldaps") {
        url.tls = true;
    } else {
        return UrlError(text, "has the scheme " + QuoteForMessage(scheme) +
                                  "; keydir follows only ldap:// and ldaps://");
    }
    std::string_view rest = text.substr(sep + 3);
    if (rest.find('#') != std::string_view::npos)
        return UrlError(text, "has a fragment ('#')");
    size_t slash = rest.find('/');
    size_t question = rest.find('?');
    if (question < slash)
        return UrlError(text, "has '?' before the '/' that starts the DN");
    Status s = ParseHostPort(text, rest.substr(0, slash), &url);
    if (!s.ok())
        return s;
    if (slash != std::string_view::npos) {
        std::vector<std::string_view> parts;
        std::string_view path = rest.substr(slash + 1);
        size_t start = 0;
        for (;;) {
            size_t q = path.find('?', start);
            parts.push_back(path.substr(start, q == std::string_view::npos ? q : q - start));
            if (q == std::string_view::npos)
                break;
            start = q + 1;
        }
        if (parts.size() > 5)
            return UrlError(text, "has more than four '?'");
        std::string dn;
        s = PercentDecode(text, parts[0], &dn);
        if (!s.ok())
            return s;
        if (!dn.empty()) {
            Dn parsed;
            s = ParseDn(dn, &parsed);
            if (!s.ok())
                return UrlError(text, "has a bad DN: " + s.message());
            url.has_dn = true;
            url.dn = dn;
        }
        if (parts.size() > 1 && !parts[1].empty())
            return UrlError(text,
                            "requests attributes; a referral may name a server, a DN and a "
                            "scope only");
        if (parts.size() > 2 && !parts[2].empty()) {
            std::string scope = Lower(parts[2]);
            if (scope == "base") {
                url.scope = UrlScope::kBase;
            } else if (scope == "one") {
                url.scope = UrlScope::kOneLevel;
            } else if (scope == "sub") {
                url.scope = UrlScope::kSubtree;
            } else {
                return UrlError(text, "has the unknown scope " + QuoteForMessage(parts[2]) +
                                          " (base, one or sub)");
            }
            url.has_scope = true;
        }
        if (parts.size() > 3 && !parts[3].empty())
            return UrlError(text,
                            "has a filter; a referral may name a server, a DN and a scope "
                            "only");
        if (parts.size() > 4 && !parts[4].empty())
            return UrlError(text, "has extensions, which keydir does not follow");
    }
    *out = std::move(url);
    return Status::OK();
}

Status ParseServerUrl(std::string_view text, LdapUrl* out) {
    LdapUrl url;
    Status s = ParseLdapUrl(text, &url);
    if (!s.ok())
        return s;
    if (url.has_dn || url.has_scope)
        return UrlError(text,
                        "names a DN or scope; an upstream server URL names the server only "
                        "(ldap://host:port)");
    *out = std::move(url);
    return Status::OK();
}

}  // namespace keydir
