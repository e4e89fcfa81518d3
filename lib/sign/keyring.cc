#include "sign/keyring.h"

#include <openssl/crypto.h>

#include <cstdio>
#include <mutex>

#include "base/secret_file.h"
#include "sign/base64.h"
#include "sign/signature_control.h"

namespace keydir {

HmacKey::HmacKey(std::string name, std::string secret)
    : name_(std::move(name)), secret_(std::move(secret)) {
    HmacPads::Make(MacAlgorithm::kHmacSha256, secret_, &pads256_);
    HmacPads::Make(MacAlgorithm::kHmacSha512, secret_, &pads512_);
}

HmacKey::~HmacKey() {
    WipeSecret(&secret_);
}

Status ReadKeyFile(const std::string& path, Env* env, std::string* secret) {
    const std::string file = "key file " + path;
    std::string text;
    Status s = ReadSecretFile(env, path, &text);
    if (!s.ok() && !s.IsInvalidArgument())
        return s.WithContext("key file ");
    bool blank = true;  // an empty file too (ReadSecretFile's InvalidArgument)
    for (char c : text)
        blank = blank && (c == ' ' || c == '\t' || c == '\n' || c == '\r');
    if (blank) {
        WipeSecret(&text);
        return Status::InvalidArgument(file +
                                       " is empty; make a key with: openssl rand -base64 32");
    }
    std::string bytes;
    s = Base64Decode(text, &bytes);
    WipeSecret(&text);
    if (!s.ok())
        return Status::InvalidArgument(file + " does not hold a base64 key: " + s.message());
    if (bytes.size() < kMinKeyBytes) {
        size_t n = bytes.size();
        WipeSecret(&bytes);
        return Status::InvalidArgument(file + " holds a key of " + std::to_string(n) +
                                       " bytes, fewer than 32 (256 bits); make one with: openssl "
                                       "rand -base64 32");
    }
    if (bytes.size() > kMaxKeyBytes) {
        WipeSecret(&bytes);
        return Status::InvalidArgument(file + " holds a key of more than 1024 bytes");
    }
    WipeSecret(secret);
    secret->swap(bytes);
    return Status::OK();
}

Status Keyring::AddKey(std::string_view name, std::string_view secret) {
    if (!IsValidKeyName(name))
        return Status::InvalidArgument("key name \"" + std::string(name.substr(0, 80)) +
                                       "\" must be 1-64 of letters, digits, '.', '_' and '-'");
    if (secret.size() < kMinKeyBytes)
        return Status::InvalidArgument("key " + std::string(name) + " is shorter than 32 bytes");
    if (secret.size() > kMaxKeyBytes)
        return Status::InvalidArgument("key " + std::string(name) + " is longer than 1024 bytes");
    auto key = std::make_shared<const HmacKey>(std::string(name), std::string(secret));
    std::unique_lock<std::shared_mutex> lock(mu_);
    if (keys_.count(name))
        return Status::Exists("key " + std::string(name) + " is defined twice");
    keys_.emplace(std::string(name), std::move(key));
    return Status::OK();
}

Status Keyring::AddKeyFile(std::string_view name, const std::string& path, Env* env) {
    if (!IsValidKeyName(name))
        return Status::InvalidArgument("key name \"" + std::string(name.substr(0, 80)) +
                                       "\" must be 1-64 of letters, digits, '.', '_' and '-'");
    std::string secret;
    Status s = ReadKeyFile(path, env, &secret);
    if (!s.ok())
        return s;
    s = AddKey(name, secret);
    WipeSecret(&secret);
    return s;
}

Status Keyring::RemoveKey(std::string_view name) {
    std::unique_lock<std::shared_mutex> lock(mu_);
    auto it = keys_.find(name);
    if (it == keys_.end())
        return Status::NotFound("no key " + std::string(name));
    keys_.erase(it);
    return Status::OK();
}

std::shared_ptr<const HmacKey> Keyring::Find(std::string_view name) const {
    std::shared_lock<std::shared_mutex> lock(mu_);
    auto it = keys_.find(name);
    return it == keys_.end() ? nullptr : it->second;
}

std::vector<std::string> Keyring::Names() const {
    std::shared_lock<std::shared_mutex> lock(mu_);
    std::vector<std::string> names;
    for (const auto& kv : keys_)
        names.push_back(kv.first);
    return names;
}

size_t Keyring::size() const {
    std::shared_lock<std::shared_mutex> lock(mu_);
    return keys_.size();
}

}  // namespace keydir
