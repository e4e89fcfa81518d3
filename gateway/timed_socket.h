// A TCP connection with deadlines on every operation, for one thread: it
// owns its io_context and runs it only while an operation is in flight,
// so that a session is plain sequential code and still never hangs.
#ifndef KEYDIR_GATEWAY_TIMED_SOCKET_H
#define KEYDIR_GATEWAY_TIMED_SOCKET_H

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio.hpp>

#include "base/status.h"
#include "gateway/session_io.h"

namespace keydir {
namespace gateway {

class TimedSocket : public SessionConnection {
  public:
    using Clock = std::chrono::steady_clock;

    TimedSocket();
    // Takes over an accepted socket that belongs to `io`.
    TimedSocket(std::unique_ptr<boost::asio::io_context> io, boost::asio::ip::tcp::socket socket);
    ~TimedSocket() override;
    TimedSocket(const TimedSocket&) = delete;
    TimedSocket& operator=(const TimedSocket&) = delete;

    Status Connect(const std::string& host, const std::string& port, std::chrono::seconds timeout);

    // One line without its line end (CRLF or bare LF). Lines longer than
    // `max_len` are consumed whole and InvalidArgument is returned. When
    // `interrupt` is set and becomes true while no byte of the line has
    // arrived yet, returns Unavailable (a shutdown); NotFound on EOF.
    Status ReadLine(std::string* line, size_t max_len, std::chrono::seconds timeout,
                    const std::atomic<bool>* interrupt = nullptr) override;

    // The message after DATA up to the line ".", dot-unstuffed, lines ended
    // with CRLF, appended to *out. Beyond `max_size` octets *too_big is set
    // and *out emptied (the rest is read and dropped); a line longer than
    // `max_line` sets *line_too_long. Either way the data is read to its end.
    Status ReadData(std::string* out, size_t max_size, size_t max_line,
                    std::chrono::seconds timeout, bool* too_big, bool* line_too_long) override;

    // Queues bytes; they go out with the next Flush (or before a read when
    // no complete line is buffered: replies to pipelined commands go together).
    void Queue(std::string_view data) override { out_.append(data); }
    Status Flush(std::chrono::seconds timeout) override;
    Status Write(std::string_view data, std::chrono::seconds timeout);
    // Writes `a` then `b` in one gathered write.
    Status Write(std::string_view a, std::string_view b, std::chrono::seconds timeout);

    bool HasBufferedLine() const;
    void Close();
    bool is_open() const { return socket_.is_open(); }
    std::string peer() const override;

  private:
    template <typename Start>
    Status Run(Start start, Clock::duration timeout, const std::atomic<bool>* interrupt,
               size_t* transferred);

    std::unique_ptr<boost::asio::io_context> io_;
    boost::asio::ip::tcp::socket socket_;
    std::string in_;  // received, not yet consumed
    size_t in_pos_ = 0;
    std::string out_;  // queued replies
};

}  // namespace gateway
}  // namespace keydir

#endif  // KEYDIR_GATEWAY_TIMED_SOCKET_H
