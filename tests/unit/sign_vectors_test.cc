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
const char kV1Server[] = "keys.tovaris.com:389";
const char kV4Server[] = "[2001:db8::1]:636";

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
const char kV1Mac[] = "eb449a41c85c57790c69e9f35fb6fc483a537ee44b2af5aa59f331d1f6e69fb4";
const char kV1Control[] =
    "307b0201020a0100040c746f76617269732d726f6f74040b686d61632d73686132353602046553f1000202012c"
    "0410a0a1a2a3a4a5a6a7a8a9aaabacadaeaf02010101010004146b6579732e746f76617269732e636f6d3a3338"
    "390420eb449a41c85c57790c69e9f35fb6fc483a537ee44b2af5aa59f331d1f6e69fb4";
const char kV2Mac[] = "aec94a9169ef89f2387decc9fefb459f4e88ea83f03813fb271766d2cb1e6b5e";
const char kV2Control[] =
    "30670201020a0101040c746f76617269732d726f6f74040b686d61632d73686132353602046553f1010202012c"
    "0410b0b1b2b3b4b5b6b7b8b9babbbcbdbebf02010001010004000420aec94a9169ef89f2387decc9fefb459f4e"
    "88ea83f03813fb271766d2cb1e6b5e";
const char kV3Mac[] = "7ac67b7f659b4bee3a9302364f11b94973836fc12c70b09d3db4dc82c99d413a";
const char kV4Filter[] =
    "a00000000200000010870000000b6f626a656374636c6173730000004ea10000000200000020a3000000046d61"
    "696c000000136b636f6e6c657940746f76617269732e636f6d00000021a3000000046d61696c000000146b2a63"
    "6f6e6c657940746f76617269732e636f6d";
const char kV4Mac[] =
    "6e2e2e46679cc6d950c1322215aba151c83bb8f1ae6fa693e0df647db00a0a9114460cfe740d9f116dad5b4ef2"
    "3403e973020ce2cb0b65507f1aed5beec190be";
const char kV4Control[] =
    "30819b0201020a010004106578616d706c652d636f6d2e32303236040b686d61632d73686135313202046553f1"
    "000201780410d0d1d2d3d4d5d6d7d8d9dadbdcdddedf0201020101ff04115b323030313a6462383a3a315d3a36"
    "333604406e2e2e46679cc6d950c1322215aba151c83bb8f1ae6fa693e0df647db00a0a9114460cfe740d9f116d"
    "ad5b4ef23403e973020ce2cb0b65507f1aed5beec190be";

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
    // A context that serves as both vectors' server.
    static void Serve(SigningContext* ctx) { ctx->SetServerIdentities({kV1Server, kV4Server}); }

  private:
    SignedRequest SignV1(SigningContext* ctx) {
        env_.SetFixedRandom(Nonce(0xa0));
        SignedRequest sent;
        Status s = ctx->SignRequest("tovaris-root", MacAlgorithm::kHmacSha256, V1Request(), 1,
                                    false, kV1Server, &sent);
        CPPUNIT_ASSERT_MESSAGE(s.ToString(), s.ok());
        return sent;
    }

  public:
    void testV1Request() {
        std::string canonical;
        CPPUNIT_ASSERT(CanonicalRequest(V1Request(), &canonical).ok());
        CPPUNIT_ASSERT_EQUAL(std::string(kV1Canonical), Hex(canonical));
        SigningContext ctx(&ring_, SigningOptions(), &env_);
        Serve(&ctx);
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
        Serve(&ctx);
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
        Serve(&ctx);
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
        Serve(&ctx);
        env_.SetFixedRandom(Nonce(0xd0));
        SignedRequest sent;
        CPPUNIT_ASSERT(ctx.SignRequest("example-com.2026", MacAlgorithm::kHmacSha512, sent_parts, 2,
                                       true, kV4Server, &sent)
                           .ok());
        CPPUNIT_ASSERT_EQUAL(std::string(kV4Mac), Hex(sent.mac()));
        CPPUNIT_ASSERT_EQUAL(std::string(kV4Control), Hex(sent.control_value()));
        std::optional<VerifiedRequest> v;
        VerifyOutcome o = ctx.VerifyRequest(&sent.control_value(), seen_parts, &v);
        CPPUNIT_ASSERT_MESSAGE(o.text, o.ok());
        CPPUNIT_ASSERT(v->recursion());
        CPPUNIT_ASSERT_EQUAL(uint32_t(2), v->hop_count());
        CPPUNIT_ASSERT_EQUAL(std::string(kV4Server), v->server());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(SignVectorsTest);

}  // namespace keydir
