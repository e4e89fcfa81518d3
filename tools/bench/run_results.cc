#include "run_results.h"

#include <ldap.h>

#include <algorithm>

namespace keydir {
namespace bench {

std::string ErrorName(const ErrorKey& key) {
    if (key.ldap)
        return ldap_err2string(key.code);
    switch (static_cast<Anomaly>(key.code)) {
        case Anomaly::kLookupFoundNothing:
            return "lookup found no entry";
        case Anomaly::kAbsentFound:
            return "absent address found";
        case Anomaly::kNone:
            break;
    }
    return "unknown";
}

void RunResults::Merge(const RunResults& o) {
    for (size_t t = 0; t < kOpTypes; ++t) {
        ops[t].ok += o.ops[t].ok;
        ops[t].entries += o.ops[t].entries;
        ops[t].latency.Merge(o.ops[t].latency);
    }
    for (const auto& [k, n] : o.errors)
        errors[k] += n;
    schedule_lag.Merge(o.schedule_lag);
    if (window_start_us == 0 || (o.window_start_us != 0 && o.window_start_us < window_start_us))
        window_start_us = o.window_start_us;
    window_end_us = std::max(window_end_us, o.window_end_us);
    tcp_nodelay_on += o.tcp_nodelay_on;
    tcp_connections += o.tcp_connections;
}

uint64_t RunResults::ok() const {
    uint64_t n = 0;
    for (const auto& s : ops)
        n += s.ok;
    return n;
}

uint64_t RunResults::error_count() const {
    uint64_t n = 0;
    for (const auto& e : errors)
        n += e.second;
    return n;
}

LatencyHistogram RunResults::AllLatencies() const {
    LatencyHistogram all;
    for (const auto& s : ops)
        all.Merge(s.latency);
    return all;
}

}  // namespace bench
}  // namespace keydir
