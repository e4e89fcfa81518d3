// keydir-admin: zones, members and shared secrets of a keydir directory.
// See keydir-admin(8). Exit status: 0 done, 1 `member show` found no
// member, 2 anything else that went wrong (nothing is left half written).
#include <boost/program_options.hpp>
#include <cstdlib>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "admin/commands.h"
#include "config.h"

namespace po = boost::program_options;
using keydir::AdminOptions;
using keydir::Status;

namespace {

const char kUsage[] =
    "usage: keydir-admin [--zones DIR] COMMAND ...\n"
    "  zone init DOMAIN        --ca-passphrase-file F [--key-type T] [--ca-days N] [--ttl S]\n"
    "                          [--database-type keydir|mdb] [--gateway-dn DN] [--db-directory D]\n"
    "  zone crl DOMAIN         --ca-passphrase-file F [--crl-days N] [-H URI -D DN -y FILE [-Z]]\n"
    "  member add ADDRESS      --ca-passphrase-file F --p12-password-file F [--key-type T]\n"
    "                          [--days N] [--valid-from TIME] [--cn NAME] [--p12-iter N]\n"
    "                          [-o FILE | -H URI [-D DN -y FILE] [-Z]] [--force]\n"
    "                          [--openpgp --openpgp-secret FILE | --openpgp-key FILE]\n"
    "  member bulk LIST        -o FILE --ca-passphrase-file F --p12-password-file F\n"
    "                          [--key-type T] [--days N] [--valid-from TIME] [--jobs N] [--force]\n"
    "  member revoke ADDRESS   -H URI -D DN -y FILE [-Z] [--ca-passphrase-file F [--crl-days N]]\n"
    "  member rekey ADDRESS    -H URI -D DN -y FILE --ca-passphrase-file F --p12-password-file F\n"
    "                          [--key-type T] [--days N] [--valid-from TIME] [--cn NAME]\n"
    "                          [--crl-days N]\n"
    "  member show ADDRESS     -H URI [-D DN -y FILE] [-Z]\n"
    "  secret new NAME         [-o FILE] [--force]\n"
    "  cache flush WHAT        -H URI -D DN -y FILE [-Z]   (WHAT: ADDRESS, @DOMAIN or all)\n";

// Which options each command takes; any other given option is an error,
// so that a typo or a misplaced option is not silently ignored.
const std::map<std::string, std::set<std::string>>& AllowedOptions() {
    static const std::set<std::string> issue = {
        "ca-passphrase-file", "p12-password-file", "key-type", "days", "valid-from", "p12-iter"};
    static const std::set<std::string> ldap = {"uri", "binddn", "passwordfile", "starttls",
                                               "timeout"};
    auto join = [](std::initializer_list<std::set<std::string>> sets) {
        std::set<std::string> out;
        for (const auto& s : sets)
            out.insert(s.begin(), s.end());
        return out;
    };
    static const std::map<std::string, std::set<std::string>> allowed = {
        {"zone init",
         {"ca-passphrase-file", "key-type", "ca-days", "ttl", "database-type", "gateway-dn",
          "db-directory", "schema-dir"}},
        {"member add",
         join(
             {issue, ldap, {"cn", "output", "force", "openpgp", "openpgp-key", "openpgp-secret"}})},
        {"member bulk", join({issue, {"output", "jobs", "force"}})},
        {"zone crl", join({ldap, {"ca-passphrase-file", "crl-days"}})},
        {"member revoke", join({ldap, {"ca-passphrase-file", "crl-days"}})},
        {"member rekey", join({issue, ldap, {"cn", "crl-days"}})},
        {"member show", ldap},
        {"secret new", {"output", "force"}},
        {"cache flush", ldap},
    };
    return allowed;
}

int Fail(const std::string& message) {
    std::cerr << "keydir-admin: " << message << std::endl;
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    AdminOptions o;
    const char* env_zones = std::getenv("KEYDIR_ZONES");
    std::string key_type;
    po::options_description visible("Options");
    visible.add_options()("help,h", "show this help")("version", "show the version")(
        "zones",
        po::value(&o.zones_root)->default_value(env_zones ? env_zones : "/var/lib/keydir/zones"),
        "directory holding one directory per zone (or $KEYDIR_ZONES)")(
        "ca-passphrase-file", po::value(&o.ca_passphrase_file),
        "file holding the zone CA key's passphrase")(
        "p12-password-file", po::value(&o.p12_password_file),
        "file holding the PKCS#12 password (member passphrase or gateway key-encryption key)")(
        "key-type", po::value(&key_type), "rsa3072 (default) or p256")(
        "days", po::value(&o.days)->default_value(365), "member certificate lifetime in days")(
        "valid-from", po::value(&o.valid_from),
        "start of validity, YYYYMMDDHHMMSSZ (default: now)")(
        "ca-days", po::value(&o.ca_days)->default_value(3650),
        "zone CA certificate lifetime in days")("ttl", po::value(&o.ttl)->default_value(3600),
                                                "keydirTTL of the zone entry, seconds")(
        "crl-days", po::value(&o.crl_days)->default_value(30),
        "the zone CRL's lifetime (nextUpdate) in days")(
        "cn", po::value(&o.cn), "the member's common name (default: the address)")(
        "p12-iter", po::value(&o.p12_iterations)->default_value(2048),
        "PBKDF2 iterations of the PKCS#12")(
        "output,o", po::value(&o.output), "write to FILE (atomically) instead of standard output")(
        "uri,H", po::value(&o.ldap.uri), "LDAP URI of the zone's server")(
        "binddn,D", po::value(&o.ldap.bind_dn), "bind DN")(
        "passwordfile,y", po::value(&o.ldap.password_file), "file holding the bind password")(
        "starttls,Z", po::bool_switch(&o.ldap.start_tls), "use StartTLS")(
        "timeout", po::value(&o.ldap.timeout_seconds)->default_value(30), "LDAP timeout, seconds")(
        "jobs,j", po::value(&o.jobs)->default_value(0), "threads for member bulk (0: one per CPU)")(
        "force", po::bool_switch(&o.force), "issue again / replace an existing file")(
        "database-type", po::value(&o.database_type)->default_value("keydir"),
        "database of the slapd.conf snippet: keydir or mdb")(
        "gateway-dn", po::value(&o.gateway_dn), "identity of the gateway (may read userPKCS12)")(
        "db-directory", po::value(&o.db_directory), "database directory in the slapd.conf snippet")(
        "schema-dir", po::value(&o.schema_dir)->default_value("/etc/ldap/schema"),
        "schema directory in the slapd.conf snippet")(
        "openpgp", po::bool_switch(&o.openpgp),
        "member add: also make an OpenPGP key with gpg (its pgpKeyInfo entry)")(
        "openpgp-key", po::value(&o.openpgp_key_file),
        "member add: the member's exported OpenPGP public key (its pgpKeyInfo entry)")(
        "openpgp-secret", po::value(&o.openpgp_secret_file),
        "member add --openpgp: file for the protected OpenPGP secret key");
    po::options_description hidden;
    hidden.add_options()("words", po::value<std::vector<std::string>>());
    po::options_description all;
    all.add(visible).add(hidden);
    po::positional_options_description positional;
    positional.add("words", -1);

    po::variables_map vm;
    try {
        po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(),
                  vm);
        po::notify(vm);
    } catch (const po::error& e) {
        return Fail(std::string(e.what()) + "\n" + kUsage);
    }
    if (vm.count("help")) {
        std::cout << kUsage << "\n" << visible;
        return 0;
    }
    if (vm.count("version")) {
        std::cout << "keydir-admin " << PACKAGE_VERSION << "\n";
        return 0;
    }
    std::vector<std::string> words;
    if (vm.count("words"))
        words = vm["words"].as<std::vector<std::string>>();
    if (words.size() < 2)
        return Fail(std::string("no command given\n") + kUsage);
    std::string command = words[0] + " " + words[1];
    auto allowed = AllowedOptions().find(command);
    if (allowed == AllowedOptions().end())
        return Fail("unknown command '" + command + "'\n" + kUsage);
    if (words.size() != 3)
        return Fail(command + " takes exactly one argument\n" + kUsage);
    for (const auto& [name, value] : vm) {
        if (name == "words" || name == "zones" || value.defaulted())
            continue;
        if (!allowed->second.count(name))
            return Fail("--" + name + " does not apply to " + command);
    }
    if (!key_type.empty()) {
        Status s = keydir::ParseKeyType(key_type, &o.key_type);
        if (!s.ok())
            return Fail(s.message());
        o.key_type_given = true;
    }
    if (!o.ldap.bind_dn.empty() && o.ldap.password_file.empty())
        return Fail("-D DN needs -y FILE (the bind password)");

    keydir::Env* env = keydir::Env::Default();
    keydir::Io io{std::cout, std::cerr};
    const std::string& arg = words[2];
    Status s;
    if (command == "zone init")
        s = keydir::ZoneInit(o, arg, env, io);
    else if (command == "zone crl")
        s = keydir::ZoneCrl(o, arg, env, io);
    else if (command == "member add")
        s = keydir::MemberAdd(o, arg, env, io);
    else if (command == "member bulk")
        s = keydir::MemberBulk(o, arg, env, io);
    else if (command == "member revoke")
        s = keydir::MemberRevoke(o, arg, env, io);
    else if (command == "member rekey")
        s = keydir::MemberRekey(o, arg, env, io);
    else if (command == "member show")
        s = keydir::MemberShow(o, arg, env, io);
    else if (command == "secret new")
        s = keydir::SecretNew(o, arg, env, io);
    else if (command == "cache flush")
        s = keydir::CacheFlush(o, arg, env, io);
    if (s.ok())
        return 0;
    if (command == "member show" && s.IsNotFound() && s.message().rfind("no member", 0) == 0) {
        std::cerr << "keydir-admin: " << s.message() << std::endl;
        return 1;
    }
    return Fail(s.message());
}
