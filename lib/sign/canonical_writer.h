// The building blocks of keydir's canonical forms (doc/signing.md §4.1):
// big-endian fixed-width integers and length-prefixed byte strings. A
// length prefix in front of every variable field makes the encoding
// unambiguous without any escaping.
#ifndef KEYDIR_SIGN_CANONICAL_WRITER_H
#define KEYDIR_SIGN_CANONICAL_WRITER_H

#include <cstdint>
#include <string>
#include <string_view>

namespace keydir {

class CanonicalWriter {
  public:
    void U8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
    void U16(uint16_t v) { Fixed(v, 2); }
    void U32(uint32_t v) { Fixed(v, 4); }
    void U64(uint64_t v) { Fixed(v, 8); }
    // u32 length, then the bytes.
    void Str(std::string_view s) {
        U32(static_cast<uint32_t>(s.size()));
        out_.append(s);
    }
    void Reserve(size_t n) { out_.reserve(n); }
    const std::string& data() const { return out_; }
    std::string Take() {
        std::string s;
        s.swap(out_);
        return s;
    }

  private:
    void Fixed(uint64_t v, int bytes) {
        for (int i = bytes - 1; i >= 0; --i)
            out_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    }
    std::string out_;
};

}  // namespace keydir

#endif  // KEYDIR_SIGN_CANONICAL_WRITER_H
