// keydir-gateway: the S/MIME content filter for Postfix. Reads its
// settings, checks the secrets and the listening address as root, drops
// to an unprivileged user, detaches unless --foreground, and serves.
#include <grp.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>

#include "gateway/settings.h"
#include "gateway/directory.h"
#include "gateway/injector.h"
#include "gateway/key_source.h"
#include "gateway/log.h"
#include "gateway/processor.h"
#include "gateway/server.h"
#include "gateway/smime.h"

namespace {

using namespace keydir;
using namespace keydir::gateway;

constexpr int kExitUsage = 2;    // bad options or configuration
constexpr int kExitFailure = 1;  // could not start or run

int Fail(int code, const std::string& message) {
    std::cerr << "keydir-gateway: " << message << std::endl;
    return code;
}

Status DropPrivileges(const std::string& user) {
    if (geteuid() != 0) {
        if (!user.empty()) {
            struct passwd* pw = getpwnam(user.c_str());
            if (!pw)
                return Status::InvalidArgument("--user: no such user '" + user + "'");
            if (pw->pw_uid != geteuid())
                return Status::PermissionDenied("--user " + user + " needs to be started as root");
        }
        return Status::OK();
    }
    if (user.empty())
        return Status::InvalidArgument(
            "refusing to run as root: name an unprivileged account with --user");
    struct passwd* pw = getpwnam(user.c_str());
    if (!pw)
        return Status::InvalidArgument("--user: no such user '" + user + "'");
    if (pw->pw_uid == 0)
        return Status::InvalidArgument("--user: '" + user + "' is root");
    if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
        setuid(pw->pw_uid) != 0)
        return Status::PermissionDenied("cannot switch to user " + user);
    if (setuid(0) == 0)
        return Status::PermissionDenied("could regain root after switching user");
    return Status::OK();
}

Status Daemonize() {
    pid_t pid = fork();
    if (pid < 0)
        return Status::IOError("fork failed");
    if (pid > 0)
        _exit(0);
    if (setsid() < 0)
        return Status::IOError("setsid failed");
    pid = fork();
    if (pid < 0)
        return Status::IOError("fork failed");
    if (pid > 0)
        _exit(0);
    if (chdir("/") != 0)
        return Status::IOError("chdir / failed");
    FILE* f = std::freopen("/dev/null", "r", stdin);
    f = f ? std::freopen("/dev/null", "w", stdout) : f;
    f = f ? std::freopen("/dev/null", "w", stderr) : f;
    if (!f)
        return Status::IOError("cannot redirect to /dev/null");
    return Status::OK();
}

}  // namespace

int main(int argc, char** argv) {
    Config config;
    bool exit_now = false;
    std::string text;
    Status s = ParseConfig(argc, argv, &config, &exit_now, &text);
    if (!s.ok())
        return Fail(kExitUsage, s.message() + " (see keydir-gateway --help)");
    if (exit_now) {
        std::cout << text;
        return 0;
    }
    signal(SIGPIPE, SIG_IGN);
#if defined(__GLIBC__)
    // Messages of a few MB are copied a few times each: keep such buffers in
    // the heap for reuse instead of a fresh mmap (and page faults) per copy.
    mallopt(M_MMAP_THRESHOLD, 8 << 20);
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
#endif
    LoadCryptoProviders();
    Env* env = Env::Default();

    // Secrets are read while still root; the files may be root's alone.
    if (!config.bind_password_file.empty() &&
        !(s = ReadOptionSecret(env, "bind-password-file", config.bind_password_file,
                               &config.bind_password))
             .ok())
        return Fail(kExitUsage, s.message());
    if (!config.key_password_file.empty() &&
        !(s = ReadOptionSecret(env, "key-password-file", config.key_password_file,
                               &config.key_password))
             .ok())
        return Fail(kExitUsage, s.message());
    std::unique_ptr<TrustAnchors> anchors;
    if (!config.trust_anchor_file.empty() &&
        !(s = TrustAnchors::Load(config.trust_anchor_file, &anchors)).ok())
        return Fail(kExitUsage, "--trust-anchor: " + s.message());

    LdapOptions ldap;
    ldap.uri = config.ldap_uri;
    ldap.base = config.ldap_base;
    ldap.bind_dn = config.bind_dn;
    ldap.bind_password = config.bind_password;
    ldap.timeout_seconds = config.ldap_timeout;
    ldap.pool_size = config.ldap_pool_size;
    if (!(s = ReferralPolicy::Parse(config.referral_allow, &ldap.referral_policy)).ok())
        return Fail(kExitUsage, "--referral-allow: " + s.message());
    ldap.referral_certificates_checked = anchors != nullptr;
    LdapDirectory directory(ldap);

    KeySourceOptions key_options;
    key_options.anchors = anchors.get();
    key_options.key_password = config.key_password;
    key_options.cache_ttl_seconds = config.key_cache_ttl;
    key_options.selection = config.selection;
    DirectoryKeySource keys(&directory, key_options, env);
    Processor processor(config.processor, &keys);

    InjectorOptions inject;
    inject.host = config.next_hop_host;
    inject.port = config.next_hop_port;
    inject.helo_name = config.hostname;
    inject.timeout = std::chrono::seconds(config.smtp_timeout);
    inject.pool_size = static_cast<size_t>(config.max_sessions);
    Injector injector(inject);

    if (config.check_only) {
        int rc = 0;
        if (!(s = directory.Probe()).ok()) {
            std::cerr << "keydir-gateway: key server " << config.ldap_uri << ": " << s.message()
                      << std::endl;
            rc = kExitFailure;
        }
        if (!(s = injector.Probe()).ok()) {
            std::cerr << "keydir-gateway: next hop: " << s.message() << std::endl;
            rc = kExitFailure;
        }
        if (rc == 0)
            std::cout << "keydir-gateway: configuration OK" << std::endl;
        return rc;
    }

    ServerOptions server_options;
    server_options.host = config.listen_host;
    server_options.port = config.listen_port;
    server_options.max_sessions = config.max_sessions;
    server_options.shutdown_grace = std::chrono::seconds(config.shutdown_grace);
    server_options.session.hostname = config.hostname;
    server_options.session.max_message_size = config.max_message_size;
    server_options.session.max_recipients = config.max_recipients;
    server_options.session.timeout = std::chrono::seconds(config.smtp_timeout);
    Server server(server_options, &processor, &keys, &injector);
    if (!(s = server.Listen()).ok())
        return Fail(kExitFailure, s.message());

    if (!config.foreground) {
        if (!(s = Daemonize()).ok())
            return Fail(kExitFailure, s.message());
        LogToSyslog(true);
    }
    SetLogVerbose(config.verbose);
    if (!config.pid_file.empty()) {
        // Written as root, so it may live in /run.
        std::ofstream pid(config.pid_file, std::ios::trunc);
        pid << getpid() << "\n";
        if (!pid) {
            LogError("--pid-file: cannot write " + config.pid_file);
            return Fail(kExitFailure, "--pid-file: cannot write " + config.pid_file);
        }
    }
    if (!(s = DropPrivileges(config.user)).ok()) {
        LogError(s.message());
        return Fail(kExitUsage, s.message());
    }
    std::string domains;
    for (const auto& d : config.processor.local_domains)
        domains += " " + d;
    LogInfo("started: listening on " + config.listen_host + ":" + config.listen_port +
            ", next hop " + config.next_hop_host + ":" + config.next_hop_port + ", key server " +
            config.ldap_uri + ", default policy " +
            PolicyName(config.processor.policies.default_policy()) + ", " +
            std::to_string(config.processor.policies.rule_count()) + " policy rule(s), cipher " +
            CipherName(config.processor.encrypt.cipher) +
            ", local domains:" + (domains.empty() ? " none" : domains));
    const bool clean = server.Run();
    if (!config.pid_file.empty())
        unlink(config.pid_file.c_str());
    // Busy sessions still use the server's objects: leave without running
    // destructors (Postfix retries the messages they did not answer).
    if (!clean)
        std::_Exit(0);
    return 0;
}
