// keydir-bench's report, as text for people and as JSON for scripts
// (bench/run reads the JSON). The fields are described in keydir-bench(1).
#ifndef KEYDIR_TOOLS_BENCH_REPORT_H
#define KEYDIR_TOOLS_BENCH_REPORT_H

#include <ostream>
#include <string>

#include "base/json.h"
#include "bench_options.h"
#include "run_results.h"

namespace keydir {
namespace bench {

struct ReportContext {
    uint64_t addresses = 0;  // size of the set lookups/modifies draw from
    uint64_t absent_addresses = 0;
};

void PrintTextReport(const BenchConfig& config, const ReportContext& context,
                     const RunResults& results, std::ostream& out);
void PrintJsonReport(const BenchConfig& config, const ReportContext& context,
                     const RunResults& results, std::ostream& out);

}  // namespace bench
}  // namespace keydir

#endif  // KEYDIR_TOOLS_BENCH_REPORT_H
