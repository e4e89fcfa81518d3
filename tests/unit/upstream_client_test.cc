#include <arpa/inet.h>
#include <cppunit/extensions/HelperMacros.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

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

// BER: a tag, a definite length and the content.
std::string Tlv(unsigned char tag, const std::string& content) {
    std::string out(1, static_cast<char>(tag));
    size_t n = content.size();
    if (n < 128) {
        out += static_cast<char>(n);
    } else {
        std::string len;
        for (; n; n >>= 8)
            len.insert(len.begin(), static_cast<char>(n & 0xff));
        out += static_cast<char>(0x80 | len.size());
        out += len;
    }
    return out + content;
}

// An LDAP server on 127.0.0.1 that answers the first search of one
// connection with `entries` SearchResultEntries, each holding one value of
// `value_bytes` bytes, then success (if it gets that far): a server that
// streams more than a base search can need.
class StreamingServer {
  public:
    StreamingServer(int entries, size_t value_bytes) : entries_(entries), value_(value_bytes, 'x') {
        fd_ = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
        listen(fd_, 4);
        socklen_t len = sizeof a;
        getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
        port_ = ntohs(a.sin_port);
        thread_ = std::thread([this] { Serve(); });
    }
    ~StreamingServer() {
        shutdown(fd_, SHUT_RDWR);
        close(fd_);
        thread_.join();
    }
    int port() const { return port_; }
    int sent() const { return sent_; }         // entries written before the client went
    bool hung_up() const { return hung_up_; }  // the client closed its connection

  private:
    void Serve() {
        int c = accept(fd_, nullptr, nullptr);
        if (c < 0)
            return;
        // The request's message ID: 30 LL 02 01 ID (libldap's first is small).
        unsigned char buf[4096];
        ssize_t n = read(c, buf, sizeof buf);
        size_t pos = 1;
        if (n > 2 && (buf[1] & 0x80))
            pos += 1 + (buf[1] & 0x7f);
        else
            pos += 1;
        std::string id = n > static_cast<ssize_t>(pos + 2) && buf[pos] == 0x02
                             ? std::string(reinterpret_cast<char*>(buf) + pos + 2, buf[pos + 1])
                             : std::string(1, '\x01');
        std::string msgid = Tlv(0x02, id);
        std::string attr = Tlv(0x30, Tlv(0x04, "description") + Tlv(0x31, Tlv(0x04, value_)));
        std::string entry =
            Tlv(0x30, msgid + Tlv(0x64, Tlv(0x04, "mail=a@x.com,dc=x,dc=com") + Tlv(0x30, attr)));
        for (int i = 0; i < entries_; ++i) {
            if (!WriteAll(c, entry))
                break;
            ++sent_;
        }
        WriteAll(c, Tlv(0x30, msgid + Tlv(0x65, Tlv(0x0a, std::string(1, '\0')) + Tlv(0x04, "") +
                                                    Tlv(0x04, ""))));
        // Wait for the client to hang up.
        while (read(c, buf, sizeof buf) > 0) {
        }
        hung_up_ = true;
        close(c);
    }
    static bool WriteAll(int fd, const std::string& data) {
        size_t off = 0;
        while (off < data.size()) {
            ssize_t w = send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
            if (w <= 0)
                return false;
            off += static_cast<size_t>(w);
        }
        return true;
    }

    int fd_;
    int port_;
    int entries_;
    std::string value_;
    std::atomic<int> sent_{0};
    std::atomic<bool> hung_up_{false};
    std::thread thread_;
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
    CPPUNIT_TEST(testEntriesUnderTheCapAreRead);
    CPPUNIT_TEST(testSecondEntryAbortsTheSearch);
    CPPUNIT_TEST(testLongMessageBreaksTheConnection);
    CPPUNIT_TEST(testResponseBytesAreCapped);
    CPPUNIT_TEST(testIdleConnectionsAreBoundedInAll);
    CPPUNIT_TEST_SUITE_END();

    static UpstreamRequest StreamRequest(const StreamingServer& server, size_t max_entries) {
        UpstreamRequest req;
        req.server = "ldap://127.0.0.1:" + std::to_string(server.port());
        req.base_dn = "mail=a@x.com,dc=x,dc=com";
        req.timeout_micros = 5000000;
        req.max_entries = max_entries;
        return req;
    }

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
    void testEntriesUnderTheCapAreRead() {
        StreamingServer server(3, 100);
        UpstreamClient client(UpstreamOptions{});
        UpstreamResponse resp;
        Status s = client.Search(StreamRequest(server, 0), &resp);
        CPPUNIT_ASSERT_MESSAGE(s.ToString(), s.ok());
        CPPUNIT_ASSERT_EQUAL(size_t(3), resp.entries.size());
        CPPUNIT_ASSERT_EQUAL(0, resp.result_code);
    }
    void testSecondEntryAbortsTheSearch() {
        StreamingServer server(50, 1000);
        UpstreamClient client(UpstreamOptions{});
        UpstreamResponse resp;
        Status s = client.Search(StreamRequest(server, 1), &resp);
        CPPUNIT_ASSERT_MESSAGE(s.ToString(), s.code() == Status::Code::kCorruption);
        CPPUNIT_ASSERT_MESSAGE(s.ToString(),
                               s.message().find("more than 1 entry") != std::string::npos);
        CPPUNIT_ASSERT(resp.entries.size() <= 1);
        CPPUNIT_ASSERT_EQUAL(uint64_t(1), client.Counters().failures);
    }
    void testLongMessageBreaksTheConnection() {
        // One entry of 2 MiB: longer than the 1 MiB a message may have.
        StreamingServer server(1, 2 << 20);
        UpstreamClient client(UpstreamOptions{});
        UpstreamResponse resp;
        Status s = client.Search(StreamRequest(server, 1), &resp);
        CPPUNIT_ASSERT_MESSAGE(s.ToString(), !s.ok() && s.code() != Status::Code::kTimedOut);
        CPPUNIT_ASSERT(resp.entries.empty());
    }
    void testResponseBytesAreCapped() {
        // Entries of 300 KB, as many as the server likes: the search stops
        // once 1 MiB is buffered.
        StreamingServer server(20, 300000);
        UpstreamOptions o;
        o.max_message_bytes = 0;
        UpstreamClient client(o);
        UpstreamResponse resp;
        Status s = client.Search(StreamRequest(server, 0), &resp);
        CPPUNIT_ASSERT_MESSAGE(s.ToString(), s.code() == Status::Code::kCorruption);
        CPPUNIT_ASSERT(resp.entries.size() <= 3);
    }

    // Servers named once by referrals are not asked again: their pooled
    // connections must not pile up (each holds one of slapd's descriptors).
    void testIdleConnectionsAreBoundedInAll() {
        StreamingServer a(1, 10), b(1, 10), c(1, 10);
        UpstreamOptions o;
        o.max_idle_total = 2;
        UpstreamClient client(o);
        for (StreamingServer* server : {&a, &b, &c}) {
            UpstreamResponse resp;
            Status s = client.Search(StreamRequest(*server, 0), &resp);
            CPPUNIT_ASSERT_MESSAGE(s.ToString(), s.ok());
        }
        // The oldest (a's) was closed to make room for c's.
        for (int i = 0; i < 200 && !a.hung_up(); ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        CPPUNIT_ASSERT(a.hung_up());
        CPPUNIT_ASSERT(!b.hung_up());
        CPPUNIT_ASSERT(!c.hung_up());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(UpstreamClientTest);

}  // namespace keydir
