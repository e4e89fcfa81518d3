#include "chase/dn.h"

#include "base/ascii.h"

#include <algorithm>

#include "chase/quote.h"

namespace keydir {
namespace {

constexpr size_t kMaxDnBytes = 8192;
constexpr size_t kMaxRdns = 128;

// A cursor over the DN text that produces errors naming the position.
class DnParser {
  public:
    explicit DnParser(std::string_view text) : text_(text) {}

    Status Parse(Dn* out) {
        SkipSpaces();
        if (pos_ == text_.size())
            return Status::OK();  // the null DN
        for (;;) {
            DnRdn rdn;
            for (;;) {
                DnAva ava;
                Status s = ParseAva(&ava);
                if (!s.ok())
                    return s;
                rdn.push_back(std::move(ava));
                if (pos_ < text_.size() && text_[pos_] == '+') {
                    ++pos_;
                    continue;
                }
                break;
            }
            out->rdns.push_back(std::move(rdn));
            if (out->rdns.size() > kMaxRdns)
                return Error("has more than 128 RDNs");
            if (pos_ == text_.size())
                return Status::OK();
            if (text_[pos_] == ';')
                return Error("uses ';' as a separator; use ','");
            if (text_[pos_] != ',')
                return Error("has an unexpected character");
            ++pos_;
        }
    }

  private:
    Status Error(const std::string& what) const {
        return Status::InvalidArgument("DN " + QuoteForMessage(text_) + " " + what + " at byte " +
                                       std::to_string(pos_));
    }

    void SkipSpaces() {
        while (pos_ < text_.size() && text_[pos_] == ' ')
            ++pos_;
    }

    Status ParseType(std::string* type) {
        size_t start = pos_;
        if (pos_ < text_.size() && IsAlpha(text_[pos_])) {
            while (pos_ < text_.size() &&
                   (IsAlpha(text_[pos_]) || IsDigit(text_[pos_]) || text_[pos_] == '-'))
                ++pos_;
        } else if (pos_ < text_.size() && IsDigit(text_[pos_])) {
            // numericoid: number 1*("." number), no leading zeros
            int arcs = 0;
            for (;;) {
                size_t arc = pos_;
                while (pos_ < text_.size() && IsDigit(text_[pos_]))
                    ++pos_;
                if (pos_ == arc)
                    return Error("has an empty arc in a numeric OID");
                if (pos_ - arc > 1 && text_[arc] == '0')
                    return Error("has a leading zero in a numeric OID");
                ++arcs;
                if (pos_ < text_.size() && text_[pos_] == '.') {
                    ++pos_;
                    continue;
                }
                break;
            }
            if (arcs < 2)
                return Error("has a numeric attribute type that is not an OID");
        } else {
            return pos_ == text_.size() ? Error("ends where an attribute type was expected")
                                        : Error("has no attribute type");
        }
        type->assign(text_.substr(start, pos_ - start));
        return Status::OK();
    }

    Status ParseAva(DnAva* ava) {
        SkipSpaces();
        Status s = ParseType(&ava->type);
        if (!s.ok())
            return s;
        SkipSpaces();
        if (pos_ >= text_.size() || text_[pos_] != '=')
            return Error("lacks '=' after the type");
        ++pos_;
        SkipSpaces();
        if (pos_ < text_.size() && text_[pos_] == '#')
            return Error("has a hex-encoded (#) value, which keydir does not accept");
        if (pos_ < text_.size() && text_[pos_] == '"')
            return Error("has a quoted value, which keydir does not accept; escape with '\\'");
        std::string& v = ava->value;
        size_t keep = 0;  // length without trailing unescaped spaces
        while (pos_ < text_.size()) {
            char c = text_[pos_];
            if (c == ',' || c == '+' || c == ';')
                break;
            if (c == '\\') {
                if (pos_ + 1 >= text_.size())
                    return Error("ends in a lone '\\'");
                char n = text_[pos_ + 1];
                int hi = HexValue(n);
                if (hi >= 0) {
                    int lo = pos_ + 2 < text_.size() ? HexValue(text_[pos_ + 2]) : -1;
                    if (lo < 0)
                        return Error("has '\\' followed by one hex digit only");
                    v += static_cast<char>(hi * 16 + lo);
                    pos_ += 3;
                } else if (std::string_view(" \"#+,;<=>\\").find(n) != std::string_view::npos) {
                    v += n;
                    pos_ += 2;
                } else {
                    return Error("has '\\' before a character that needs no escape");
                }
                keep = v.size();
                continue;
            }
            if (c == '"' || c == '<' || c == '>')
                return Error("has an unescaped special character");
            if (c == '\0')
                return Error("has a NUL byte");
            v += c;
            ++pos_;
            if (c != ' ')
                keep = v.size();
        }
        v.resize(keep);
        return Status::OK();
    }

    std::string_view text_;
    size_t pos_ = 0;
};

bool AvaLess(const DnAva& a, const DnAva& b) {
    if (a.type != b.type)
        return a.type < b.type;
    return a.value < b.value;
}

bool RdnEqual(const DnRdn& a, const DnRdn& b) {
    if (a.size() != b.size())
        return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (a[i].type != b[i].type || a[i].value != b[i].value)
            return false;
    return true;
}

}  // namespace

Status ParseDn(std::string_view text, Dn* out) {
    out->rdns.clear();
    if (text.size() > kMaxDnBytes)
        return Status::InvalidArgument("DN is longer than 8192 bytes (" +
                                       std::to_string(text.size()) + ")");
    DnParser parser(text);
    Status s = parser.Parse(out);
    if (!s.ok())
        out->rdns.clear();
    return s;
}

std::string EscapeDnValue(std::string_view value) {
    static const char kHex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(value.size() + 8);
    for (size_t i = 0; i < value.size(); ++i) {
        unsigned char c = static_cast<unsigned char>(value[i]);
        bool special =
            std::string_view("\"+,;<>\\").find(static_cast<char>(c)) != std::string_view::npos;
        bool edge = (i == 0 && (c == '#' || c == ' ')) || (i + 1 == value.size() && c == ' ');
        if (c < 0x20 || c == 0x7f) {
            out += '\\';
            out += kHex[c >> 4];
            out += kHex[c & 15];
        } else if (special || edge) {
            out += '\\';
            out += static_cast<char>(c);
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

std::string FormatDn(const Dn& dn) {
    std::string out;
    for (size_t r = 0; r < dn.rdns.size(); ++r) {
        if (r > 0)
            out += ',';
        const DnRdn& rdn = dn.rdns[r];
        for (size_t a = 0; a < rdn.size(); ++a) {
            if (a > 0)
                out += '+';
            out += rdn[a].type;
            out += '=';
            out += EscapeDnValue(rdn[a].value);
        }
    }
    return out;
}

std::string CanonicalValue(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    bool pending_space = false;
    for (char c : value) {
        if (c == ' ') {
            pending_space = !out.empty();
            continue;
        }
        if (pending_space)
            out += ' ';
        pending_space = false;
        out += LowerAscii(c);
    }
    return out;
}

Dn CanonicalDn(const Dn& dn) {
    Dn out;
    out.rdns.reserve(dn.rdns.size());
    for (const DnRdn& rdn : dn.rdns) {
        DnRdn c;
        c.reserve(rdn.size());
        for (const DnAva& ava : rdn) {
            DnAva a;
            a.type.reserve(ava.type.size());
            for (char ch : ava.type)
                a.type += LowerAscii(ch);
            a.value = CanonicalValue(ava.value);
            c.push_back(std::move(a));
        }
        std::sort(c.begin(), c.end(), AvaLess);
        out.rdns.push_back(std::move(c));
    }
    return out;
}

Status CanonicalDnString(std::string_view text, std::string* out) {
    Dn dn;
    Status s = ParseDn(text, &dn);
    if (!s.ok())
        return s;
    *out = FormatDn(CanonicalDn(dn));
    return Status::OK();
}

bool DnIsWithin(const Dn& dn, const Dn& ancestor) {
    if (ancestor.rdns.size() > dn.rdns.size())
        return false;
    size_t offset = dn.rdns.size() - ancestor.rdns.size();
    for (size_t i = 0; i < ancestor.rdns.size(); ++i)
        if (!RdnEqual(dn.rdns[offset + i], ancestor.rdns[i]))
            return false;
    return true;
}

}  // namespace keydir
