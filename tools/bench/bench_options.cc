#include "bench_options.h"

#include <boost/program_options.hpp>

#include <cmath>
#include <sstream>

#include "address_set.h"

namespace po = boost::program_options;

namespace keydir {
namespace bench {
namespace {

Status Invalid(const std::string& msg) {
    return Status::InvalidArgument(msg);
}

std::vector<std::string> SplitAttributes(const std::string& list) {
    std::vector<std::string> out;
    std::string cur;
    for (char c : list) {
        if (c == ',' || c == ' ') {
            if (!cur.empty())
                out.push_back(cur);
            cur.clear();
        } else {
            cur.push_back(c);
        }
    }
    if (!cur.empty())
        out.push_back(cur);
    return out;
}

// A run identifier for the default names of added members, so that two
// runs against one database never add the same entry.
std::string RunId(Env* env) {
    unsigned char b[4];
    if (!env->RandomBytes(b, sizeof b).ok())
        return std::to_string(env->NowUnixSeconds());
    static const char kHex[] = "0123456789abcdef";
    std::string id;
    for (unsigned char c : b) {
        id.push_back(kHex[c >> 4]);
        id.push_back(kHex[c & 15]);
    }
    return id;
}

}  // namespace

Status ParseCommandLine(int argc, const char* const* argv, Env* env, BenchConfig* config) {
    BenchConfig& c = *config;
    std::string workload = "lookup", distribution = "uniform", scope = "sub", attrs, password_file,
                add_entry = "full";

    po::options_description server("Server and identity");
    server.add_options()("uri,H", po::value(&c.uri),
                         "LDAP URI of the server (default ldap://127.0.0.1/)")(
        "bind-dn,D", po::value(&c.bind_dn), "bind with this DN (simple bind); anonymous if absent")(
        "password,w", po::value(&c.password), "the bind password")(
        "password-file,y", po::value(&password_file),
        "read the bind password from FILE (all of it)");
    po::options_description requests("Requests");
    requests.add_options()("base,b", po::value(&c.base), "search base (required)")(
        "scope,s", po::value(&scope), "search scope: base, one or sub (default sub)")(
        "filter,f", po::value(&c.filter), "filter, %s is the address (default (mail=%s))")(
        "attributes,a", po::value(&attrs),
        "attributes to ask for, comma separated (default userCertificate;binary)")(
        "workload,W", po::value(&workload),
        "lookup, absent, add, modify or a mix such as lookup=90,modify=10")(
        "dn-base", po::value(&c.dn_base),
        "add/modify the entries mail=ADDRESS,DN (default: the base)")(
        "modify-attribute", po::value(&c.modify_attribute),
        "attribute that modify replaces (default description)")(
        "add-entry", po::value(&add_entry),
        "full (certificate and key blob) or minimal (mail and cn) (default full)")(
        "add-member-key", po::value(&c.add_member_key),
        "key type in added certificates: rsa2048, rsa3072, p256 (default rsa3072)");
    po::options_description addresses("Addresses");
    addresses.add_options()("addresses", po::value(&c.address_file),
                            "FILE of addresses that exist, one per line")(
        "address-pattern", po::value(&c.address_pattern),
        "addresses that exist, e.g. user%d@example.com")(
        "address-first", po::value(&c.address_first), "first number of the pattern (default 0)")(
        "address-count", po::value(&c.address_count), "how many numbers the pattern covers")(
        "absent-pattern", po::value(&c.absent_pattern),
        "addresses that do not exist (default nobody%d@DOMAIN)")(
        "add-pattern", po::value(&c.add_pattern), "addresses to add (default add-RUN-%d@DOMAIN)")(
        "distribution", po::value(&distribution), "uniform, zipf or sequential (default uniform)")(
        "zipf-exponent", po::value(&c.zipf_exponent), "exponent s of the Zipf law (default 1.0)")(
        "seed", po::value(&c.seed), "seed of every random choice (default 1)");
    po::options_description load("Load");
    load.add_options()("connections,c", po::value(&c.connections),
                       "connections to open (default 1)")(
        "outstanding,m", po::value(&c.outstanding),
        "requests in flight per connection (default 1 closed, at most 100 open loop)")(
        "threads,t", po::value(&c.threads), "client threads sharing the connections (default 1)")(
        "rate,r", po::value(&c.rate), "open loop: send this many requests per second in all")(
        "duration,d", po::value(&c.duration), "seconds measured after the warm-up (default 10)")(
        "requests,n", po::value(&c.requests), "measure this many requests instead of a duration")(
        "warmup", po::value(&c.warmup), "seconds of warm-up, not measured (default 1)")(
        "timeout", po::value(&c.timeout),
        "seconds after which a request is abandoned and counted as an error (default 10)");
    po::options_description output("Output");
    output.add_options()("json", po::bool_switch(&c.json), "print the report as JSON")(
        "help,h", po::bool_switch(&c.show_help), "print this help")(
        "version,V", po::bool_switch(&c.show_version), "print the version");
    po::options_description all(
        "keydir-bench: load generator for LDAP key lookups\n\n"
        "Usage: keydir-bench -H URI -b BASE [options]");
    all.add(server).add(requests).add(addresses).add(load).add(output);
    std::ostringstream help;
    help << all;
    c.help_text = help.str();

    po::variables_map vm;
    try {
        // No positional arguments: a stray word is an error, not ignored.
        po::positional_options_description none;
        po::store(po::command_line_parser(argc, argv).options(all).positional(none).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        return Invalid(e.what());
    }
    if (c.show_help || c.show_version)
        return Status::OK();
    bool have_password = vm.count("password") > 0;

    if (vm.count("password-file")) {
        if (have_password)
            return Invalid("give the password with -w or -y, not both");
        Status s = env->ReadFile(password_file, &c.password);
        if (!s.ok())
            return Invalid("cannot read the password file: " + s.message());
        have_password = true;
    }
    c.bind = vm.count("bind-dn") > 0;
    if (c.bind && !have_password)
        return Invalid("-D needs a password (-w or -y)");
    if (!c.bind && have_password)
        return Invalid("a password needs a bind DN (-D)");

    if (c.base.empty() && !vm.count("base"))
        return Invalid("the search base (-b) is required");
    if (scope == "base")
        c.scope = 0;
    else if (scope == "one")
        c.scope = 1;
    else if (scope == "sub")
        c.scope = 2;
    else
        return Invalid("--scope must be base, one or sub, not '" + scope + "'");
    if (c.filter.find("%s") == std::string::npos)
        return Invalid("--filter must contain %s where the address goes");
    if (vm.count("attributes")) {
        c.attributes = SplitAttributes(attrs);
        if (c.attributes.empty())
            return Invalid("--attributes is empty (use 1.1 for no attributes)");
    }
    if (c.dn_base.empty())
        c.dn_base = c.base;
    if (add_entry == "full")
        c.add_full_entries = true;
    else if (add_entry == "minimal")
        c.add_full_entries = false;
    else
        return Invalid("--add-entry must be full or minimal, not '" + add_entry + "'");

    Status s = OperationMix::Parse(workload, &c.mix);
    if (!s.ok())
        return Invalid("--workload: " + s.message());
    s = ParseDistribution(distribution, &c.distribution);
    if (!s.ok())
        return Invalid("--distribution: " + s.message());
    if (!(c.zipf_exponent >= 0 && c.zipf_exponent <= 10))
        return Invalid("--zipf-exponent must be between 0 and 10");

    // Addresses: a file or a pattern, for the operations that need them.
    bool need_present = c.mix.uses(OpType::kLookup) || c.mix.uses(OpType::kModify);
    bool have_file = !c.address_file.empty(), have_pattern = !c.address_pattern.empty();
    if (have_file && have_pattern)
        return Invalid("give --addresses or --address-pattern, not both");
    if (have_pattern && c.address_count == 0)
        return Invalid("--address-pattern needs --address-count");
    if (!have_pattern && (vm.count("address-count") || vm.count("address-first")))
        return Invalid("--address-count and --address-first go with --address-pattern");
    if ((need_present || (c.mix.uses(OpType::kAbsent) && c.absent_pattern.empty()) ||
         (c.mix.uses(OpType::kAdd) && c.add_pattern.empty())) &&
        !have_file && !have_pattern)
        return Invalid(
            "workload '" + c.mix.ToString() +
            "' needs addresses: --addresses FILE or --address-pattern with --address-count");
    if (have_pattern) {
        AddressPattern p;
        s = AddressPattern::Parse(c.address_pattern, &p);
        if (!s.ok())
            return Invalid("--address-pattern: " + s.message());
    }
    if (!c.absent_pattern.empty()) {
        AddressPattern p;
        s = AddressPattern::Parse(c.absent_pattern, &p);
        if (!s.ok())
            return Invalid("--absent-pattern: " + s.message());
    }
    if (!c.add_pattern.empty()) {
        AddressPattern p;
        s = AddressPattern::Parse(c.add_pattern, &p);
        if (!s.ok())
            return Invalid("--add-pattern: " + s.message());
    } else if (c.mix.uses(OpType::kAdd)) {
        c.add_pattern = "add-" + RunId(env) + "-%d@";  // domain appended once addresses are read
    }

    // Load shape.
    if (c.connections < 1 || c.connections > 10000)
        return Invalid("--connections must be between 1 and 10000");
    if (c.threads < 1 || c.threads > c.connections)
        return Invalid("--threads must be between 1 and the number of connections");
    if (c.outstanding < 0 || c.outstanding > 10000)
        return Invalid("--outstanding must be between 1 and 10000");
    if (vm.count("outstanding") && c.outstanding == 0)
        return Invalid("--outstanding must be between 1 and 10000");
    if (!(c.rate >= 0) || !std::isfinite(c.rate) || c.rate > 10e6)
        return Invalid("--rate must be a positive number of requests per second");
    if (vm.count("rate") && c.rate == 0)
        return Invalid("--rate must be above 0");
    if (vm.count("requests") && c.requests == 0)
        return Invalid("--requests must be at least 1");
    if (vm.count("requests") && vm.count("duration"))
        return Invalid("give --duration or --requests, not both");
    if (!(c.duration > 0) || c.duration > 86400)
        return Invalid("--duration must be between 0 and 86400 seconds");
    if (!(c.warmup >= 0) || c.warmup > 3600)
        return Invalid("--warmup must be between 0 and 3600 seconds");
    if (!(c.timeout > 0) || c.timeout > 3600)
        return Invalid("--timeout must be between 0 and 3600 seconds");
    return Status::OK();
}

}  // namespace bench
}  // namespace keydir
