// libFuzzer target: the signature control decoder, and request
// verification behind it (what a hostile peer controls completely).
//
// Properties checked besides "no crash, no sanitizer report":
// - a value that decodes re-encodes to exactly the same bytes (DER: one
//   value, one encoding; the decoder accepts nothing a strict DER reader
//   would not);
// - no fuzzed control verifies (it would be a forged signature).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "sign/signature_control.h"
#include "sign/signer.h"

namespace {

// A fixed clock and fixed randomness: runs are reproducible.
class FixedEnv : public keydir::FakeClockEnv {
  public:
    keydir::Status RandomBytes(void* out, size_t len) override {
        for (size_t i = 0; i < len; ++i)
            static_cast<unsigned char*>(out)[i] = static_cast<unsigned char>(i);
        return keydir::Status::OK();
    }
};

struct World {
    FixedEnv env;
    keydir::Keyring ring;
    keydir::SigningOptions options;
    keydir::SearchRequestParts request;
    World() {
        ring.AddKey("k", std::string(32, 'k'));
        ring.AddKey("tovaris-root", std::string(64, 't'));
        options.replay_cache_entries = 64;
        request.base_dn = "mail=kconley@tovaris.com,dc=tovaris,dc=com";
        request.filter = "(mail=kconley@tovaris.com)";
        request.attributes = {"userCertificate;binary"};
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static World* world = new World;
    static keydir::SigningContext* ctx =
        new keydir::SigningContext(&world->ring, world->options, &world->env);
    std::string value(reinterpret_cast<const char*>(data), size);

    keydir::SignatureControl control;
    if (keydir::DecodeSignatureControl(value, &control).ok()) {
        std::string again;
        if (!keydir::EncodeSignatureControl(control, &again).ok() || again != value)
            __builtin_trap();
    }
    std::optional<keydir::VerifiedRequest> verified;
    keydir::VerifyOutcome outcome = ctx->VerifyRequest(&value, world->request, &verified);
    if (outcome.ok() || verified.has_value())
        __builtin_trap();
    return 0;
}
