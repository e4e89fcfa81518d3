// What a benchmark run measured: per operation type the successful
// requests and their latency histogram, failed requests by result code,
// and the measured time window. One per client thread, merged at the end.
#ifndef KEYDIR_TOOLS_BENCH_RUN_RESULTS_H
#define KEYDIR_TOOLS_BENCH_RUN_RESULTS_H

#include <array>
#include <cstdint>
#include <map>
#include <string>

#include "histogram.h"
#include "workload.h"

namespace keydir {
namespace bench {

// Failures that are not an LDAP result code: the request succeeded, but its
// answer was not what the workload expects.
enum class Anomaly { kNone = 0, kLookupFoundNothing, kAbsentFound };

struct ErrorKey {
    bool ldap = true;  // LDAP result code (server or client library) or Anomaly
    int code = 0;
    bool operator<(const ErrorKey& o) const {
        return ldap != o.ldap ? ldap < o.ldap : code < o.code;
    }
};

std::string ErrorName(const ErrorKey& key);

struct OpStats {
    uint64_t ok = 0;
    uint64_t entries = 0;      // search entries received by successful requests
    LatencyHistogram latency;  // microseconds, successful requests only
};

struct RunResults {
    std::array<OpStats, kOpTypes> ops;
    std::map<ErrorKey, uint64_t> errors;
    LatencyHistogram schedule_lag;  // open loop: send time - intended time
    int64_t window_start_us = 0;    // end of the warm-up
    int64_t window_end_us = 0;      // last measured completion (or end of the run)
    int tcp_nodelay_on = 0;         // connections with TCP_NODELAY set
    int tcp_connections = 0;        // connections over TCP

    void Merge(const RunResults& other);
    uint64_t ok() const;
    uint64_t error_count() const;
    LatencyHistogram AllLatencies() const;
    double seconds() const { return (window_end_us - window_start_us) / 1e6; }
    double OpsPerSecond(uint64_t n) const {
        return seconds() > 0 ? static_cast<double>(n) / seconds() : 0.0;
    }
};

}  // namespace bench
}  // namespace keydir

#endif  // KEYDIR_TOOLS_BENCH_RUN_RESULTS_H
