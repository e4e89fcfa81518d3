// libFuzzer target: LDAP URLs (lib/chase/ldap_url.h) as a referral or a
// continuation reference carries them, the server URLs of the directives,
// and the referral policy (lib/chase/referral_policy.h) that decides
// whether a chase may follow one.
//
// Input: lines. Each line is parsed as a referral URL, as a server URL and
// as a policy pattern; the URL's host is then checked against policies
// that include the patterns, with a fixed resolver (no DNS).
//
// Properties besides "no crash, no sanitizer report":
// - a URL that parses is written by ToString() as a URL that parses to the
//   same server, DN and scope, and ToString() of that is the same text;
// - a server URL names no DN and no scope;
// - the policy "any" allows every URL that parses, and "public" refuses a
//   loopback or private address literal.
#include <arpa/inet.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "chase/ldap_url.h"
#include "chase/referral_policy.h"

namespace {

keydir::Status FixedResolver(const std::string& host, std::vector<std::string>* out) {
    if (host == "nxdomain.example")
        return keydir::Status::NotFound("no such host");
    if (host.rfind("internal.", 0) == 0)
        *out = {"10.1.2.3", "fd00::7"};
    else
        *out = {"192.0.2.7", "2001:db8::1"};
    return keydir::Status::OK();
}

// An address literal in 127/8, 10/8 or 192.168/16, or ::1.
bool IsLoopbackOrPrivate(const std::string& host) {
    unsigned char a[16];
    if (inet_pton(AF_INET, host.c_str(), a) == 1)
        return a[0] == 127 || a[0] == 10 || (a[0] == 192 && a[1] == 168);
    return host == "::1";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    std::vector<std::string> lines;
    for (size_t start = 0; start <= text.size() && lines.size() < 16;) {
        size_t nl = text.find('\n', start);
        lines.push_back(text.substr(start, nl == std::string::npos ? nl : nl - start));
        if (nl == std::string::npos)
            break;
        start = nl + 1;
    }

    keydir::ReferralPolicy any, mine, fallback;
    if (!keydir::ReferralPolicy::Parse({"any"}, &any).ok())
        __builtin_trap();
    std::vector<std::string> patterns = {"10.0.0.0/8", "*.example.net", "[2001:db8::/32]:636"};
    for (const std::string& line : lines) {
        keydir::ReferralPolicy one;
        if (keydir::ReferralPolicy::Parse({line}, &one).ok())
            patterns.push_back(line);
    }
    if (!keydir::ReferralPolicy::Parse(patterns, &mine).ok())
        __builtin_trap();

    for (const std::string& line : lines) {
        keydir::LdapUrl url;
        if (keydir::ParseLdapUrl(line, &url).ok()) {
            std::string written = url.ToString();
            keydir::LdapUrl again;
            if (!keydir::ParseLdapUrl(written, &again).ok())
                __builtin_trap();
            if (again.ServerKey() != url.ServerKey() || again.tls != url.tls ||
                again.has_dn != url.has_dn || again.dn != url.dn ||
                again.has_scope != url.has_scope || again.scope != url.scope ||
                again.ToString() != written)
                __builtin_trap();
            if (!any.Check(url.host, url.port, FixedResolver).ok())
                __builtin_trap();
            if (IsLoopbackOrPrivate(url.host) &&
                fallback.Check(url.host, url.port, FixedResolver).ok())
                __builtin_trap();
            (void)mine.Check(url.host, url.port, FixedResolver);
            (void)mine.Check(url.host, url.port, nullptr);
        }
        keydir::LdapUrl server;
        if (keydir::ParseServerUrl(line, &server).ok() && (server.has_dn || server.has_scope))
            __builtin_trap();
    }
    return 0;
}
