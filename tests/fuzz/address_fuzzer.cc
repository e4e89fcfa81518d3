// libFuzzer target: the gateway's address parsers (gateway/address.h) —
// the SMTP path of MAIL FROM / RCPT TO, the mailbox syntax check, the
// RFC 5322 address lists of To/Cc that decide who is a Bcc recipient —
// and the directory's address syntax behind them (lib/chase MailAddress,
// lib/cert MemberKey), which the key lookup applies to the same text.
//
// Input: the text after "MAIL FROM:", and also a header field value.
//
// Properties besides "no crash, no sanitizer report":
// - a path that parses yields the null address or a valid mailbox, in
//   normal form, that parses again to itself when written as "<address>";
// - a valid mailbox written as a path parses to its normal form;
// - what ExtractAddresses returns is normalized and holds an '@';
// - a directory member key is a fixed point (MemberKey(key) == key), and the
//   member DN made from an address leads back to it.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "cert/address.h"
#include "cert/x509_util.h"
#include "chase/mail_address.h"
#include "gateway/address.h"

namespace gw = keydir::gateway;

namespace {

void CheckPath(const std::string& text, bool allow_null) {
    std::string address;
    std::vector<std::string> params;
    if (!gw::ParseSmtpPath(text, allow_null, &address, &params).ok())
        return;
    if (address.empty()) {
        if (!allow_null)
            __builtin_trap();
        return;
    }
    if (!gw::IsValidMailbox(address) || gw::NormalizeAddress(address) != address)
        __builtin_trap();
    std::string again;
    std::vector<std::string> no_params;
    if (!gw::ParseSmtpPath("<" + address + ">", false, &again, &no_params).ok() ||
        again != address || !no_params.empty())
        __builtin_trap();
    for (const std::string& p : params)
        if (p.empty() || p.find(' ') != std::string::npos)
            __builtin_trap();
    if (!gw::SameAddress(address, address) || !keydir::SameMailbox(address, address))
        __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);

    CheckPath(text, true);
    CheckPath(text, false);

    if (gw::IsValidMailbox(text) && text[0] != '@') {
        std::string address;
        std::vector<std::string> params;
        if (!gw::ParseSmtpPath("<" + text + ">", false, &address, &params).ok() ||
            address != gw::NormalizeAddress(text))
            __builtin_trap();
        if (gw::DomainOf(text) != gw::DomainOf(address))
            __builtin_trap();
    }

    for (const std::string& a : gw::ExtractAddresses(text))
        if (a.find('@') == std::string::npos || gw::NormalizeAddress(a) != a)
            __builtin_trap();

    // The directory's view of the same text.
    std::string key;
    if (keydir::MemberKey(text, &key).ok()) {
        std::string again;
        if (!keydir::MemberKey(key, &again).ok() || again != key)
            __builtin_trap();
        keydir::MailAddress parsed, back;
        if (!keydir::MailAddress::Parse(text, &parsed).ok() ||
            !keydir::AddressFromMemberDn(parsed.MemberDn(), &back).ok() || !(back == parsed))
            __builtin_trap();
        std::string normalized;
        if (!keydir::ValidateAddress(text, &normalized).ok() ||
            !keydir::SameMailbox(normalized, key))
            __builtin_trap();
    }
    return 0;
}
