// The test vectors of doc/signing.md §9. The same values are recomputed by
// an independent Python implementation of the document
// (tests/integration/sign_reference.py, test_sign_vectors.py).
#include <cppunit/extensions/HelperMacros.h>

#include "sign/base64.h"
#include "sign/ldap_filter.h"
#include "sign/signer.h"
#include "sign_test_util.h"

namespace keydir {

using testing::DeterministicEnv;
using testing::FromHex;
using testing::Hex;

namespace {

const char kKey1Base64[] = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const char kKey2Base64[] =
    "QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl9gYWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+fw==";
const int64_t kTime = 1700000000;

std::string Nonce(int first) {
    std::string n;
    for (int i = 0; i < 16; ++i)
        n += static_cast<char>(first + i);
    return n;
}

SearchRequestParts V1Request() {
    SearchRequestParts r;
    r.base_dn = "mail=kconley@tovaris.com,dc=tovaris,dc=com";
    r.scope = 0;
    r.deref = 0;
    r.size_limit = 1;
    r.time_limit = 5;
    r.filter = "(mail=kconley@tovaris.com)";
    r.attributes = {"userCertificate;binary", "mail"};
    return r;
}

LdapEntry V2Entry() {
    LdapEntry e;
    e.dn = "mail=kconley@tovaris.com,dc=tovaris,dc=com";
    e.attributes = {{"objectClass", {"top", "keydirMember"}},
                    {"mail", {"kconley@tovaris.com"}},
                    {"userCertificate;binary", {FromHex("3003020107")}}};
    return e;
}

const char kV1Canonical[] =
    "0000004d0000000300000001000000046d61696c000000136b636f6e6c657940746f76617269732e636f6d0000"
    "000100000002646300000007746f76617269730000000100000002646300000003636f6d000000000001000000"
    "05000000000020a3000000046d61696c000000136b636f6e6c657940746f76617269732e636f6d000000020000"
    "00046d61696c000000167573657263657274696669636174653b62696e617279";
const char kV1Mac[] = "2fb66861652fbbc4b69d36491743394bdf7892f8cbce0fa9a1f6882b87a1122e";
const char kV1Control[] =
    "30650201010a0100040c746f76617269732d726f6f74040b686d61632d73686132353602046553f1000202012c"
    "0410a0a1a2a3a4a5a6a7a8a9aaabacadaeaf02010101010004202fb66861652fbbc4b69d36491743394bdf7892"
    "f8cbce0fa9a1f6882b87a1122e";
const char kV2Mac[] = "3552feba9c8588c7cea58ec373fc64776847986304f196ab6249fa2bfe2afbdf";
const char kV2Control[] =
    "30650201010a0101040c746f76617269732d726f6f74040b686d61632d73686132353602046553f1010202012c"
    "0410b0b1b2b3b4b5b6b7b8b9babbbcbdbebf02010001010004203552feba9c8588c7cea58ec373fc6477684798"
    "6304f196ab6249fa2bfe2afbdf";
const char kV3Mac[] = "d2b4bd2c7569940b070e37c3e96194a7f2f00183c25e76b35242ac7309bf2d41";
const char kV4Filter[] =
    "a00000000200000010870000000b6f626a656374636c6173730000004ea10000000200000020a3000000046d61"
    "696c000000136b636f6e6c657940746f76617269732e636f6d00000021a3000000046d61696c000000146b2a63"
    "6f6e6c657940746f76617269732e636f6d";
const char kV4Mac[] =
    "05f8b6ff62dd157d77ee891b35d77f03d081d66485755a2d7067cbb89d24392978b8df194dbec4cb1a494b3dba"
    "7334a17bf1d1bedec22232b8564c9bbd184544";
const char kV4Control[] =
    "3081880201010a010004106578616d706c652d636f6d2e32303236040b686d61632d73686135313202046553f1"
    "000201780410d0d1d2d3d4d5d6d7d8d9dadbdcdddedf0201020101ff044005f8b6ff62dd157d77ee891b35d77f"
    "03d081d66485755a2d7067cbb89d24392978b8df194dbec4cb1a494b3dba7334a17bf1d1bedec22232b8564c9b"
    "bd184544";

}  // namespace

class SignVectorsTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(SignVectorsTest);
    CPPUNIT_TEST(testV1Request);
    CPPUNIT_TEST(testV2Answer);
    CPPUNIT_TEST(testV3ReferralAnswer);
    CPPUNIT_TEST(testV4Sha512BothForms);
    CPPUNIT_TEST_SUITE_END();

    DeterministicEnv env_;
    Keyring ring_;

  public:
    void setUp() override {
        std::string k1, k2;
        CPPUNIT_ASSERT(Base64Decode(kKey1Base64, &k1).ok());
        CPPUNIT_ASSERT(Base64Decode(kKey2Base64, &k2).ok());
        CPPUNIT_ASSERT(ring_.AddKey("tovaris-root", k1).ok());
        CPPUNIT_ASSERT(ring_.AddKey("example-com.2026", k2).ok());
        env_.SetUnixSeconds(kTime);
    }

  private:
    SignedRequest SignV1(SigningContext* ctx) {
        env_.SetFixedRandom(Nonce(0xa0));
        SignedRequest sent;
        Status s = ctx->SignRequest("tovaris-root", MacAlgorithm::kHmacSha256, V1Request(), 1,
                                    false, &sent);
        CPPUNIT_ASSERT_MESSAGE(s.ToString(), s.ok());
        return sent;
    }

  public:
    void testV1Request() {
        std::string canonical;
        CPPUNIT_ASSERT(CanonicalRequest(V1Request(), &canonical).ok());
        CPPUNIT_ASSERT_EQUAL(std::string(kV1Canonical), Hex(canonical));
        SigningContext ctx(&ring_, SigningOptions(), &env_);
        SignedRequest sent = SignV1(&ctx);
        CPPUNIT_ASSERT_EQUAL(std::string(kV1Mac), Hex(sent.mac()));
        CPPUNIT_ASSERT_EQUAL(std::string(kV1Control), Hex(sent.control_value()));
        // and the serving side accepts the vector's control as it stands
        std::optional<VerifiedRequest> v;
        std::string control = FromHex(kV1Control);
        CPPUNIT_ASSERT(ctx.VerifyRequest(&control, V1Request(), &v).ok());
    }
    void testV2Answer() {
        SigningContext ctx(&ring_, SigningOptions(), &env_);
        SignedRequest sent = SignV1(&ctx);
        std::optional<VerifiedRequest> v;
        std::string control = FromHex(kV1Control);
        CPPUNIT_ASSERT(ctx.VerifyRequest(&control, V1Request(), &v).ok());
        env_.SetUnixSeconds(kTime + 1);
        env_.SetFixedRandom(Nonce(0xb0));
        AnswerSigner signer = ctx.StartAnswer(*v);
        CPPUNIT_ASSERT(signer.AddEntry(V2Entry()).ok());
        std::string answer;
        CPPUNIT_ASSERT(signer.Finish(0, {}, &answer).ok());
        CPPUNIT_ASSERT_EQUAL(std::string(kV2Control), Hex(answer));
        SignatureControl decoded;
        CPPUNIT_ASSERT(DecodeSignatureControl(answer, &decoded).ok());
        CPPUNIT_ASSERT_EQUAL(std::string(kV2Mac), Hex(decoded.mac));
        AnswerVerifier check = ctx.StartAnswerCheck(sent);
        check.AddEntry(V2Entry());
        std::string vector_answer = FromHex(kV2Control);
        CPPUNIT_ASSERT(check.Finish(0, {}, &vector_answer).ok());
    }
    void testV3ReferralAnswer() {
        SigningContext ctx(&ring_, SigningOptions(), &env_);
        SignedRequest sent = SignV1(&ctx);
        std::optional<VerifiedRequest> v;
        CPPUNIT_ASSERT(ctx.VerifyRequest(&sent.control_value(), V1Request(), &v).ok());
        env_.SetUnixSeconds(kTime + 1);
        env_.SetFixedRandom(Nonce(0xc0));
        AnswerSigner signer = ctx.StartAnswer(*v);
        std::string answer;
        std::vector<std::string> refs = {
            "ldap://127.0.0.1:3892/mail=kconley@tovaris.com,dc=tovaris,dc=com"};
        CPPUNIT_ASSERT(signer.Finish(10, refs, &answer).ok());
        SignatureControl decoded;
        CPPUNIT_ASSERT(DecodeSignatureControl(answer, &decoded).ok());
        CPPUNIT_ASSERT_EQUAL(std::string(kV3Mac), Hex(decoded.mac));
    }
    void testV4Sha512BothForms() {
        SearchRequestParts sent_parts;
        sent_parts.base_dn = "mail=KConley@Tovaris.com, DC=Tovaris, DC=Com";
        sent_parts.scope = 2;
        sent_parts.deref = 3;
        sent_parts.manage_dsa_it = true;
        sent_parts.filter =
            "(&(objectClass=*)(|(MAIL=KConley@Tovaris.COM)(mail=k\\2aconley@tovaris.com)))";
        sent_parts.attributes = {"MAIL", "userSMIMECertificate", "userCertificate;Binary"};
        SearchRequestParts seen_parts = sent_parts;
        seen_parts.base_dn = "mail=KConley@Tovaris.com,dc=Tovaris,dc=Com";
        seen_parts.filter =
            "(&(|(mail=k\\2Aconley@tovaris.com)(mail=kconley@tovaris.com))(objectClass=*))";
        seen_parts.attributes = {"userCertificate;Binary", "MAIL", "userSMIMECertificate"};
        std::string filter;
        CPPUNIT_ASSERT(CanonicalFilter(sent_parts.filter, &filter).ok());
        CPPUNIT_ASSERT_EQUAL(std::string(kV4Filter), Hex(filter));
        CPPUNIT_ASSERT(CanonicalFilter(seen_parts.filter, &filter).ok());
        CPPUNIT_ASSERT_EQUAL(std::string(kV4Filter), Hex(filter));

        SigningOptions options;
        options.fudge_seconds = 120;
        SigningContext ctx(&ring_, options, &env_);
        env_.SetFixedRandom(Nonce(0xd0));
        SignedRequest sent;
        CPPUNIT_ASSERT(ctx.SignRequest("example-com.2026", MacAlgorithm::kHmacSha512, sent_parts, 2,
                                       true, &sent)
                           .ok());
        CPPUNIT_ASSERT_EQUAL(std::string(kV4Mac), Hex(sent.mac()));
        CPPUNIT_ASSERT_EQUAL(std::string(kV4Control), Hex(sent.control_value()));
        std::optional<VerifiedRequest> v;
        VerifyOutcome o = ctx.VerifyRequest(&sent.control_value(), seen_parts, &v);
        CPPUNIT_ASSERT_MESSAGE(o.text, o.ok());
        CPPUNIT_ASSERT(v->recursion());
        CPPUNIT_ASSERT_EQUAL(uint32_t(2), v->hop_count());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(SignVectorsTest);

}  // namespace keydir
