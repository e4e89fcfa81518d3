// ASCII character classes and case folding for the protocol texts keydir
// parses (DNs, filters, URLs, addresses, SMTP and MIME): locale-free, so
// that a server's locale can never change what a name means.
#ifndef KEYDIR_BASE_ASCII_H
#define KEYDIR_BASE_ASCII_H

#include <string>
#include <string_view>

namespace keydir {

inline bool IsAlpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
inline bool IsDigit(char c) {
    return c >= '0' && c <= '9';
}
inline bool IsAlnum(char c) {
    return IsAlpha(c) || IsDigit(c);
}

// The value of a hexadecimal digit, or -1.
inline int HexValue(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

inline char LowerAscii(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

inline std::string Lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        c = LowerAscii(c);
    return out;
}

}  // namespace keydir

#endif  // KEYDIR_BASE_ASCII_H
