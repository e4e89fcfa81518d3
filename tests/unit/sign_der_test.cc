#include <cppunit/extensions/HelperMacros.h>

#include "sign/der.h"

namespace keydir {
namespace {

std::string Hex(const std::string& s) {
    static const char kHex[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : s) {
        out += kHex[c >> 4];
        out += kHex[c & 15];
    }
    return out;
}

std::string Bytes(std::initializer_list<int> bytes) {
    std::string s;
    for (int b : bytes)
        s += static_cast<char>(b);
    return s;
}

}  // namespace

class SignDerTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(SignDerTest);
    CPPUNIT_TEST(testIntegers);
    CPPUNIT_TEST(testBooleanAndStrings);
    CPPUNIT_TEST(testLongLengths);
    CPPUNIT_TEST(testNestedSequences);
    CPPUNIT_TEST(testReadBack);
    CPPUNIT_TEST(testLengthErrors);
    CPPUNIT_TEST(testIntegerErrors);
    CPPUNIT_TEST(testBooleanErrors);
    CPPUNIT_TEST(testStringBoundsAndLeftovers);
    CPPUNIT_TEST_SUITE_END();

    static std::string Enc(uint64_t v) {
        DerWriter w;
        w.Integer(v);
        return Hex(w.Finish());
    }
    static void IntError(const std::string& der, const std::string& fragment,
                         uint64_t max = UINT64_MAX) {
        DerReader r(der);
        uint64_t v = 0;
        Status s = r.Integer("n", max, &v);
        CPPUNIT_ASSERT_MESSAGE(Hex(der) + " accepted", !s.ok());
        CPPUNIT_ASSERT_MESSAGE(s.message(), s.message().find(fragment) != std::string::npos);
    }

  public:
    void testIntegers() {
        CPPUNIT_ASSERT_EQUAL(std::string("020100"), Enc(0));
        CPPUNIT_ASSERT_EQUAL(std::string("02017f"), Enc(127));
        CPPUNIT_ASSERT_EQUAL(std::string("02020080"), Enc(128));
        CPPUNIT_ASSERT_EQUAL(std::string("02020100"), Enc(256));
        CPPUNIT_ASSERT_EQUAL(std::string("020700ffffffffffff"), Enc((uint64_t(1) << 48) - 1));
        CPPUNIT_ASSERT_EQUAL(std::string("02067fffffffffff"), Enc((uint64_t(1) << 47) - 1));
        CPPUNIT_ASSERT_EQUAL(std::string("020800ffffffffffffff"), Enc((uint64_t(1) << 56) - 1));
        CPPUNIT_ASSERT_EQUAL(std::string("020900ffffffffffffffff"), Enc(UINT64_MAX));
        DerWriter w;
        w.Enumerated(1);
        CPPUNIT_ASSERT_EQUAL(std::string("0a0101"), Hex(w.Finish()));
    }
    void testBooleanAndStrings() {
        DerWriter w;
        w.Boolean(true);
        w.Boolean(false);
        w.OctetString("");
        w.OctetString("ab");
        CPPUNIT_ASSERT_EQUAL(std::string("0101ff0101000400"
                                         "04026162"),
                             Hex(w.Finish()));
    }
    void testLongLengths() {
        DerWriter w;
        w.OctetString(std::string(127, 'x'));
        CPPUNIT_ASSERT_EQUAL(std::string("047f"), Hex(w.Finish()).substr(0, 4));
        w.OctetString(std::string(128, 'x'));
        CPPUNIT_ASSERT_EQUAL(std::string("048180"), Hex(w.Finish()).substr(0, 6));
        w.OctetString(std::string(300, 'x'));
        CPPUNIT_ASSERT_EQUAL(std::string("0482012c"), Hex(w.Finish()).substr(0, 8));
    }
    void testNestedSequences() {
        DerWriter w;
        w.BeginSequence();
        w.Integer(1);
        w.BeginSequence();
        w.OctetString(std::string(200, 'y'));
        w.EndSequence();
        w.EndSequence();
        std::string der = w.Finish();
        CPPUNIT_ASSERT_EQUAL(std::string("3081d10201013081cb0481c8"), Hex(der).substr(0, 24));
        CPPUNIT_ASSERT_EQUAL(size_t(3 + 3 + 3 + 3 + 200), der.size());
        DerReader top(der), outer, inner;
        CPPUNIT_ASSERT(top.Sequence("outer", &outer).ok());
        uint64_t one = 0;
        CPPUNIT_ASSERT(outer.Integer("one", 10, &one).ok());
        CPPUNIT_ASSERT_EQUAL(uint64_t(1), one);
        CPPUNIT_ASSERT(outer.Sequence("inner", &inner).ok());
        std::string y;
        CPPUNIT_ASSERT(inner.OctetString("y", 0, 1000, &y).ok());
        CPPUNIT_ASSERT_EQUAL(std::string(200, 'y'), y);
        CPPUNIT_ASSERT(inner.End("inner").ok() && outer.End("outer").ok() && top.End("top").ok());
    }
    void testReadBack() {
        for (uint64_t v : {uint64_t(0), uint64_t(1), uint64_t(127), uint64_t(128), uint64_t(255),
                           uint64_t(256), uint64_t(65535), uint64_t(1) << 47, UINT64_MAX}) {
            DerWriter w;
            w.Integer(v);
            std::string der = w.Finish();
            DerReader r(der);
            uint64_t back = 0;
            CPPUNIT_ASSERT(r.Integer("v", UINT64_MAX, &back).ok());
            CPPUNIT_ASSERT_EQUAL(v, back);
            CPPUNIT_ASSERT(r.empty());
        }
    }
    void testLengthErrors() {
        uint64_t v;
        DerReader empty;
        CPPUNIT_ASSERT(empty.Integer("n", 9, &v).message().find("missing") != std::string::npos);
        IntError(Bytes({0x02}), "truncated before its length");
        IntError(Bytes({0x02, 0x80, 0x00, 0x00}), "indefinite length");
        IntError(Bytes({0x02, 0x85, 0, 0, 0, 0, 1, 0}), "more than 4 bytes");
        IntError(Bytes({0x02, 0x82, 0x00}), "truncated inside its length");
        IntError(Bytes({0x02, 0x81, 0x00}), "leading zero");
        IntError(Bytes({0x02, 0x81, 0x01, 0x05}), "below 128");
        IntError(Bytes({0x02, 0x02, 0x01}), "runs past the end");
        IntError(Bytes({0x02, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x01}), "runs past the end");
        IntError(Bytes({0x04, 0x01, 0x01}), "wrong tag 0x04");
        IntError(Bytes({0x1f, 0x02, 0x01, 0x01}), "wrong tag 0x1f");
    }
    void testIntegerErrors() {
        IntError(Bytes({0x02, 0x00}), "empty integer");
        IntError(Bytes({0x02, 0x01, 0x80}), "negative");
        IntError(Bytes({0x02, 0x01, 0xff}), "negative");
        IntError(Bytes({0x02, 0x02, 0x00, 0x7f}), "redundant leading zero");
        IntError(Bytes({0x02, 0x02, 0x00, 0x00}), "redundant leading zero");
        IntError(Bytes({0x02, 0x09, 0x01, 0, 0, 0, 0, 0, 0, 0, 0}), "above 64 bits");
        IntError(Bytes({0x02, 0x0a, 0x00, 0x80, 0, 0, 0, 0, 0, 0, 0, 0}), "above 64 bits");
        IntError(Bytes({0x02, 0x01, 0x0b}), "above the maximum 10", 10);
        std::string ok_bytes = Bytes({0x02, 0x01, 0x0a});
        DerReader ok(ok_bytes);
        uint64_t v = 0;
        CPPUNIT_ASSERT(ok.Integer("n", 10, &v).ok());
        // ENUMERATED has its own tag
        std::string e_bytes = Bytes({0x02, 0x01, 0x01});
        DerReader e(e_bytes);
        CPPUNIT_ASSERT(!e.Enumerated("d", 1, &v).ok());
    }
    void testBooleanErrors() {
        bool b;
        std::string r1_bytes = Bytes({0x01, 0x01, 0x01});
        DerReader r1(r1_bytes);
        CPPUNIT_ASSERT(r1.Boolean("b", &b).message().find("neither 0x00 nor 0xFF") !=
                       std::string::npos);
        std::string r2_bytes = Bytes({0x01, 0x02, 0xff, 0xff});
        DerReader r2(r2_bytes);
        CPPUNIT_ASSERT(r2.Boolean("b", &b).message().find("BOOLEAN of length 2") !=
                       std::string::npos);
        std::string r3_bytes = Bytes({0x01, 0x00});
        DerReader r3(r3_bytes);
        CPPUNIT_ASSERT(!r3.Boolean("b", &b).ok());
        std::string r4_bytes = Bytes({0x01, 0x01, 0x00});
        DerReader r4(r4_bytes);
        CPPUNIT_ASSERT(r4.Boolean("b", &b).ok() && !b);
    }
    void testStringBoundsAndLeftovers() {
        std::string s;
        std::string r1_bytes = Bytes({0x04, 0x02, 'a', 'b'});
        DerReader r1(r1_bytes);
        CPPUNIT_ASSERT(r1.OctetString("s", 3, 5, &s).message().find("2 bytes long, allowed 3-5") !=
                       std::string::npos);
        std::string r2_bytes = Bytes({0x04, 0x02, 'a', 'b', 0x00});
        DerReader r2(r2_bytes);
        CPPUNIT_ASSERT(r2.OctetString("s", 0, 5, &s).ok());
        Status end = r2.End("value");
        CPPUNIT_ASSERT(end.message().find("1 unexpected bytes after it at byte 4") !=
                       std::string::npos);
        // offsets inside a sequence count from the start of the input
        std::string seq = Bytes({0x30, 0x03, 0x02, 0x01, 0x80});
        DerReader top(seq), inner;
        CPPUNIT_ASSERT(top.Sequence("seq", &inner).ok());
        uint64_t v;
        CPPUNIT_ASSERT(inner.Integer("n", 9, &v).message().find("at byte 4") != std::string::npos);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(SignDerTest);

}  // namespace keydir
