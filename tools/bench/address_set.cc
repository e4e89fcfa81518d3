#include "address_set.h"

#include <cctype>
#include <cstdio>
#include <sstream>

namespace keydir {
namespace bench {
namespace {

class ListSet : public AddressSet {
  public:
    explicit ListSet(std::vector<std::string> list) : list_(std::move(list)) {}
    uint64_t size() const override { return list_.size(); }
    std::string At(uint64_t index) const override { return list_.at(index); }

  private:
    std::vector<std::string> list_;
};

class PatternSet : public AddressSet {
  public:
    PatternSet(AddressPattern pattern, uint64_t first, uint64_t count)
        : pattern_(std::move(pattern)), first_(first), count_(count) {}
    uint64_t size() const override { return count_; }
    std::string At(uint64_t index) const override { return pattern_.Format(first_ + index); }

  private:
    AddressPattern pattern_;
    uint64_t first_, count_;
};

std::string Trim(const std::string& s) {
    size_t b = 0, e = s.size();
    while (b < e && std::isspace(static_cast<unsigned char>(s[b])))
        ++b;
    while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1])))
        --e;
    return s.substr(b, e - b);
}

}  // namespace

Status AddressPattern::Parse(const std::string& pattern, AddressPattern* out) {
    AddressPattern p;
    p.text_ = pattern;
    bool seen = false;
    std::string* part = &p.prefix_;
    for (size_t i = 0; i < pattern.size(); ++i) {
        char c = pattern[i];
        if (c != '%') {
            part->push_back(c);
            continue;
        }
        if (i + 1 < pattern.size() && pattern[i + 1] == '%') {
            part->push_back('%');
            ++i;
            continue;
        }
        size_t j = i + 1;
        int width = 0;
        bool zero = j < pattern.size() && pattern[j] == '0';
        while (j < pattern.size() && std::isdigit(static_cast<unsigned char>(pattern[j]))) {
            width = width * 10 + (pattern[j] - '0');
            if (width > 20)
                return Status::InvalidArgument("address pattern '" + pattern + "': width above 20");
            ++j;
        }
        if (j >= pattern.size() || pattern[j] != 'd' || (width > 0 && !zero))
            return Status::InvalidArgument(
                "address pattern '" + pattern +
                "': only %d or %0Nd (and %% for a percent sign) may appear");
        if (seen)
            return Status::InvalidArgument("address pattern '" + pattern +
                                           "' has more than one %d");
        seen = true;
        p.width_ = width;
        part = &p.suffix_;
        i = j;
    }
    if (!seen)
        return Status::InvalidArgument("address pattern '" + pattern +
                                       "' has no %d for the number (e.g. user%d@example.com)");
    Status s = CheckAddress(p.Format(0));
    if (!s.ok())
        return Status::InvalidArgument("address pattern '" + pattern + "': " + s.message());
    *out = std::move(p);
    return Status::OK();
}

std::string AddressPattern::Format(uint64_t n) const {
    char digits[32];
    std::snprintf(digits, sizeof digits, "%0*llu", width_, static_cast<unsigned long long>(n));
    return prefix_ + digits + suffix_;
}

Status AddressSet::FromFile(Env* env, const std::string& path, std::unique_ptr<AddressSet>* out) {
    std::string text;
    Status s = env->ReadFile(path, &text);
    if (!s.ok())
        return s;
    std::vector<std::string> list;
    std::istringstream in(text);
    std::string line;
    uint64_t lineno = 0;
    while (std::getline(in, line)) {
        ++lineno;
        std::string a = Trim(line);
        if (a.empty() || a[0] == '#')
            continue;
        s = CheckAddress(a);
        if (!s.ok())
            return Status::InvalidArgument(path + ":" + std::to_string(lineno) + ": " +
                                           s.message());
        list.push_back(std::move(a));
    }
    if (list.empty())
        return Status::InvalidArgument(path + ": no addresses in the file");
    out->reset(new ListSet(std::move(list)));
    return Status::OK();
}

Status AddressSet::FromPattern(const AddressPattern& pattern, uint64_t first, uint64_t count,
                               std::unique_ptr<AddressSet>* out) {
    if (count == 0)
        return Status::InvalidArgument("the address count must be at least 1");
    if (first + count < first)
        return Status::InvalidArgument("the address range overflows");
    out->reset(new PatternSet(pattern, first, count));
    return Status::OK();
}

Status CheckAddress(const std::string& address) {
    size_t at = address.find('@');
    if (at == std::string::npos)
        return Status::InvalidArgument("'" + address + "' has no '@'");
    if (address.find('@', at + 1) != std::string::npos)
        return Status::InvalidArgument("'" + address + "' has more than one '@'");
    if (at == 0 || at + 1 == address.size())
        return Status::InvalidArgument("'" + address + "' needs a local part and a domain");
    for (unsigned char c : address) {
        if (c <= ' ' || c == 0x7f)
            return Status::InvalidArgument("'" + address +
                                           "' contains a blank or control character");
    }
    return Status::OK();
}

std::string DomainOf(const std::string& address) {
    size_t at = address.find('@');
    return at == std::string::npos ? std::string() : address.substr(at + 1);
}

}  // namespace bench
}  // namespace keydir
