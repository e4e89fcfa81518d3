// bench-members: writes LDIF of a zone's members for the benchmarks (see
// member_factory.h for what is real in them). Not installed: bench/run
// uses it from the build tree until keydir-admin can provision in bulk.
//
//   bench-members --base dc=example,dc=com --pattern user%d@example.com
//                 --count 100000 [--first N] [--zone-entry] [--output FILE]
#include <boost/program_options.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>

#include "address_set.h"
#include "base/env.h"
#include "member_factory.h"

namespace po = boost::program_options;
using namespace keydir::bench;

int main(int argc, char** argv) {
    std::string base, pattern, output, ca_out, member_key = "rsa3072";
    uint64_t first = 0, count = 0, seed = 1;
    size_t pkcs12_bytes = 3072;
    bool zone_entry = false, help = false;
    po::options_description opts("bench-members: LDIF of generated zone members\n\nOptions");
    opts.add_options()("base", po::value(&base), "zone DN the members go under (required)")(
        "pattern", po::value(&pattern), "addresses, e.g. user%d@example.com (required)")(
        "first", po::value(&first), "first number (default 0)")("count", po::value(&count),
                                                                "how many members (required)")(
        "zone-entry", po::bool_switch(&zone_entry), "write the zone's top entry first")(
        "member-key", po::value(&member_key), "rsa2048, rsa3072 or p256 (default rsa3072)")(
        "pkcs12-bytes", po::value(&pkcs12_bytes),
        "size of the userPKCS12 blob, 0 for none (default 3072)")(
        "seed", po::value(&seed), "seed of blobs and serial numbers (default 1)")(
        "output,o", po::value(&output), "write to FILE (default standard output)")(
        "ca-out", po::value(&ca_out), "write the benchmark CA certificate (PEM) to FILE")(
        "help,h", po::bool_switch(&help), "print this help");
    po::variables_map vm;
    try {
        po::store(po::parse_command_line(argc, argv, opts), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        std::cerr << "bench-members: " << e.what() << "\n";
        return 2;
    }
    if (help) {
        std::cout << opts;
        return 0;
    }
    if (base.empty() || pattern.empty() || count == 0) {
        std::cerr << "bench-members: --base, --pattern and --count (at least 1) are required\n";
        return 2;
    }
    AddressPattern ap;
    keydir::Status s = AddressPattern::Parse(pattern, &ap);
    if (!s.ok()) {
        std::cerr << "bench-members: " << s.message() << "\n";
        return 2;
    }
    MemberFactoryOptions fo;
    fo.member_key = member_key;
    fo.seed = seed;
    fo.pkcs12_bytes = pkcs12_bytes;
    fo.random_blob = pkcs12_bytes > 0;
    std::unique_ptr<MemberFactory> factory;
    s = MemberFactory::Create(fo, &factory);
    if (!s.ok()) {
        std::cerr << "bench-members: " << s.message() << "\n";
        return 2;
    }
    std::ofstream file;
    std::ostream* out = &std::cout;
    if (!output.empty()) {
        file.open(output, std::ios::binary | std::ios::trunc);
        if (!file) {
            std::cerr << "bench-members: cannot write " << output << "\n";
            return 2;
        }
        out = &file;
    }
    if (!ca_out.empty()) {
        std::ofstream ca(ca_out, std::ios::trunc);
        ca << factory->CaCertificatePem();
        if (!ca) {
            std::cerr << "bench-members: cannot write " << ca_out << "\n";
            return 2;
        }
    }
    if (zone_entry) {
        std::string ldif;
        s = ZoneLdif(base, &ldif);
        if (!s.ok()) {
            std::cerr << "bench-members: " << s.message() << "\n";
            return 2;
        }
        *out << ldif;
    }
    keydir::Env* env = keydir::Env::Default();
    int64_t t0 = env->NowMonotonicMicros();
    uint64_t cert_bytes = 0;
    MemberEntry m;
    for (uint64_t i = 0; i < count; ++i) {
        s = factory->Make(ap.Format(first + i), base, first + i, &m);
        if (!s.ok()) {
            std::cerr << "bench-members: " << s.message() << "\n";
            return 2;
        }
        cert_bytes += m.certificate_der.size();
        *out << MemberLdif(m);
    }
    out->flush();
    if (!*out) {
        std::cerr << "bench-members: write error\n";
        return 2;
    }
    double secs = (env->NowMonotonicMicros() - t0) / 1e6;
    std::fprintf(stderr,
                 "bench-members: %llu members in %.1f s, certificates %.0f bytes on average\n",
                 static_cast<unsigned long long>(count), secs,
                 static_cast<double>(cert_bytes) / static_cast<double>(count));
    return 0;
}
