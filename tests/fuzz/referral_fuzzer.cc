// libFuzzer target: what upstream servers feed the chase — referral URLs,
// addresses and member DNs — and the chase state machine driven by
// hostile referrals.
//
// Input: lines. Each line is tried as an LDAP URL, a mail address and a
// member DN. Then a chase runs in which every server answers with a
// referral to all the lines: it must end within its bounds whatever they
// say (no endless chase, no unbounded growth).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "chase/chase_plan.h"
#include "chase/ldap_url.h"
#include "chase/mail_address.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    std::vector<std::string> lines;
    size_t start = 0;
    while (start <= text.size() && lines.size() < 64) {
        size_t nl = text.find('\n', start);
        lines.push_back(text.substr(start, nl == std::string::npos ? nl : nl - start));
        if (nl == std::string::npos)
            break;
        start = nl + 1;
    }

    for (const std::string& line : lines) {
        keydir::LdapUrl url;
        if (keydir::ParseLdapUrl(line, &url).ok()) {
            keydir::LdapUrl again;
            if (!keydir::ParseLdapUrl(url.ToString(), &again).ok())
                __builtin_trap();
            if (again.ServerKey() != url.ServerKey() || again.dn != url.dn)
                __builtin_trap();
        }
        keydir::MailAddress address;
        if (keydir::MailAddress::Parse(line, &address).ok()) {
            keydir::MailAddress back;
            if (!keydir::AddressFromMemberDn(address.MemberDn(), &back).ok())
                __builtin_trap();
            if (!(back == address))
                __builtin_trap();
        }
        keydir::MailAddress from_dn;
        (void)keydir::AddressFromMemberDn(line, &from_dn);
    }

    keydir::MailAddress target;
    if (!keydir::MailAddress::Parse("kconley@tovaris.com", &target).ok())
        __builtin_trap();
    keydir::ChaseConfig config;
    keydir::LdapUrl root;
    keydir::ParseServerUrl("ldap://root.example:389", &root);
    config.roots.push_back(root);
    config.max_hops = 8;
    config.max_attempts = 16;
    keydir::FakeClockEnv env;
    keydir::ChasePlan plan(config, target, &env);
    keydir::ChaseStep step;
    int steps = 0;
    while (plan.Next(&step)) {
        if (++steps > config.max_attempts)
            __builtin_trap();
        if (step.timeout_micros <= 0)
            __builtin_trap();
        env.SleepMicros(1000);
        plan.Report(keydir::HopOutcome::Referral(lines));
    }
    if (plan.result() == keydir::ChaseResult::kPending ||
        plan.result() == keydir::ChaseResult::kFound)
        __builtin_trap();
    return 0;
}
