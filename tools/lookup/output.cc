#include "lookup/output.h"

#include <cstdio>

#include "cert/x509_util.h"

namespace keydir {

std::string TextOutput(const LookupResult& result) {
    std::string out;
    for (const auto& u : result.usable) {
        out += "fingerprint: " + u.facts.fingerprint + "\n";
        out += "dn: " + u.dn + "\n";
        out += "server: " + u.server + " (" + std::to_string(u.hops) + " referral hop" +
               (u.hops == 1 ? "" : "s") + ")\n";
        out += "not-after: " + u.facts.not_after_generalized + "\n";
        out += DerToPem(u.der);
    }
    return out;
}

std::string JsonOutput(const std::string& address, const LookupResult& result,
                       const Status& status) {
    std::string out = "{\"address\":" + JsonString(address) +
                      ",\"found\":" + (result.usable.empty() ? "false" : "true") +
                      ",\"certificates\":[";
    for (size_t i = 0; i < result.usable.size(); ++i) {
        const UsableCert& u = result.usable[i];
        if (i)
            out += ",";
        out += "{\"fingerprint\":" + JsonString(u.facts.fingerprint) +
               ",\"dn\":" + JsonString(u.dn) + ",\"server\":" + JsonString(u.server) +
               ",\"hops\":" + std::to_string(u.hops) +
               ",\"not_after\":" + JsonString(u.facts.not_after_generalized) +
               ",\"subject\":" + JsonString(u.facts.subject) +
               ",\"issuer\":" + JsonString(u.facts.issuer) +
               ",\"pem\":" + JsonString(DerToPem(u.der)) + "}";
    }
    out += "],\"rejected\":[";
    for (size_t i = 0; i < result.rejected.size(); ++i) {
        const Rejection& r = result.rejected[i];
        if (i)
            out += ",";
        out += "{\"dn\":" + JsonString(r.dn) + ",\"server\":" + JsonString(r.server) +
               ",\"reason\":" + JsonString(r.reason) + "}";
    }
    out += "],\"warnings\":[";
    for (size_t i = 0; i < result.warnings.size(); ++i)
        out += (i ? "," : "") + JsonString(result.warnings[i]);
    out += "]";
    if (!status.ok())
        out += ",\"error\":" + JsonString(status.message());
    return out + "}\n";
}

}  // namespace keydir
