#include "gateway/log.h"

#include <syslog.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace keydir {
namespace gateway {
namespace {

std::atomic<bool> g_syslog{false};
std::atomic<bool> g_verbose{false};
std::mutex g_mu;

}  // namespace

void LogToSyslog(bool on) {
    if (on)
        openlog("keydir-gateway", LOG_PID | LOG_NDELAY, LOG_MAIL);
    g_syslog = on;
}

void SetLogVerbose(bool on) {
    g_verbose = on;
}

void Log(LogLevel level, const std::string& line) {
    if (level == LogLevel::kDebug && !g_verbose)
        return;
    if (g_syslog) {
        int prio = level == LogLevel::kError     ? LOG_ERR
                   : level == LogLevel::kWarning ? LOG_WARNING
                   : level == LogLevel::kInfo    ? LOG_INFO
                                                 : LOG_DEBUG;
        syslog(prio, "%s", line.c_str());
        return;
    }
    const char* tag = level == LogLevel::kError     ? "error: "
                      : level == LogLevel::kWarning ? "warning: "
                                                    : "";
    char stamp[32];
    std::time_t now = std::time(nullptr);
    struct tm tm;
    localtime_r(&now, &tm);
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    std::lock_guard<std::mutex> lock(g_mu);
    std::fprintf(stderr, "%s keydir-gateway[%d]: %s%s\n", stamp, static_cast<int>(getpid()), tag,
                 line.c_str());
    std::fflush(stderr);
}

}  // namespace gateway
}  // namespace keydir
