// What happens to a recipient for whom the key server has no usable key:
// a default plus rules per address and per domain.
#ifndef KEYDIR_GATEWAY_POLICY_H
#define KEYDIR_GATEWAY_POLICY_H

#include <map>
#include <string>
#include <string_view>

#include "base/status.h"

namespace keydir {
namespace gateway {

enum class Policy {
    kPlain,   // deliver without encryption
    kReject,  // permanent failure for that recipient (5.7.1)
    kHold,    // temporary failure: Postfix keeps the mail and retries (4.7.1)
};

const char* PolicyName(Policy p);
Status ParsePolicy(std::string_view name, Policy* out);

class PolicyTable {
  public:
    explicit PolicyTable(Policy default_policy = Policy::kHold) : default_(default_policy) {}

    void set_default(Policy p) { default_ = p; }
    Policy default_policy() const { return default_; }

    // Adds a rule. `pattern` is an address (user@example.org), a domain
    // (example.org: that domain only) or ".example.org" (every subdomain of
    // example.org). InvalidArgument for anything else or a duplicate.
    Status AddRule(std::string_view pattern, Policy policy);

    // Parses "PATTERN POLICY" (the form of a `policy-rule` line) and adds it.
    Status AddRuleLine(std::string_view line);

    // The policy for `address`: the address rule, else the domain rule, else
    // the rule of the nearest parent domain written ".parent", else the default.
    Policy For(std::string_view address) const;

    size_t rule_count() const { return addresses_.size() + domains_.size() + subdomains_.size(); }

  private:
    Policy default_;
    std::map<std::string, Policy> addresses_;   // lower case
    std::map<std::string, Policy> domains_;     // exact domain
    std::map<std::string, Policy> subdomains_;  // "example.org" for ".example.org"
};

}  // namespace gateway
}  // namespace keydir

#endif  // KEYDIR_GATEWAY_POLICY_H
