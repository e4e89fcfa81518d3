// HMAC-SHA256 / HMAC-SHA512 through OpenSSL 3's EVP_MAC, incrementally, so
// that an answer can be MACed entry by entry as slapd sends it.
#ifndef KEYDIR_SIGN_HMAC_H
#define KEYDIR_SIGN_HMAC_H

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include "base/status.h"

typedef struct evp_mac_ctx_st EVP_MAC_CTX;

namespace keydir {

enum class MacAlgorithm { kHmacSha256, kHmacSha512 };

// "hmac-sha256" / "hmac-sha512" (the names on the wire); false if unknown.
bool MacAlgorithmFromName(std::string_view name, MacAlgorithm* algorithm);
const char* MacAlgorithmName(MacAlgorithm algorithm);
// The MAC length in bytes: 32 or 64. keydir never truncates MACs.
size_t MacLength(MacAlgorithm algorithm);

class Hmac {
  public:
    Hmac() = default;
    ~Hmac();
    Hmac(const Hmac&) = delete;
    Hmac& operator=(const Hmac&) = delete;
    Hmac(Hmac&& o) noexcept : ctx_(o.ctx_), failed_(o.failed_) { o.ctx_ = nullptr; }
    Hmac& operator=(Hmac&& o) noexcept {
        std::swap(ctx_, o.ctx_);
        std::swap(failed_, o.failed_);
        return *this;
    }

    Status Init(MacAlgorithm algorithm, std::string_view key);
    void Update(std::string_view data);
    // The MAC; the object must be Init()ed again before further use.
    Status Final(std::string* mac);

  private:
    EVP_MAC_CTX* ctx_ = nullptr;
    bool failed_ = false;
};

// Constant-time comparison (CRYPTO_memcmp) of equally long byte strings;
// false when the lengths differ.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace keydir

#endif  // KEYDIR_SIGN_HMAC_H
