// keydir-lookup: an address's certificate from a client's side. See
// keydir-lookup(1). Exit status: 0 found, 1 not found (no usable
// certificate), 2 error.
#include <boost/program_options.hpp>
#include <iostream>
#include <memory>
#include <string>

#include "config.h"
#include "lookup/output.h"
#include "lookup/resolver.h"

namespace po = boost::program_options;

namespace {

const char kUsage[] =
    "usage: keydir-lookup [-H URI] [-b BASE] [--json] [--max-hops N] [--timeout S]\n"
    "                     [--trust-anchor FILE] ADDRESS\n";

}  // namespace

int main(int argc, char** argv) {
    keydir::LookupOptions o;
    std::string address, anchor_file;
    bool json = false;
    po::options_description visible("Options");
    visible.add_options()("help,h", "show this help")("version", "show the version")(
        "uri,H", po::value(&o.uri), "LDAP URI of the key server (default: ldap.conf's URI)")(
        "base,b", po::value(&o.base), "search base (default: the address's zone, dc=...)")(
        "json", po::bool_switch(&json), "print one JSON object")(
        "max-hops", po::value(&o.max_hops)->default_value(8),
        "referrals followed in a row, at most")(
        "timeout", po::value(&o.timeout_seconds)->default_value(10),
        "seconds per connection and search")("trust-anchor", po::value(&anchor_file),
                                             "PEM CA certificate(s) the certificate must chain to");
    po::options_description hidden;
    hidden.add_options()("address", po::value(&address));
    po::options_description all;
    all.add(visible).add(hidden);
    po::positional_options_description positional;
    positional.add("address", 1);
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(),
                  vm);
        po::notify(vm);
    } catch (const po::error& e) {
        std::cerr << "keydir-lookup: " << e.what() << "\n" << kUsage;
        return 2;
    }
    if (vm.count("help")) {
        std::cout << kUsage << "\n" << visible;
        return 0;
    }
    if (vm.count("version")) {
        std::cout << "keydir-lookup " << PACKAGE_VERSION << "\n";
        return 0;
    }
    if (address.empty()) {
        std::cerr << "keydir-lookup: no address given\n" << kUsage;
        return 2;
    }

    keydir::LookupResult result;
    keydir::Status s;
    if (o.max_hops < 0 || o.timeout_seconds < 1)
        s = keydir::Status::InvalidArgument("--max-hops must be 0 or more and --timeout 1 or more");
    std::unique_ptr<keydir::TrustAnchors> anchors;
    if (s.ok() && !anchor_file.empty()) {
        s = keydir::TrustAnchors::Load(anchor_file, &anchors);
        o.anchors = anchors.get();
    }
    if (s.ok())
        s = keydir::Lookup(address, o, &result);

    if (json)
        std::cout << keydir::JsonOutput(address, result, s);
    else
        std::cout << keydir::TextOutput(result);
    for (const auto& w : result.warnings)
        std::cerr << "keydir-lookup: warning: " << w << "\n";
    if (!s.ok()) {
        std::cerr << "keydir-lookup: " << s.message() << "\n";
        return 2;
    }
    if (result.usable.empty()) {
        std::cerr << "keydir-lookup: no usable certificate for " << address;
        if (result.entries == 0)
            std::cerr << " (no entry found)";
        std::cerr << "\n";
        for (const auto& r : result.rejected)
            std::cerr << "keydir-lookup:   " << r.dn << " at " << r.server << ": " << r.reason
                      << "\n";
        return 1;
    }
    return 0;
}
