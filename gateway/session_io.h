// What a Session talks through: the client's connection and the
// re-injection of the copies it builds. The server gives it a TimedSocket
// and the Injector; tests/fuzz/smtp_fuzzer.cc gives it a scripted
// connection and a sink, so that the SMTP state machine runs without
// sockets (and without Boost.Asio in the build).
#ifndef KEYDIR_GATEWAY_SESSION_IO_H
#define KEYDIR_GATEWAY_SESSION_IO_H

#include <atomic>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "gateway/processor.h"

namespace keydir {
namespace gateway {

// The client connection; the contract of each call is TimedSocket's.
class SessionConnection {
  public:
    virtual ~SessionConnection() = default;
    virtual Status ReadLine(std::string* line, size_t max_len, std::chrono::seconds timeout,
                            const std::atomic<bool>* interrupt) = 0;
    virtual Status ReadData(std::string* out, size_t max_size, size_t max_line,
                            std::chrono::seconds timeout, bool* too_big, bool* line_too_long) = 0;
    virtual void Queue(std::string_view data) = 0;
    virtual Status Flush(std::chrono::seconds timeout) = 0;
    virtual std::string peer() const = 0;
};

// Sends one copy to its recipients; the contract is Injector::Send's.
class CopySender {
  public:
    virtual ~CopySender() = default;
    virtual void Send(const std::string& sender, const std::vector<std::string>& recipients,
                      const std::string& data, std::vector<Reply>* replies) = 0;
};

}  // namespace gateway
}  // namespace keydir

#endif  // KEYDIR_GATEWAY_SESSION_IO_H
