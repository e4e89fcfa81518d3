#include <cppunit/extensions/HelperMacros.h>

#include <atomic>
#include <functional>
#include <set>
#include <thread>

#include "sign/replay_cache.h"
#include "sign/signer.h"
#include "sign_test_util.h"

namespace keydir {
namespace {

using testing::DeterministicEnv;

std::string Secret(char seed, size_t n = 32) {
    std::string s;
    for (size_t i = 0; i < n; ++i)
        s += static_cast<char>(seed + i * 3);
    return s;
}

SearchRequestParts Request(const std::string& address = "kconley@tovaris.com") {
    SearchRequestParts r;
    std::string domain = address.substr(address.find('@') + 1);
    r.base_dn = "mail=" + address + ",dc=" + domain.substr(0, domain.find('.')) + ",dc=com";
    r.filter = "(mail=" + address + ")";
    r.attributes = {"userCertificate;binary", "mail"};
    r.size_limit = 2;
    r.time_limit = 3;
    return r;
}

LdapEntry Entry(const std::string& address = "kconley@tovaris.com") {
    LdapEntry e;
    e.dn = Request(address).base_dn;
    e.attributes = {
        {"mail", {address}},
        {"userCertificate;binary", {std::string("\x30\x82\x02\x10 cert of ") + address}}};
    return e;
}

// The server the asking side means to ask: one of the serving side's names.
const char kServer[] = "keys.tovaris.com:389";

// One exchange between an asking and a serving server that share a key.
struct Exchange {
    Keyring ask_ring, serve_ring;
    DeterministicEnv ask_env, serve_env;
    SigningOptions options;
    std::unique_ptr<SigningContext> asker, server;

    Exchange() {
        ask_ring.AddKey("k1", Secret('a'));
        serve_ring.AddKey("k1", Secret('a'));
        Reset();
    }
    void Reset() {
        asker.reset(new SigningContext(&ask_ring, options, &ask_env));
        server.reset(new SigningContext(&serve_ring, options, &serve_env));
        server->SetServerIdentities({"keys.tovaris.com:389", "192.0.2.7:3890"});
    }
    SignedRequest Sign(const SearchRequestParts& r = Request(), const std::string& key = "k1",
                       MacAlgorithm alg = MacAlgorithm::kHmacSha256, uint32_t hops = 1,
                       bool recursion = false) {
        SignedRequest sent;
        Status s = asker->SignRequest(key, alg, r, hops, recursion, kServer, &sent);
        CPPUNIT_ASSERT_MESSAGE(s.ToString(), s.ok());
        return sent;
    }
    VerifyOutcome Verify(const std::string& control, const SearchRequestParts& r = Request(),
                         std::optional<VerifiedRequest>* out = nullptr) {
        std::optional<VerifiedRequest> v;
        VerifyOutcome o = server->VerifyRequest(&control, r, out ? out : &v);
        return o;
    }
    // The serving side answers `v` with `entries`, result code 0.
    std::string Answer(const VerifiedRequest& v, const std::vector<LdapEntry>& entries,
                       int result = 0, const std::vector<std::string>& refs = {}) {
        AnswerSigner a = server->StartAnswer(v);
        for (const LdapEntry& e : entries)
            CPPUNIT_ASSERT(a.AddEntry(e).ok());
        std::string control;
        Status s = a.Finish(result, refs, &control);
        CPPUNIT_ASSERT_MESSAGE(s.ToString(), s.ok());
        return control;
    }
    VerifyOutcome CheckAnswer(const SignedRequest& sent, const std::vector<LdapEntry>& entries,
                              const std::string* control, int result = 0,
                              const std::vector<std::string>& refs = {}) {
        AnswerVerifier check = asker->StartAnswerCheck(sent);
        for (const LdapEntry& e : entries)
            check.AddEntry(e);
        return check.Finish(result, refs, control);
    }
};

SignatureControl Decoded(const std::string& value) {
    SignatureControl c;
    Status s = DecodeSignatureControl(value, &c);
    if (!s.ok())
        throw std::runtime_error(s.ToString());
    return c;
}

std::string Reencoded(SignatureControl c) {
    std::string v;
    Status s = EncodeSignatureControl(c, &v);
    if (!s.ok())
        throw std::runtime_error(s.ToString());
    return v;
}

// Evaluates `outcome` once: verifying twice would be a replay.
#define ASSERT_RESULT(expected, outcome)                                                           \
    do {                                                                                           \
        VerifyOutcome assert_result_outcome = (outcome);                                           \
        CPPUNIT_ASSERT_EQUAL_MESSAGE(assert_result_outcome.text,                                   \
                                     std::string(VerifyResultName(expected)),                      \
                                     std::string(VerifyResultName(assert_result_outcome.result))); \
    } while (0)

}  // namespace

class SignVerifyTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(SignVerifyTest);
    CPPUNIT_TEST(testHonestExchange);
    CPPUNIT_TEST(testHonestExchangeSha512);
    CPPUNIT_TEST(testMissingAndMalformed);
    CPPUNIT_TEST(testWrongDirection);
    CPPUNIT_TEST(testUnknownKeyAndWrongKey);
    CPPUNIT_TEST(testUnknownAlgorithmAndSwap);
    CPPUNIT_TEST(testMacLength);
    CPPUNIT_TEST(testForgedMac);
    CPPUNIT_TEST(testAlteredRequest);
    CPPUNIT_TEST(testAlteredControlFields);
    CPPUNIT_TEST(testTimeWithinFudge);
    CPPUNIT_TEST(testFudgeCappedByServer);
    CPPUNIT_TEST(testReplay);
    CPPUNIT_TEST(testForgeriesDoNotFillReplayCache);
    CPPUNIT_TEST(testReplayCacheBounded);
    CPPUNIT_TEST(testFutureDatedRequestsDoNotJamReplayCache);
    CPPUNIT_TEST(testForeignControlsRefused);
    CPPUNIT_TEST(testRequestMeantForAnotherServer);
    CPPUNIT_TEST(testUncanonicalRequest);
    CPPUNIT_TEST(testCheckOrder);
    CPPUNIT_TEST(testAnswerAltered);
    CPPUNIT_TEST(testAnswerOnAnotherRequest);
    CPPUNIT_TEST(testAnswerWithoutOrBadControl);
    CPPUNIT_TEST(testAnswerKeyMismatch);
    CPPUNIT_TEST(testAnswerTime);
    CPPUNIT_TEST(testAnswerWithReferencesAndReferrals);
    CPPUNIT_TEST(testKeyRotation);
    CPPUNIT_TEST(testVerifiedRequestCarriesHopAndRecursion);
    CPPUNIT_TEST(testSignerRefusesUnknownKey);
    CPPUNIT_TEST(testCountersAndCodes);
    CPPUNIT_TEST(testConcurrentVerification);
    CPPUNIT_TEST_SUITE_END();

  public:
    void testHonestExchange() {
        Exchange x;
        SignedRequest sent = x.Sign();
        std::optional<VerifiedRequest> v;
        VerifyOutcome o = x.Verify(sent.control_value(), Request(), &v);
        ASSERT_RESULT(VerifyResult::kOk, o);
        CPPUNIT_ASSERT(v.has_value());
        CPPUNIT_ASSERT_EQUAL(sent.mac(), v->mac());
        std::string answer = x.Answer(*v, {Entry()});
        ASSERT_RESULT(VerifyResult::kOk, x.CheckAnswer(sent, {Entry()}, &answer));
        SignatureControl c = Decoded(answer);
        CPPUNIT_ASSERT(c.direction == SignedDirection::kAnswer);
        CPPUNIT_ASSERT_EQUAL(std::string("k1"), c.key_name);
        CPPUNIT_ASSERT_EQUAL(size_t(32), c.mac.size());
    }
    void testHonestExchangeSha512() {
        Exchange x;
        SignedRequest sent = x.Sign(Request(), "k1", MacAlgorithm::kHmacSha512);
        CPPUNIT_ASSERT_EQUAL(size_t(64), Decoded(sent.control_value()).mac.size());
        std::optional<VerifiedRequest> v;
        ASSERT_RESULT(VerifyResult::kOk, x.Verify(sent.control_value(), Request(), &v));
        CPPUNIT_ASSERT(v->algorithm() == MacAlgorithm::kHmacSha512);
        std::string answer = x.Answer(*v, {Entry()});
        CPPUNIT_ASSERT_EQUAL(std::string("hmac-sha512"), Decoded(answer).algorithm);
        ASSERT_RESULT(VerifyResult::kOk, x.CheckAnswer(sent, {Entry()}, &answer));
    }
    void testMissingAndMalformed() {
        Exchange x;
        std::optional<VerifiedRequest> v;
        VerifyOutcome o =
            x.server->VerifyRequest(static_cast<const std::string*>(nullptr), Request(), &v);
        ASSERT_RESULT(VerifyResult::kMissing, o);
        CPPUNIT_ASSERT(!v.has_value());
        o = x.Verify("\x30\x03garbage");
        ASSERT_RESULT(VerifyResult::kMalformed, o);
        CPPUNIT_ASSERT(o.text.find("signature control") != std::string::npos);
        std::string control = x.Sign().control_value();
        ASSERT_RESULT(VerifyResult::kMalformed, x.Verify(control.substr(0, control.size() - 1)));
    }
    void testWrongDirection() {
        Exchange x;
        SignedRequest sent = x.Sign();
        std::optional<VerifiedRequest> v;
        x.Verify(sent.control_value(), Request(), &v);
        std::string answer = x.Answer(*v, {Entry()});
        // an answer's control presented as a request (reflection)
        ASSERT_RESULT(VerifyResult::kWrongDirection, x.Verify(answer));
        // a request's control presented as an answer
        std::string request_control = sent.control_value();
        ASSERT_RESULT(VerifyResult::kWrongDirection,
                      x.CheckAnswer(sent, {Entry()}, &request_control));
    }
    void testUnknownKeyAndWrongKey() {
        Exchange x;
        x.ask_ring.AddKey("k2", Secret('z'));
        VerifyOutcome o = x.Verify(x.Sign(Request(), "k2").control_value());
        ASSERT_RESULT(VerifyResult::kUnknownKey, o);
        CPPUNIT_ASSERT(o.text.find("unknown key \"k2\"") != std::string::npos);
        // the same name with another secret: the MAC does not verify
        x.serve_ring.AddKey("k2", Secret('y'));
        ASSERT_RESULT(VerifyResult::kBadMac, x.Verify(x.Sign(Request(), "k2").control_value()));
    }
    void testUnknownAlgorithmAndSwap() {
        Exchange x;
        SignatureControl c = Decoded(x.Sign().control_value());
        c.algorithm = "hmac-md5";
        VerifyOutcome o = x.Verify(Reencoded(c));
        ASSERT_RESULT(VerifyResult::kUnknownAlgorithm, o);
        CPPUNIT_ASSERT(o.text.find("hmac-md5") != std::string::npos);
        // a SHA-256 MAC relabelled as SHA-512 (and padded to its length)
        c = Decoded(x.Sign().control_value());
        c.algorithm = "hmac-sha512";
        c.mac += std::string(32, '\0');
        ASSERT_RESULT(VerifyResult::kBadMac, x.Verify(Reencoded(c)));
    }
    void testMacLength() {
        Exchange x;
        for (size_t n :
             {size_t(0), size_t(1), size_t(16), size_t(31), size_t(33), size_t(64), size_t(255)}) {
            SignatureControl c = Decoded(x.Sign().control_value());
            std::string mac = c.mac;
            c.mac = n <= mac.size() ? mac.substr(0, n) : mac + std::string(n - mac.size(), 'x');
            VerifyOutcome o = x.Verify(Reencoded(c));
            ASSERT_RESULT(VerifyResult::kBadMacLength, o);
            CPPUNIT_ASSERT(o.text.find("MAC of " + std::to_string(n) +
                                       " bytes; hmac-sha256 makes 32") != std::string::npos);
        }
    }
    void testForgedMac() {
        Exchange x;
        for (size_t byte : {size_t(0), size_t(17), size_t(31)}) {
            SignatureControl c = Decoded(x.Sign().control_value());
            c.mac[byte] ^= 0x01;
            ASSERT_RESULT(VerifyResult::kBadMac, x.Verify(Reencoded(c)));
        }
    }
    void testAlteredRequest() {
        Exchange x;
        SignedRequest sent = x.Sign();
        SearchRequestParts r = Request();
        r.filter = "(mail=attacker@evil.com)";
        ASSERT_RESULT(VerifyResult::kBadMac, x.Verify(sent.control_value(), r));
        r = Request();
        r.base_dn = "dc=tovaris,dc=com";
        ASSERT_RESULT(VerifyResult::kBadMac, x.Verify(x.Sign().control_value(), r));
        r = Request();
        r.attributes.push_back("userPKCS12");
        ASSERT_RESULT(VerifyResult::kBadMac, x.Verify(x.Sign().control_value(), r));
        r = Request();
        r.scope = 2;
        ASSERT_RESULT(VerifyResult::kBadMac, x.Verify(x.Sign().control_value(), r));
        r = Request();
        r.manage_dsa_it = true;
        ASSERT_RESULT(VerifyResult::kBadMac, x.Verify(x.Sign().control_value(), r));
        // what slapd normalised verifies: case and spaces are not alterations
        r = Request();
        r.filter = "(mail=KConley@TOVARIS.com)";
        r.base_dn = "MAIL=KConley@Tovaris.com, DC=tovaris, DC=com";
        ASSERT_RESULT(VerifyResult::kOk, x.Verify(x.Sign().control_value(), r));
    }
    void testAlteredControlFields() {
        Exchange x;
        auto tamper = [&](std::function<void(SignatureControl*)> f) {
            SignatureControl c = Decoded(x.Sign().control_value());
            f(&c);
            return x.Verify(Reencoded(c));
        };
        ASSERT_RESULT(VerifyResult::kBadMac, tamper([](SignatureControl* c) { c->hop_count = 0; }));
        ASSERT_RESULT(VerifyResult::kBadMac,
                      tamper([](SignatureControl* c) { c->recursion = true; }));
        ASSERT_RESULT(VerifyResult::kBadMac, tamper([](SignatureControl* c) { c->fudge = 299; }));
        ASSERT_RESULT(VerifyResult::kBadMac,
                      tamper([](SignatureControl* c) { c->time_signed += 1; }));
        ASSERT_RESULT(VerifyResult::kBadMac, tamper([](SignatureControl* c) { c->nonce[3] ^= 1; }));
    }
    void testTimeWithinFudge() {
        Exchange x;  // fudge 300
        for (int64_t skew : {int64_t(-300), int64_t(0), int64_t(300)}) {
            x.ask_env.SetUnixSeconds(x.serve_env.NowUnixSeconds() + skew);
            ASSERT_RESULT(VerifyResult::kOk, x.Verify(x.Sign().control_value()));
        }
        for (int64_t skew : {int64_t(-301), int64_t(301), int64_t(-100000)}) {
            x.ask_env.SetUnixSeconds(x.serve_env.NowUnixSeconds() + skew);
            VerifyOutcome o = x.Verify(x.Sign().control_value());
            ASSERT_RESULT(VerifyResult::kBadTime, o);
            CPPUNIT_ASSERT(o.text.find("more than the fudge of 300 s") != std::string::npos);
            CPPUNIT_ASSERT(o.text.find(skew > 0 ? "ahead of" : "behind") != std::string::npos);
        }
    }
    void testFudgeCappedByServer() {
        Exchange x;
        x.options.fudge_seconds = 3000;  // the asker claims a wide window
        x.asker.reset(new SigningContext(&x.ask_ring, x.options, &x.ask_env));
        SigningOptions strict;
        strict.max_fudge_seconds = 60;
        x.server.reset(new SigningContext(&x.serve_ring, strict, &x.serve_env));
        x.server->SetServerIdentities({kServer});
        x.ask_env.SetUnixSeconds(x.serve_env.NowUnixSeconds() - 61);
        VerifyOutcome o = x.Verify(x.Sign().control_value());
        ASSERT_RESULT(VerifyResult::kBadTime, o);
        CPPUNIT_ASSERT(o.text.find("fudge of 60 s") != std::string::npos);
        x.ask_env.SetUnixSeconds(x.serve_env.NowUnixSeconds() - 60);
        ASSERT_RESULT(VerifyResult::kOk, x.Verify(x.Sign().control_value()));
    }
    void testReplay() {
        Exchange x;
        std::string control = x.Sign().control_value();
        ASSERT_RESULT(VerifyResult::kOk, x.Verify(control));
        VerifyOutcome o = x.Verify(control);
        ASSERT_RESULT(VerifyResult::kReplayed, o);
        CPPUNIT_ASSERT(o.text.find("replayed") != std::string::npos);
        x.serve_env.AdvanceSeconds(300);
        ASSERT_RESULT(VerifyResult::kReplayed, x.Verify(control));
        x.serve_env.AdvanceSeconds(1);  // out of the window: the time check catches it
        ASSERT_RESULT(VerifyResult::kBadTime, x.Verify(control));
    }
    void testForgeriesDoNotFillReplayCache() {
        Exchange x;
        std::string control = x.Sign().control_value();
        SignatureControl forged = Decoded(control);
        forged.mac[0] ^= 0xff;
        ASSERT_RESULT(VerifyResult::kBadMac, x.Verify(Reencoded(forged)));  // same nonce
        CPPUNIT_ASSERT_EQUAL(size_t(0), x.server->replay_cache().size());
        ASSERT_RESULT(VerifyResult::kOk, x.Verify(control));
    }
    void testReplayCacheBounded() {
        ReplayCache cache(3);
        int64_t now = 1000;
        CPPUNIT_ASSERT(cache.CheckAndRemember("k", "n1", 800, 300, now) ==
                       ReplayCache::Verdict::kFresh);
        CPPUNIT_ASSERT(cache.CheckAndRemember("k", "n2", 900, 300, now) ==
                       ReplayCache::Verdict::kFresh);
        CPPUNIT_ASSERT(cache.CheckAndRemember("k", "n3", 1000, 300, now) ==
                       ReplayCache::Verdict::kFresh);
        CPPUNIT_ASSERT(cache.CheckAndRemember("k", "n2", 900, 300, now) ==
                       ReplayCache::Verdict::kReplayed);
        CPPUNIT_ASSERT(cache.CheckAndRemember("other", "n2", 900, 300, now) ==
                       ReplayCache::Verdict::kFresh);
        // full: n1 (expiring first) was dropped and the floor rose to 1100
        CPPUNIT_ASSERT_EQUAL(size_t(3), cache.size());
        CPPUNIT_ASSERT_EQUAL(int64_t(1100), cache.floor());
        CPPUNIT_ASSERT(cache.CheckAndRemember("k", "n1", 800, 300, now) ==
                       ReplayCache::Verdict::kUnverifiable);  // a replay of n1 cannot pass
        CPPUNIT_ASSERT(cache.CheckAndRemember("k", "n9", 750, 300, now) ==
                       ReplayCache::Verdict::kUnverifiable);
        CPPUNIT_ASSERT(cache.CheckAndRemember("k", "n4", 1100, 300, now) ==
                       ReplayCache::Verdict::kFresh);
        CPPUNIT_ASSERT_EQUAL(size_t(3), cache.size());
        CPPUNIT_ASSERT_EQUAL(uint64_t(2), cache.forced_drops());
        // n4 was signed 100 s ahead: it holds the one place for those, and
        // is never dropped for room
        CPPUNIT_ASSERT_EQUAL(size_t(1), cache.ahead_capacity());
        CPPUNIT_ASSERT_EQUAL(size_t(1), cache.ahead());
        CPPUNIT_ASSERT(cache.CheckAndRemember("k", "n6", 1010, 300, now) ==
                       ReplayCache::Verdict::kUnverifiable);
        CPPUNIT_ASSERT(cache.CheckAndRemember("k", "n7", 1002, 300, now) ==
                       ReplayCache::Verdict::kFresh);  // within the tolerance: "now"
        // other/n2 went for it, not n4 (which would have lifted the floor to 1400)
        CPPUNIT_ASSERT_EQUAL(int64_t(1200), cache.floor());
        CPPUNIT_ASSERT_EQUAL(uint64_t(3), cache.forced_drops());
        CPPUNIT_ASSERT(cache.CheckAndRemember("k", "n4", 1100, 300, now) ==
                       ReplayCache::Verdict::kReplayed);
        // time passes: expired entries make room without raising the floor
        CPPUNIT_ASSERT(cache.CheckAndRemember("k", "n5", 1200, 300, 1401) ==
                       ReplayCache::Verdict::kFresh);
        CPPUNIT_ASSERT_EQUAL(size_t(1), cache.size());
        CPPUNIT_ASSERT_EQUAL(uint64_t(3), cache.forced_drops());

        // through the verifier, with a cache of two
        Exchange x;
        x.options.replay_cache_entries = 2;
        x.Reset();
        std::string first = x.Sign().control_value();
        x.ask_env.AdvanceSeconds(1);
        std::string second = x.Sign().control_value();
        x.ask_env.AdvanceSeconds(1);
        std::string third = x.Sign().control_value();
        ASSERT_RESULT(VerifyResult::kOk, x.Verify(first));
        ASSERT_RESULT(VerifyResult::kOk, x.Verify(second));
        ASSERT_RESULT(VerifyResult::kOk, x.Verify(third));  // drops `first`
        ASSERT_RESULT(VerifyResult::kReplayUnverifiable, x.Verify(first));
        ASSERT_RESULT(VerifyResult::kReplayed, x.Verify(third));
    }
    // Security review #13: a key holder fills the cache with requests signed
    // a whole fudge ahead (accepted, expiring at now + 2W); the drops must
    // not raise the floor above what honest requests, signed now or a little
    // before, expire at.
    void testFutureDatedRequestsDoNotJamReplayCache() {
        Exchange x;
        x.options.replay_cache_entries = 16;
        x.Reset();
        int64_t now = x.serve_env.NowUnixSeconds();
        x.ask_env.SetUnixSeconds(now + 300);
        size_t accepted = 0;
        for (int i = 0; i < 200; ++i) {
            VerifyOutcome o = x.Verify(x.Sign().control_value());
            CPPUNIT_ASSERT_MESSAGE(o.text, o.ok() || o.result == VerifyResult::kReplayUnverifiable);
            accepted += o.ok();
        }
        CPPUNIT_ASSERT(accepted > 0);  // a fast clock is not refused outright
        CPPUNIT_ASSERT(x.server->replay_cache().floor() <= now + 300);
        x.ask_env.SetUnixSeconds(now);
        ASSERT_RESULT(VerifyResult::kOk, x.Verify(x.Sign().control_value()));
        x.ask_env.SetUnixSeconds(now - 5);  // a little on its way
        ASSERT_RESULT(VerifyResult::kOk, x.Verify(x.Sign().control_value()));
        // honest traffic fills the cache past its size: still no replay gets through
        std::string early = x.Sign().control_value();
        ASSERT_RESULT(VerifyResult::kOk, x.Verify(early));
        for (int i = 0; i < 40; ++i) {
            x.ask_env.SetUnixSeconds(now + i / 8);
            x.serve_env.SetUnixSeconds(now + i / 8);
            ASSERT_RESULT(VerifyResult::kOk, x.Verify(x.Sign().control_value()));
        }
        VerifyOutcome replay = x.Verify(early);
        CPPUNIT_ASSERT(replay.result == VerifyResult::kReplayed ||
                       replay.result == VerifyResult::kReplayUnverifiable);
    }
    // Security review #3: controls outside the MAC (subentries,
    // pagedResults, sync, ...) are refused on a peer's request.
    void testForeignControlsRefused() {
        Exchange x;
        ASSERT_RESULT(VerifyResult::kOk, x.server->CheckRequestControls({}));
        ASSERT_RESULT(VerifyResult::kOk,
                      x.server->CheckRequestControls({kSignatureControlOid, kManageDsaItOid}));
        for (const char* oid : {"1.3.6.1.4.1.4203.1.10.1", "1.2.840.113556.1.4.319",
                                "1.3.6.1.4.1.4203.1.9.1.1", "", "2.16.840.1.113730.3.4.2 "}) {
            VerifyOutcome o =
                x.server->CheckRequestControls({kSignatureControlOid, oid, kManageDsaItOid});
            ASSERT_RESULT(VerifyResult::kForeignControl, o);
            CPPUNIT_ASSERT_MESSAGE(o.text, o.text.find("keydir signature: ") == 0);
            CPPUNIT_ASSERT_MESSAGE(
                o.text, o.text.find(std::string("\"") + oid + "\"") != std::string::npos);
        }
        CPPUNIT_ASSERT_EQUAL(53, SuggestedLdapResultCode(VerifyResult::kForeignControl));
        CPPUNIT_ASSERT_EQUAL(uint64_t(5),
                             x.server->request_counters().Get(VerifyResult::kForeignControl));
        CPPUNIT_ASSERT_EQUAL(std::string("foreign control"),
                             std::string(VerifyResultName(VerifyResult::kForeignControl)));
    }
    // Security review #6: a request names the server it is meant for, under
    // the MAC; another server that holds the key refuses it.
    void testRequestMeantForAnotherServer() {
        Exchange x;
        SignedRequest sent;
        CPPUNIT_ASSERT(x.asker
                           ->SignRequest("k1", MacAlgorithm::kHmacSha256, Request(), 1, false,
                                         "parent.example.net:389", &sent)
                           .ok());
        VerifyOutcome o = x.Verify(sent.control_value());
        ASSERT_RESULT(VerifyResult::kMisdirected, o);
        CPPUNIT_ASSERT_MESSAGE(
            o.text,
            o.text.find("signed for server \"parent.example.net:389\"") != std::string::npos);
        CPPUNIT_ASSERT_MESSAGE(o.text, o.text.find("keys.tovaris.com:389") != std::string::npos);
        CPPUNIT_ASSERT_EQUAL(53, SuggestedLdapResultCode(VerifyResult::kMisdirected));
        CPPUNIT_ASSERT_EQUAL(size_t(0), x.server->replay_cache().size());
        // the name is under the MAC: rewriting it breaks the signature
        SignatureControl c = Decoded(sent.control_value());
        c.server = kServer;
        ASSERT_RESULT(VerifyResult::kBadMac, x.Verify(Reencoded(c)));
        // the server that has the name accepts it, and says which name was used
        x.server->SetServerIdentities({"parent.example.net:389"});
        std::optional<VerifiedRequest> v;
        ASSERT_RESULT(VerifyResult::kOk, x.Verify(sent.control_value(), Request(), &v));
        CPPUNIT_ASSERT_EQUAL(std::string("parent.example.net:389"), v->server());
        // a server with no names accepts nothing
        x.server->SetServerIdentities({});
        ASSERT_RESULT(VerifyResult::kMisdirected, x.Verify(x.Sign().control_value()));
        // the asking side cannot sign for no server
        CPPUNIT_ASSERT(
            !x.asker->SignRequest("k1", MacAlgorithm::kHmacSha256, Request(), 1, false, "", &sent)
                 .ok());
    }
    void testUncanonicalRequest() {
        Exchange x;
        SearchRequestParts r = Request();
        r.filter = "(mail=a)";
        SignedRequest sent = x.Sign(r);
        r.filter = "(?mail=a)";  // slapd could not evaluate it
        VerifyOutcome o = x.Verify(sent.control_value(), r);
        ASSERT_RESULT(VerifyResult::kUncanonical, o);
        SignedRequest unused;
        r.base_dn = "cn=#00";
        CPPUNIT_ASSERT(
            !x.asker->SignRequest("k1", MacAlgorithm::kHmacSha256, r, 0, false, kServer, &unused)
                 .ok());
    }
    void testCheckOrder() {
        Exchange x;
        // unknown key + bad MAC length -> key first
        SignatureControl c = Decoded(x.Sign().control_value());
        c.key_name = "nokey";
        c.mac = "short";
        ASSERT_RESULT(VerifyResult::kUnknownKey, x.Verify(Reencoded(c)));
        // unknown algorithm + bad length -> algorithm first
        c = Decoded(x.Sign().control_value());
        c.algorithm = "hmac-sha1";
        c.mac = "short";
        ASSERT_RESULT(VerifyResult::kUnknownAlgorithm, x.Verify(Reencoded(c)));
        // bad length + bad time -> length first
        x.ask_env.SetUnixSeconds(x.serve_env.NowUnixSeconds() + 5000);
        c = Decoded(x.Sign().control_value());
        c.mac.pop_back();
        ASSERT_RESULT(VerifyResult::kBadMacLength, x.Verify(Reencoded(c)));
        // bad MAC + bad time -> MAC first (an unauthenticated time is not reported)
        c = Decoded(x.Sign().control_value());
        c.mac[0] ^= 1;
        ASSERT_RESULT(VerifyResult::kBadMac, x.Verify(Reencoded(c)));
        // bad time + replay -> time first
        x.ask_env.SetUnixSeconds(x.serve_env.NowUnixSeconds());
        std::string ok = x.Sign().control_value();
        ASSERT_RESULT(VerifyResult::kOk, x.Verify(ok));
        x.serve_env.AdvanceSeconds(301);
        ASSERT_RESULT(VerifyResult::kBadTime, x.Verify(ok));
    }
    void testAnswerAltered() {
        Exchange x;
        SignedRequest sent = x.Sign();
        std::optional<VerifiedRequest> v;
        x.Verify(sent.control_value(), Request(), &v);
        LdapEntry other = Entry("kim@tovaris.com");
        std::string answer = x.Answer(*v, {Entry(), other});
        ASSERT_RESULT(VerifyResult::kOk, x.CheckAnswer(sent, {Entry(), other}, &answer));
        LdapEntry changed = Entry();
        changed.attributes[1].values[0][5] ^= 1;  // the certificate
        ASSERT_RESULT(VerifyResult::kBadMac, x.CheckAnswer(sent, {changed, other}, &answer));
        ASSERT_RESULT(VerifyResult::kBadMac, x.CheckAnswer(sent, {Entry()}, &answer));  // dropped
        ASSERT_RESULT(VerifyResult::kBadMac,
                      x.CheckAnswer(sent, {other, Entry()}, &answer));  // order
        ASSERT_RESULT(VerifyResult::kBadMac,
                      x.CheckAnswer(sent, {Entry(), other, other}, &answer));  // added
        ASSERT_RESULT(VerifyResult::kBadMac, x.CheckAnswer(sent, {Entry(), other}, &answer, 32));
        LdapEntry renamed = Entry();
        renamed.dn = "mail=kconley@tovaris.com,dc=evil,dc=com";
        ASSERT_RESULT(VerifyResult::kBadMac, x.CheckAnswer(sent, {renamed, other}, &answer));
        // attribute order, description case and DN spelling are not alterations
        LdapEntry reordered = Entry();
        std::swap(reordered.attributes[0], reordered.attributes[1]);
        reordered.attributes[0].description = "USERCERTIFICATE;binary";
        reordered.dn = "mail=kconley@tovaris.com, dc=tovaris, dc=com";
        ASSERT_RESULT(VerifyResult::kOk, x.CheckAnswer(sent, {reordered, other}, &answer));
        // an entry whose DN does not parse
        LdapEntry bad = Entry();
        bad.dn = "garbage";
        ASSERT_RESULT(VerifyResult::kUncanonical, x.CheckAnswer(sent, {bad, other}, &answer));
    }
    void testAnswerOnAnotherRequest() {
        Exchange x;
        SignedRequest a = x.Sign(Request("a@tovaris.com"));
        SignedRequest b = x.Sign(Request("b@tovaris.com"));
        std::optional<VerifiedRequest> va, vb;
        x.Verify(a.control_value(), Request("a@tovaris.com"), &va);
        x.Verify(b.control_value(), Request("b@tovaris.com"), &vb);
        std::string answer_a = x.Answer(*va, {Entry("a@tovaris.com")});
        ASSERT_RESULT(VerifyResult::kBadMac, x.CheckAnswer(b, {Entry("a@tovaris.com")}, &answer_a));
        ASSERT_RESULT(VerifyResult::kOk, x.CheckAnswer(a, {Entry("a@tovaris.com")}, &answer_a));
        // even the same request re-sent gets a new MAC (fresh nonce)
        SignedRequest a2 = x.Sign(Request("a@tovaris.com"));
        CPPUNIT_ASSERT(a2.mac() != a.mac());
        ASSERT_RESULT(VerifyResult::kBadMac,
                      x.CheckAnswer(a2, {Entry("a@tovaris.com")}, &answer_a));
    }
    void testAnswerWithoutOrBadControl() {
        Exchange x;
        SignedRequest sent = x.Sign();
        ASSERT_RESULT(VerifyResult::kMissing, x.CheckAnswer(sent, {Entry()}, nullptr));
        std::string junk = "junk";
        ASSERT_RESULT(VerifyResult::kMalformed, x.CheckAnswer(sent, {Entry()}, &junk));
        std::optional<VerifiedRequest> v;
        x.Verify(sent.control_value(), Request(), &v);
        std::string answer = x.Answer(*v, {Entry()});
        SignatureControl c = Decoded(answer);
        c.mac.resize(31);
        std::string truncated = Reencoded(c);
        ASSERT_RESULT(VerifyResult::kBadMacLength, x.CheckAnswer(sent, {Entry()}, &truncated));
        // checking twice is refused
        AnswerVerifier check = x.asker->StartAnswerCheck(sent);
        check.AddEntry(Entry());
        CPPUNIT_ASSERT(check.Finish(0, {}, &answer).ok());
        CPPUNIT_ASSERT(!check.Finish(0, {}, &answer).ok());
    }
    void testAnswerKeyMismatch() {
        Exchange x;
        x.ask_ring.AddKey("k2", Secret('q'));
        x.serve_ring.AddKey("k2", Secret('q'));
        SignedRequest sent1 = x.Sign(Request(), "k1");
        SignedRequest sent2 = x.Sign(Request(), "k2");
        std::optional<VerifiedRequest> v2;
        x.Verify(sent2.control_value(), Request(), &v2);
        std::string answer2 = x.Answer(*v2, {Entry()});
        VerifyOutcome o = x.CheckAnswer(sent1, {Entry()}, &answer2);
        ASSERT_RESULT(VerifyResult::kKeyMismatch, o);
        CPPUNIT_ASSERT(o.text.find("\"k2\"") != std::string::npos);
    }
    void testAnswerTime() {
        Exchange x;
        SignedRequest sent = x.Sign();
        std::optional<VerifiedRequest> v;
        x.Verify(sent.control_value(), Request(), &v);
        x.serve_env.AdvanceSeconds(301);  // the server's clock runs ahead
        std::string answer = x.Answer(*v, {Entry()});
        ASSERT_RESULT(VerifyResult::kBadTime, x.CheckAnswer(sent, {Entry()}, &answer));
        x.ask_env.AdvanceSeconds(1);
        ASSERT_RESULT(VerifyResult::kOk, x.CheckAnswer(sent, {Entry()}, &answer));
    }
    void testAnswerWithReferencesAndReferrals() {
        Exchange x;
        SignedRequest sent = x.Sign();
        std::optional<VerifiedRequest> v;
        x.Verify(sent.control_value(), Request(), &v);
        std::vector<std::string> refs = {
            "ldap://127.0.0.1:3892/mail=kconley@tovaris.com,dc=tovaris,dc=com"};
        AnswerSigner signer = x.server->StartAnswer(*v);
        signer.AddReference({"ldap://a/", "ldap://b/"});
        std::string control;
        CPPUNIT_ASSERT(signer.Finish(10, refs, &control).ok());
        auto check = [&](std::vector<std::string> item, int code, std::vector<std::string> r) {
            AnswerVerifier c = x.asker->StartAnswerCheck(sent);
            c.AddReference(item);
            return c.Finish(code, r, &control);
        };
        ASSERT_RESULT(VerifyResult::kOk, check({"ldap://a/", "ldap://b/"}, 10, refs));
        ASSERT_RESULT(VerifyResult::kBadMac, check({"ldap://b/", "ldap://a/"}, 10, refs));
        ASSERT_RESULT(VerifyResult::kBadMac, check({"ldap://a/"}, 10, refs));
        ASSERT_RESULT(VerifyResult::kBadMac,
                      check({"ldap://a/", "ldap://b/"}, 10,
                            {"ldap://evil:389/mail=kconley@tovaris.com,dc=tovaris,dc=com"}));
        ASSERT_RESULT(VerifyResult::kBadMac, check({"ldap://a/", "ldap://b/"}, 32, refs));
        // a reference is not an entry: the item kinds are MACed too
        CPPUNIT_ASSERT(!signer.Finish(10, refs, &control).ok());  // signed once only
    }
    void testKeyRotation() {
        Exchange x;
        x.ask_ring.AddKey("k2", Secret('r'));
        x.serve_ring.AddKey("k2", Secret('r'));
        ASSERT_RESULT(VerifyResult::kOk, x.Verify(x.Sign(Request(), "k1").control_value()));
        ASSERT_RESULT(VerifyResult::kOk, x.Verify(x.Sign(Request(), "k2").control_value()));
        // a request verified with k1 just before k1 is retired is answered with k1
        SignedRequest sent = x.Sign(Request(), "k1");
        std::optional<VerifiedRequest> v;
        ASSERT_RESULT(VerifyResult::kOk, x.Verify(sent.control_value(), Request(), &v));
        CPPUNIT_ASSERT(x.serve_ring.RemoveKey("k1").ok());
        std::string answer = x.Answer(*v, {Entry()});
        ASSERT_RESULT(VerifyResult::kOk, x.CheckAnswer(sent, {Entry()}, &answer));
        ASSERT_RESULT(VerifyResult::kUnknownKey, x.Verify(x.Sign(Request(), "k1").control_value()));
        ASSERT_RESULT(VerifyResult::kOk, x.Verify(x.Sign(Request(), "k2").control_value()));
    }
    void testVerifiedRequestCarriesHopAndRecursion() {
        Exchange x;
        std::optional<VerifiedRequest> v;
        SignedRequest sent = x.Sign(Request(), "k1", MacAlgorithm::kHmacSha256, 7, true);
        ASSERT_RESULT(VerifyResult::kOk, x.Verify(sent.control_value(), Request(), &v));
        CPPUNIT_ASSERT_EQUAL(uint32_t(7), v->hop_count());
        CPPUNIT_ASSERT(v->recursion());
        CPPUNIT_ASSERT_EQUAL(std::string("k1"), v->key_name());
        CPPUNIT_ASSERT_EQUAL(x.ask_env.NowUnixSeconds(), v->time_signed());
    }
    void testSignerRefusesUnknownKey() {
        Exchange x;
        SignedRequest out;
        Status s = x.asker->SignRequest("nope", MacAlgorithm::kHmacSha256, Request(), 0, false,
                                        kServer, &out);
        CPPUNIT_ASSERT(s.IsNotFound());
        CPPUNIT_ASSERT(!out.valid());
        CPPUNIT_ASSERT(!x.asker
                            ->SignRequest("k1", MacAlgorithm::kHmacSha256, Request(), 256, false,
                                          kServer, &out)
                            .ok());
    }
    void testCountersAndCodes() {
        Exchange x;
        std::string control = x.Sign().control_value();
        x.Verify(control);
        x.Verify(control);
        x.Verify("junk");
        const VerifyCounters& c = x.server->request_counters();
        CPPUNIT_ASSERT_EQUAL(uint64_t(1), c.Get(VerifyResult::kOk));
        CPPUNIT_ASSERT_EQUAL(uint64_t(1), c.Get(VerifyResult::kReplayed));
        CPPUNIT_ASSERT_EQUAL(uint64_t(1), c.Get(VerifyResult::kMalformed));
        CPPUNIT_ASSERT_EQUAL(uint64_t(2), c.Failures());
        CPPUNIT_ASSERT_EQUAL(uint64_t(1), x.asker->requests_signed());
        CPPUNIT_ASSERT_EQUAL(uint64_t(0), x.asker->answer_counters().Failures());
        x.CheckAnswer(x.Sign(), {Entry()}, nullptr);
        CPPUNIT_ASSERT_EQUAL(uint64_t(1), x.asker->answer_counters().Get(VerifyResult::kMissing));
        // every failure has a name and an LDAP code of its own kind
        CPPUNIT_ASSERT_EQUAL(0, SuggestedLdapResultCode(VerifyResult::kOk));
        CPPUNIT_ASSERT_EQUAL(8, SuggestedLdapResultCode(VerifyResult::kMissing));
        CPPUNIT_ASSERT_EQUAL(48, SuggestedLdapResultCode(VerifyResult::kUnknownKey));
        CPPUNIT_ASSERT_EQUAL(49, SuggestedLdapResultCode(VerifyResult::kBadMac));
        CPPUNIT_ASSERT_EQUAL(53, SuggestedLdapResultCode(VerifyResult::kBadTime));
        CPPUNIT_ASSERT_EQUAL(50, SuggestedLdapResultCode(VerifyResult::kReplayed));
        std::set<std::string> names;
        for (size_t i = 0; i < kVerifyResultCount; ++i)
            names.insert(VerifyResultName(static_cast<VerifyResult>(i)));
        CPPUNIT_ASSERT_EQUAL(kVerifyResultCount, names.size());
    }
    void testConcurrentVerification() {
        Exchange x;
        const int kThreads = 4, kEach = 200;
        std::vector<std::string> controls;
        for (int i = 0; i < kThreads * kEach; ++i)
            controls.push_back(x.Sign().control_value());
        std::atomic<int> ok{0}, replayed{0};
        std::vector<std::thread> threads;
        for (int t = 0; t < kThreads; ++t) {
            threads.emplace_back([&, t] {
                // every thread verifies its own share and then all of another's
                for (int i = 0; i < kEach; ++i) {
                    std::optional<VerifiedRequest> v;
                    const std::string& c = controls[t * kEach + i];
                    VerifyOutcome o = x.server->VerifyRequest(&c, Request(), &v);
                    (o.ok() ? ok : replayed)++;
                }
                for (int i = 0; i < kEach; ++i) {
                    std::optional<VerifiedRequest> v;
                    const std::string& c = controls[((t + 1) % kThreads) * kEach + i];
                    VerifyOutcome o = x.server->VerifyRequest(&c, Request(), &v);
                    (o.ok() ? ok : replayed)++;
                }
            });
        }
        for (auto& th : threads)
            th.join();
        CPPUNIT_ASSERT_EQUAL(kThreads * kEach, ok.load());  // each accepted exactly once
        CPPUNIT_ASSERT_EQUAL(kThreads * kEach, replayed.load());
        CPPUNIT_ASSERT_EQUAL(uint64_t(kThreads * kEach),
                             x.server->request_counters().Get(VerifyResult::kReplayed));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(SignVerifyTest);

}  // namespace keydir
