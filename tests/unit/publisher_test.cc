#include <cppunit/extensions/HelperMacros.h>

#include <chrono>
#include <deque>
#include <thread>

#include "publish/publisher.h"
#include "publish/signed_sender.h"
#include "temp_dir.h"

namespace keydir {

namespace {

Publication AddOf(const std::string& address) {
    Publication p;
    p.member_dn = "mail=" + address + ",dc=x,dc=com";
    p.urls = {"ldap://z.x.com/" + p.member_dn};
    return p;
}

// Answers from a script; records what it was sent.
class ScriptedSender : public PublicationSender {
  public:
    Delivery Send(const Publication& p) override {
        std::lock_guard<std::mutex> lock(mu);
        sent.push_back(p);
        if (script.empty())
            return Delivery::Delivered();
        Delivery d = script.front();
        script.pop_front();
        return d;
    }
    size_t SentCount() {
        std::lock_guard<std::mutex> lock(mu);
        return sent.size();
    }
    std::mutex mu;
    std::deque<Delivery> script;
    std::vector<Publication> sent;
};

}  // namespace

class PublisherTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(PublisherTest);
    CPPUNIT_TEST(testDeliversInOrder);
    CPPUNIT_TEST(testRetryWaitsAndKeepsOrder);
    CPPUNIT_TEST(testRefusedIsDroppedAndCounted);
    CPPUNIT_TEST(testBackoffGrowsToTheCap);
    CPPUNIT_TEST(testQueueSurvivesARestart);
    CPPUNIT_TEST(testThreadDeliversWhatIsEnqueued);
    CPPUNIT_TEST(testLastingRefusals);
    CPPUNIT_TEST_SUITE_END();

  public:
    void setUp() override {
        dir_.reset(new TempDir);
        CPPUNIT_ASSERT(PublishQueue::Open(dir_->path(), &env_, &queue_).ok());
    }
    void tearDown() override {
        queue_.reset();
        dir_.reset();
    }

    void testDeliversInOrder() {
        ScriptedSender sender;
        Publisher pub(queue_.get(), &sender, &env_, PublisherOptions());
        CPPUNIT_ASSERT(pub.Enqueue(AddOf("a@x.com")).ok());
        CPPUNIT_ASSERT(pub.Enqueue(AddOf("b@x.com")).ok());
        CPPUNIT_ASSERT_EQUAL(int64_t(0), pub.RunOnce());
        CPPUNIT_ASSERT_EQUAL(int64_t(0), pub.RunOnce());
        CPPUNIT_ASSERT_EQUAL(int64_t(-1), pub.RunOnce());
        CPPUNIT_ASSERT_EQUAL(size_t(2), sender.sent.size());
        CPPUNIT_ASSERT(sender.sent[0] == AddOf("a@x.com"));
        CPPUNIT_ASSERT(sender.sent[1] == AddOf("b@x.com"));
        PublisherCounters c = pub.Counters();
        CPPUNIT_ASSERT_EQUAL(uint64_t(2), c.delivered);
        CPPUNIT_ASSERT_EQUAL(uint64_t(0), c.queued);
        CPPUNIT_ASSERT_EQUAL(env_.NowUnixSeconds(), c.last_success);
    }

    void testRetryWaitsAndKeepsOrder() {
        ScriptedSender sender;
        sender.script = {Delivery::Retry("connection refused")};
        std::vector<std::string> log;
        Publisher pub(queue_.get(), &sender, &env_, PublisherOptions(),
                      [&](const std::string& l) { log.push_back(l); });
        pub.Enqueue(AddOf("a@x.com"));
        pub.Enqueue(AddOf("b@x.com"));
        int64_t wait = pub.RunOnce();
        CPPUNIT_ASSERT(wait >= 1 && wait <= 2);
        // Not due yet: nothing is sent, b does not overtake a.
        CPPUNIT_ASSERT_EQUAL(wait, pub.RunOnce());
        CPPUNIT_ASSERT_EQUAL(size_t(1), sender.sent.size());
        env_.AdvanceSeconds(wait);
        CPPUNIT_ASSERT_EQUAL(int64_t(0), pub.RunOnce());
        CPPUNIT_ASSERT_EQUAL(int64_t(0), pub.RunOnce());
        CPPUNIT_ASSERT_EQUAL(size_t(3), sender.sent.size());
        CPPUNIT_ASSERT(sender.sent[1] == AddOf("a@x.com"));
        CPPUNIT_ASSERT(sender.sent[2] == AddOf("b@x.com"));
        PublisherCounters c = pub.Counters();
        CPPUNIT_ASSERT_EQUAL(uint64_t(1), c.failures);
        CPPUNIT_ASSERT_EQUAL(uint64_t(2), c.delivered);
        CPPUNIT_ASSERT(c.last_error.find("connection refused") != std::string::npos);
        CPPUNIT_ASSERT_EQUAL(size_t(1), log.size());
    }

    void testRefusedIsDroppedAndCounted() {
        ScriptedSender sender;
        sender.script = {Delivery::Refused("insufficientAccess (outside the zone)")};
        Publisher pub(queue_.get(), &sender, &env_, PublisherOptions());
        pub.Enqueue(AddOf("a@x.com"));
        pub.Enqueue(AddOf("b@x.com"));
        CPPUNIT_ASSERT_EQUAL(int64_t(0), pub.RunOnce());
        CPPUNIT_ASSERT_EQUAL(int64_t(0), pub.RunOnce());
        CPPUNIT_ASSERT_EQUAL(int64_t(-1), pub.RunOnce());
        PublisherCounters c = pub.Counters();
        CPPUNIT_ASSERT_EQUAL(uint64_t(1), c.refused);
        CPPUNIT_ASSERT_EQUAL(uint64_t(1), c.delivered);
        CPPUNIT_ASSERT(c.last_error.find("outside the zone") != std::string::npos);
    }

    void testBackoffGrowsToTheCap() {
        ScriptedSender sender;
        for (int i = 0; i < 12; ++i)
            sender.script.push_back(Delivery::Retry("down"));
        PublisherOptions o;
        o.max_backoff_seconds = 20;
        Publisher pub(queue_.get(), &sender, &env_, o);
        pub.Enqueue(AddOf("a@x.com"));
        int64_t last = 0;
        for (int i = 0; i < 12; ++i) {
            int64_t wait = pub.RunOnce();
            CPPUNIT_ASSERT(wait >= 1 && wait <= 25);
            if (i < 4)
                CPPUNIT_ASSERT(wait >= last);
            last = wait;
            env_.AdvanceSeconds(wait);
        }
        CPPUNIT_ASSERT(last >= 20);
        CPPUNIT_ASSERT_EQUAL(int64_t(0), pub.RunOnce());
        CPPUNIT_ASSERT_EQUAL(uint64_t(1), pub.Counters().delivered);
    }

    void testQueueSurvivesARestart() {
        ScriptedSender down;
        down.script = {Delivery::Retry("down")};
        {
            Publisher pub(queue_.get(), &down, &env_, PublisherOptions());
            pub.Enqueue(AddOf("a@x.com"));
            pub.RunOnce();
        }
        queue_.reset();
        CPPUNIT_ASSERT(PublishQueue::Open(dir_->path(), &env_, &queue_).ok());
        CPPUNIT_ASSERT_EQUAL(uint64_t(1), queue_->size());
        ScriptedSender up;
        Publisher pub(queue_.get(), &up, &env_, PublisherOptions());
        env_.AdvanceSeconds(10);
        CPPUNIT_ASSERT_EQUAL(int64_t(0), pub.RunOnce());
        CPPUNIT_ASSERT_EQUAL(size_t(1), up.sent.size());
        CPPUNIT_ASSERT(up.sent[0] == AddOf("a@x.com"));
    }

    void testThreadDeliversWhatIsEnqueued() {
        ScriptedSender sender;
        Publisher pub(queue_.get(), &sender, Env::Default(), PublisherOptions());
        pub.Start();
        for (int i = 0; i < 20; ++i)
            pub.Enqueue(AddOf("m" + std::to_string(i) + "@x.com"));
        for (int i = 0; i < 500 && sender.SentCount() < 20; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        pub.Stop();
        CPPUNIT_ASSERT_EQUAL(size_t(20), sender.sent.size());
        for (int i = 0; i < 20; ++i)
            CPPUNIT_ASSERT(sender.sent[i] == AddOf("m" + std::to_string(i) + "@x.com"));
        CPPUNIT_ASSERT_EQUAL(uint64_t(0), pub.Counters().queued);
    }

    void testLastingRefusals() {
        CPPUNIT_ASSERT(IsLastingRefusal(50));   // insufficientAccess
        CPPUNIT_ASSERT(IsLastingRefusal(2));    // protocolError
        CPPUNIT_ASSERT(IsLastingRefusal(68));   // alreadyExists: a real entry there
        CPPUNIT_ASSERT(IsLastingRefusal(71));   // affectsMultipleDSAs: delegated
        CPPUNIT_ASSERT(!IsLastingRefusal(51));  // busy
        CPPUNIT_ASSERT(!IsLastingRefusal(52));  // unavailable
        CPPUNIT_ASSERT(!IsLastingRefusal(53));  // unwilling (a clock too far off)
        CPPUNIT_ASSERT(!IsLastingRefusal(80));  // other
    }

  private:
    FakeClockEnv env_;
    std::unique_ptr<TempDir> dir_;
    std::unique_ptr<PublishQueue> queue_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(PublisherTest);

}  // namespace keydir
