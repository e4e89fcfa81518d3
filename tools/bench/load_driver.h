// The load loops of keydir-bench.
//
// Closed loop: every connection keeps exactly M requests in flight; a
// request is sent the moment an earlier one finishes, and its latency is
// measured from that send.
//
// Open loop: requests are due at fixed intervals (the rate, split over the
// client threads) whatever the server does; a due request goes to the
// connection with the fewest in flight (at most M), or waits in the
// client's queue. Its latency is measured from the time it was *due*, so a
// server that stalls is charged for every request that queued behind the
// stall (no coordinated omission).
//
// Requests that start in the warm-up are not measured. Each client thread
// owns its connections and runs one poll loop over them.
#ifndef KEYDIR_TOOLS_BENCH_LOAD_DRIVER_H
#define KEYDIR_TOOLS_BENCH_LOAD_DRIVER_H

#include "base/env.h"
#include "base/status.h"
#include "bench_options.h"
#include "report.h"
#include "run_results.h"

namespace keydir {
namespace bench {

// Opens the connections, runs the load and fills *results. A status that
// is not OK means the run could not start (addresses, connection, bind).
Status RunBenchmark(const BenchConfig& config, Env* env, ReportContext* context,
                    RunResults* results);

}  // namespace bench
}  // namespace keydir

#endif  // KEYDIR_TOOLS_BENCH_LOAD_DRIVER_H
