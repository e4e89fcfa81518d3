// Re-injection: sends the gateway's copies over SMTP to the next hop (the
// Postfix listener with content filtering switched off). Connections are
// kept open and reused; PIPELINING is used when offered.
#ifndef KEYDIR_GATEWAY_INJECTOR_H
#define KEYDIR_GATEWAY_INJECTOR_H

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/status.h"
#include "gateway/processor.h"
#include "gateway/session_io.h"
#include "gateway/timed_socket.h"

namespace keydir {
namespace gateway {

struct InjectorOptions {
    std::string host = "127.0.0.1";
    std::string port = "10026";
    std::string helo_name = "localhost";
    std::chrono::seconds timeout{300};      // each command
    std::chrono::seconds idle_timeout{60};  // close pooled connections idle longer
    size_t pool_size = 8;                   // idle connections kept
};

// Parses one (possibly multi-line) SMTP reply from `lines`.
Reply ParseReply(const std::vector<std::string>& lines);

// Dot-stuffs `data` (CRLF) and appends the end-of-data line.
std::string DotStuff(std::string_view data);

class Injector : public CopySender {
  public:
    explicit Injector(InjectorOptions options);
    ~Injector() override;

    // Sends one message to `recipients`. Sets one reply per recipient: the
    // next hop's RCPT reply when it refused the recipient, else the reply to
    // DATA; a connection failure gives 451 4.4.2 for all.
    void Send(const std::string& sender, const std::vector<std::string>& recipients,
              const std::string& data, std::vector<Reply>* replies) override;

    // Connects once and says EHLO: a configuration check at start.
    Status Probe();

  private:
    struct Conn;
    Status Open(std::unique_ptr<Conn>* out);
    std::unique_ptr<Conn> TakeIdle();
    void GiveBack(std::unique_ptr<Conn> conn);
    Status ReadReply(Conn* conn, Reply* reply);
    Status SendData(Conn* conn, const std::string& data);
    // OK when the transaction ran (replies set); an error when the
    // connection failed before any reply to MAIL (the caller may retry).
    Status Transaction(Conn* conn, const std::string& sender,
                       const std::vector<std::string>& recipients, const std::string& data,
                       std::vector<Reply>* replies, bool* reusable);

    const InjectorOptions options_;
    std::mutex mu_;
    std::vector<std::unique_ptr<Conn>> idle_;
};

}  // namespace gateway
}  // namespace keydir

#endif  // KEYDIR_GATEWAY_INJECTOR_H
