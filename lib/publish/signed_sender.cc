#include "publish/signed_sender.h"

#include <ldap.h>

#include "chase/ldap_url.h"
#include "sign/signature_control.h"

namespace keydir {

bool IsLastingRefusal(int rc) {
    switch (rc) {
        case LDAP_BUSY:                  // 51: also "replay unverifiable"
        case LDAP_UNAVAILABLE:           // 52
        case LDAP_OTHER:                 // 80: a write failed over there
        case LDAP_TIMELIMIT_EXCEEDED:    // 3
        case LDAP_ADMINLIMIT_EXCEEDED:   // 11
        case LDAP_UNWILLING_TO_PERFORM:  // 53: also "clock too far off"
        case LDAP_SERVER_DOWN:
        case LDAP_TIMEOUT:
            return false;
        default:
            return true;
    }
}

void SignedSender::Reconfigure(SignedSenderOptions options) {
    std::lock_guard<std::mutex> lock(mu_);
    options_ = std::move(options);
}

Delivery SignedSender::Send(const Publication& p) {
    SignedSenderOptions o;
    {
        std::lock_guard<std::mutex> lock(mu_);
        o = options_;
    }
    if (o.servers.empty())
        return Delivery::Retry("no upstream to publish to");
    std::string canonical;
    Status s = CanonicalPublication(p, &canonical);
    if (!s.ok())
        return Delivery::Refused(s.message());
    std::string value = EncodePublication(p);
    bool lasting = true;
    std::string why;
    for (const std::string& server : o.servers) {
        // A fresh signature (time, nonce) for every server and attempt.
        SignedRequest sent;
        // Meant for this server only (doc/signing.md §2): another that
        // shares the key refuses it.
        LdapUrl url;
        std::string server_key = ParseServerUrl(server, &url).ok() ? url.ServerKey() : server;
        s = signing_->SignCanonical(o.key_name, o.algorithm, canonical, 0, false, server_key,
                                    &sent);
        if (!s.ok())
            return Delivery::Retry("cannot sign: " + s.message());
        ExtendedResult r;
        s = client_->Extended(server, o.start_tls, kPublishOid, value,
                              {{kSignatureControlOid, sent.control_value(), true}},
                              o.timeout_micros, &r);
        if (!s.ok()) {
            lasting = false;
            why = server + ": " + s.message();
            continue;
        }
        const std::string* control = nullptr;
        for (const LdapControlValue& c : r.controls)
            if (c.oid == kSignatureControlOid)
                control = &c.value;
        AnswerVerifier check = signing_->StartAnswerCheck(sent);
        VerifyOutcome v = check.Finish(r.result_code, {}, control);
        if (!v.ok()) {
            // Not the answer of a peer that holds our key: try another.
            lasting = false;
            why = server + ": the answer's signature failed: " + v.text;
            continue;
        }
        if (r.result_code == LDAP_SUCCESS)
            return Delivery::Delivered();
        why = server + ": " + ldap_err2string(r.result_code) +
              (r.text.empty() ? "" : " (" + r.text + ")");
        if (!IsLastingRefusal(r.result_code))
            lasting = false;
    }
    return lasting ? Delivery::Refused(why) : Delivery::Retry(why);
}

}  // namespace keydir
