#include <cppunit/extensions/HelperMacros.h>

#include <openssl/bio.h>
#include <openssl/cms.h>

#include <malloc.h>

#include <map>
#include <set>

#include "gateway/mime.h"
#include "gateway/processor.h"
#include "tests/unit/gateway_test_pki.h"

namespace keydir {
namespace gateway {

namespace {

// Keys held in memory; addresses in `down` make the "key server" fail.
class FakeKeySource : public KeySource {
  public:
    std::map<std::string, Identity> members;
    std::set<std::string> down;
    std::set<std::string> public_only;  // no userPKCS12 readable
    int lookups = 0;

    Status RecipientCertificates(const std::string& a, std::vector<CertPtr>* certs) override {
        ++lookups;
        if (down.count(a))
            return Status::Unavailable("connection refused");
        auto it = members.find(a);
        if (it == members.end())
            return Status::NotFound(a + " is not in the directory");
        certs->assign(1, it->second.cert);
        return Status::OK();
    }
    Status PrivateIdentity(const std::string& a, Identity* out) override {
        if (down.count(a))
            return Status::Unavailable("connection refused");
        auto it = members.find(a);
        if (it == members.end() || public_only.count(a))
            return Status::NotFound("no private key for " + a);
        *out = it->second;
        return Status::OK();
    }
};

const char kMessage[] =
    "Received: from client by mx\r\n"
    "From: Sender <sender@corp.test>\r\n"
    "To: Alice <alice@example.org>, bob@example.org, nokey@example.org\r\n"
    "Cc: carol@partner.test\r\n"
    "Subject: quarterly figures\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=us-ascii\r\n"
    "\r\n"
    "The figures are good.\r\n";

std::string DerOf(const std::string& text) {
    Message m = Message::Parse(text);
    std::string der;
    DecodeBase64Body(m.body(), &der);
    return der;
}

}  // namespace

class GatewayProcessorTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(GatewayProcessorTest);
    CPPUNIT_TEST(testSharedCopyAndPolicies);
    CPPUNIT_TEST(testBccGetsOwnCopy);
    CPPUNIT_TEST(testKeyServerDown);
    CPPUNIT_TEST(testLookupFailurePolicy);
    CPPUNIT_TEST(testAlreadyEncryptedPassesUntouched);
    CPPUNIT_TEST(testInboundDecryption);
    CPPUNIT_TEST(testInboundUndecryptable);
    CPPUNIT_TEST(testForgedStatusFieldRemoved);
    CPPUNIT_TEST(testMalformedAndLoop);
    CPPUNIT_TEST(testSignThenEncrypt);
    CPPUNIT_TEST(testCheckRecipient);
    CPPUNIT_TEST(testInnerHeaderFieldsStayInside);
    CPPUNIT_TEST(testStatusFieldsStrippedOnEveryPath);
    CPPUNIT_TEST(testNotReallyProtectedIsEncrypted);
    CPPUNIT_TEST(testCopiesSentOneAtATime);
    CPPUNIT_TEST_SUITE_END();

  public:
    void setUp() override {
        LoadCryptoProviders();
        // Made once for all tests: RSA key generation is slow.
        static const std::map<std::string, Identity> members = [] {
            testpki::Pki pki;
            std::map<std::string, Identity> m;
            m["alice@example.org"] = pki.Member("alice@example.org");
            m["bob@example.org"] = pki.Member("bob@example.org", true);
            m["dan@example.org"] = pki.Member("dan@example.org", true);
            m["local@corp.test"] = pki.Member("local@corp.test");
            m["sender@corp.test"] = pki.Member("sender@corp.test", true);
            return m;
        }();
        keys_.members = members;
        options_.gateway_name = "gw.corp.test";
        options_.local_domains = {"corp.test"};
        options_.policies = PolicyTable(Policy::kHold);
        options_.policies.AddRule("partner.test", Policy::kPlain);
        options_.policies.AddRule("nokey@example.org", Policy::kReject);
    }

    void testSharedCopyAndPolicies() {
        Processor p(options_, &keys_);
        Plan plan = p.Process("sender@corp.test",
                              {"alice@example.org", "bob@example.org", "nokey@example.org",
                               "carol@partner.test", "zed@elsewhere.test"},
                              kMessage);
        CPPUNIT_ASSERT_EQUAL(size_t(5), plan.recipients.size());
        CPPUNIT_ASSERT(plan.recipients[0].disposition == Disposition::kEncrypted);
        CPPUNIT_ASSERT(plan.recipients[1].disposition == Disposition::kEncrypted);
        CPPUNIT_ASSERT_EQUAL(plan.recipients[0].copy, plan.recipients[1].copy);
        CPPUNIT_ASSERT(plan.recipients[2].disposition == Disposition::kRejected);
        CPPUNIT_ASSERT_EQUAL(550, plan.recipients[2].reply.code);
        CPPUNIT_ASSERT_EQUAL(std::string("5.7.1"), plan.recipients[2].reply.enhanced);
        CPPUNIT_ASSERT_EQUAL(-1, plan.recipients[2].copy);
        CPPUNIT_ASSERT(plan.recipients[3].disposition == Disposition::kPlain);
        // zed is a Bcc recipient (not in To/Cc) without a key: held.
        CPPUNIT_ASSERT(plan.recipients[4].disposition == Disposition::kHeld);
        CPPUNIT_ASSERT_EQUAL(450, plan.recipients[4].reply.code);
        CPPUNIT_ASSERT_EQUAL(size_t(2), plan.copies.size());

        const OutputCopy& enc = plan.copies[plan.recipients[0].copy];
        CPPUNIT_ASSERT_EQUAL(std::string("encrypted"), enc.kind);
        Message m = Message::Parse(enc.data);
        CPPUNIT_ASSERT_EQUAL(std::string("quarterly figures"), *m.Get("Subject"));
        CPPUNIT_ASSERT_EQUAL(std::string("from client by mx"), *m.Get("Received"));
        CPPUNIT_ASSERT(ClassifyProtection(m) == Protection::kSmimeEnveloped);
        CPPUNIT_ASSERT(enc.data.find("figures are good") == std::string::npos);
        std::string der = DerOf(enc.data);
        CPPUNIT_ASSERT_EQUAL(2, testpki::RecipientCount(der));
        std::string entity;
        CPPUNIT_ASSERT(DecryptDer(der, keys_.members["bob@example.org"], &entity).ok());
        CPPUNIT_ASSERT_EQUAL(std::string("Content-Type: text/plain; charset=us-ascii\r\n\r\n"
                                         "The figures are good.\r\n"),
                             entity);
        // Every line of the copy ends in CRLF.
        for (size_t i = 0; i < enc.data.size(); ++i)
            if (enc.data[i] == '\n')
                CPPUNIT_ASSERT(i > 0 && enc.data[i - 1] == '\r');

        const OutputCopy& plain = plan.copies[plan.recipients[3].copy];
        CPPUNIT_ASSERT_EQUAL(std::string("plain"), plain.kind);
        CPPUNIT_ASSERT(plain.data.find(std::string(kMessage)) != std::string::npos);
        CPPUNIT_ASSERT(Message::Parse(plain.data).Get(kTraceField)->find("policy plain") !=
                       std::string::npos);
    }
    void testBccGetsOwnCopy() {
        Processor p(options_, &keys_);
        Plan plan =
            p.Process("sender@corp.test", {"alice@example.org", "dan@example.org"}, kMessage);
        CPPUNIT_ASSERT_EQUAL(size_t(2), plan.copies.size());
        CPPUNIT_ASSERT(plan.recipients[0].copy != plan.recipients[1].copy);
        std::string shared = DerOf(plan.copies[plan.recipients[0].copy].data);
        std::string own = DerOf(plan.copies[plan.recipients[1].copy].data);
        CPPUNIT_ASSERT_EQUAL(1, testpki::RecipientCount(shared));
        CPPUNIT_ASSERT_EQUAL(1, testpki::RecipientCount(own));
        std::string e;
        CPPUNIT_ASSERT(DecryptDer(shared, keys_.members["dan@example.org"], &e).IsNotFound());
        CPPUNIT_ASSERT(DecryptDer(own, keys_.members["alice@example.org"], &e).IsNotFound());
        CPPUNIT_ASSERT(DecryptDer(own, keys_.members["dan@example.org"], &e).ok());
        CPPUNIT_ASSERT(std::vector<size_t>{1} == plan.copies[plan.recipients[1].copy].recipients);
    }
    void testKeyServerDown() {
        keys_.down.insert("alice@example.org");
        Processor p(options_, &keys_);
        options_.policies.set_default(Policy::kPlain);
        Processor plain_default(options_, &keys_);
        for (Processor* proc : {&p, &plain_default}) {
            Plan plan = proc->Process("sender@corp.test", {"alice@example.org", "bob@example.org"},
                                      kMessage);
            CPPUNIT_ASSERT(plan.recipients[0].disposition == Disposition::kDeferred);
            CPPUNIT_ASSERT_EQUAL(451, plan.recipients[0].reply.code);
            CPPUNIT_ASSERT_EQUAL(std::string("4.4.3"), plan.recipients[0].reply.enhanced);
            CPPUNIT_ASSERT(plan.recipients[1].disposition == Disposition::kEncrypted);
            CPPUNIT_ASSERT_EQUAL(size_t(1), plan.copies.size());
            CPPUNIT_ASSERT(std::vector<size_t>{1} == plan.copies[0].recipients);
        }
    }
    void testLookupFailurePolicy() {
        keys_.down.insert("carol@partner.test");
        keys_.down.insert("alice@example.org");
        options_.lookup_failure = LookupFailure::kPolicy;
        Processor p(options_, &keys_);
        Plan plan =
            p.Process("sender@corp.test", {"carol@partner.test", "alice@example.org"}, kMessage);
        CPPUNIT_ASSERT(plan.recipients[0].disposition == Disposition::kPlain);
        CPPUNIT_ASSERT(plan.recipients[1].disposition == Disposition::kHeld);
    }
    void testAlreadyEncryptedPassesUntouched() {
        Processor p(options_, &keys_);
        Plan first = p.Process("sender@corp.test", {"alice@example.org"}, kMessage);
        std::string encrypted = first.copies[0].data;
        keys_.lookups = 0;
        Plan again =
            p.Process("sender@corp.test", {"alice@example.org", "nokey@example.org"}, encrypted);
        CPPUNIT_ASSERT_EQUAL(size_t(1), again.copies.size());
        CPPUNIT_ASSERT_EQUAL(encrypted, again.copies[0].data);  // byte for byte
        CPPUNIT_ASSERT(again.recipients[1].disposition == Disposition::kUntouched);
        CPPUNIT_ASSERT_EQUAL(0, keys_.lookups);
        std::string pgp =
            "To: alice@example.org\r\nContent-Type: multipart/encrypted; "
            "protocol=\"application/pgp-encrypted\"; boundary=b\r\n\r\n"
            "--b\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n\r\n"
            "--b\r\nContent-Type: application/octet-stream\r\n\r\n"
            "-----BEGIN PGP MESSAGE-----\r\n\r\nhQEMAw==\r\n=abcd\r\n"
            "-----END PGP MESSAGE-----\r\n--b--\r\n";
        Plan pg = p.Process("sender@corp.test", {"alice@example.org"}, pgp);
        CPPUNIT_ASSERT_EQUAL(pgp, pg.copies[0].data);
    }
    void testInboundDecryption() {
        Processor p(options_, &keys_);
        // The remote side encrypted to local@corp.test.
        std::string msg = std::string(kMessage);
        msg.replace(msg.find("To: "), 4, "To: local@corp.test, ");
        options_.local_domains = {};
        Processor remote(options_, &keys_);
        Plan out = remote.Process("x@example.org", {"local@corp.test"}, msg);
        CPPUNIT_ASSERT(out.recipients[0].disposition == Disposition::kEncrypted);
        std::string wire = out.copies[0].data;
        Plan in = p.Process("x@example.org", {"local@corp.test"}, wire);
        CPPUNIT_ASSERT(in.recipients[0].disposition == Disposition::kDecrypted);
        Message m = Message::Parse(in.copies[0].data);
        CPPUNIT_ASSERT(m.Get(kDecryptedField)->find("local@corp.test") != std::string::npos);
        CPPUNIT_ASSERT_EQUAL(std::string("quarterly figures"), *m.Get("Subject"));
        CPPUNIT_ASSERT_EQUAL(std::string("text/plain; charset=us-ascii"), *m.Get("Content-Type"));
        CPPUNIT_ASSERT_EQUAL(std::string("The figures are good.\r\n"), std::string(m.body()));
        CPPUNIT_ASSERT(ClassifyProtection(m) == Protection::kNone);
    }
    void testInboundUndecryptable() {
        Processor p(options_, &keys_);
        options_.local_domains = {};
        Processor remote(options_, &keys_);
        // Encrypted to alice only, delivered to local@corp.test: not for its key.
        std::string wire =
            remote.Process("x@example.org", {"alice@example.org"}, kMessage).copies[0].data;
        keys_.public_only.insert("sender@corp.test");
        Plan in = p.Process("x@example.org", {"local@corp.test", "sender@corp.test"}, wire);
        for (size_t i = 0; i < 2; ++i) {
            CPPUNIT_ASSERT(in.recipients[i].disposition == Disposition::kUndecryptable);
            const std::string& data = in.copies[in.recipients[i].copy].data;
            CPPUNIT_ASSERT(data.find(wire) != std::string::npos);  // delivered as it came
            CPPUNIT_ASSERT(Message::Parse(data).Get(kDecryptFailedField));
        }
        CPPUNIT_ASSERT(Message::Parse(in.copies[in.recipients[0].copy].data)
                           .Get(kDecryptFailedField)
                           ->find("not encrypted to") != std::string::npos);
        CPPUNIT_ASSERT(Message::Parse(in.copies[in.recipients[1].copy].data)
                           .Get(kDecryptFailedField)
                           ->find("no private key") != std::string::npos);
        keys_.down.insert("local@corp.test");
        Plan later = p.Process("x@example.org", {"local@corp.test"}, wire);
        CPPUNIT_ASSERT_EQUAL(451, later.recipients[0].reply.code);
        CPPUNIT_ASSERT(later.copies.empty());
    }
    void testForgedStatusFieldRemoved() {
        Processor p(options_, &keys_);
        std::string forged = "X-Keydir-Decrypted: yes\r\n" + std::string(kMessage);
        Plan plan = p.Process("x@example.org", {"local@corp.test", "alice@example.org"}, forged);
        const std::string& local = plan.copies[plan.recipients[0].copy].data;
        CPPUNIT_ASSERT(!Message::Parse(local).Get(kDecryptedField));
        CPPUNIT_ASSERT(local.find("The figures are good.") != std::string::npos);
    }
    void testMalformedAndLoop() {
        Processor p(options_, &keys_);
        Plan bad = p.Process("s@corp.test", {"alice@example.org", "local@corp.test"},
                             "Content-Type: multipart/mixed\r\n\r\nx\r\n");
        CPPUNIT_ASSERT(bad.copies.empty());
        for (const auto& r : bad.recipients) {
            CPPUNIT_ASSERT_EQUAL(554, r.reply.code);
            CPPUNIT_ASSERT_EQUAL(std::string("5.6.0"), r.reply.enhanced);
            CPPUNIT_ASSERT(r.reply.text.find("boundary") != std::string::npos);
        }
        std::string looped;
        for (int i = 0; i < 3; ++i)
            looped += "X-Keydir-Gateway: not encrypted (no key; policy plain) by gw.corp.test\r\n";
        Plan loop = p.Process("s@corp.test", {"carol@partner.test"}, looped + kMessage);
        CPPUNIT_ASSERT_EQUAL(554, loop.recipients[0].reply.code);
        CPPUNIT_ASSERT_EQUAL(std::string("5.4.6"), loop.recipients[0].reply.enhanced);
        // Another gateway's fields do not count.
        std::string other = "X-Keydir-Gateway: encrypted by gw.other.test\r\n";
        Plan fine =
            p.Process("s@corp.test", {"carol@partner.test"}, other + other + other + kMessage);
        CPPUNIT_ASSERT(fine.recipients[0].disposition == Disposition::kPlain);
    }
    void testSignThenEncrypt() {
        options_.sign = true;
        Processor p(options_, &keys_);
        Plan plan = p.Process("sender@corp.test", {"alice@example.org"}, kMessage);
        std::string entity;
        CPPUNIT_ASSERT(
            DecryptDer(DerOf(plan.copies[0].data), keys_.members["alice@example.org"], &entity)
                .ok());
        ContentType ct;
        CPPUNIT_ASSERT(Message::Parse(entity).GetContentType(&ct).ok());
        CPPUNIT_ASSERT(ct.Is("multipart", "signed"));
        CPPUNIT_ASSERT(entity.find("The figures are good.") != std::string::npos);
        // A sender without a key in the directory: encrypted, not signed.
        Plan unsigned_plan = p.Process("nobody@corp.test", {"alice@example.org"}, kMessage);
        CPPUNIT_ASSERT(unsigned_plan.recipients[0].detail.find("not signed") != std::string::npos);
        CPPUNIT_ASSERT(DecryptDer(DerOf(unsigned_plan.copies[0].data),
                                  keys_.members["alice@example.org"], &entity)
                           .ok());
        CPPUNIT_ASSERT(entity.find("multipart/signed") == std::string::npos);
    }
    void testCheckRecipient() {
        Processor p(options_, &keys_);
        CPPUNIT_ASSERT(p.CheckRecipient("alice@example.org", &keys_).ok());
        CPPUNIT_ASSERT(p.CheckRecipient("anyone@corp.test", &keys_).ok());
        CPPUNIT_ASSERT(p.CheckRecipient("x@partner.test", &keys_).ok());
        CPPUNIT_ASSERT_EQUAL(550, p.CheckRecipient("nokey@example.org", &keys_).code);
        CPPUNIT_ASSERT_EQUAL(450, p.CheckRecipient("x@elsewhere.test", &keys_).code);
        keys_.down.insert("alice@example.org");
        CPPUNIT_ASSERT_EQUAL(451, p.CheckRecipient("alice@example.org", &keys_).code);
    }

    // Security review #10: a sender cannot put header fields of its own
    // (a second From:, Subject:, a forged X-Keydir-Decrypted:) inside the
    // encryption and have them come out on top.
    void testInnerHeaderFieldsStayInside() {
        std::string der, type;
        CPPUNIT_ASSERT(EncryptEntity({keys_.members["local@corp.test"].cert},
                                     "From: CEO <ceo@corp.test>\r\nSubject: forged\r\n"
                                     "X-Keydir-Decrypted: yes; for <local@corp.test>\r\n"
                                     "Content-Type: text/plain; charset=us-ascii\r\n\r\n"
                                     "Pay now.\r\n",
                                     EncryptOptions(), &der, &type)
                           .ok());
        std::string wire = BuildSmimeMessage(
            "From: attacker@evil.example\r\nTo: local@corp.test\r\nSubject: hello\r\n", "", type,
            der);
        Processor p(options_, &keys_);
        Plan in = p.Process("attacker@evil.example", {"local@corp.test"}, wire);
        CPPUNIT_ASSERT(in.recipients[0].disposition == Disposition::kDecrypted);
        Message m = Message::Parse(in.copies[0].data);
        CPPUNIT_ASSERT_EQUAL(size_t(1), m.Count("From"));
        CPPUNIT_ASSERT_EQUAL(std::string("attacker@evil.example"), *m.Get("From"));
        CPPUNIT_ASSERT_EQUAL(size_t(1), m.Count("Subject"));
        CPPUNIT_ASSERT_EQUAL(std::string("hello"), *m.Get("Subject"));
        CPPUNIT_ASSERT_EQUAL(size_t(1), m.Count(kDecryptedField));
        CPPUNIT_ASSERT(m.Get(kDecryptedField)->find("sha256:") != std::string::npos);
        CPPUNIT_ASSERT_EQUAL(std::string("text/plain; charset=us-ascii"), *m.Get("Content-Type"));
        CPPUNIT_ASSERT_EQUAL(std::string("Pay now.\r\n"), std::string(m.body()));
    }
    // X-Keydir-* fields that came with the message (other than the trace
    // field) are removed from every copy.
    void testStatusFieldsStrippedOnEveryPath() {
        std::string forged =
            "X-Keydir-Decrypted: yes\r\nX-Keydir-Decrypt-Failed: no\r\n"
            "X-Keydir-Whatever: 1\r\n" +
            std::string(kMessage);
        Processor p(options_, &keys_);
        Plan plan =
            p.Process("sender@corp.test",
                      {"local@corp.test", "alice@example.org", "carol@partner.test"}, forged);
        CPPUNIT_ASSERT_EQUAL(size_t(3), plan.copies.size());
        for (const OutputCopy& c : plan.copies) {
            Message m = Message::Parse(c.data);
            for (const auto& f : m.headers())
                CPPUNIT_ASSERT_MESSAGE(c.kind + ": " + f.raw,
                                       f.name.rfind("X-Keydir-", 0) != 0 || f.Is(kTraceField));
        }
    }
    // Security review #11: opaque signed data and a pasted armour block
    // followed by other text are readable, so they are encrypted.
    void testNotReallyProtectedIsEncrypted() {
        Processor p(options_, &keys_);
        std::string signed_der = testpki::OpaqueSignedDer(
            keys_.members["sender@corp.test"], "Content-Type: text/plain\r\n\r\nsecret\r\n");
        std::string opaque =
            "From: sender@corp.test\r\nTo: alice@example.org\r\nMIME-Version: 1.0\r\n"
            "Content-Type: application/pkcs7-mime; name=smime.p7m\r\n"
            "Content-Disposition: attachment; filename=smime.p7m\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n" +
            Base64Lines(signed_der);
        std::string pasted =
            "From: sender@corp.test\r\nTo: alice@example.org\r\n\r\n"
            "-----BEGIN PGP MESSAGE-----\r\n\r\nhQEMAw==\r\n=abcd\r\n"
            "-----END PGP MESSAGE-----\r\nand the password is hunter2\r\n";
        for (const std::string& text : {opaque, pasted}) {
            Plan plan = p.Process("sender@corp.test", {"alice@example.org"}, text);
            CPPUNIT_ASSERT(plan.recipients[0].disposition == Disposition::kEncrypted);
            CPPUNIT_ASSERT(plan.copies[0].data.find("hunter2") == std::string::npos);
            CPPUNIT_ASSERT(ClassifyProtection(Message::Parse(plan.copies[0].data)) ==
                           Protection::kSmimeEnveloped);
        }
    }
    // Security review #14: with a CopySink, each copy is sent and freed
    // before the next is built; the heap in use while copies are sent grows
    // with the message size, not with the number of (Bcc) recipients.
    void testCopiesSentOneAtATime() {
        const size_t kRecipients = 48;
        std::vector<std::string> rcpts;
        for (size_t i = 0; i < kRecipients; ++i) {
            std::string a = "bcc" + std::to_string(i) + "@example.org";
            keys_.members[a] = keys_.members["alice@example.org"];
            rcpts.push_back(a);
        }
        std::string body;
        while (body.size() < (512u << 10))
            body += "All work and no play makes Jack a dull boy. 0123456789 abcdefghij\r\n";
        const std::string message =
            "From: sender@corp.test\r\nTo: list@example.org\r\n"
            "Subject: big\r\n\r\n" +
            body;
        auto in_use = [] {
            struct mallinfo2 mi = mallinfo2();
            return mi.uordblks + mi.hblkhd;
        };
        Processor p(options_, &keys_);
        size_t sent = 0, peak = 0;
        const size_t before = in_use();
        Plan plan =
            p.Process("sender@corp.test", rcpts, message, nullptr, [&](const OutputCopy& c) {
                ++sent;
                CPPUNIT_ASSERT(!c.data.empty());
                size_t now = in_use();
                peak = std::max(peak, now > before ? now - before : 0);
            });
        CPPUNIT_ASSERT_EQUAL(kRecipients, sent);
        CPPUNIT_ASSERT_EQUAL(kRecipients, plan.copies.size());
        for (const OutputCopy& c : plan.copies)
            CPPUNIT_ASSERT(c.data.empty());
        for (const RecipientResult& r : plan.recipients)
            CPPUNIT_ASSERT(r.disposition == Disposition::kEncrypted && r.copy >= 0);
        // All copies at once would be about kRecipients x 1.4 x the size
        // (base64 of the CMS): 34 MB here. One at a time stays below 10x.
        const size_t bound = 10 * message.size();
        CPPUNIT_ASSERT_MESSAGE(
            "peak heap growth " + std::to_string(peak) + " bytes, bound " + std::to_string(bound),
            peak < bound);
    }

  private:
    FakeKeySource keys_;
    ProcessorOptions options_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(GatewayProcessorTest);

}  // namespace gateway
}  // namespace keydir
