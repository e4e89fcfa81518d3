// Quoting of untrusted input inside error messages: messages go to logs and
// to LDAP clients, so control bytes and overlong input must not reach them
// verbatim.
#ifndef KEYDIR_CHASE_QUOTE_H
#define KEYDIR_CHASE_QUOTE_H

#include <string>
#include <string_view>

namespace keydir {

// "text" with '"', '\' and bytes outside printable ASCII written as \xNN,
// cut after `max_len` input bytes (marked with "...").
inline std::string QuoteForMessage(std::string_view text, size_t max_len = 200) {
    static const char kHex[] = "0123456789abcdef";
    std::string out = "\"";
    size_t n = text.size() < max_len ? text.size() : max_len;
    for (size_t i = 0; i < n; ++i) {
        unsigned char c = static_cast<unsigned char>(text[i]);
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
            out += static_cast<char>(c);
        } else {
            out += "\\x";
            out += kHex[c >> 4];
            out += kHex[c & 15];
        }
    }
    out += '"';
    if (n < text.size())
        out += "...";
    return out;
}

}  // namespace keydir

#endif  // KEYDIR_CHASE_QUOTE_H
