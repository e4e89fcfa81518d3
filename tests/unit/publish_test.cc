#include <cppunit/extensions/HelperMacros.h>

#include "publish/publication.h"
#include "publish/queue.h"
#include "sign/canonical.h"
#include "temp_dir.h"

namespace keydir {

#define ASSERT_OK(expr)                                 \
    do {                                                \
        Status _s = (expr);                             \
        CPPUNIT_ASSERT_MESSAGE(_s.ToString(), _s.ok()); \
    } while (0)

namespace {
Publication Add(const std::string& dn, const std::string& url) {
    Publication p;
    p.action = Publication::Action::kAdd;
    p.member_dn = dn;
    p.urls = {url};
    return p;
}
Publication Del(const std::string& dn) {
    Publication p;
    p.action = Publication::Action::kDelete;
    p.member_dn = dn;
    return p;
}
}  // namespace

class PublishTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(PublishTest);
    CPPUNIT_TEST(testRoundTrip);
    CPPUNIT_TEST(testDecoderIsStrict);
    CPPUNIT_TEST(testCanonicalCannotPassForASearch);
    CPPUNIT_TEST(testCanonicalCoversEveryField);
    CPPUNIT_TEST(testQueueInOrderAndDurable);
    CPPUNIT_TEST(testDefer);
    CPPUNIT_TEST(testBackoffBounds);
    CPPUNIT_TEST_SUITE_END();

  public:
    void testRoundTrip() {
        for (const Publication& p :
             {Add("mail=a@x.com,dc=x,dc=com", "ldap://z.x.com:389/mail=a@x.com,dc=x,dc=com"),
              Del("mail=b@x.com,dc=x,dc=com")}) {
            Publication back;
            ASSERT_OK(DecodePublication(EncodePublication(p), &back));
            CPPUNIT_ASSERT(back == p);
        }
    }
    void testDecoderIsStrict() {
        std::string v = EncodePublication(Add("mail=a@x.com,dc=x,dc=com", "ldap://h/"));
        Publication p;
        for (size_t n = 0; n < v.size(); ++n)
            CPPUNIT_ASSERT(!DecodePublication(v.substr(0, n), &p).ok());
        CPPUNIT_ASSERT(!DecodePublication(v + "x", &p).ok());
        // An add without a URL, a delete with one.
        CPPUNIT_ASSERT(
            !DecodePublication(EncodePublication(Add("mail=a@x.com,dc=x,dc=com", "")), &p).ok());
        Publication d = Del("mail=a@x.com,dc=x,dc=com");
        d.urls = {"ldap://h/"};
        CPPUNIT_ASSERT(!DecodePublication(EncodePublication(d), &p).ok());
        // Several URLs (a zone's servers) survive; seventeen do not.
        Publication many = Add("mail=a@x.com,dc=x,dc=com", "ldap://h1/");
        for (int i = 2; i <= 16; ++i)
            many.urls.push_back("ldap://h" + std::to_string(i) + "/");
        Publication back;
        ASSERT_OK(DecodePublication(EncodePublication(many), &back));
        CPPUNIT_ASSERT(back == many);
        many.urls.push_back("ldap://h17/");
        CPPUNIT_ASSERT(!DecodePublication(EncodePublication(many), &p).ok());
        Publication none = Add("mail=a@x.com,dc=x,dc=com", "ldap://h/");
        none.urls.clear();
        CPPUNIT_ASSERT(!DecodePublication(EncodePublication(none), &p).ok());
        // An empty URL is refused.
        CPPUNIT_ASSERT(
            !DecodePublication(EncodePublication(Add("mail=a@x.com,dc=x,dc=com", "")), &p).ok());
    }
    void testCanonicalCannotPassForASearch() {
        std::string pub, search;
        ASSERT_OK(CanonicalPublication(Add("mail=a@x.com,dc=x,dc=com", "ldap://h/"), &pub));
        SearchRequestParts parts;
        parts.base_dn = "mail=a@x.com,dc=x,dc=com";
        parts.filter = "(mail=a@x.com)";
        ASSERT_OK(CanonicalRequest(parts, &search));
        CPPUNIT_ASSERT_EQUAL(char(0xFF), pub[0]);
        CPPUNIT_ASSERT(search[0] != char(0xFF));
    }
    void testCanonicalCoversEveryField() {
        std::string a, b, c, d;
        ASSERT_OK(CanonicalPublication(Add("mail=a@x.com,dc=x,dc=com", "ldap://h/"), &a));
        ASSERT_OK(CanonicalPublication(Add("mail=b@x.com,dc=x,dc=com", "ldap://h/"), &b));
        ASSERT_OK(CanonicalPublication(Add("mail=a@x.com,dc=x,dc=com", "ldap://g/"), &c));
        ASSERT_OK(CanonicalPublication(Del("mail=a@x.com,dc=x,dc=com"), &d));
        CPPUNIT_ASSERT(a != b && a != c && a != d);
        // DN case and spacing do not matter; the DN is canonical.
        std::string e;
        ASSERT_OK(CanonicalPublication(Add("MAIL=A@X.COM, DC=x,dc=COM", "ldap://h/"), &e));
        CPPUNIT_ASSERT(a == e);
    }
    void testQueueInOrderAndDurable() {
        TempDir dir;
        {
            std::unique_ptr<PublishQueue> q;
            ASSERT_OK(PublishQueue::Open(dir.path(), Env::Default(), &q));
            ASSERT_OK(q->Push(Add("mail=a@x.com,dc=x,dc=com", "ldap://h/")));
            ASSERT_OK(q->Push(Del("mail=a@x.com,dc=x,dc=com")));
            CPPUNIT_ASSERT_EQUAL(uint64_t(2), q->size());
        }
        std::unique_ptr<PublishQueue> q;
        ASSERT_OK(PublishQueue::Open(dir.path(), Env::Default(), &q));
        CPPUNIT_ASSERT_EQUAL(uint64_t(2), q->size());
        QueuedPublication head;
        bool found = false;
        ASSERT_OK(q->Front(&head, &found));
        CPPUNIT_ASSERT(found && head.publication.action == Publication::Action::kAdd);
        ASSERT_OK(q->Remove(head.seq));
        ASSERT_OK(q->Front(&head, &found));
        CPPUNIT_ASSERT(found && head.publication.action == Publication::Action::kDelete);
        ASSERT_OK(q->Remove(head.seq));
        ASSERT_OK(q->Front(&head, &found));
        CPPUNIT_ASSERT(!found);
        CPPUNIT_ASSERT_EQUAL(uint64_t(0), q->size());
    }
    void testDefer() {
        TempDir dir;
        std::unique_ptr<PublishQueue> q;
        ASSERT_OK(PublishQueue::Open(dir.path(), Env::Default(), &q));
        ASSERT_OK(q->Push(Add("mail=a@x.com,dc=x,dc=com", "ldap://h/")));
        QueuedPublication head;
        bool found;
        ASSERT_OK(q->Front(&head, &found));
        ASSERT_OK(q->Defer(head.seq, "connection refused", 1234));
        ASSERT_OK(q->Defer(head.seq, "timed out", 5678));
        ASSERT_OK(q->Front(&head, &found));
        CPPUNIT_ASSERT_EQUAL(uint32_t(2), head.attempts);
        CPPUNIT_ASSERT_EQUAL(int64_t(5678), head.not_before);
        CPPUNIT_ASSERT_EQUAL(std::string("timed out"), head.last_error);
    }
    void testBackoffBounds() {
        for (uint32_t a = 0; a < 40; ++a) {
            int64_t b = PublishQueue::Backoff(a, 300, Env::Default());
            int64_t base = std::min<int64_t>(int64_t(1) << std::min<uint32_t>(a, 20), 300);
            CPPUNIT_ASSERT(b >= base && b <= base + base / 4);
        }
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(PublishTest);

}  // namespace keydir
