#include "chase/mail_address.h"

#include "base/ascii.h"

#include <vector>

#include "chase/quote.h"

namespace keydir {
namespace {

constexpr size_t kMaxAddress = 254;  // RFC 5321 path limit minus the angle brackets
constexpr size_t kMaxLocal = 64;
constexpr size_t kMaxDomain = 253;
constexpr size_t kMaxLabel = 63;

bool IsAtext(char c) {
    return IsAlnum(c) || std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos;
}

Status AddressError(std::string_view text, const std::string& what) {
    return Status::InvalidArgument("address " + QuoteForMessage(text) + " " + what);
}

Status DomainError(std::string_view text, const std::string& what) {
    return Status::InvalidArgument("domain " + QuoteForMessage(text) + " " + what);
}

Status CheckLocalPart(std::string_view address, std::string_view local) {
    if (local.empty())
        return AddressError(address, "has an empty local part");
    if (local.size() > kMaxLocal)
        return AddressError(address, "has a local part longer than 64 bytes");
    if (local.front() == '.')
        return AddressError(address, "has a local part that starts with '.'");
    if (local.back() == '.')
        return AddressError(address, "has a local part that ends with '.'");
    for (size_t i = 0; i < local.size(); ++i) {
        char c = local[i];
        if (c == '.') {
            if (local[i + 1] == '.')
                return AddressError(address, "has \"..\" in its local part");
            continue;
        }
        if (!IsAtext(c))
            return AddressError(address, std::string("has the character '") + c +
                                             "' in its local part (not allowed unquoted)");
    }
    return Status::OK();
}

// RFC 4515 escaping of an assertion value.
std::string EscapeFilterValue(std::string_view v) {
    static const char kHex[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : v) {
        if (c == '*' || c == '(' || c == ')' || c == '\\' || c == 0 || c >= 0x80) {
            out += '\\';
            out += kHex[c >> 4];
            out += kHex[c & 15];
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

std::vector<std::string_view> SplitLabels(std::string_view domain) {
    std::vector<std::string_view> labels;
    size_t start = 0;
    for (;;) {
        size_t dot = domain.find('.', start);
        labels.push_back(domain.substr(start, dot == std::string_view::npos ? dot : dot - start));
        if (dot == std::string_view::npos)
            break;
        start = dot + 1;
    }
    return labels;
}

}  // namespace

Status NormalizeMailDomain(std::string_view text, std::string* domain) {
    if (text.empty())
        return DomainError(text, "is empty");
    if (text.front() == '[')
        return DomainError(text, "is an address literal, which keydir does not accept");
    for (unsigned char c : text) {
        if (c >= 0x80)
            return DomainError(text, "is not ASCII; write it as its IDNA A-label (xn--...)");
    }
    if (text.size() > kMaxDomain)
        return DomainError(text, "is longer than 253 bytes");
    if (text.back() == '.')
        return DomainError(text, "ends with '.'");
    std::vector<std::string_view> labels = SplitLabels(text);
    if (labels.size() < 2)
        return DomainError(text, "has a single label; a zone needs two or more");
    for (std::string_view label : labels) {
        if (label.empty())
            return DomainError(text, "has an empty label");
        if (label.size() > kMaxLabel)
            return DomainError(text, "has a label longer than 63 bytes");
        if (label.front() == '-' || label.back() == '-')
            return DomainError(text, "has a label that starts or ends with '-'");
        for (char c : label) {
            if (!IsAlnum(c) && c != '-')
                return DomainError(text, std::string("has the character '") + c +
                                             "' (host names allow letters, digits and '-')");
        }
    }
    bool numeric = true;
    for (char c : labels.back())
        numeric = numeric && c >= '0' && c <= '9';
    if (numeric)
        return DomainError(text, "has an all-numeric top-level label");
    *domain = Lower(text);
    return Status::OK();
}

Status MailAddress::Parse(std::string_view text, MailAddress* out) {
    if (text.empty())
        return Status::InvalidArgument("address is empty");
    if (text.size() > kMaxAddress)
        return AddressError(text, "is longer than 254 bytes");
    size_t at = text.rfind('@');
    for (size_t i = 0; i < text.size(); ++i) {
        unsigned char c = static_cast<unsigned char>(text[i]);
        if (c >= 0x80) {
            if (at != std::string_view::npos && i > at)
                break;  // the domain reports it
            return AddressError(text,
                                "has a non-ASCII local part (SMTPUTF8), which keydir does "
                                "not accept");
        }
        if (c <= 0x20 || c == 0x7f)
            return AddressError(
                text, "has white space or a control character at byte " + std::to_string(i));
    }
    if (text.front() == '"')
        return AddressError(text, "has a quoted local part, which keydir does not accept");
    if (at == std::string_view::npos)
        return AddressError(text, "has no '@'");
    if (text.find('@') != at)
        return AddressError(text, "has more than one '@'");
    std::string_view local = text.substr(0, at);
    std::string_view domain_text = text.substr(at + 1);
    Status s = CheckLocalPart(text, local);
    if (!s.ok())
        return s;
    if (domain_text.empty())
        return AddressError(text, "has an empty domain");
    std::string domain;
    s = NormalizeMailDomain(domain_text, &domain);
    if (!s.ok())
        return AddressError(text, "has a bad domain: " + s.message());
    out->local_as_written_ = std::string(local);
    out->local_ = Lower(local);
    out->domain_ = domain;
    out->normalized_ = out->local_ + "@" + domain;
    return Status::OK();
}

std::string ZoneDnForDomain(std::string_view domain) {
    std::string dn;
    for (std::string_view label : SplitLabels(domain)) {
        if (!dn.empty())
            dn += ',';
        dn += "dc=";
        dn += EscapeDnValue(label);
    }
    return dn;
}

std::string MailAddress::ZoneDn() const {
    return ZoneDnForDomain(domain_);
}

std::string MailAddress::MemberDn() const {
    return "mail=" + EscapeDnValue(normalized_) + "," + ZoneDn();
}

Dn MailAddress::MemberDnParsed() const {
    Dn dn;
    dn.rdns.push_back({DnAva{"mail", normalized_}});
    for (std::string_view label : SplitLabels(domain_))
        dn.rdns.push_back({DnAva{"dc", std::string(label)}});
    return dn;
}

std::string MailAddress::MailFilter() const {
    return "(mail=" + EscapeFilterValue(normalized_) + ")";
}

Status DomainFromZoneDn(std::string_view text, std::string* domain) {
    Dn dn;
    Status s = ParseDn(text, &dn);
    if (!s.ok())
        return s;
    if (dn.rdns.empty())
        return Status::InvalidArgument("the null DN is not a zone");
    std::string joined;
    for (const DnRdn& rdn : dn.rdns) {
        if (rdn.size() != 1 || Lower(rdn[0].type) != "dc")
            return Status::InvalidArgument("DN " + QuoteForMessage(text) +
                                           " is not a zone DN: every RDN must be one dc=label");
        if (!joined.empty())
            joined += '.';
        joined += rdn[0].value;
    }
    s = NormalizeMailDomain(joined, domain);
    if (!s.ok())
        return Status::InvalidArgument("DN " + QuoteForMessage(text) +
                                       " does not name a zone: " + s.message());
    return Status::OK();
}

Status AddressFromMemberDn(std::string_view text, MailAddress* out) {
    Dn dn;
    Status s = ParseDn(text, &dn);
    if (!s.ok())
        return s;
    if (dn.rdns.empty() || dn.rdns[0].size() != 1 || Lower(dn.rdns[0][0].type) != "mail")
        return Status::InvalidArgument("DN " + QuoteForMessage(text) +
                                       " is not a member DN: its first RDN must be mail=address");
    MailAddress address;
    s = MailAddress::Parse(dn.rdns[0][0].value, &address);
    if (!s.ok())
        return Status::InvalidArgument("DN " + QuoteForMessage(text) +
                                       " names a bad address: " + s.message());
    Dn zone;
    zone.rdns.assign(dn.rdns.begin() + 1, dn.rdns.end());
    std::string domain;
    s = DomainFromZoneDn(FormatDn(zone), &domain);
    if (!s.ok() || domain != address.domain())
        return Status::InvalidArgument("DN " + QuoteForMessage(text) +
                                       " is not a member DN: its dc components must spell the "
                                       "address's domain " +
                                       address.domain());
    *out = std::move(address);
    return Status::OK();
}

}  // namespace keydir
