// keydir-bench's command line (Boost.Program_options) and the settings it
// produces. Every option is described in keydir-bench(1).
#ifndef KEYDIR_TOOLS_BENCH_BENCH_OPTIONS_H
#define KEYDIR_TOOLS_BENCH_BENCH_OPTIONS_H

#include <cstdint>
#include <string>
#include <vector>

#include "base/env.h"
#include "base/status.h"
#include "key_chooser.h"
#include "workload.h"

namespace keydir {
namespace bench {

struct BenchConfig {
    // Server and identity.
    std::string uri = "ldap://127.0.0.1/";
    std::string bind_dn;   // empty: anonymous
    std::string password;  // from -w or -y
    bool bind = false;     // -D given

    // Requests.
    std::string base;
    int scope = 2;  // LDAP_SCOPE_SUBTREE
    std::string filter = "(mail=%s)";
    std::vector<std::string> attributes = {"userCertificate;binary"};
    std::string dn_base;  // add/modify DNs: mail=<address>,<dn_base>
    std::string modify_attribute = "description";
    bool add_full_entries = true;  // certificate and key blob, or mail and cn only
    std::string add_member_key = "rsa3072";

    // Addresses.
    std::string address_file;
    std::string address_pattern;
    uint64_t address_first = 0;
    uint64_t address_count = 0;
    std::string absent_pattern;
    std::string add_pattern;

    OperationMix mix;
    Distribution distribution = Distribution::kUniform;
    double zipf_exponent = 1.0;
    uint64_t seed = 1;

    // Load shape.
    int connections = 1;
    int outstanding = 0;  // 0: the mode's default (1 closed, 100 open)
    int threads = 1;
    double rate = 0;  // > 0: open loop at this many requests per second
    double duration = 10;
    uint64_t requests = 0;  // > 0: stop after this many measured requests
    double warmup = 1;
    double timeout = 10;

    // Output.
    bool json = false;
    bool show_help = false;
    bool show_version = false;
    std::string help_text;

    bool open_loop() const { return rate > 0; }
    int outstanding_per_connection() const {
        return outstanding > 0 ? outstanding : (open_loop() ? 100 : 1);
    }
};

// Parses argv into *config. Bad or contradictory options give
// InvalidArgument with a message naming the option; -y reads the file
// through env.
Status ParseCommandLine(int argc, const char* const* argv, Env* env, BenchConfig* config);

}  // namespace bench
}  // namespace keydir

#endif  // KEYDIR_TOOLS_BENCH_BENCH_OPTIONS_H
