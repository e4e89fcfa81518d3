// libFuzzer target: the DN parser and writer (lib/chase/dn.h) on DNs a
// peer sends — a search base, a referral's DN, an entry's name — and what
// is derived from them: the canonical DN (lib/chase and the signed form in
// lib/sign), the ancestor test, the member address and zone a DN names.
//
// Properties besides "no crash, no sanitizer report":
// - a DN that parses is written by FormatDn as text that parses to the
//   same RDNs and values (exactly, not only canonically);
// - canonicalisation is idempotent and agrees with CanonicalDnString and
//   lib/sign's CanonicalDnBytes on whether the DN is valid;
// - a DN is within itself and within its parent, and its parent is not
//   within it;
// - any bytes escaped by EscapeDnValue come back unchanged as a value.
#include <cstddef>
#include <cstdint>
#include <string>

#include "chase/dn.h"
#include "chase/mail_address.h"
#include "sign/canonical.h"

namespace {

bool SameDn(const keydir::Dn& a, const keydir::Dn& b) {
    if (a.rdns.size() != b.rdns.size())
        return false;
    for (size_t r = 0; r < a.rdns.size(); ++r) {
        if (a.rdns[r].size() != b.rdns[r].size())
            return false;
        for (size_t i = 0; i < a.rdns[r].size(); ++i)
            if (a.rdns[r][i].type != b.rdns[r][i].type || a.rdns[r][i].value != b.rdns[r][i].value)
                return false;
    }
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);

    keydir::Dn dn;
    const bool parsed = keydir::ParseDn(text, &dn).ok();
    std::string canonical_string, canonical_bytes;
    if (keydir::CanonicalDnString(text, &canonical_string).ok() != parsed)
        __builtin_trap();
    if (keydir::CanonicalDnBytes(text, &canonical_bytes).ok() != parsed)
        __builtin_trap();
    if (parsed) {
        std::string written = keydir::FormatDn(dn);
        keydir::Dn again;
        if (!keydir::ParseDn(written, &again).ok() || !SameDn(dn, again))
            __builtin_trap();
        keydir::Dn canonical = keydir::CanonicalDn(dn);
        if (!SameDn(keydir::CanonicalDn(canonical), canonical))
            __builtin_trap();
        if (keydir::FormatDn(canonical) != canonical_string)
            __builtin_trap();
        if (!keydir::DnIsWithin(canonical, canonical))
            __builtin_trap();
        if (!canonical.rdns.empty()) {
            keydir::Dn parent;
            parent.rdns.assign(canonical.rdns.begin() + 1, canonical.rdns.end());
            if (!keydir::DnIsWithin(canonical, parent) || keydir::DnIsWithin(parent, canonical))
                __builtin_trap();
        }
        keydir::MailAddress member;
        if (keydir::AddressFromMemberDn(text, &member).ok()) {
            keydir::MailAddress back;
            if (!keydir::AddressFromMemberDn(member.MemberDn(), &back).ok() || !(back == member))
                __builtin_trap();
        }
        std::string domain;
        if (keydir::DomainFromZoneDn(text, &domain).ok()) {
            std::string again_domain;
            if (!keydir::DomainFromZoneDn(keydir::ZoneDnForDomain(domain), &again_domain).ok() ||
                again_domain != domain)
                __builtin_trap();
        }
    }

    // The bytes as an attribute value.
    if (size <= 2048) {
        std::string escaped = "cn=" + keydir::EscapeDnValue(text) + ",dc=example";
        keydir::Dn one;
        if (!keydir::ParseDn(escaped, &one).ok() || one.rdns.size() != 2 ||
            one.rdns[0].size() != 1 || one.rdns[0][0].value != text)
            __builtin_trap();
    }
    return 0;
}
