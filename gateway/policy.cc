#include "gateway/policy.h"

#include "base/ascii.h"

#include <algorithm>
#include <cctype>

#include "gateway/address.h"

namespace keydir {
namespace gateway {
namespace {

bool ValidDomainName(std::string_view d) {
    return !d.empty() && IsValidMailbox("x@" + std::string(d)) && d.front() != '[';
}

}  // namespace

const char* PolicyName(Policy p) {
    switch (p) {
        case Policy::kPlain:
            return "plain";
        case Policy::kReject:
            return "reject";
        case Policy::kHold:
            return "hold";
    }
    return "?";
}

Status ParsePolicy(std::string_view name, Policy* out) {
    std::string n = Lower(name);
    if (n == "plain") {
        *out = Policy::kPlain;
    } else if (n == "reject") {
        *out = Policy::kReject;
    } else if (n == "hold") {
        *out = Policy::kHold;
    } else {
        return Status::InvalidArgument("unknown policy '" + std::string(name) +
                                       "' (expected plain, reject or hold)");
    }
    return Status::OK();
}

Status PolicyTable::AddRule(std::string_view pattern, Policy policy) {
    std::string p = Lower(pattern);
    std::map<std::string, Policy>* table;
    std::string key;
    if (p.find('@') != std::string::npos) {
        if (!IsValidMailbox(p))
            return Status::InvalidArgument("policy rule: '" + std::string(pattern) +
                                           "' is not a valid address");
        table = &addresses_;
        key = p;
    } else if (!p.empty() && p[0] == '.') {
        key = p.substr(1);
        if (!ValidDomainName(key))
            return Status::InvalidArgument("policy rule: '" + std::string(pattern) +
                                           "' is not a valid .domain");
        table = &subdomains_;
    } else {
        if (!ValidDomainName(p))
            return Status::InvalidArgument("policy rule: '" + std::string(pattern) +
                                           "' is neither an address nor a domain");
        table = &domains_;
        key = p;
    }
    if (!table->emplace(key, policy).second)
        return Status::InvalidArgument("policy rule: '" + std::string(pattern) +
                                       "' is given twice");
    return Status::OK();
}

Status PolicyTable::AddRuleLine(std::string_view line) {
    size_t b = line.find_first_not_of(" \t");
    if (b == std::string_view::npos)
        return Status::InvalidArgument("policy rule: empty (expected 'PATTERN POLICY')");
    size_t e = line.find_first_of(" \t", b);
    size_t pb = e == std::string_view::npos ? e : line.find_first_not_of(" \t", e);
    if (pb == std::string_view::npos)
        return Status::InvalidArgument("policy rule '" + std::string(line) +
                                       "': expected 'PATTERN POLICY'");
    size_t pe = line.find_first_of(" \t", pb);
    if (pe != std::string_view::npos && line.find_first_not_of(" \t", pe) != std::string_view::npos)
        return Status::InvalidArgument("policy rule '" + std::string(line) +
                                       "': expected exactly 'PATTERN POLICY'");
    Policy p;
    Status s = ParsePolicy(line.substr(pb, pe == std::string_view::npos ? pe : pe - pb), &p);
    if (!s.ok())
        return Status::InvalidArgument("policy rule '" + std::string(line) + "': " + s.message());
    return AddRule(line.substr(b, e - b), p);
}

Policy PolicyTable::For(std::string_view address) const {
    std::string a = Lower(address);
    if (auto it = addresses_.find(a); it != addresses_.end())
        return it->second;
    std::string domain = DomainOf(a);
    if (auto it = domains_.find(domain); it != domains_.end())
        return it->second;
    // ".example.org" covers a.example.org and b.a.example.org: walk up.
    std::string d = domain;
    for (;;) {
        size_t dot = d.find('.');
        if (dot == std::string::npos)
            break;
        d = d.substr(dot + 1);
        if (auto it = subdomains_.find(d); it != subdomains_.end())
            return it->second;
    }
    return default_;
}

}  // namespace gateway
}  // namespace keydir
