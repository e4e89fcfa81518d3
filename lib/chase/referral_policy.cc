#include "chase/referral_policy.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>

#include "base/ascii.h"

namespace keydir {
namespace {

// A decimal number of at most `digits` digits in [min, max].
bool ParseNumber(std::string_view text, size_t digits, int min, int max, int* out) {
    if (text.empty() || text.size() > digits)
        return false;
    int v = 0;
    for (char c : text) {
        if (!IsDigit(c))
            return false;
        v = v * 10 + (c - '0');
    }
    if (v < min || v > max)
        return false;
    *out = v;
    return true;
}

bool ParsePort(std::string_view text, int* port) {
    return ParseNumber(text, 5, 1, 65535, port);
}

bool ParsePrefix(std::string_view text, int max, int* prefix) {
    return ParseNumber(text, 3, 0, max, prefix);
}

// A host name as LDAP URLs carry it: letters, digits, '-', '.', '_'.
bool ValidName(std::string_view name) {
    if (name.empty() || name.size() > 253 || name.front() == '.' || name.back() == '.')
        return false;
    for (char c : name) {
        bool ok =
            (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
        if (!ok)
            return false;
    }
    return name.find("..") == std::string_view::npos;
}

bool InNet(const std::array<uint8_t, 16>& addr, const std::array<uint8_t, 16>& net, int prefix) {
    for (int i = 0; i < 16 && prefix > 0; ++i, prefix -= 8) {
        uint8_t mask = prefix >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - prefix));
        if ((addr[i] & mask) != (net[i] & mask))
            return false;
    }
    return true;
}

bool IsMappedV4(const std::array<uint8_t, 16>& a) {
    static const uint8_t kPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return std::memcmp(a.data(), kPrefix, 12) == 0;
}

}  // namespace

bool ParseIpAddress(const std::string& text, std::array<uint8_t, 16>* out) {
    in_addr v4;
    if (inet_pton(AF_INET, text.c_str(), &v4) == 1) {
        out->fill(0);
        (*out)[10] = (*out)[11] = 0xff;
        std::memcpy(out->data() + 12, &v4, 4);
        return true;
    }
    in6_addr v6;
    if (inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
        std::memcpy(out->data(), &v6, 16);
        return true;
    }
    return false;
}

bool IsPublicAddress(const std::array<uint8_t, 16>& a) {
    struct Net {
        const char* net;
        int prefix;  // of the IPv4 address or of the IPv6 one
    };
    static const Net kV4[] = {
        {"0.0.0.0", 8},      {"10.0.0.0", 8},    {"100.64.0.0", 10},   {"127.0.0.0", 8},
        {"169.254.0.0", 16}, {"172.16.0.0", 12}, {"192.0.0.0", 24},    {"192.0.2.0", 24},
        {"192.168.0.0", 16}, {"198.18.0.0", 15}, {"198.51.100.0", 24}, {"203.0.113.0", 24},
        {"224.0.0.0", 4},    {"240.0.0.0", 4},
    };
    static const Net kV6[] = {
        {"::", 128},   {"::1", 128},       {"fc00::", 7},     {"fe80::", 10}, {"fec0::", 10},
        {"ff00::", 8}, {"2001:db8::", 32}, {"64:ff9b::", 96}, {"100::", 64},  {"2002::", 16},
    };
    std::array<uint8_t, 16> net;
    if (IsMappedV4(a)) {
        for (const Net& n : kV4)
            if (ParseIpAddress(n.net, &net) && InNet(a, net, 96 + n.prefix))
                return false;
        return true;
    }
    // IPv4-compatible (::a.b.c.d) and the rest of ::/96 are not public either.
    static const std::array<uint8_t, 16> kZero{};
    if (InNet(a, kZero, 96))
        return false;
    for (const Net& n : kV6)
        if (ParseIpAddress(n.net, &net) && InNet(a, net, n.prefix))
            return false;
    return true;
}

Status SystemResolveHost(const std::string& host, std::vector<std::string>* addresses) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    int rc = getaddrinfo(host.c_str(), nullptr, &hints, &res);
    if (rc != 0)
        return Status::Unavailable("cannot resolve " + host + ": " + gai_strerror(rc));
    for (addrinfo* p = res; p; p = p->ai_next) {
        char buf[INET6_ADDRSTRLEN] = "";
        if (p->ai_family == AF_INET)
            inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(p->ai_addr)->sin_addr, buf,
                      sizeof buf);
        else if (p->ai_family == AF_INET6)
            inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(p->ai_addr)->sin6_addr, buf,
                      sizeof buf);
        if (*buf)
            addresses->push_back(buf);
    }
    freeaddrinfo(res);
    if (addresses->empty())
        return Status::Unavailable("cannot resolve " + host + ": no address");
    return Status::OK();
}

ReferralPolicy::ReferralPolicy() {
    Pattern p;
    p.kind = Pattern::Kind::kPublic;
    patterns_.push_back(p);
    texts_.push_back("public");
}

Status ReferralPolicy::ParseOne(std::string_view text, Pattern* out) {
    Pattern p;
    std::string_view host = text;
    // A port: "host:port", "a.b.c.d/n:port", "[v6]:port", "[v6/n]:port".
    if (!host.empty() && host.front() == '[') {
        size_t close = host.find(']');
        if (close == std::string_view::npos)
            return Status::InvalidArgument("no ']'");
        std::string_view rest = host.substr(close + 1);
        host = host.substr(1, close - 1);
        if (!rest.empty() && (rest.front() != ':' || !ParsePort(rest.substr(1), &p.port)))
            return Status::InvalidArgument("bad port");
    } else if (std::count(host.begin(), host.end(), ':') == 1) {
        size_t colon = host.find(':');
        if (!ParsePort(host.substr(colon + 1), &p.port))
            return Status::InvalidArgument("bad port");
        host = host.substr(0, colon);
    }
    std::string h = Lower(host);
    if (h.empty())
        return Status::InvalidArgument("no host");
    if (h == "any" || h == "public") {
        p.kind = h == "any" ? Pattern::Kind::kAny : Pattern::Kind::kPublic;
        *out = p;
        return Status::OK();
    }
    size_t slash = h.find('/');
    std::string addr = h.substr(0, slash);
    std::array<uint8_t, 16> ip;
    if (ParseIpAddress(addr, &ip)) {
        bool v4 = addr.find(':') == std::string::npos;
        int max = v4 ? 32 : 128;
        int prefix = max;
        if (slash != std::string::npos &&
            !ParsePrefix(std::string_view(h).substr(slash + 1), max, &prefix))
            return Status::InvalidArgument("bad prefix length");
        p.kind = Pattern::Kind::kNet;
        p.net = ip;
        p.prefix = v4 ? 96 + prefix : prefix;
        *out = p;
        return Status::OK();
    }
    if (slash != std::string::npos)
        return Status::InvalidArgument("not an address");
    if (h.compare(0, 2, "*.") == 0) {
        if (!ValidName(h.substr(2)))
            return Status::InvalidArgument("bad host name");
        p.kind = Pattern::Kind::kSuffix;
        p.name = h.substr(1);
        *out = p;
        return Status::OK();
    }
    if (!ValidName(h))
        return Status::InvalidArgument("bad host name");
    p.kind = Pattern::Kind::kName;
    p.name = h;
    *out = p;
    return Status::OK();
}

Status ReferralPolicy::Parse(const std::vector<std::string>& patterns, ReferralPolicy* out) {
    if (patterns.empty()) {
        *out = ReferralPolicy();
        return Status::OK();
    }
    ReferralPolicy policy;
    policy.patterns_.clear();
    policy.texts_.clear();
    for (const std::string& text : patterns) {
        Pattern p;
        Status s = ParseOne(text, &p);
        if (!s.ok())
            return Status::InvalidArgument("\"" + text + "\": " + s.message());
        policy.patterns_.push_back(p);
        policy.texts_.push_back(Lower(text));
    }
    *out = std::move(policy);
    return Status::OK();
}

bool ReferralPolicy::AddressAllowed(const std::array<uint8_t, 16>& addr, int port) const {
    for (const Pattern& p : patterns_) {
        if (p.port && p.port != port)
            continue;
        switch (p.kind) {
            case Pattern::Kind::kAny:
                return true;
            case Pattern::Kind::kPublic:
                if (IsPublicAddress(addr))
                    return true;
                break;
            case Pattern::Kind::kNet:
                if (InNet(addr, p.net, p.prefix))
                    return true;
                break;
            default:
                break;
        }
    }
    return false;
}

Status ReferralPolicy::Check(const std::string& host, int port, const HostResolver& resolve) const {
    const std::string target = host + ":" + std::to_string(port);
    std::array<uint8_t, 16> ip;
    if (ParseIpAddress(host, &ip)) {
        if (AddressAllowed(ip, port))
            return Status::OK();
        return Status::PermissionDenied(target + " is not allowed by keychase-referral-allow" +
                                        (IsPublicAddress(ip) ? "" : " (not a public address)"));
    }
    std::string name = Lower(host);
    bool by_address = false;
    for (const Pattern& p : patterns_) {
        bool port_ok = !p.port || p.port == port;
        switch (p.kind) {
            case Pattern::Kind::kAny:
                if (port_ok)
                    return Status::OK();
                break;
            case Pattern::Kind::kName:
                if (port_ok && name == p.name)
                    return Status::OK();
                break;
            case Pattern::Kind::kSuffix:
                if (port_ok && name.size() > p.name.size() &&
                    name.compare(name.size() - p.name.size(), p.name.size(), p.name) == 0)
                    return Status::OK();
                break;
            case Pattern::Kind::kPublic:
            case Pattern::Kind::kNet:
                by_address = by_address || port_ok;
                break;
        }
    }
    if (!by_address || !resolve)
        return Status::PermissionDenied(target + " is not allowed by keychase-referral-allow");
    std::vector<std::string> addresses;
    Status s = resolve(name, &addresses);
    if (!s.ok())
        return Status::PermissionDenied(target + ": " + s.message());
    if (addresses.empty())
        return Status::PermissionDenied(target + ": the name has no address");
    for (const std::string& a : addresses) {
        if (!ParseIpAddress(a, &ip) || !AddressAllowed(ip, port))
            return Status::PermissionDenied(target + " is not allowed by keychase-referral-allow" +
                                            " (it resolves to " + a + ")");
    }
    return Status::OK();
}

}  // namespace keydir
