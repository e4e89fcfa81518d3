#include "gateway/server.h"

#include <unistd.h>

#include <cstdio>
#include <thread>

#include "gateway/log.h"

namespace keydir {
namespace gateway {

namespace asio = boost::asio;
using asio::ip::tcp;

Server::Server(ServerOptions options, Processor* processor, KeySource* keys, Injector* injector)
    : options_(std::move(options)),
      processor_(processor),
      keys_(keys),
      injector_(injector),
      acceptor_(io_),
      signals_(io_, SIGTERM, SIGINT) {}

Server::~Server() = default;

Status Server::Listen() {
    boost::system::error_code ec;
    tcp::resolver resolver(io_);
    auto results = resolver.resolve(options_.host, options_.port, ec);
    if (ec || results.empty())
        return Status::InvalidArgument("--listen " + options_.host + ":" + options_.port + ": " +
                                       (ec ? ec.message() : "no address"));
    tcp::endpoint ep = results.begin()->endpoint();
    acceptor_.open(ep.protocol(), ec);
    if (!ec)
        acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec)
        acceptor_.bind(ep, ec);
    if (!ec)
        acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
        return Status::IOError("cannot listen on " + options_.host + ":" + options_.port + ": " +
                               ec.message());
    return Status::OK();
}

void Server::Accept() {
    accepting_ = true;
    auto session_io =
        std::make_shared<std::unique_ptr<asio::io_context>>(std::make_unique<asio::io_context>(1));
    acceptor_.async_accept(
        **session_io, [this, session_io](const boost::system::error_code& ec, tcp::socket socket) {
            accepting_ = false;
            if (stopping_)
                return;
            if (ec) {
                if (ec != asio::error::operation_aborted) {
                    LogWarning(std::string("accept: ") + ec.message());
                    // EMFILE and the like: wait a little rather than spin.
                    auto timer =
                        std::make_shared<asio::steady_timer>(io_, std::chrono::milliseconds(100));
                    timer->async_wait([this, timer](const boost::system::error_code&) {
                        if (!stopping_ && !accepting_)
                            Accept();
                    });
                }
                return;
            }
            boost::system::error_code ignored;
            socket.set_option(tcp::no_delay(true), ignored);
            std::string id;
            {
                char buf[32];
                std::snprintf(buf, sizeof buf, "%X%04llX", static_cast<unsigned>(getpid() & 0xffff),
                              static_cast<unsigned long long>(++next_id_ & 0xffff));
                id = buf;
            }
            {
                std::lock_guard<std::mutex> lock(mu_);
                ++active_;
            }
            std::thread([this, io = std::move(*session_io), s = std::move(socket), id]() mutable {
                {
                    TimedSocket sock(std::move(io), std::move(s));
                    Session session(&sock, options_.session, processor_, keys_, injector_,
                                    &stopping_, id);
                    try {
                        session.Run();
                    } catch (const std::exception& e) {
                        LogError(id + ": session ended by an exception: " + e.what());
                    }
                }
                SessionDone();
            }).detach();
            std::lock_guard<std::mutex> lock(mu_);
            if (active_ < options_.max_sessions)
                Accept();
        });
}

void Server::SessionDone() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        --active_;
        cv_.notify_all();
    }
    // Resume accepting in the io_context's thread.
    asio::post(io_, [this] {
        std::lock_guard<std::mutex> lock(mu_);
        if (!stopping_ && !accepting_ && active_ < options_.max_sessions)
            Accept();
    });
}

void Server::Stop() {
    asio::post(io_, [this] {
        if (stopping_.exchange(true))
            return;
        boost::system::error_code ignored;
        acceptor_.close(ignored);
        signals_.cancel(ignored);
        io_.stop();
    });
}

bool Server::Run() {
    signals_.async_wait([this](const boost::system::error_code& ec, int sig) {
        if (ec)
            return;
        LogInfo(std::string("received ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") +
                ": stopping after the messages in progress");
        Stop();
    });
    {
        std::lock_guard<std::mutex> lock(mu_);
        Accept();
    }
    io_.run();
    stopping_ = true;
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_for(lock, options_.shutdown_grace, [this] { return active_ == 0; })) {
        LogWarning(std::to_string(active_) + " session(s) still busy after " +
                   std::to_string(options_.shutdown_grace.count()) + "s: exiting anyway");
        return false;
    }
    LogInfo("stopped");
    return true;
}

}  // namespace gateway
}  // namespace keydir
