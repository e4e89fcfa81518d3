// keydir-bench: a load generator for LDAP key lookups. See keydir-bench(1).
//
// Exit codes: 0 the run completed without a failed request, 1 it completed
// but some requests failed (the report counts them by result code), 2 it
// could not run (bad option, server unreachable, bind refused).
#include <iostream>

#include "base/env.h"
#include "bench_options.h"
#include "config.h"
#include "load_driver.h"
#include "report.h"

int main(int argc, char** argv) {
    using namespace keydir::bench;
    keydir::Env* env = keydir::Env::Default();
    BenchConfig config;
    keydir::Status s = ParseCommandLine(argc, argv, env, &config);
    if (!s.ok()) {
        std::cerr << "keydir-bench: " << s.message() << "\n"
                  << "Try 'keydir-bench --help'.\n";
        return 2;
    }
    if (config.show_help) {
        std::cout << config.help_text;
        return 0;
    }
    if (config.show_version) {
        std::cout << "keydir-bench " << PACKAGE_VERSION << "\n";
        return 0;
    }
    ReportContext context;
    RunResults results;
    s = RunBenchmark(config, env, &context, &results);
    if (!s.ok()) {
        std::cerr << "keydir-bench: " << s.message() << "\n";
        return 2;
    }
    if (config.json)
        PrintJsonReport(config, context, results, std::cout);
    else
        PrintTextReport(config, context, results, std::cout);
    std::cout.flush();
    return results.error_count() == 0 ? 0 : 1;
}
