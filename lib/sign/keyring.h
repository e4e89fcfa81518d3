// Keyring: the shared secrets this server signs and verifies with
// (keychase-key NAME FILE, several at once so that keys can be rotated).
//
// A key file holds the secret in base64 (line breaks allowed), e.g. made
// with `openssl rand -base64 32 > FILE; chmod 600 FILE`. It is refused,
// with a message that names the file and says what to do, when it is
// missing or unreadable, readable or writable by everyone (the secret is
// the whole security of the scheme), empty or not base64, or shorter than
// 32 bytes (256 bits) once decoded; longer than 1024 bytes is refused too.
//
// Thread safety: all methods may be called concurrently; Find() returns a
// shared reference, so a key removed during a request stays valid for it.
#ifndef KEYDIR_SIGN_KEYRING_H
#define KEYDIR_SIGN_KEYRING_H

#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/env.h"
#include "base/status.h"
#include "sign/hmac.h"

namespace keydir {

// One shared secret, with its HMAC pads for both algorithms made once. The
// secret is wiped from memory when the last reference goes.
class HmacKey {
  public:
    HmacKey(std::string name, std::string secret);
    ~HmacKey();
    HmacKey(const HmacKey&) = delete;
    HmacKey& operator=(const HmacKey&) = delete;

    const std::string& name() const { return name_; }
    const std::string& secret() const { return secret_; }
    // nullptr only if OpenSSL failed to prepare them.
    const HmacPads* pads(MacAlgorithm algorithm) const {
        return algorithm == MacAlgorithm::kHmacSha512 ? pads512_.get() : pads256_.get();
    }

  private:
    std::string name_;
    std::string secret_;
    std::unique_ptr<HmacPads> pads256_;
    std::unique_ptr<HmacPads> pads512_;
};

inline constexpr size_t kMinKeyBytes = 32;
inline constexpr size_t kMaxKeyBytes = 1024;

// Reads and checks a key file (see above) into `secret`.
Status ReadKeyFile(const std::string& path, Env* env, std::string* secret);

class Keyring {
  public:
    // Fails if the name is not 1-64 of [A-Za-z0-9._-], is taken, or the
    // secret is shorter than kMinKeyBytes or longer than kMaxKeyBytes.
    Status AddKey(std::string_view name, std::string_view secret);
    // ReadKeyFile() + AddKey(), with messages that name the key and file.
    Status AddKeyFile(std::string_view name, const std::string& path, Env* env = Env::Default());
    // NotFound if there is no such key.
    Status RemoveKey(std::string_view name);

    std::shared_ptr<const HmacKey> Find(std::string_view name) const;
    std::vector<std::string> Names() const;
    size_t size() const;

  private:
    mutable std::shared_mutex mu_;
    std::map<std::string, std::shared_ptr<const HmacKey>, std::less<>> keys_;
};

}  // namespace keydir

#endif  // KEYDIR_SIGN_KEYRING_H
