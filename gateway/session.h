// One SMTP or LMTP connection from Postfix: the command dialogue (EHLO /
// LHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT, with PIPELINING), size and
// address checks, then the Processor's plan sent through the Injector and
// the outcome answered (LMTP: one reply per recipient) and logged.
#ifndef KEYDIR_GATEWAY_SESSION_H
#define KEYDIR_GATEWAY_SESSION_H

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include "gateway/key_source.h"
#include "gateway/processor.h"
#include "gateway/session_io.h"

namespace keydir {
namespace gateway {

struct SessionOptions {
    std::string hostname = "localhost";
    size_t max_message_size = 50u << 20;  // octets
    size_t max_recipients = 1000;
    std::chrono::seconds timeout{300};
    int max_errors = 20;  // bad commands before the connection is closed
};

class Session {
  public:
    // `socket` is a TimedSocket and `injector` the Injector in the server.
    Session(SessionConnection* socket, const SessionOptions& options, Processor* processor,
            KeySource* keys, CopySender* injector, const std::atomic<bool>* stopping,
            std::string id);
    void Run();

  private:
    enum class Mode { kNone, kSmtp, kLmtp };
    void Send(const std::string& reply) { socket_->Queue(reply + "\r\n"); }
    void ResetTransaction();
    bool HandleCommand(const std::string& line);  // false: close the connection
    void Hello(const std::string& verb, const std::string& arg);
    void Mail(const std::string& arg);
    void Rcpt(const std::string& arg);
    bool Data();
    void Deliver(std::string message);

    SessionConnection* const socket_;
    const SessionOptions& options_;
    Processor* const processor_;
    MemoKeySource keys_;
    CopySender* const injector_;
    const std::atomic<bool>* const stopping_;
    const std::string id_;
    int transactions_ = 0;
    int errors_ = 0;
    Mode mode_ = Mode::kNone;
    bool have_mail_ = false;
    size_t size_hint_ = 0;  // MAIL FROM's SIZE=
    std::string sender_;
    std::vector<std::string> recipients_;
};

}  // namespace gateway
}  // namespace keydir

#endif  // KEYDIR_GATEWAY_SESSION_H
