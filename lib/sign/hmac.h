// HMAC-SHA256 / HMAC-SHA512 (RFC 2104) over OpenSSL 3's digests,
// incrementally, so that an answer can be MACed entry by entry as slapd
// sends it.
//
// A key's inner and outer starting states (the digest after key ^ ipad and
// after key ^ opad) are computed once (HmacPads, kept with the key), so
// that one MAC costs two state copies and the hashing of the message: a
// third of what EVP_MAC's per-message setup costs, which matters against
// a loopback round trip of some 25 µs.
#ifndef KEYDIR_SIGN_HMAC_H
#define KEYDIR_SIGN_HMAC_H

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"

typedef struct evp_md_ctx_st EVP_MD_CTX;

namespace keydir {

enum class MacAlgorithm { kHmacSha256, kHmacSha512 };

// "hmac-sha256" / "hmac-sha512" (the names on the wire); false if unknown.
bool MacAlgorithmFromName(std::string_view name, MacAlgorithm* algorithm);
const char* MacAlgorithmName(MacAlgorithm algorithm);
// The MAC length in bytes: 32 or 64. keydir never truncates MACs.
size_t MacLength(MacAlgorithm algorithm);

// The keyed starting states of HMAC for one key and algorithm. Immutable
// once made; many threads may start MACs from one HmacPads at once.
class HmacPads {
  public:
    static Status Make(MacAlgorithm algorithm, std::string_view key,
                       std::unique_ptr<HmacPads>* out);
    ~HmacPads();
    HmacPads(const HmacPads&) = delete;
    HmacPads& operator=(const HmacPads&) = delete;
    MacAlgorithm algorithm() const { return algorithm_; }

  private:
    friend class Hmac;
    HmacPads() = default;
    MacAlgorithm algorithm_ = MacAlgorithm::kHmacSha256;
    EVP_MD_CTX* inner_ = nullptr;
    EVP_MD_CTX* outer_ = nullptr;
};

class Hmac {
  public:
    Hmac() = default;
    ~Hmac();
    Hmac(const Hmac&) = delete;
    Hmac& operator=(const Hmac&) = delete;
    Hmac(Hmac&& o) noexcept;
    Hmac& operator=(Hmac&& o) noexcept;

    // Starts a MAC from precomputed pads, which must outlive the Hmac.
    Status Init(const HmacPads& pads);
    // Starts a MAC with a key given here (computes the pads).
    Status Init(MacAlgorithm algorithm, std::string_view key);
    void Update(std::string_view data);
    // The MAC; Init() again before further use.
    Status Final(std::string* mac);

  private:
    EVP_MD_CTX* ctx_ = nullptr;  // the running inner hash
    const HmacPads* pads_ = nullptr;
    std::unique_ptr<HmacPads> owned_pads_;
    bool failed_ = false;
};

// Constant-time comparison (CRYPTO_memcmp) of equally long byte strings;
// false when the lengths differ.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace keydir

#endif  // KEYDIR_SIGN_HMAC_H
