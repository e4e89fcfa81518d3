#include "gateway/timed_socket.h"

#include <algorithm>
#include <array>

namespace keydir {
namespace gateway {

namespace asio = boost::asio;
using asio::ip::tcp;

TimedSocket::TimedSocket() : io_(std::make_unique<asio::io_context>(1)), socket_(*io_) {}

TimedSocket::TimedSocket(std::unique_ptr<asio::io_context> io, tcp::socket socket)
    : io_(std::move(io)), socket_(std::move(socket)) {}

TimedSocket::~TimedSocket() {
    Close();
}

void TimedSocket::Close() {
    boost::system::error_code ec;
    if (socket_.is_open()) {
        socket_.shutdown(tcp::socket::shutdown_both, ec);
        socket_.close(ec);
    }
}

std::string TimedSocket::peer() const {
    boost::system::error_code ec;
    auto ep = socket_.remote_endpoint(ec);
    if (ec)
        return "unknown";
    return ep.address().to_string() + ":" + std::to_string(ep.port());
}

template <typename Start>
Status TimedSocket::Run(Start start, Clock::duration timeout, const std::atomic<bool>* interrupt,
                        size_t* transferred) {
    bool done = false;
    boost::system::error_code result;
    size_t n = 0;
    io_->restart();
    start([&](const boost::system::error_code& ec, size_t bytes) {
        result = ec;
        n = bytes;
        done = true;
    });
    const auto deadline = Clock::now() + timeout;
    bool interrupted = false;
    while (!done) {
        auto now = Clock::now();
        if (now >= deadline)
            break;
        if (interrupt && interrupt->load()) {
            interrupted = true;
            break;
        }
        // Wake up every second to look at the interrupt flag.
        auto slice = std::min<Clock::duration>(deadline - now, std::chrono::seconds(1));
        io_->run_for(slice);
    }
    if (!done) {
        boost::system::error_code ignored;
        socket_.cancel(ignored);
        io_->restart();
        while (!done)
            io_->run_one();
        if (interrupted)
            return Status::Unavailable("interrupted");
        return Status::TimedOut(
            "no answer within " +
            std::to_string(std::chrono::duration_cast<std::chrono::seconds>(timeout).count()) +
            "s");
    }
    if (transferred)
        *transferred = n;
    if (result == asio::error::eof)
        return Status::NotFound("connection closed by the peer");
    if (result)
        return Status::IOError(result.message());
    return Status::OK();
}

Status TimedSocket::Connect(const std::string& host, const std::string& port,
                            std::chrono::seconds timeout) {
    boost::system::error_code ec;
    tcp::resolver resolver(*io_);
    auto endpoints = resolver.resolve(host, port, ec);
    if (ec)
        return Status::InvalidArgument("cannot resolve " + host + ":" + port + ": " + ec.message());
    Status s = Run(
        [&](auto handler) {
            asio::async_connect(socket_, endpoints,
                                [handler](const boost::system::error_code& e,
                                          const tcp::endpoint&) { handler(e, 0); });
        },
        timeout, nullptr, nullptr);
    if (!s.ok())
        return Status::Unavailable("connecting to " + host + ":" + port + ": " + s.message());
    socket_.set_option(tcp::no_delay(true), ec);
    return Status::OK();
}

bool TimedSocket::HasBufferedLine() const {
    return in_.find('\n', in_pos_) != std::string::npos;
}

Status TimedSocket::ReadLine(std::string* line, size_t max_len, std::chrono::seconds timeout,
                             const std::atomic<bool>* interrupt) {
    bool too_long = false;
    for (;;) {
        size_t nl = in_.find('\n', in_pos_);
        if (nl != std::string::npos) {
            size_t end = nl;
            if (end > in_pos_ && in_[end - 1] == '\r')
                --end;
            if (too_long || end - in_pos_ > max_len) {
                in_pos_ = nl + 1;
                return Status::InvalidArgument("line too long");
            }
            line->assign(in_, in_pos_, end - in_pos_);
            in_pos_ = nl + 1;
            return Status::OK();
        }
        // Compact the buffer; drop the start of an over-long line.
        in_.erase(0, in_pos_);
        in_pos_ = 0;
        if (in_.size() > max_len + 2) {
            too_long = true;
            in_.clear();
        }
        if (!out_.empty()) {
            Status s = Flush(timeout);
            if (!s.ok())
                return s;
        }
        size_t old = in_.size();
        in_.resize(old + 65536);
        size_t n = 0;
        const bool idle = old == 0 && !too_long;
        Status s = Run(
            [&](auto handler) { socket_.async_read_some(asio::buffer(&in_[old], 65536), handler); },
            timeout, idle ? interrupt : nullptr, &n);
        in_.resize(old + (s.ok() ? n : 0));
        if (!s.ok())
            return s;
    }
}

Status TimedSocket::ReadData(std::string* out, size_t max_size, size_t max_line,
                             std::chrono::seconds timeout, bool* too_big, bool* line_too_long) {
    bool skipping = false;  // inside a line already found too long
    for (;;) {
        for (;;) {
            size_t nl = in_.find('\n', in_pos_);
            if (nl == std::string::npos)
                break;
            size_t end = nl;
            if (end > in_pos_ && in_[end - 1] == '\r')
                --end;
            const char* p = in_.data() + in_pos_;
            size_t len = end - in_pos_;
            in_pos_ = nl + 1;
            if (skipping || len > max_line) {
                skipping = false;
                *line_too_long = true;
                continue;
            }
            if (len > 0 && p[0] == '.') {
                if (len == 1)
                    return Status::OK();
                ++p;
                --len;
            }
            if (*too_big)
                continue;
            if (out->size() + len + 2 > max_size) {
                *too_big = true;
                out->clear();
                out->shrink_to_fit();
                continue;
            }
            out->append(p, len);
            out->append("\r\n", 2);
        }
        in_.erase(0, in_pos_);
        in_pos_ = 0;
        if (in_.size() > max_line + 2) {
            skipping = true;
            in_.clear();
        }
        if (!out_.empty()) {  // the 354 reply, say
            Status s = Flush(timeout);
            if (!s.ok())
                return s;
        }
        size_t old = in_.size();
        in_.resize(old + 65536);
        size_t n = 0;
        Status s = Run(
            [&](auto handler) { socket_.async_read_some(asio::buffer(&in_[old], 65536), handler); },
            timeout, nullptr, &n);
        in_.resize(old + (s.ok() ? n : 0));
        if (!s.ok())
            return s;
    }
}

Status TimedSocket::Flush(std::chrono::seconds timeout) {
    if (out_.empty())
        return Status::OK();
    std::string data;
    data.swap(out_);
    return Write(data, timeout);
}

Status TimedSocket::Write(std::string_view a, std::string_view b, std::chrono::seconds timeout) {
    std::array<asio::const_buffer, 2> buffers = {asio::buffer(a.data(), a.size()),
                                                 asio::buffer(b.data(), b.size())};
    return Run([&](auto handler) { asio::async_write(socket_, buffers, handler); }, timeout,
               nullptr, nullptr);
}

Status TimedSocket::Write(std::string_view data, std::chrono::seconds timeout) {
    return Run(
        [&](auto handler) {
            asio::async_write(socket_, asio::buffer(data.data(), data.size()), handler);
        },
        timeout, nullptr, nullptr);
}

}  // namespace gateway
}  // namespace keydir
