#include "report.h"

#include <cstdio>
#include <iomanip>
#include <sstream>

#include "config.h"

namespace keydir {
namespace bench {
namespace {

const double kPercentiles[] = {50, 90, 99, 99.9};
const char* const kPercentileNames[] = {"p50", "p90", "p99", "p99.9"};

std::string Fixed(double v, int digits) {
    std::ostringstream o;
    o << std::fixed << std::setprecision(digits) << v;
    return o.str();
}

std::string LatencyJson(const LatencyHistogram& h) {
    std::ostringstream o;
    o << "{";
    for (size_t i = 0; i < 4; ++i)
        o << "\"" << kPercentileNames[i] << "\": " << h.Percentile(kPercentiles[i]) << ", ";
    o << "\"min\": " << h.min() << ", \"max\": " << h.max() << ", \"mean\": " << Fixed(h.mean(), 1)
      << "}";
    return o.str();
}

std::string ModeLine(const BenchConfig& c) {
    std::ostringstream o;
    if (c.open_loop())
        o << "open loop at " << Fixed(c.rate, 0) << " requests/s over " << c.connections
          << " connection(s), at most " << c.outstanding_per_connection() << " in flight each";
    else
        o << "closed loop: " << c.connections << " connection(s) x "
          << c.outstanding_per_connection() << " outstanding";
    o << ", " << c.threads << " thread(s)";
    return o.str();
}

}  // namespace

void PrintTextReport(const BenchConfig& c, const ReportContext& ctx, const RunResults& r,
                     std::ostream& out) {
    out << "keydir-bench " << PACKAGE_VERSION << ": " << c.uri << ", base \"" << c.base << "\"\n";
    out << ModeLine(c) << "\n";
    out << "workload " << c.mix.ToString() << " over " << ctx.addresses << " addresses ("
        << DistributionName(c.distribution);
    if (c.distribution == Distribution::kZipf)
        out << ", s=" << c.zipf_exponent;
    out << ")\n";
    out << "measured " << Fixed(r.seconds(), 2) << " s after " << Fixed(c.warmup, 2)
        << " s of warm-up\n\n";
    out << std::left << std::setw(8) << "" << std::right << std::setw(10) << "requests"
        << std::setw(11) << "per sec";
    for (const char* n : kPercentileNames)
        out << std::setw(8) << n;
    out << std::setw(9) << "max"
        << "  (latency in us)\n";
    auto row = [&](const std::string& name, uint64_t n, const LatencyHistogram& h) {
        out << std::left << std::setw(8) << name << std::right << std::setw(10) << n
            << std::setw(11) << Fixed(r.OpsPerSecond(n), 1);
        for (double p : kPercentiles)
            out << std::setw(8) << h.Percentile(p);
        out << std::setw(9) << h.max() << "\n";
    };
    row("all", r.ok(), r.AllLatencies());
    int types = 0;
    for (size_t t = 0; t < kOpTypes; ++t)
        types += c.mix.uses(static_cast<OpType>(t));
    if (types > 1) {
        for (size_t t = 0; t < kOpTypes; ++t)
            if (c.mix.uses(static_cast<OpType>(t)))
                row(OpName(static_cast<OpType>(t)), r.ops[t].ok, r.ops[t].latency);
    }
    if (c.open_loop()) {
        out << "\nschedule lag (send - intended, us): p50 " << r.schedule_lag.Percentile(50)
            << ", p99 " << r.schedule_lag.Percentile(99) << ", max " << r.schedule_lag.max();
        out << "\n";
    }
    out << "\nerrors: ";
    if (r.errors.empty()) {
        out << "none\n";
    } else {
        out << r.error_count() << "\n";
        for (const auto& [k, n] : r.errors) {
            out << "  " << std::setw(10) << n << "  " << ErrorName(k);
            if (k.ldap)
                out << " (" << k.code << ")";
            out << "\n";
        }
    }
    if (r.tcp_connections > 0)
        out << "TCP_NODELAY on " << r.tcp_nodelay_on << " of " << r.tcp_connections
            << " connection(s)\n";
}

void PrintJsonReport(const BenchConfig& c, const ReportContext& ctx, const RunResults& r,
                     std::ostream& out) {
    out << "{\n";
    out << "  \"tool\": \"keydir-bench\",\n  \"version\": " << JsonString(PACKAGE_VERSION) << ",\n";
    out << "  \"uri\": " << JsonString(c.uri) << ",\n  \"base\": " << JsonString(c.base) << ",\n";
    out << "  \"mode\": \"" << (c.open_loop() ? "open" : "closed") << "\",\n";
    out << "  \"rate\": " << (c.open_loop() ? Fixed(c.rate, 3) : "null") << ",\n";
    out << "  \"connections\": " << c.connections
        << ",\n  \"outstanding\": " << c.outstanding_per_connection()
        << ",\n  \"threads\": " << c.threads << ",\n";
    out << "  \"workload\": {";
    bool first = true;
    for (size_t t = 0; t < kOpTypes; ++t) {
        if (!c.mix.uses(static_cast<OpType>(t)))
            continue;
        out << (first ? "" : ", ") << "\"" << OpName(static_cast<OpType>(t))
            << "\": " << c.mix.weight(static_cast<OpType>(t));
        first = false;
    }
    out << "},\n";
    out << "  \"distribution\": \"" << DistributionName(c.distribution) << "\",\n";
    out << "  \"zipf_exponent\": " << c.zipf_exponent << ",\n";
    out << "  \"addresses\": " << ctx.addresses << ",\n";
    out << "  \"absent_addresses\": " << ctx.absent_addresses << ",\n";
    out << "  \"warmup_seconds\": " << Fixed(c.warmup, 3) << ",\n";
    out << "  \"measured_seconds\": " << Fixed(r.seconds(), 6) << ",\n";
    out << "  \"operations\": " << r.ok() << ",\n";
    out << "  \"ops_per_second\": " << Fixed(r.OpsPerSecond(r.ok()), 2) << ",\n";
    out << "  \"latency_us\": " << LatencyJson(r.AllLatencies()) << ",\n";
    out << "  \"by_operation\": {";
    first = true;
    for (size_t t = 0; t < kOpTypes; ++t) {
        if (!c.mix.uses(static_cast<OpType>(t)))
            continue;
        const OpStats& s = r.ops[t];
        out << (first ? "\n" : ",\n") << "    \"" << OpName(static_cast<OpType>(t))
            << "\": {\"operations\": " << s.ok
            << ", \"ops_per_second\": " << Fixed(r.OpsPerSecond(s.ok), 2)
            << ", \"entries\": " << s.entries << ", \"latency_us\": " << LatencyJson(s.latency)
            << "}";
        first = false;
    }
    out << "\n  },\n";
    out << "  \"errors\": " << r.error_count() << ",\n";
    out << "  \"errors_by_code\": [";
    first = true;
    for (const auto& [k, n] : r.errors) {
        out << (first ? "" : ", ") << "{\"code\": ";
        if (k.ldap)
            out << k.code;
        else
            out << "null";
        out << ", \"name\": " << JsonString(ErrorName(k)) << ", \"count\": " << n << "}";
        first = false;
    }
    out << "],\n";
    if (c.open_loop()) {
        out << "  \"schedule_lag_us\": " << LatencyJson(r.schedule_lag) << ",\n";
    }
    out << "  \"tcp_connections\": " << r.tcp_connections << ",\n";
    out << "  \"tcp_nodelay\": " << r.tcp_nodelay_on << "\n";
    out << "}\n";
}

}  // namespace bench
}  // namespace keydir
