// keydir-gateway's settings: command-line options, each also a
// "name = value" line in the file named by --config (the command line wins).
#ifndef KEYDIR_GATEWAY_SETTINGS_H
#define KEYDIR_GATEWAY_SETTINGS_H

#include <string>
#include <vector>

#include "base/env.h"
#include "base/status.h"
#include "gateway/key_source.h"
#include "gateway/processor.h"

namespace keydir {
namespace gateway {

struct Config {
    std::string config_file;
    std::string listen_host = "127.0.0.1", listen_port = "10025";
    std::string next_hop_host = "127.0.0.1", next_hop_port = "10026";
    std::string ldap_uri = "ldap://127.0.0.1/";
    std::string ldap_base;
    std::string bind_dn;
    std::string bind_password_file;
    std::string bind_password;  // read from bind_password_file
    std::string key_password_file;
    std::string key_password;  // read from key_password_file
    std::string trust_anchor_file;
    std::vector<std::string> referral_allow;  // --referral-allow patterns (empty: public)
    std::string user;
    std::string pid_file;
    std::string hostname;
    bool foreground = false;
    bool verbose = false;
    bool check_only = false;
    int max_sessions = 16;
    size_t max_message_size = 50u << 20;
    size_t max_recipients = 1000;
    int smtp_timeout = 300;
    int ldap_timeout = 10;
    int ldap_pool_size = 4;
    int key_cache_ttl = 60;
    int shutdown_grace = 30;
    CertSelection selection = CertSelection::kAllUsable;
    ProcessorOptions processor;  // policy, local domains, cipher, padding, sign
};

// Parses argv and the config file. On --help / --version sets *exit_now and
// fills *text. InvalidArgument with a message for the user otherwise.
Status ParseConfig(int argc, char** argv, Config* config, bool* exit_now, std::string* text);

// base/secret_file.h's ReadSecretFile for the file an option names, its
// message prefixed with the option.
Status ReadOptionSecret(Env* env, const std::string& option, const std::string& path,
                        std::string* out);

// Splits "HOST:PORT" ("[::1]:25" for IPv6).
Status SplitHostPort(const std::string& option, const std::string& value, std::string* host,
                     std::string* port);

}  // namespace gateway
}  // namespace keydir

#endif  // KEYDIR_GATEWAY_SETTINGS_H
