#include <cppunit/extensions/HelperMacros.h>

#include "sign/der.h"
#include "sign/signature_control.h"
#include "sign_test_util.h"

namespace keydir {

using testing::Hex;

class SignControlTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(SignControlTest);
    CPPUNIT_TEST(testOid);
    CPPUNIT_TEST(testRoundTrip);
    CPPUNIT_TEST(testKnownEncoding);
    CPPUNIT_TEST(testEncoderRefusesOutOfBounds);
    CPPUNIT_TEST(testEveryTruncationFails);
    CPPUNIT_TEST(testTrailingBytesFail);
    CPPUNIT_TEST(testFieldBoundsOnDecode);
    CPPUNIT_TEST(testVersionAndAnswerRules);
    CPPUNIT_TEST(testOversizedValue);
    CPPUNIT_TEST(testMacLengthLeftToVerification);
    CPPUNIT_TEST_SUITE_END();

    static SignatureControl Sample() {
        SignatureControl c;
        c.direction = SignedDirection::kRequest;
        c.key_name = "tovaris-root.2026";
        c.algorithm = "hmac-sha256";
        c.time_signed = 1700000000;
        c.fudge = 300;
        c.nonce = std::string(16, '\xa5');
        c.hop_count = 2;
        c.recursion = true;
        c.server = "keys.tovaris.com:389";
        c.mac = std::string(32, '\x5a');
        return c;
    }
    static std::string Encode(const SignatureControl& c) {
        std::string v;
        Status s = EncodeSignatureControl(c, &v);
        CPPUNIT_ASSERT_MESSAGE(s.ToString(), s.ok());
        return v;
    }
    // Builds a control by hand, field by field, to hit the decoder's checks.
    struct Fields {
        uint64_t version = 2, direction = 0, time = 1700000000, fudge = 300, hops = 0;
        std::string key = "k", alg = "hmac-sha256", nonce = std::string(16, 'n'), server = "h:389",
                    mac = std::string(32, 'm');
        bool recursion = false;
        bool with_server = true;  // false: a version 1 layout
        std::string Encode() const {
            DerWriter w;
            w.BeginSequence();
            w.Integer(version);
            w.Enumerated(direction);
            w.OctetString(key);
            w.OctetString(alg);
            w.Integer(time);
            w.Integer(fudge);
            w.OctetString(nonce);
            w.Integer(hops);
            w.Boolean(recursion);
            if (with_server)
                w.OctetString(server);
            w.OctetString(mac);
            w.EndSequence();
            return w.Finish();
        }
    };
    static void DecodeFails(const std::string& value, const std::string& fragment) {
        SignatureControl c;
        c.key_name = "unchanged";
        Status s = DecodeSignatureControl(value, &c);
        CPPUNIT_ASSERT_MESSAGE(Hex(value) + " decoded", !s.ok());
        CPPUNIT_ASSERT_MESSAGE(s.message() + " lacks " + fragment,
                               s.message().find(fragment) != std::string::npos);
        CPPUNIT_ASSERT_EQUAL(std::string("unchanged"), c.key_name);
    }

  public:
    void testOid() {
        CPPUNIT_ASSERT_EQUAL(std::string("2.25.142655347163252810041593617359114918330.3.1"),
                             std::string(kSignatureControlOid));
    }
    void testRoundTrip() {
        SignatureControl c = Sample();
        std::string v = Encode(c);
        SignatureControl d;
        CPPUNIT_ASSERT(DecodeSignatureControl(v, &d).ok());
        CPPUNIT_ASSERT(d.direction == c.direction);
        CPPUNIT_ASSERT_EQUAL(c.key_name, d.key_name);
        CPPUNIT_ASSERT_EQUAL(c.algorithm, d.algorithm);
        CPPUNIT_ASSERT_EQUAL(c.time_signed, d.time_signed);
        CPPUNIT_ASSERT_EQUAL(c.fudge, d.fudge);
        CPPUNIT_ASSERT_EQUAL(c.nonce, d.nonce);
        CPPUNIT_ASSERT_EQUAL(c.hop_count, d.hop_count);
        CPPUNIT_ASSERT_EQUAL(c.recursion, d.recursion);
        CPPUNIT_ASSERT_EQUAL(c.server, d.server);
        CPPUNIT_ASSERT_EQUAL(c.mac, d.mac);
        CPPUNIT_ASSERT_EQUAL(v, Encode(d));  // one value, one encoding
    }
    void testKnownEncoding() {
        Fields f;
        f.key = "k";
        f.nonce = std::string(16, '\x00');
        f.mac = "";
        f.time = 0x6553f100;  // 1700000000
        f.server = "h:1";
        CPPUNIT_ASSERT_EQUAL(std::string("303f"
                                         "020102"
                                         "0a0100"
                                         "04016b"
                                         "040b686d61632d736861323536"
                                         "02046553f100"
                                         "0202012c"
                                         "041000000000000000000000000000000000"
                                         "020100"
                                         "010100"
                                         "0403683a31"
                                         "0400"),
                             Hex(f.Encode()));
        SignatureControl c;
        CPPUNIT_ASSERT(DecodeSignatureControl(f.Encode(), &c).ok());
        CPPUNIT_ASSERT_EQUAL(int64_t(1700000000), c.time_signed);
    }
    void testEncoderRefusesOutOfBounds() {
        std::string v;
        SignatureControl c = Sample();
        c.key_name = "";
        CPPUNIT_ASSERT(!EncodeSignatureControl(c, &v).ok());
        c = Sample();
        c.key_name = "bad name";
        CPPUNIT_ASSERT(!EncodeSignatureControl(c, &v).ok());
        c = Sample();
        c.key_name = std::string(65, 'k');
        CPPUNIT_ASSERT(!EncodeSignatureControl(c, &v).ok());
        c = Sample();
        c.time_signed = kMaxTimeSigned + 1;
        CPPUNIT_ASSERT(!EncodeSignatureControl(c, &v).ok());
        c = Sample();
        c.time_signed = -1;
        CPPUNIT_ASSERT(!EncodeSignatureControl(c, &v).ok());
        c = Sample();
        c.fudge = 65536;
        CPPUNIT_ASSERT(!EncodeSignatureControl(c, &v).ok());
        c = Sample();
        c.nonce = std::string(15, 'n');
        CPPUNIT_ASSERT(!EncodeSignatureControl(c, &v).ok());
        c = Sample();
        c.hop_count = 256;
        CPPUNIT_ASSERT(!EncodeSignatureControl(c, &v).ok());
        c = Sample();
        c.mac = std::string(256, 'm');
        CPPUNIT_ASSERT(!EncodeSignatureControl(c, &v).ok());
        c = Sample();
        c.direction = SignedDirection::kAnswer;  // with hop count 2
        CPPUNIT_ASSERT(!EncodeSignatureControl(c, &v).ok());
        c = Sample();
        c.server = "";  // a request names its server
        CPPUNIT_ASSERT(!EncodeSignatureControl(c, &v).ok());
        c = Sample();
        c.server = std::string(256, 's');
        CPPUNIT_ASSERT(!EncodeSignatureControl(c, &v).ok());
        c = Sample();
        c.direction = SignedDirection::kAnswer;
        c.hop_count = 0;
        c.recursion = false;  // an answer names none
        CPPUNIT_ASSERT(!EncodeSignatureControl(c, &v).ok());
        c.server = "";
        CPPUNIT_ASSERT(EncodeSignatureControl(c, &v).ok());
    }
    void testEveryTruncationFails() {
        std::string v = Encode(Sample());
        for (size_t n = 0; n < v.size(); ++n) {
            SignatureControl c;
            CPPUNIT_ASSERT_MESSAGE("prefix of " + std::to_string(n) + " bytes decoded",
                                   !DecodeSignatureControl(v.substr(0, n), &c).ok());
        }
        // and every single-byte change of a length byte or tag is caught or
        // decodes to a different, still well-formed value
        for (size_t i = 0; i < v.size(); ++i) {
            for (int delta : {1, -1, 0x80}) {
                std::string m = v;
                m[i] = static_cast<char>(m[i] + delta);
                SignatureControl c;
                if (DecodeSignatureControl(m, &c).ok()) {
                    std::string again;
                    CPPUNIT_ASSERT(EncodeSignatureControl(c, &again).ok());
                    CPPUNIT_ASSERT_EQUAL(Hex(m), Hex(again));
                }
            }
        }
    }
    void testTrailingBytesFail() {
        std::string v = Encode(Sample());
        DecodeFails(v + '\0', "unexpected bytes after it");
        // a byte added inside the SEQUENCE (its length fixed up)
        size_t header = (v[1] & 0x80) ? 2 + (v[1] & 0x7f) : 2;
        std::string inner = v.substr(header) + std::string("\x05\x00", 2);
        CPPUNIT_ASSERT(inner.size() < 256);
        std::string patched = inner.size() < 128 ? std::string("\x30") : std::string("\x30\x81");
        patched += static_cast<char>(inner.size());
        patched += inner;
        DecodeFails(patched, "unexpected bytes after it");
    }
    void testFieldBoundsOnDecode() {
        Fields f;
        f.key = "";
        DecodeFails(f.Encode(), "key name: 0 bytes long, allowed 1-64");
        f = Fields();
        f.key = std::string(65, 'k');
        DecodeFails(f.Encode(), "key name: 65 bytes long");
        f = Fields();
        f.key = "a b";
        DecodeFails(f.Encode(), "key name has characters outside");
        f = Fields();
        f.alg = "hmac sha256";
        DecodeFails(f.Encode(), "algorithm name has characters outside");
        f = Fields();
        f.alg = std::string(33, 'a');
        DecodeFails(f.Encode(), "algorithm: 33 bytes long");
        f = Fields();
        f.time = uint64_t(1) << 48;
        DecodeFails(f.Encode(), "time signed: 281474976710656 is above the maximum");
        f = Fields();
        f.fudge = 65536;
        DecodeFails(f.Encode(), "fudge: 65536 is above the maximum 65535");
        f = Fields();
        f.nonce = std::string(15, 'n');
        DecodeFails(f.Encode(), "nonce: 15 bytes long, allowed 16-64");
        f = Fields();
        f.nonce = std::string(65, 'n');
        DecodeFails(f.Encode(), "nonce: 65 bytes long");
        f = Fields();
        f.hops = 256;
        DecodeFails(f.Encode(), "hop count: 256 is above the maximum 255");
        f = Fields();
        f.mac = std::string(256, 'm');
        DecodeFails(f.Encode(), "MAC: 256 bytes long, allowed 0-255");
        f = Fields();
        f.direction = 2;
        DecodeFails(f.Encode(), "direction: 2 is above the maximum 1");
        f = Fields();
        f.server = std::string(256, 's');
        DecodeFails(f.Encode(), "server: 256 bytes long, allowed 0-255");
    }
    void testVersionAndAnswerRules() {
        Fields f;
        f.version = 1;
        f.with_server = false;  // version 1 (before security review #6)
        DecodeFails(f.Encode(), "version 1 is not supported (only 2)");
        f = Fields();
        f.version = 3;
        DecodeFails(f.Encode(), "version 3 is not supported");
        f = Fields();
        f.server = "";
        DecodeFails(f.Encode(), "a request must name the server it is meant for");
        f = Fields();
        f.direction = 1;
        f.server = "";
        f.hops = 1;
        DecodeFails(f.Encode(), "an answer must carry hop count 0");
        f.hops = 0;
        f.recursion = true;
        DecodeFails(f.Encode(), "an answer must carry hop count 0 and recursion FALSE");
        f.recursion = false;
        SignatureControl c;
        CPPUNIT_ASSERT(DecodeSignatureControl(f.Encode(), &c).ok());
        CPPUNIT_ASSERT(c.direction == SignedDirection::kAnswer);
        f.server = "h:389";
        DecodeFails(f.Encode(), "an answer must name no server");
    }
    void testOversizedValue() {
        DecodeFails(std::string(1025, '\x30'), "more than 1024");
        DecodeFails("", "missing");
        DecodeFails("\x31\x00", "wrong tag 0x31");
    }
    void testMacLengthLeftToVerification() {
        // the decoder does not judge MAC length against the algorithm
        for (size_t n : {size_t(0), size_t(31), size_t(33), size_t(64), size_t(255)}) {
            Fields f;
            f.mac = std::string(n, 'm');
            SignatureControl c;
            CPPUNIT_ASSERT(DecodeSignatureControl(f.Encode(), &c).ok());
            CPPUNIT_ASSERT_EQUAL(n, c.mac.size());
        }
        Fields f;
        f.alg = "hmac-md5";  // unknown to verification, well-formed here
        SignatureControl c;
        CPPUNIT_ASSERT(DecodeSignatureControl(f.Encode(), &c).ok());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(SignControlTest);

}  // namespace keydir
