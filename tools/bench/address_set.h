// The addresses a benchmark looks up: read from a file (one per line) or
// made from a pattern such as "user%d@example.com" over a range of numbers,
// which is also how bench-members names the members it generates, so that
// both sides agree without a file.
#ifndef KEYDIR_TOOLS_BENCH_ADDRESS_SET_H
#define KEYDIR_TOOLS_BENCH_ADDRESS_SET_H

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/env.h"
#include "base/status.h"

namespace keydir {
namespace bench {

// "user%d@example.com" or "user%06d@example.com": exactly one number
// conversion; "%%" is a literal percent sign.
class AddressPattern {
  public:
    static Status Parse(const std::string& pattern, AddressPattern* out);
    std::string Format(uint64_t n) const;
    const std::string& text() const { return text_; }

  private:
    std::string text_, prefix_, suffix_;
    int width_ = 0;  // zero-padded width, 0 = none
};

class AddressSet {
  public:
    virtual ~AddressSet() = default;
    virtual uint64_t size() const = 0;
    virtual std::string At(uint64_t index) const = 0;

    // Addresses from a file: one per line, surrounding blanks ignored, empty
    // lines and lines starting with '#' skipped. Each must look like
    // local@domain.
    static Status FromFile(Env* env, const std::string& path, std::unique_ptr<AddressSet>* out);
    // pattern.Format(first), ..., pattern.Format(first + count - 1).
    static Status FromPattern(const AddressPattern& pattern, uint64_t first, uint64_t count,
                              std::unique_ptr<AddressSet>* out);
};

// Checks the shape local@domain (no blanks or control characters, one '@',
// non-empty parts); the message says what is wrong.
Status CheckAddress(const std::string& address);
// The part after the '@' ("" if none).
std::string DomainOf(const std::string& address);

}  // namespace bench
}  // namespace keydir

#endif  // KEYDIR_TOOLS_BENCH_ADDRESS_SET_H
