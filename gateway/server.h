// The listening side: accepts connections on one address and runs each in
// a thread of its own, at most max_sessions at once (further connections
// wait in the kernel's backlog). SIGTERM/SIGINT stop accepting; sessions
// finish the message they are in and close; after a grace period the
// process ends anyway (Postfix retries anything unanswered).
#ifndef KEYDIR_GATEWAY_SERVER_H
#define KEYDIR_GATEWAY_SERVER_H

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>

#include <boost/asio.hpp>

#include "gateway/injector.h"
#include "gateway/key_source.h"
#include "gateway/processor.h"
#include "gateway/session.h"

namespace keydir {
namespace gateway {

struct ServerOptions {
    std::string host = "127.0.0.1";
    std::string port = "10025";
    int max_sessions = 16;
    std::chrono::seconds shutdown_grace{30};
    SessionOptions session;
};

class Server {
  public:
    Server(ServerOptions options, Processor* processor, KeySource* keys, Injector* injector);
    ~Server();

    // Binds the listening socket (before privileges are dropped).
    Status Listen();
    // Serves until SIGTERM or SIGINT (or Stop()). Returns true when every
    // session ended, false when some were still busy after the grace period
    // (their threads still use this object: the caller must not destroy it).
    bool Run();
    void Stop();

  private:
    void Accept();
    void SessionDone();

    const ServerOptions options_;
    Processor* const processor_;
    KeySource* const keys_;
    Injector* const injector_;
    boost::asio::io_context io_;
    boost::asio::ip::tcp::acceptor acceptor_;
    boost::asio::signal_set signals_;
    std::atomic<bool> stopping_{false};
    std::mutex mu_;
    std::condition_variable cv_;
    int active_ = 0;
    bool accepting_ = false;
    uint64_t next_id_ = 0;
};

}  // namespace gateway
}  // namespace keydir

#endif  // KEYDIR_GATEWAY_SERVER_H
