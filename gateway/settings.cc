#include "gateway/settings.h"

#include "base/ascii.h"

#include <config.h>  // PACKAGE_VERSION (the top-level autoconf header)

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

#include <boost/program_options.hpp>

#include "base/secret_file.h"
#include "chase/dn.h"
#include "gateway/address.h"
#include "gateway/smime.h"

namespace keydir {
namespace gateway {

namespace po = boost::program_options;

namespace {

Status ParseYesNo(const std::string& option, const std::string& v, bool* out) {
    std::string l = Lower(v);
    if (l == "yes" || l == "on" || l == "true" || l == "1") {
        *out = true;
    } else if (l == "no" || l == "off" || l == "false" || l == "0") {
        *out = false;
    } else {
        return Status::InvalidArgument("--" + option + ": expected yes or no, not '" + v + "'");
    }
    return Status::OK();
}

const char kUsage[] =
    "Usage: keydir-gateway [OPTIONS]\n"
    "S/MIME gateway for Postfix: an after-queue content filter that encrypts\n"
    "outgoing mail with the recipients' certificates from the key server and\n"
    "decrypts incoming mail for local members. See keydir-gateway(8).\n";

}  // namespace

Status SplitHostPort(const std::string& option, const std::string& value, std::string* host,
                     std::string* port) {
    std::string h, p;
    if (!value.empty() && value[0] == '[') {
        size_t close = value.find(']');
        if (close == std::string::npos || close + 1 >= value.size() || value[close + 1] != ':')
            return Status::InvalidArgument("--" + option + ": expected [ADDRESS]:PORT, not '" +
                                           value + "'");
        h = value.substr(1, close - 1);
        p = value.substr(close + 2);
    } else {
        size_t colon = value.rfind(':');
        if (colon == std::string::npos || colon == 0)
            return Status::InvalidArgument("--" + option + ": expected HOST:PORT, not '" + value +
                                           "'");
        h = value.substr(0, colon);
        p = value.substr(colon + 1);
    }
    char* end = nullptr;
    long n = std::strtol(p.c_str(), &end, 10);
    if (p.empty() || *end || n < 1 || n > 65535)
        return Status::InvalidArgument("--" + option + ": '" + p + "' is not a port number");
    *host = h;
    *port = p;
    return Status::OK();
}

Status ReadOptionSecret(Env* env, const std::string& option, const std::string& path,
                        std::string* out) {
    Status s = ReadSecretFile(env, path, out);
    return s.ok() ? s : Status::InvalidArgument("--" + option + ": " + s.message());
}

Status ParseConfig(int argc, char** argv, Config* c, bool* exit_now, std::string* text) {
    *exit_now = false;
    std::string listen, next_hop, policy = "hold", cipher = "aes-256-cbc", padding = "pkcs1";
    std::string sign = "no", selection = "all", lookup_failure = "defer";
    std::vector<std::string> local_domains, policy_rules;
    long long max_size = static_cast<long long>(c->max_message_size);
    long long max_rcpt = static_cast<long long>(c->max_recipients);

    po::options_description opts("Options");
    // clang-format off
    opts.add_options()
        ("help,h", "print this help and exit")
        ("version", "print the version and exit")
        ("config,c", po::value(&c->config_file), "read NAME = VALUE lines from FILE")
        ("listen", po::value(&listen), "HOST:PORT to accept SMTP and LMTP on (127.0.0.1:10025)")
        ("next-hop", po::value(&next_hop), "HOST:PORT to re-inject over SMTP (127.0.0.1:10026)")
        ("ldap-uri", po::value(&c->ldap_uri), "the local key server (ldap://127.0.0.1/)")
        ("ldap-base", po::value(&c->ldap_base), "search base for (mail=ADDRESS)")
        ("bind-dn", po::value(&c->bind_dn), "bind as DN (default: anonymous)")
        ("bind-password-file", po::value(&c->bind_password_file), "the bind password is in FILE")
        ("policy", po::value(&policy), "plain|reject|hold for recipients without a key (hold)")
        ("policy-rule", po::value(&policy_rules)->composing(),
         "\"PATTERN POLICY\": ADDRESS, DOMAIN or .DOMAIN (repeatable)")
        ("local-domain", po::value(&local_domains)->composing(),
         "decrypt mail to DOMAIN (repeatable)")
        ("key-password-file", po::value(&c->key_password_file),
         "the passphrase of the members' PKCS#12 is in FILE")
        ("trust-anchor", po::value(&c->trust_anchor_file),
         "recipient certificates must chain to a CA in this PEM FILE")
        ("referral-allow", po::value(&c->referral_allow)->composing(),
         "PATTERN: hosts referrals may lead to (repeatable; default public)")
        ("cipher", po::value(&cipher), "aes-256-cbc|aes-128-cbc|aes-256-gcm (aes-256-cbc)")
        ("rsa-padding", po::value(&padding), "pkcs1|oaep for RSA recipients (pkcs1)")
        ("sign", po::value(&sign), "yes|no: sign then encrypt for local senders (no)")
        ("cert-selection", po::value(&selection), "all|newest usable certificates (all)")
        ("lookup-failure", po::value(&lookup_failure),
         "defer|policy when the key server cannot answer (defer)")
        ("key-cache-ttl", po::value(&c->key_cache_ttl), "seconds lookups are reused (60; 0 = off)")
        ("ldap-timeout", po::value(&c->ldap_timeout), "seconds for connect and each search (10)")
        ("ldap-pool-size", po::value(&c->ldap_pool_size), "LDAP connections kept open (4)")
        ("max-sessions", po::value(&c->max_sessions), "concurrent SMTP/LMTP sessions (16)")
        ("max-message-size", po::value(&max_size), "largest message in bytes (52428800)")
        ("max-recipients", po::value(&max_rcpt), "recipients per message (1000)")
        ("smtp-timeout", po::value(&c->smtp_timeout), "seconds per SMTP command or reply (300)")
        ("shutdown-grace", po::value(&c->shutdown_grace),
         "seconds to finish sessions on SIGTERM (30)")
        ("hostname", po::value(&c->hostname), "name in greetings and headers (the host name)")
        ("user", po::value(&c->user), "run as USER (required when started as root)")
        ("pid-file", po::value(&c->pid_file), "write the process id to FILE")
        ("foreground", po::bool_switch(&c->foreground), "stay in the foreground, log to stderr")
        ("verbose,v", po::bool_switch(&c->verbose), "log connections too")
        ("check-config", po::bool_switch(&c->check_only),
         "check the settings, the key server and the next hop, then exit");
    // clang-format on

    po::variables_map vm;
    try {
        po::store(po::parse_command_line(argc, argv, opts), vm);
        if (vm.count("config")) {
            const std::string file = vm["config"].as<std::string>();
            std::ifstream in(file);
            if (!in)
                return Status::InvalidArgument("--config: cannot read " + file);
            po::store(po::parse_config_file(in, opts, false), vm);
        }
        po::notify(vm);
    } catch (const po::error& e) {
        return Status::InvalidArgument(e.what());
    }
    if (vm.count("help")) {
        std::ostringstream out;
        out << kUsage << "\n" << opts;
        *text = out.str();
        *exit_now = true;
        return Status::OK();
    }
    if (vm.count("version")) {
        *text = "keydir-gateway " PACKAGE_VERSION "\n";
        *exit_now = true;
        return Status::OK();
    }
    Status s;
    if (!listen.empty() &&
        !(s = SplitHostPort("listen", listen, &c->listen_host, &c->listen_port)).ok())
        return s;
    if (!next_hop.empty() &&
        !(s = SplitHostPort("next-hop", next_hop, &c->next_hop_host, &c->next_hop_port)).ok())
        return s;
    // The null DN "" is a valid base (a node whose catch-all database is
    // `suffix ""`): only an absent --ldap-base is refused, and a given one
    // must be a DN.
    if (!vm.count("ldap-base"))
        return Status::InvalidArgument(
            "--ldap-base is required (--ldap-base \"\" for the null DN)");
    Dn base_dn;
    if (!(s = ParseDn(c->ldap_base, &base_dn)).ok())
        return Status::InvalidArgument("--ldap-base: '" + c->ldap_base +
                                       "' is not a valid DN: " + s.message());
    Policy p;
    if (!(s = ParsePolicy(policy, &p)).ok())
        return Status::InvalidArgument("--policy: " + s.message());
    c->processor.policies = PolicyTable(p);
    for (const auto& rule : policy_rules)
        if (!(s = c->processor.policies.AddRuleLine(rule)).ok())
            return Status::InvalidArgument("--" + s.message());
    for (auto d : local_domains) {
        d = Lower(d);
        if (!IsValidMailbox("x@" + d) || d[0] == '[')
            return Status::InvalidArgument("--local-domain: '" + d + "' is not a domain name");
        c->processor.local_domains.push_back(d);
    }
    if (!(s = ParseCipher(cipher, &c->processor.encrypt.cipher)).ok())
        return Status::InvalidArgument("--cipher: " + s.message());
    if (!(s = ParseRsaPadding(padding, &c->processor.encrypt.rsa_padding)).ok())
        return Status::InvalidArgument("--rsa-padding: " + s.message());
    if (!(s = ParseYesNo("sign", sign, &c->processor.sign)).ok())
        return s;
    if (selection == "all") {
        c->selection = CertSelection::kAllUsable;
    } else if (selection == "newest") {
        c->selection = CertSelection::kNewest;
    } else {
        return Status::InvalidArgument("--cert-selection: expected all or newest, not '" +
                                       selection + "'");
    }
    if (lookup_failure == "defer") {
        c->processor.lookup_failure = LookupFailure::kDefer;
    } else if (lookup_failure == "policy") {
        c->processor.lookup_failure = LookupFailure::kPolicy;
    } else {
        return Status::InvalidArgument("--lookup-failure: expected defer or policy, not '" +
                                       lookup_failure + "'");
    }
    auto positive = [](const char* name, long long v, long long max) {
        if (v < 1 || v > max)
            return Status::InvalidArgument(std::string("--") + name + ": must be between 1 and " +
                                           std::to_string(max));
        return Status::OK();
    };
    if (!(s = positive("max-sessions", c->max_sessions, 4096)).ok())
        return s;
    if (!(s = positive("max-message-size", max_size, 1LL << 31)).ok())
        return s;
    if (!(s = positive("max-recipients", max_rcpt, 100000)).ok())
        return s;
    if (!(s = positive("smtp-timeout", c->smtp_timeout, 86400)).ok())
        return s;
    if (!(s = positive("ldap-timeout", c->ldap_timeout, 3600)).ok())
        return s;
    if (!(s = positive("ldap-pool-size", c->ldap_pool_size, 1024)).ok())
        return s;
    if (!(s = positive("shutdown-grace", c->shutdown_grace, 3600)).ok())
        return s;
    if (c->key_cache_ttl < 0 || c->key_cache_ttl > 86400)
        return Status::InvalidArgument("--key-cache-ttl: must be between 0 and 86400");
    c->max_message_size = static_cast<size_t>(max_size);
    c->max_recipients = static_cast<size_t>(max_rcpt);
    if (c->hostname.empty()) {
        char host[256] = {0};
        gethostname(host, sizeof host - 1);
        c->hostname = host[0] ? host : "localhost";
    }
    c->processor.gateway_name = c->hostname;
    if (c->processor.local_domains.empty() == false && c->key_password_file.empty())
        return Status::InvalidArgument(
            "--local-domain needs --key-password-file to open the members' PKCS#12");
    if (c->processor.sign && c->key_password_file.empty())
        return Status::InvalidArgument("--sign yes needs --key-password-file");
    if (!c->bind_password_file.empty() && c->bind_dn.empty())
        return Status::InvalidArgument("--bind-password-file needs --bind-dn");
    return Status::OK();
}

}  // namespace gateway
}  // namespace keydir
