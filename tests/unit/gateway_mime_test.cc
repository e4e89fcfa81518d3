#include <cppunit/extensions/HelperMacros.h>

#include "gateway/mime.h"
#include "gateway/smime.h"
#include "tests/unit/gateway_test_pki.h"

namespace keydir {
namespace gateway {

class GatewayMimeTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(GatewayMimeTest);
    CPPUNIT_TEST(testCrlf);
    CPPUNIT_TEST(testHeadersAndBody);
    CPPUNIT_TEST(testNoSeparator);
    CPPUNIT_TEST(testFoldedLastLineGetsItsCrlf);
    CPPUNIT_TEST(testContentType);
    CPPUNIT_TEST(testProtection);
    CPPUNIT_TEST(testStructure);
    CPPUNIT_TEST(testReasonsHaveNoControlBytes);
    CPPUNIT_TEST(testSplitForEnvelope);
    CPPUNIT_TEST(testFieldsAndBase64);
    CPPUNIT_TEST(testDecryptedKeepsOnlyContentFields);
    CPPUNIT_TEST_SUITE_END();

  public:
    void testCrlf() {
        CPPUNIT_ASSERT_EQUAL(std::string("a\r\nb\r\nc\r\n\r\n"), ToCrlf("a\nb\r\nc\r\r\n"));
    }
    void testHeadersAndBody() {
        Message m = Message::Parse(
            "From: a@x.test\r\nSubject: a long\r\n\tfolded subject\r\nTo: b@y.test\r\n"
            "\r\nbody line\r\nSecond: not a header\r\n");
        CPPUNIT_ASSERT_EQUAL(size_t(3), m.headers().size());
        CPPUNIT_ASSERT_EQUAL(std::string("a long\tfolded subject"), *m.Get("subject"));
        CPPUNIT_ASSERT_EQUAL(std::string("body line\r\nSecond: not a header\r\n"),
                             std::string(m.body()));
        CPPUNIT_ASSERT(!m.Get("Cc"));
        CPPUNIT_ASSERT_EQUAL(size_t(1), m.Count("TO"));
    }
    void testNoSeparator() {
        Message m = Message::Parse("Subject: x\r\nthis is body\r\n");
        CPPUNIT_ASSERT_EQUAL(size_t(1), m.headers().size());
        CPPUNIT_ASSERT_EQUAL(std::string("this is body\r\n"), std::string(m.body()));
        Message empty = Message::Parse("Subject: only headers\r\n");
        CPPUNIT_ASSERT(empty.body().empty());
    }
    // Found by tests/fuzz/mime-fuzzer: a folded line that ends the text had
    // no CRLF in HeaderField::raw, so the field copied before another one
    // (OuterHeaders + the gateway's fields) swallowed it.
    void testFoldedLastLineGetsItsCrlf() {
        for (const char* text : {"Subject: a\r\n folded", "Subject: a\r\n\tfolded\r\n"}) {
            Message m = Message::Parse(text);
            CPPUNIT_ASSERT_EQUAL(size_t(1), m.headers().size());
            std::string raw = m.headers()[0].raw;
            CPPUNIT_ASSERT_EQUAL(0, raw.compare(0, std::string(text).size(), text));
            CPPUNIT_ASSERT_EQUAL(std::string("\r\n"), raw.substr(raw.size() - 2));
            Message two = Message::Parse(OuterHeaders(m) + "X-Added: yes\r\n\r\nbody");
            CPPUNIT_ASSERT_EQUAL(size_t(2), two.headers().size());
            CPPUNIT_ASSERT_EQUAL(std::string("yes"), *two.Get("X-Added"));
        }
    }
    void testContentType() {
        ContentType ct;
        CPPUNIT_ASSERT(
            ParseContentType("Multipart/Mixed; (comment) boundary=\"a;b=c\"; charset=x;", &ct)
                .ok());
        CPPUNIT_ASSERT(ct.Is("multipart", "mixed"));
        CPPUNIT_ASSERT_EQUAL(std::string("a;b=c"), ct.Param("boundary"));
        CPPUNIT_ASSERT_EQUAL(std::string("x"), ct.Param("charset"));
        CPPUNIT_ASSERT(ParseContentType("text", &ct).IsInvalidArgument());
        CPPUNIT_ASSERT(ParseContentType("text/plain; charset", &ct).IsInvalidArgument());
        CPPUNIT_ASSERT(ParseContentType("text/plain; a=\"open", &ct).IsInvalidArgument());
        Message plain = Message::Parse("Subject: x\r\n\r\nhi\r\n");
        CPPUNIT_ASSERT(plain.GetContentType(&ct).ok());
        CPPUNIT_ASSERT(ct.Is("text", "plain"));
    }
    // Security review #11: the content decides, not the labels.
    void testProtection() {
        LoadCryptoProviders();
        testpki::Pki pki;
        gateway::Identity id = pki.Member("a@example.org", true);
        std::string enveloped, auth, type;
        EncryptOptions gcm;
        gcm.cipher = Cipher::kAes256Gcm;
        CPPUNIT_ASSERT(EncryptEntity({id.cert}, "x", EncryptOptions(), &enveloped, &type).ok());
        CPPUNIT_ASSERT(EncryptEntity({id.cert}, "x", gcm, &auth, &type).ok());
        std::string signed_data = testpki::OpaqueSignedDer(id, "Content-Type: text/plain\r\n\r\nx");
        CPPUNIT_ASSERT(!signed_data.empty());
        auto classify = [](const std::string& ct, const std::string& body = "x\r\n",
                           const std::string& cte = "") {
            return ClassifyProtection(Message::Parse(
                "Content-Type: " + ct + "\r\n" +
                (cte.empty() ? "" : "Content-Transfer-Encoding: " + cte + "\r\n") + "\r\n" + body));
        };
        auto b64 = [](const std::string& der) { return Base64Lines(der); };
        CPPUNIT_ASSERT(classify("application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m",
                                b64(enveloped), "base64") == Protection::kSmimeEnveloped);
        CPPUNIT_ASSERT(classify("application/x-pkcs7-mime; name=\"smime.p7m\"", b64(enveloped),
                                "base64") == Protection::kSmimeEnveloped);
        CPPUNIT_ASSERT(classify("application/pkcs7-mime; smime-type=authEnveloped-data", b64(auth),
                                "base64") == Protection::kSmimeAuthEnveloped);
        CPPUNIT_ASSERT(classify("application/pkcs7-mime", enveloped, "binary") ==
                       Protection::kSmimeEnveloped);
        // Opaque signed data named smime.p7m without smime-type, or even
        // labelled enveloped-data, is readable: not protected.
        CPPUNIT_ASSERT(classify("application/pkcs7-mime; name=smime.p7m", b64(signed_data),
                                "base64") == Protection::kNone);
        CPPUNIT_ASSERT(classify("application/pkcs7-mime; smime-type=enveloped-data",
                                b64(signed_data), "base64") == Protection::kNone);
        CPPUNIT_ASSERT(
            classify("application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m") ==
            Protection::kNone);  // the label alone
        CPPUNIT_ASSERT(classify("application/pkcs7-mime; smime-type=signed-data", b64(signed_data),
                                "base64") == Protection::kNone);

        const std::string armour =
            "-----BEGIN PGP MESSAGE-----\r\n\r\nhQEMA1b2c3d4e5f6AQf/abc=\r\n=AbCd\r\n"
            "-----END PGP MESSAGE-----\r\n";
        const std::string pgp_mime =
            "--b\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n\r\n"
            "--b\r\nContent-Type: application/octet-stream; name=encrypted.asc\r\n\r\n" +
            armour + "--b--\r\n";
        CPPUNIT_ASSERT(classify("multipart/encrypted; protocol=\"application/pgp-encrypted\"; "
                                "boundary=b",
                                pgp_mime) == Protection::kPgp);
        CPPUNIT_ASSERT(classify("multipart/encrypted; protocol=\"application/pgp-encrypted\"; "
                                "boundary=b",
                                "--b\r\n\r\nx\r\n--b--\r\n") == Protection::kNone);
        CPPUNIT_ASSERT(classify("multipart/encrypted; protocol=\"application/x-other\"; boundary=b",
                                pgp_mime) == Protection::kNone);
        CPPUNIT_ASSERT(classify("text/plain", "\r\n" + armour + "\r\n") == Protection::kPgp);
        CPPUNIT_ASSERT(classify("application/pgp-encrypted", armour) == Protection::kPgp);
        // A pasted armour block followed (or preceded) by other text.
        CPPUNIT_ASSERT(classify("text/plain", armour + "password: hunter2\r\n") ==
                       Protection::kNone);
        CPPUNIT_ASSERT(classify("text/plain", "hunter2\r\n" + armour) == Protection::kNone);
        CPPUNIT_ASSERT(classify("text/plain", "\r\n-----BEGIN PGP MESSAGE-----\r\nx\r\n") ==
                       Protection::kNone);
        CPPUNIT_ASSERT(classify("text/plain", armour + armour) == Protection::kNone);
        CPPUNIT_ASSERT(classify("text/plain") == Protection::kNone);
        CPPUNIT_ASSERT(classify("multipart/signed; boundary=b") == Protection::kNone);
    }
    // Found by tests/fuzz/smtp-fuzzer: the reason goes into the 554 reply
    // and the log, and it quoted the sender's Content-Type verbatim.
    void testReasonsHaveNoControlBytes() {
        auto reason = [](const std::string& fields, const std::string& body) {
            return CheckMimeStructure(Message::Parse(fields + "\r\n" + body)).message();
        };
        for (const std::string& r :
             {reason("Content-Type: application/pkcs7-mime; smime-type\x1f=x\r\n", ""),
              reason("Content-Type: text/pl\x02"
                     "ain\r\n",
                     ""),
              reason("Content-Type: text/plain\r\nContent-Transfer-Encoding: 8bit\x07\r\n", ""),
              reason("Content-Type: multipart/mixed; boundary=\"a\rb\"\r\n", "--a\rb\r\n"),
              reason("Content-Type: multipart/mixed; boundary=\"a\x01"
                     "b\"\r\n",
                     "")}) {
            CPPUNIT_ASSERT(!r.empty());
            for (char c : r)
                CPPUNIT_ASSERT_MESSAGE(r, static_cast<unsigned char>(c) >= 0x20 && c != 0x7f);
            CPPUNIT_ASSERT_MESSAGE(r, r.find("\\x") != std::string::npos);
        }
    }
    void testStructure() {
        auto check = [](const std::string& text) {
            return CheckMimeStructure(Message::Parse(text));
        };
        CPPUNIT_ASSERT(check("Subject: x\r\n\r\nplain\r\n").ok());
        CPPUNIT_ASSERT(check("Content-Type: multipart/mixed; boundary=zz\r\n\r\npre\r\n--zz\r\n\r\n"
                             "a\r\n--zz--\r\n")
                           .ok());
        Status s = check("Content-Type: multipart/mixed\r\n\r\n--zz\r\n\r\na\r\n--zz--\r\n");
        CPPUNIT_ASSERT(s.IsInvalidArgument());
        CPPUNIT_ASSERT(s.message().find("no boundary") != std::string::npos);
        s = check("Content-Type: multipart/mixed; boundary=zz\r\n\r\n--zz\r\n\r\na\r\n");
        CPPUNIT_ASSERT(s.message().find("closing boundary") != std::string::npos);
        s = check("Content-Type: multipart/mixed; boundary=zz\r\n\r\nno parts\r\n");
        CPPUNIT_ASSERT(s.message().find("no part") != std::string::npos);
        s = check("Content-Type: text/plain\r\nContent-Transfer-Encoding: uuencode\r\n\r\nx\r\n");
        CPPUNIT_ASSERT(s.message().find("uuencode") != std::string::npos);
        CPPUNIT_ASSERT(check("Content-Transfer-Encoding: x-custom\r\n\r\nx\r\n").ok());
        s = check(
            "Content-Type: multipart/mixed; boundary=zz\r\nContent-Transfer-Encoding: base64\r\n"
            "\r\n--zz\r\n\r\na\r\n--zz--\r\n");
        CPPUNIT_ASSERT(s.IsInvalidArgument());
        s = check("Content-Type: text/plain\r\nContent-Type: text/html\r\n\r\nx\r\n");
        CPPUNIT_ASSERT(s.message().find("more than one") != std::string::npos);
        s = check("Content-Type: text/\r\n\r\nx\r\n");
        CPPUNIT_ASSERT(s.IsInvalidArgument());
        s = check(std::string("Subject: x\r\n\r\na\0b\r\n", 18));
        CPPUNIT_ASSERT(s.message().find("NUL") != std::string::npos);
    }
    void testSplitForEnvelope() {
        Message m = Message::Parse(
            "Received: by x\r\nFrom: a@x.test\r\nMIME-Version: 1.0\r\nContent-Type: text/plain;\r\n"
            " charset=utf-8\r\nSubject: s\r\nContent-Transfer-Encoding: 8bit\r\n\r\nh\xc3\xa9\r\n");
        CPPUNIT_ASSERT_EQUAL(std::string("Received: by x\r\nFrom: a@x.test\r\nSubject: s\r\n"),
                             OuterHeaders(m));
        CPPUNIT_ASSERT_EQUAL(std::string("Content-Type: text/plain;\r\n charset=utf-8\r\n"
                                         "Content-Transfer-Encoding: 8bit\r\n\r\nh\xc3\xa9\r\n"),
                             InnerEntity(m));
        std::string out = BuildSmimeMessage(OuterHeaders(m), "X-A: b\r\n", "enveloped-data", "abc");
        Message env = Message::Parse(out);
        CPPUNIT_ASSERT_EQUAL(std::string("application/pkcs7-mime; smime-type=enveloped-data; "
                                         "name=\"smime.p7m\""),
                             *env.Get("Content-Type"));
        CPPUNIT_ASSERT_EQUAL(std::string("base64"), *env.Get("Content-Transfer-Encoding"));
        CPPUNIT_ASSERT_EQUAL(std::string("YWJj\r\n"), std::string(env.body()));
        // "abc" is no CMS: the label alone does not make it encrypted.
        CPPUNIT_ASSERT(ClassifyProtection(env) == Protection::kNone);
        std::string back = BuildDecryptedMessage(env, "X-D: yes\r\n", InnerEntity(m));
        Message d = Message::Parse(back);
        CPPUNIT_ASSERT_EQUAL(std::string("text/plain; charset=utf-8"), *d.Get("Content-Type"));
        CPPUNIT_ASSERT_EQUAL(std::string("s"), *d.Get("Subject"));
        CPPUNIT_ASSERT_EQUAL(size_t(1), d.Count("MIME-Version"));
        CPPUNIT_ASSERT_EQUAL(std::string("h\xc3\xa9\r\n"), std::string(d.body()));
    }
    // Security review #10: header fields inside the encryption other than
    // Content-* never become header fields of the decrypted message.
    void testDecryptedKeepsOnlyContentFields() {
        Message env = Message::Parse(
            "From: attacker@evil.example\r\nTo: local@corp.test\r\nSubject: hi\r\n"
            "MIME-Version: 1.0\r\nContent-Type: application/pkcs7-mime\r\n\r\nAAAA\r\n");
        std::string inner =
            "From: CEO <ceo@corp.test>\r\nSubject: urgent transfer\r\n"
            "Reply-To: attacker@evil.example\r\nX-Keydir-Decrypted: yes; forged\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n"
            "Content-Transfer-Encoding: 7bit\r\n\r\nPay now.\r\n";
        Message d = Message::Parse(BuildDecryptedMessage(env, "X-D: yes\r\n", inner));
        CPPUNIT_ASSERT_EQUAL(size_t(1), d.Count("From"));
        CPPUNIT_ASSERT_EQUAL(std::string("attacker@evil.example"), *d.Get("From"));
        CPPUNIT_ASSERT_EQUAL(size_t(1), d.Count("Subject"));
        CPPUNIT_ASSERT_EQUAL(std::string("hi"), *d.Get("Subject"));
        CPPUNIT_ASSERT_EQUAL(size_t(0), d.Count("Reply-To"));
        CPPUNIT_ASSERT_EQUAL(size_t(0), d.Count("X-Keydir-Decrypted"));
        CPPUNIT_ASSERT_EQUAL(size_t(1), d.Count("MIME-Version"));
        CPPUNIT_ASSERT_EQUAL(std::string("text/plain; charset=us-ascii"), *d.Get("Content-Type"));
        CPPUNIT_ASSERT_EQUAL(std::string("7bit"), *d.Get("Content-Transfer-Encoding"));
        CPPUNIT_ASSERT_EQUAL(std::string("Pay now.\r\n"), std::string(d.body()));
    }
    void testFieldsAndBase64() {
        CPPUNIT_ASSERT_EQUAL(std::string("X-A: one two\r\n"), MakeField("X-A", "one\r\ntwo"));
        std::string longv;
        for (int i = 0; i < 30; ++i)
            longv += "word" + std::to_string(i) + " ";
        std::string f = MakeField("X-Long", longv);
        size_t start = 0;
        while (start < f.size()) {
            size_t e = f.find("\r\n", start);
            CPPUNIT_ASSERT(e - start <= 78);
            start = e + 2;
        }
        CPPUNIT_ASSERT(Message::Parse(f + "\r\n").Get("X-Long")->find("word29") !=
                       std::string::npos);
        std::string data(100, 'x');
        std::string b = Base64Lines(data);
        CPPUNIT_ASSERT_EQUAL(size_t(76), b.find("\r\n"));
        CPPUNIT_ASSERT_EQUAL(std::string("\r\n"), b.substr(b.size() - 2));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(GatewayMimeTest);

}  // namespace gateway
}  // namespace keydir
