// A minimal, strict DER (X.690) encoder and decoder for the few types the
// signature control uses: SEQUENCE, INTEGER and ENUMERATED (non-negative,
// at most 64 bits), BOOLEAN and OCTET STRING.
//
// Written here rather than taken from liblber because the decoder must be
// strict and small enough to fuzz on its own: definite lengths only, in
// their shortest form (at most 4 length bytes), minimal integers, BOOLEAN
// as 0x00 or 0xFF, single-byte tags, no byte left over. Whatever a BER
// decoder would also accept is refused, so that one value has exactly one
// encoding.
#ifndef KEYDIR_SIGN_DER_H
#define KEYDIR_SIGN_DER_H

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace keydir {

namespace der {
constexpr uint8_t kBoolean = 0x01;
constexpr uint8_t kInteger = 0x02;
constexpr uint8_t kOctetString = 0x04;
constexpr uint8_t kEnumerated = 0x0a;
constexpr uint8_t kSequence = 0x30;
}  // namespace der

class DerWriter {
  public:
    void Integer(uint64_t v) { Unsigned(der::kInteger, v); }
    void Enumerated(uint64_t v) { Unsigned(der::kEnumerated, v); }
    void Boolean(bool b);
    void OctetString(std::string_view s);
    // Sequences nest; every BeginSequence() needs its EndSequence().
    void BeginSequence();
    void EndSequence();
    // The encoding; the writer is empty afterwards.
    std::string Finish();

  private:
    void Unsigned(uint8_t tag, uint64_t v);
    void Header(uint8_t tag, size_t len, std::string* out);

    std::string out_;
    std::vector<size_t> open_;  // offsets of the open sequences' contents
};

// Reads one DER value after another from a byte range. Errors name the
// field (`what`) and the byte offset from the start of the outermost input.
class DerReader {
  public:
    DerReader() = default;
    explicit DerReader(std::string_view in, size_t base_offset = 0) : in_(in), base_(base_offset) {}
    // The reader keeps a view: the bytes must outlive it.
    explicit DerReader(std::string&&, size_t = 0) = delete;

    // Reads a SEQUENCE and returns a reader over its contents.
    Status Sequence(const char* what, DerReader* contents);
    Status Integer(const char* what, uint64_t max, uint64_t* v);
    Status Enumerated(const char* what, uint64_t max, uint64_t* v);
    Status Boolean(const char* what, bool* b);
    Status OctetString(const char* what, size_t min_len, size_t max_len, std::string* s);
    // Fails if bytes are left.
    Status End(const char* what) const;

    bool empty() const { return pos_ == in_.size(); }

  private:
    Status Tlv(uint8_t tag, const char* what, std::string_view* contents, size_t* offset);
    Status Unsigned(uint8_t tag, const char* what, uint64_t max, uint64_t* v);
    Status Error(const char* what, const std::string& problem, size_t at) const;

    std::string_view in_;
    size_t base_ = 0;
    size_t pos_ = 0;
};

}  // namespace keydir

#endif  // KEYDIR_SIGN_DER_H
