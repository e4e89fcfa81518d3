// Fixed-width big-endian integers: entry IDs are stored this way so that
// Berkeley DB's byte-wise key order is numeric order.
#ifndef KEYDIR_STORE_CODING_H
#define KEYDIR_STORE_CODING_H

#include <cstdint>
#include <string>
#include <string_view>

namespace keydir {

inline void EncodeFixed64BE(uint64_t v, char* out) {
    for (int i = 7; i >= 0; --i) {
        out[i] = static_cast<char>(v & 0xff);
        v >>= 8;
    }
}

inline std::string Fixed64BE(uint64_t v) {
    std::string s(8, '\0');
    EncodeFixed64BE(v, &s[0]);
    return s;
}

// Returns false if `in` is not exactly 8 bytes.
inline bool DecodeFixed64BE(std::string_view in, uint64_t* v) {
    if (in.size() != 8)
        return false;
    uint64_t r = 0;
    for (unsigned char c : in)
        r = (r << 8) | c;
    *v = r;
    return true;
}

}  // namespace keydir

#endif  // KEYDIR_STORE_CODING_H
