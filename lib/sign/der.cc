#include "sign/der.h"

#include <cassert>

namespace keydir {

void DerWriter::Header(uint8_t tag, size_t len, std::string* out) {
    out->push_back(static_cast<char>(tag));
    if (len < 0x80) {
        out->push_back(static_cast<char>(len));
        return;
    }
    char bytes[sizeof(size_t)];
    int n = 0;
    for (size_t v = len; v > 0; v >>= 8)
        bytes[n++] = static_cast<char>(v & 0xff);
    out->push_back(static_cast<char>(0x80 | n));
    while (n > 0)
        out->push_back(bytes[--n]);
}

void DerWriter::Unsigned(uint8_t tag, uint64_t v) {
    // Big-endian, shortest form, with a leading 0x00 when the top bit is set
    // (the value is non-negative).
    char bytes[9];
    int n = 0;
    do {
        bytes[n++] = static_cast<char>(v & 0xff);
        v >>= 8;
    } while (v > 0);
    if (static_cast<unsigned char>(bytes[n - 1]) & 0x80)
        bytes[n++] = 0;
    Header(tag, n, &out_);
    while (n > 0)
        out_.push_back(bytes[--n]);
}

void DerWriter::Boolean(bool b) {
    Header(der::kBoolean, 1, &out_);
    out_.push_back(b ? static_cast<char>(0xff) : 0);
}

void DerWriter::OctetString(std::string_view s) {
    Header(der::kOctetString, s.size(), &out_);
    out_.append(s);
}

void DerWriter::BeginSequence() {
    open_.push_back(out_.size());
}

void DerWriter::EndSequence() {
    assert(!open_.empty());
    size_t start = open_.back();
    open_.pop_back();
    std::string header;
    Header(der::kSequence, out_.size() - start, &header);
    out_.insert(start, header);
}

std::string DerWriter::Finish() {
    assert(open_.empty());
    std::string out;
    out.swap(out_);
    return out;
}

Status DerReader::Error(const char* what, const std::string& problem, size_t at) const {
    return Status::InvalidArgument(std::string(what) + ": " + problem + " at byte " +
                                   std::to_string(base_ + at));
}

Status DerReader::Tlv(uint8_t tag, const char* what, std::string_view* contents, size_t* offset) {
    if (pos_ >= in_.size())
        return Error(what, "missing (the input ends)", pos_);
    uint8_t t = static_cast<uint8_t>(in_[pos_]);
    if (t != tag) {
        static const char kHex[] = "0123456789abcdef";
        std::string got = "0x";
        got += kHex[t >> 4];
        got += kHex[t & 15];
        return Error(what, "wrong tag " + got, pos_);
    }
    if (pos_ + 1 >= in_.size())
        return Error(what, "truncated before its length", pos_ + 1);
    uint8_t first = static_cast<uint8_t>(in_[pos_ + 1]);
    size_t len = 0;
    size_t header = 2;
    if (first < 0x80) {
        len = first;
    } else {
        size_t n = first & 0x7f;
        if (n == 0)
            return Error(what, "indefinite length (not DER)", pos_ + 1);
        if (n > 4)
            return Error(what, "length of more than 4 bytes", pos_ + 1);
        if (pos_ + 2 + n > in_.size())
            return Error(what, "truncated inside its length", pos_ + 1);
        if (in_[pos_ + 2] == 0)
            return Error(what, "length with a leading zero (not DER)", pos_ + 2);
        for (size_t i = 0; i < n; ++i)
            len = (len << 8) | static_cast<uint8_t>(in_[pos_ + 2 + i]);
        if (len < 0x80)
            return Error(what, "long-form length below 128 (not DER)", pos_ + 1);
        header += n;
    }
    if (len > in_.size() - pos_ - header)
        return Error(what,
                     "length " + std::to_string(len) + " runs past the end (" +
                         std::to_string(in_.size() - pos_ - header) + " bytes left)",
                     pos_ + 1);
    *contents = in_.substr(pos_ + header, len);
    *offset = pos_ + header;
    pos_ += header + len;
    return Status::OK();
}

Status DerReader::Sequence(const char* what, DerReader* contents) {
    std::string_view c;
    size_t offset;
    Status s = Tlv(der::kSequence, what, &c, &offset);
    if (!s.ok())
        return s;
    *contents = DerReader(c, base_ + offset);
    return Status::OK();
}

Status DerReader::Unsigned(uint8_t tag, const char* what, uint64_t max, uint64_t* v) {
    std::string_view c;
    size_t offset;
    Status s = Tlv(tag, what, &c, &offset);
    if (!s.ok())
        return s;
    if (c.empty())
        return Error(what, "empty integer", offset);
    uint8_t b0 = static_cast<uint8_t>(c[0]);
    if (b0 & 0x80)
        return Error(what, "negative", offset);
    if (c.size() > 1 && b0 == 0 && !(static_cast<uint8_t>(c[1]) & 0x80))
        return Error(what, "integer with a redundant leading zero (not DER)", offset);
    if (c.size() > 9 || (c.size() == 9 && b0 != 0))
        return Error(what, "above 64 bits", offset);
    uint64_t value = 0;
    for (char ch : c)
        value = (value << 8) | static_cast<uint8_t>(ch);
    if (value > max)
        return Error(what, std::to_string(value) + " is above the maximum " + std::to_string(max),
                     offset);
    *v = value;
    return Status::OK();
}

Status DerReader::Integer(const char* what, uint64_t max, uint64_t* v) {
    return Unsigned(der::kInteger, what, max, v);
}

Status DerReader::Enumerated(const char* what, uint64_t max, uint64_t* v) {
    return Unsigned(der::kEnumerated, what, max, v);
}

Status DerReader::Boolean(const char* what, bool* b) {
    std::string_view c;
    size_t offset;
    Status s = Tlv(der::kBoolean, what, &c, &offset);
    if (!s.ok())
        return s;
    if (c.size() != 1)
        return Error(what, "BOOLEAN of length " + std::to_string(c.size()), offset);
    uint8_t v = static_cast<uint8_t>(c[0]);
    if (v != 0x00 && v != 0xff)
        return Error(what, "BOOLEAN neither 0x00 nor 0xFF (not DER)", offset);
    *b = v == 0xff;
    return Status::OK();
}

Status DerReader::OctetString(const char* what, size_t min_len, size_t max_len, std::string* out) {
    std::string_view c;
    size_t offset;
    Status s = Tlv(der::kOctetString, what, &c, &offset);
    if (!s.ok())
        return s;
    if (c.size() < min_len || c.size() > max_len)
        return Error(what,
                     std::to_string(c.size()) + " bytes long, allowed " + std::to_string(min_len) +
                         "-" + std::to_string(max_len),
                     offset);
    out->assign(c);
    return Status::OK();
}

Status DerReader::End(const char* what) const {
    if (pos_ != in_.size())
        return Error(what, std::to_string(in_.size() - pos_) + " unexpected bytes after it", pos_);
    return Status::OK();
}

}  // namespace keydir
