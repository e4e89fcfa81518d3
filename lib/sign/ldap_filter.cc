#include "sign/ldap_filter.h"

#include "base/ascii.h"

#include <algorithm>

#include "chase/dn.h"
#include "chase/quote.h"
#include "sign/canonical_writer.h"

namespace keydir {
namespace {

bool IsKeyChar(char c) {
    return IsAlpha(c) || IsDigit(c) || c == '-';
}

// Tags of the canonical form: the BER choice tags of RFC 4511 Filter.
enum : uint8_t {
    kTagAnd = 0xa0,
    kTagOr = 0xa1,
    kTagNot = 0xa2,
    kTagEquality = 0xa3,
    kTagSubstrings = 0xa4,
    kTagGreaterOrEqual = 0xa5,
    kTagLessOrEqual = 0xa6,
    kTagPresent = 0x87,
    kTagApprox = 0xa8,
    kTagExtensible = 0xa9,
};

class FilterParser {
  public:
    explicit FilterParser(std::string_view text) : text_(text) {}

    Status Parse(FilterNode* out) {
        SkipSpaces();
        if (pos_ >= text_.size())
            return Error("is empty");
        if (text_[pos_] != '(')
            return Error("must be enclosed in parentheses");
        Status s = ParseFilter(out, 1);
        if (!s.ok())
            return s;
        SkipSpaces();
        if (pos_ != text_.size())
            return Error("has text after the closing ')'");
        return Status::OK();
    }

  private:
    Status Error(const std::string& what) const {
        return Status::InvalidArgument("filter " + QuoteForMessage(text_) + " " + what +
                                       " at byte " + std::to_string(pos_));
    }
    void SkipSpaces() {
        while (pos_ < text_.size() && text_[pos_] == ' ')
            ++pos_;
    }
    bool At(char c) const { return pos_ < text_.size() && text_[pos_] == c; }

    Status ParseFilter(FilterNode* node, int depth) {
        if (depth > kMaxFilterDepth)
            return Error("is nested more than 64 deep");
        if (!At('('))
            return Error("lacks '('");
        ++pos_;
        Status s;
        if (At('&') || At('|')) {
            node->kind = At('&') ? FilterNode::Kind::kAnd : FilterNode::Kind::kOr;
            ++pos_;
            for (;;) {
                SkipSpaces();
                if (At(')'))
                    break;
                if (!At('('))
                    return Error("has a list member that does not start with '('");
                node->children.emplace_back();
                s = ParseFilter(&node->children.back(), depth + 1);
                if (!s.ok())
                    return s;
            }
        } else if (At('!')) {
            node->kind = FilterNode::Kind::kNot;
            ++pos_;
            SkipSpaces();
            node->children.emplace_back();
            s = ParseFilter(&node->children.back(), depth + 1);
            if (!s.ok())
                return s;
            SkipSpaces();
        } else if (At('?')) {
            s = ParseComputed(node);
            if (!s.ok())
                return s;
        } else {
            s = ParseItem(node);
            if (!s.ok())
                return s;
        }
        if (!At(')'))
            return Error("lacks ')'");
        ++pos_;
        return Status::OK();
    }

    // slapd's filter2bv() writes what it evaluated up front as "(?=true)",
    // "(?=false)" or "(?=undefined)", and an element with an undefined
    // attribute or an invalid value as "(?attr=...)".
    Status ParseComputed(FilterNode* node) {
        size_t close = text_.find(')', pos_);
        std::string_view body =
            text_.substr(pos_, close == std::string_view::npos ? close : close - pos_);
        if (body == "?=true") {
            node->kind = FilterNode::Kind::kAnd;
        } else if (body == "?=false") {
            node->kind = FilterNode::Kind::kOr;
        } else {
            return Error(
                "has an element slapd could not evaluate (undefined attribute type or "
                "invalid value)");
        }
        pos_ += body.size();
        return Status::OK();
    }

    Status ParseOid(std::string* out) {
        size_t start = pos_;
        if (pos_ < text_.size() && IsAlpha(text_[pos_])) {
            while (pos_ < text_.size() && IsKeyChar(text_[pos_]))
                ++pos_;
        } else if (pos_ < text_.size() && IsDigit(text_[pos_])) {
            for (;;) {
                size_t arc = pos_;
                while (pos_ < text_.size() && IsDigit(text_[pos_]))
                    ++pos_;
                if (pos_ == arc)
                    return Error("has an empty arc in a numeric OID");
                if (pos_ - arc > 1 && text_[arc] == '0')
                    return Error("has a leading zero in an OID");
                if (!At('.'))
                    break;
                ++pos_;
            }
        } else {
            return Error("lacks an attribute type or matching rule");
        }
        out->assign(text_.substr(start, pos_ - start));
        return Status::OK();
    }

    Status ParseDescription(std::string* out) {
        size_t start = pos_;
        Status s = ParseOid(out);
        if (!s.ok())
            return s;
        while (At(';')) {
            ++pos_;
            size_t opt = pos_;
            while (pos_ < text_.size() && IsKeyChar(text_[pos_]))
                ++pos_;
            if (pos_ == opt)
                return Error("has an empty attribute option");
        }
        out->assign(text_.substr(start, pos_ - start));
        return Status::OK();
    }

    // Reads an assertion value, still escaped, up to the closing ')'.
    Status ReadRawValue(std::string_view* raw) {
        size_t start = pos_;
        while (pos_ < text_.size() && text_[pos_] != ')') {
            char c = text_[pos_];
            if (c == '(')
                return Error("has an unescaped '(' in a value");
            if (c == '\0')
                return Error("has a NUL byte in a value");
            if (c == '\\') {
                if (pos_ + 2 >= text_.size() || HexValue(text_[pos_ + 1]) < 0 ||
                    HexValue(text_[pos_ + 2]) < 0)
                    return Error("has '\\' not followed by two hex digits");
                pos_ += 3;
                continue;
            }
            ++pos_;
        }
        *raw = text_.substr(start, pos_ - start);
        return Status::OK();
    }

    static std::string Unescape(std::string_view raw) {
        std::string out;
        for (size_t i = 0; i < raw.size(); ++i) {
            if (raw[i] == '\\') {
                out += static_cast<char>(HexValue(raw[i + 1]) * 16 + HexValue(raw[i + 2]));
                i += 2;
            } else {
                out += raw[i];
            }
        }
        return out;
    }

    Status ParseItem(FilterNode* node) {
        std::string attr;
        Status s;
        if (!At(':')) {
            s = ParseDescription(&attr);
            if (!s.ok())
                return s;
        }
        if (At(':'))
            return ParseExtensible(node, attr);
        FilterNode::Kind kind;
        if (At('=')) {
            kind = FilterNode::Kind::kEquality;
            ++pos_;
        } else if (pos_ + 1 < text_.size() && text_[pos_ + 1] == '=' &&
                   (At('~') || At('>') || At('<'))) {
            kind = At('~')   ? FilterNode::Kind::kApprox
                   : At('>') ? FilterNode::Kind::kGreaterOrEqual
                             : FilterNode::Kind::kLessOrEqual;
            pos_ += 2;
        } else {
            return Error("lacks '=', '~=', '>=' or '<=' after the attribute");
        }
        size_t value_start = pos_;
        std::string_view raw;
        s = ReadRawValue(&raw);
        if (!s.ok())
            return s;
        node->attribute = attr;
        if (kind != FilterNode::Kind::kEquality) {
            if (raw.find('*') != std::string_view::npos) {
                pos_ = value_start + raw.find('*');
                return Error("has an unescaped '*' in an approximate or ordering value");
            }
            node->kind = kind;
            node->value = Unescape(raw);
            return Status::OK();
        }
        if (raw == "*") {
            node->kind = FilterNode::Kind::kPresent;
            return Status::OK();
        }
        if (raw.find('*') == std::string_view::npos) {
            node->kind = FilterNode::Kind::kEquality;
            node->value = Unescape(raw);
            return Status::OK();
        }
        node->kind = FilterNode::Kind::kSubstrings;
        std::vector<std::string_view> pieces;
        size_t start = 0;
        for (;;) {
            size_t star = raw.find('*', start);
            pieces.push_back(
                raw.substr(start, star == std::string_view::npos ? star : star - start));
            if (star == std::string_view::npos)
                break;
            start = star + 1;
        }
        if (!pieces.front().empty())
            node->initial = Unescape(pieces.front());
        if (!pieces.back().empty())
            node->final_ = Unescape(pieces.back());
        for (size_t i = 1; i + 1 < pieces.size(); ++i) {
            if (pieces[i].empty()) {
                pos_ = value_start;
                return Error("has an empty substring between two '*'");
            }
            node->any.push_back(Unescape(pieces[i]));
        }
        return Status::OK();
    }

    Status ParseExtensible(FilterNode* node, const std::string& attr) {
        node->kind = FilterNode::Kind::kExtensible;
        node->attribute = attr;
        // [":dn"] [":" rule] ":="
        while (At(':')) {
            ++pos_;
            if (At('=')) {
                ++pos_;
                if (node->attribute.empty() && node->matching_rule.empty())
                    return Error("has an extensible match with neither attribute nor rule");
                std::string_view raw;
                Status s = ReadRawValue(&raw);
                if (!s.ok())
                    return s;
                if (raw.find('*') != std::string_view::npos)
                    return Error("has an unescaped '*' in an extensible match value");
                node->value = Unescape(raw);
                return Status::OK();
            }
            if (!node->matching_rule.empty())
                return Error("has text after the matching rule");
            if (pos_ + 2 < text_.size() && Lower(text_.substr(pos_, 2)) == "dn" &&
                text_[pos_ + 2] == ':' && !node->dn_attributes) {
                node->dn_attributes = true;
                pos_ += 2;
                continue;
            }
            Status s = ParseOid(&node->matching_rule);
            if (!s.ok())
                return s;
        }
        return Error("lacks ':=' in an extensible match");
    }

    std::string_view text_;
    size_t pos_ = 0;
};

void AppendEscaped(std::string_view value, std::string* out) {
    static const char kHex[] = "0123456789ABCDEF";
    for (unsigned char c : value) {
        if (c == '*' || c == '(' || c == ')' || c == '\\' || c == 0 || c >= 0x80) {
            *out += '\\';
            *out += kHex[c >> 4];
            *out += kHex[c & 15];
        } else {
            *out += static_cast<char>(c);
        }
    }
}

void Format(const FilterNode& f, std::string* out) {
    *out += '(';
    switch (f.kind) {
        case FilterNode::Kind::kAnd:
        case FilterNode::Kind::kOr:
            *out += f.kind == FilterNode::Kind::kAnd ? '&' : '|';
            for (const FilterNode& c : f.children)
                Format(c, out);
            break;
        case FilterNode::Kind::kNot:
            *out += '!';
            for (const FilterNode& c : f.children)
                Format(c, out);
            break;
        case FilterNode::Kind::kPresent:
            *out += f.attribute + "=*";
            break;
        case FilterNode::Kind::kEquality:
        case FilterNode::Kind::kApprox:
        case FilterNode::Kind::kGreaterOrEqual:
        case FilterNode::Kind::kLessOrEqual:
            *out += f.attribute;
            *out += f.kind == FilterNode::Kind::kEquality         ? "="
                    : f.kind == FilterNode::Kind::kApprox         ? "~="
                    : f.kind == FilterNode::Kind::kGreaterOrEqual ? ">="
                                                                  : "<=";
            AppendEscaped(f.value, out);
            break;
        case FilterNode::Kind::kSubstrings:
            *out += f.attribute + "=";
            if (f.initial)
                AppendEscaped(*f.initial, out);
            *out += '*';
            for (const std::string& a : f.any) {
                AppendEscaped(a, out);
                *out += '*';
            }
            if (f.final_)
                AppendEscaped(*f.final_, out);
            break;
        case FilterNode::Kind::kExtensible:
            *out += f.attribute;
            if (f.dn_attributes)
                *out += ":dn";
            if (!f.matching_rule.empty())
                *out += ":" + f.matching_rule;
            *out += ":=";
            AppendEscaped(f.value, out);
            break;
    }
    *out += ')';
}

std::string Canonical(const FilterNode& f) {
    CanonicalWriter w;
    switch (f.kind) {
        case FilterNode::Kind::kAnd:
        case FilterNode::Kind::kOr: {
            std::vector<std::string> members;
            members.reserve(f.children.size());
            for (const FilterNode& c : f.children)
                members.push_back(Canonical(c));
            std::sort(members.begin(), members.end());
            w.U8(f.kind == FilterNode::Kind::kAnd ? kTagAnd : kTagOr);
            w.U32(static_cast<uint32_t>(members.size()));
            for (const std::string& m : members)
                w.Str(m);
            break;
        }
        case FilterNode::Kind::kNot:
            w.U8(kTagNot);
            w.Str(f.children.empty() ? std::string() : Canonical(f.children[0]));
            break;
        case FilterNode::Kind::kPresent:
            w.U8(kTagPresent);
            w.Str(CanonicalAttributeDescription(f.attribute));
            break;
        case FilterNode::Kind::kEquality:
        case FilterNode::Kind::kApprox:
        case FilterNode::Kind::kGreaterOrEqual:
        case FilterNode::Kind::kLessOrEqual:
            w.U8(f.kind == FilterNode::Kind::kEquality         ? kTagEquality
                 : f.kind == FilterNode::Kind::kApprox         ? kTagApprox
                 : f.kind == FilterNode::Kind::kGreaterOrEqual ? kTagGreaterOrEqual
                                                               : kTagLessOrEqual);
            w.Str(CanonicalAttributeDescription(f.attribute));
            w.Str(CanonicalValue(f.value));
            break;
        case FilterNode::Kind::kSubstrings: {
            std::string initial = f.initial ? CanonicalValue(*f.initial) : std::string();
            std::string final_ = f.final_ ? CanonicalValue(*f.final_) : std::string();
            std::vector<std::string> any;
            for (const std::string& a : f.any) {
                std::string c = CanonicalValue(a);
                if (!c.empty())
                    any.push_back(c);
            }
            w.U8(kTagSubstrings);
            w.Str(CanonicalAttributeDescription(f.attribute));
            w.U8(initial.empty() ? 0 : 1);
            if (!initial.empty())
                w.Str(initial);
            w.U32(static_cast<uint32_t>(any.size()));
            for (const std::string& a : any)
                w.Str(a);
            w.U8(final_.empty() ? 0 : 1);
            if (!final_.empty())
                w.Str(final_);
            break;
        }
        case FilterNode::Kind::kExtensible:
            w.U8(kTagExtensible);
            w.Str(Lower(f.matching_rule));
            w.Str(CanonicalAttributeDescription(f.attribute));
            w.U8(f.dn_attributes ? 1 : 0);
            w.Str(CanonicalValue(f.value));
            break;
    }
    return w.Take();
}

}  // namespace

std::string CanonicalAttributeDescription(std::string_view description) {
    std::string lower = Lower(description);
    size_t semi = lower.find(';');
    // with no option or one, the lowercased form is the canonical one
    if (semi == std::string::npos || lower.find(';', semi + 1) == std::string::npos)
        return lower;
    std::vector<std::string> options;
    size_t start = semi + 1;
    for (;;) {
        size_t next = lower.find(';', start);
        options.push_back(lower.substr(start, next == std::string::npos ? next : next - start));
        if (next == std::string::npos)
            break;
        start = next + 1;
    }
    std::sort(options.begin(), options.end());
    std::string out = lower.substr(0, semi);
    for (const std::string& o : options)
        out += ";" + o;
    return out;
}

Status ParseFilter(std::string_view text, FilterNode* out) {
    if (text.size() > kMaxFilterBytes)
        return Status::InvalidArgument("filter is longer than 16384 bytes (" +
                                       std::to_string(text.size()) + ")");
    FilterNode node;
    FilterParser parser(text);
    Status s = parser.Parse(&node);
    if (!s.ok())
        return s;
    *out = std::move(node);
    return Status::OK();
}

std::string FormatFilter(const FilterNode& filter) {
    std::string out;
    Format(filter, &out);
    return out;
}

std::string CanonicalFilterBytes(const FilterNode& filter) {
    return Canonical(filter);
}

Status CanonicalFilter(std::string_view text, std::string* canonical) {
    FilterNode node;
    Status s = ParseFilter(text, &node);
    if (!s.ok())
        return s;
    *canonical = Canonical(node);
    return Status::OK();
}

}  // namespace keydir
