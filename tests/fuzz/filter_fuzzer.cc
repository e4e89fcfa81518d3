// libFuzzer target: the filter parser and canonicaliser, and the DN
// canonicaliser (what slapd's filter2bv() output and a peer's request
// feed into the canonical form).
//
// Properties besides "no crash": a filter that parses is written back by
// FormatFilter() as a string that parses again to the same canonical
// bytes; a DN that parses is formatted and re-parsed to the same canonical
// DN; canonicalisation is idempotent on both.
#include <cstddef>
#include <cstdint>
#include <string>

#include "chase/dn.h"
#include "sign/canonical.h"
#include "sign/ldap_filter.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);

    keydir::FilterNode filter;
    if (keydir::ParseFilter(text, &filter).ok()) {
        std::string canonical = keydir::CanonicalFilterBytes(filter);
        std::string written = keydir::FormatFilter(filter);
        keydir::FilterNode again;
        if (!keydir::ParseFilter(written, &again).ok())
            __builtin_trap();
        if (keydir::CanonicalFilterBytes(again) != canonical)
            __builtin_trap();
    }

    keydir::Dn dn;
    if (keydir::ParseDn(text, &dn).ok()) {
        keydir::Dn canonical = keydir::CanonicalDn(dn);
        std::string formatted = keydir::FormatDn(canonical);
        keydir::Dn again;
        if (!keydir::ParseDn(formatted, &again).ok())
            __builtin_trap();
        if (keydir::FormatDn(keydir::CanonicalDn(again)) != formatted)
            __builtin_trap();
        std::string a, b;
        if (!keydir::CanonicalDnBytes(text, &a).ok() ||
            !keydir::CanonicalDnBytes(formatted, &b).ok() || a != b)
            __builtin_trap();
    }
    return 0;
}
