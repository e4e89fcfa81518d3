// The gateway's log: to stderr when it runs in the foreground, else to
// syslog (facility mail, like Postfix), one line per event.
#ifndef KEYDIR_GATEWAY_LOG_H
#define KEYDIR_GATEWAY_LOG_H

#include <string>

namespace keydir {
namespace gateway {

enum class LogLevel { kError, kWarning, kInfo, kDebug };

// Chooses the destination once, at start.
void LogToSyslog(bool on);
void SetLogVerbose(bool on);
void Log(LogLevel level, const std::string& line);

inline void LogInfo(const std::string& line) {
    Log(LogLevel::kInfo, line);
}
inline void LogWarning(const std::string& line) {
    Log(LogLevel::kWarning, line);
}
inline void LogError(const std::string& line) {
    Log(LogLevel::kError, line);
}
inline void LogDebug(const std::string& line) {
    Log(LogLevel::kDebug, line);
}

}  // namespace gateway
}  // namespace keydir

#endif  // KEYDIR_GATEWAY_LOG_H
