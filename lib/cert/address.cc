// The tools' view of addresses, on top of lib/chase's MailAddress: one
// syntax and one normalisation for the whole project (what keydir-admin
// provisions is what keychase resolves).
#include "cert/address.h"

#include <cstdio>

#include "chase/dn.h"
#include "chase/mail_address.h"

namespace keydir {

Status ValidateDomain(std::string_view domain, std::string* normalized) {
    std::string n;
    Status s = NormalizeMailDomain(domain, &n);
    if (!s.ok())
        return Status::InvalidArgument("not a valid domain: " + s.message());
    *normalized = std::move(n);
    return Status::OK();
}

Status ValidateAddress(std::string_view address, std::string* normalized) {
    MailAddress a;
    Status s = MailAddress::Parse(address, &a);
    if (!s.ok())
        return Status::InvalidArgument("not a valid e-mail address: " + s.message());
    *normalized = a.local_as_written() + "@" + a.domain();
    return Status::OK();
}

Status MemberKey(std::string_view address, std::string* key) {
    MailAddress a;
    Status s = MailAddress::Parse(address, &a);
    if (!s.ok())
        return Status::InvalidArgument("not a valid e-mail address: " + s.message());
    *key = a.normalized();
    return Status::OK();
}

std::string DomainOf(std::string_view address) {
    size_t at = address.rfind('@');
    return at == std::string_view::npos ? std::string() : std::string(address.substr(at + 1));
}

std::string ZoneDn(std::string_view domain) {
    return ZoneDnForDomain(domain);
}

std::string MemberDn(std::string_view address) {
    return "mail=" + EscapeDnValue(address) + "," + ZoneDn(DomainOf(address));
}

std::string EscapeFilterValue(std::string_view value) {
    std::string out;
    for (char c : value) {
        if (c == '*' || c == '(' || c == ')' || c == '\\' || c == '\0') {
            char buf[4];
            snprintf(buf, sizeof buf, "\\%02x", static_cast<unsigned char>(c));
            out += buf;
        } else {
            out.push_back(c);
        }
    }
    return out;
}

}  // namespace keydir
