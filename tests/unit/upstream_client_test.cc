#include <arpa/inet.h>
#include <cppunit/extensions/HelperMacros.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

#include "upstream/upstream_client.h"

namespace keydir {
namespace {

// A TCP listener on 127.0.0.1 that accepts connections (the kernel does)
// and never says anything: a hung LDAP server.
class SilentServer {
  public:
    SilentServer() {
        fd_ = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
        listen(fd_, 16);
        socklen_t len = sizeof a;
        getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
        port_ = ntohs(a.sin_port);
    }
    ~SilentServer() { close(fd_); }
    int port() const { return port_; }

  private:
    int fd_;
    int port_;
};

int ClosedPort() {
    SilentServer s;
    return s.port();  // closed again when s goes
}

int64_t ElapsedMs(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                 t0)
        .count();
}

}  // namespace

class UpstreamClientTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(UpstreamClientTest);
    CPPUNIT_TEST(testHungServerTimesOutInTime);
    CPPUNIT_TEST(testRefusedConnectionIsUnavailable);
    CPPUNIT_TEST(testBadUrl);
    CPPUNIT_TEST_SUITE_END();

  public:
    void testHungServerTimesOutInTime() {
        SilentServer server;
        UpstreamClient client(UpstreamOptions{});
        UpstreamRequest req;
        req.server = "ldap://127.0.0.1:" + std::to_string(server.port());
        req.base_dn = "mail=a@x.com,dc=x,dc=com";
        req.timeout_micros = 300000;
        UpstreamResponse resp;
        auto t0 = std::chrono::steady_clock::now();
        Status s = client.Search(req, &resp);
        int64_t ms = ElapsedMs(t0);
        CPPUNIT_ASSERT_MESSAGE(s.ToString(), s.code() == Status::Code::kTimedOut);
        CPPUNIT_ASSERT_MESSAGE(std::to_string(ms), ms >= 250 && ms < 1500);
        CPPUNIT_ASSERT_EQUAL(uint64_t(1), client.Counters().timeouts);
    }
    void testRefusedConnectionIsUnavailable() {
        UpstreamClient client(UpstreamOptions{});
        UpstreamRequest req;
        req.server = "ldap://127.0.0.1:" + std::to_string(ClosedPort());
        req.base_dn = "dc=x";
        req.timeout_micros = 2000000;
        UpstreamResponse resp;
        auto t0 = std::chrono::steady_clock::now();
        Status s = client.Search(req, &resp);
        CPPUNIT_ASSERT_MESSAGE(s.ToString(), s.code() == Status::Code::kUnavailable);
        CPPUNIT_ASSERT(ElapsedMs(t0) < 1000);
    }
    void testBadUrl() {
        UpstreamClient client(UpstreamOptions{});
        UpstreamRequest req;
        req.server = "http://example.com/";
        UpstreamResponse resp;
        CPPUNIT_ASSERT(client.Search(req, &resp).IsInvalidArgument());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(UpstreamClientTest);

}  // namespace keydir
