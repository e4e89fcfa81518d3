#include "sign/hmac.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include <cstring>
#include <utility>

namespace keydir {
namespace {

// Fetched once; EVP_MD objects may be shared by threads.
const EVP_MD* Digest(MacAlgorithm algorithm) {
    static EVP_MD* sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    static EVP_MD* sha512 = EVP_MD_fetch(nullptr, "SHA512", nullptr);
    return algorithm == MacAlgorithm::kHmacSha512 ? sha512 : sha256;
}

size_t BlockSize(MacAlgorithm algorithm) {
    return algorithm == MacAlgorithm::kHmacSha512 ? 128 : 64;
}

Status OpenSslError(const char* what) {
    unsigned long e = ERR_get_error();
    char buf[256] = "unknown error";
    if (e != 0)
        ERR_error_string_n(e, buf, sizeof(buf));
    ERR_clear_error();
    return Status::Unavailable(std::string(what) + ": " + buf);
}

}  // namespace

bool MacAlgorithmFromName(std::string_view name, MacAlgorithm* algorithm) {
    if (name == "hmac-sha256") {
        *algorithm = MacAlgorithm::kHmacSha256;
        return true;
    }
    if (name == "hmac-sha512") {
        *algorithm = MacAlgorithm::kHmacSha512;
        return true;
    }
    return false;
}

const char* MacAlgorithmName(MacAlgorithm algorithm) {
    return algorithm == MacAlgorithm::kHmacSha512 ? "hmac-sha512" : "hmac-sha256";
}

size_t MacLength(MacAlgorithm algorithm) {
    return algorithm == MacAlgorithm::kHmacSha512 ? 64 : 32;
}

Status HmacPads::Make(MacAlgorithm algorithm, std::string_view key,
                      std::unique_ptr<HmacPads>* out) {
    const EVP_MD* md = Digest(algorithm);
    if (md == nullptr)
        return OpenSslError("OpenSSL has no SHA-2 digest");
    std::unique_ptr<HmacPads> pads(new HmacPads);
    pads->algorithm_ = algorithm;
    const size_t block = BlockSize(algorithm);
    unsigned char k[128] = {0};  // the key, hashed first if longer than a block
    if (key.size() > block) {
        unsigned int len = 0;
        if (EVP_Digest(key.data(), key.size(), k, &len, md, nullptr) != 1)
            return OpenSslError("hashing a long HMAC key");
    } else {
        memcpy(k, key.data(), key.size());
    }
    unsigned char ipad[128], opad[128];
    for (size_t i = 0; i < block; ++i) {
        ipad[i] = k[i] ^ 0x36;
        opad[i] = k[i] ^ 0x5c;
    }
    pads->inner_ = EVP_MD_CTX_new();
    pads->outer_ = EVP_MD_CTX_new();
    bool ok = pads->inner_ && pads->outer_ && EVP_DigestInit_ex(pads->inner_, md, nullptr) == 1 &&
              EVP_DigestUpdate(pads->inner_, ipad, block) == 1 &&
              EVP_DigestInit_ex(pads->outer_, md, nullptr) == 1 &&
              EVP_DigestUpdate(pads->outer_, opad, block) == 1;
    OPENSSL_cleanse(k, sizeof(k));
    OPENSSL_cleanse(ipad, sizeof(ipad));
    OPENSSL_cleanse(opad, sizeof(opad));
    if (!ok)
        return OpenSslError("preparing an HMAC key");
    *out = std::move(pads);
    return Status::OK();
}

HmacPads::~HmacPads() {
    EVP_MD_CTX_free(inner_);  // frees and cleanses the digest state
    EVP_MD_CTX_free(outer_);
}

Hmac::~Hmac() {
    EVP_MD_CTX_free(ctx_);
}

Hmac::Hmac(Hmac&& o) noexcept
    : ctx_(o.ctx_), pads_(o.pads_), owned_pads_(std::move(o.owned_pads_)), failed_(o.failed_) {
    o.ctx_ = nullptr;
    o.pads_ = nullptr;
}

Hmac& Hmac::operator=(Hmac&& o) noexcept {
    std::swap(ctx_, o.ctx_);
    std::swap(pads_, o.pads_);
    std::swap(owned_pads_, o.owned_pads_);
    std::swap(failed_, o.failed_);
    return *this;
}

Status Hmac::Init(const HmacPads& pads) {
    pads_ = &pads;
    failed_ = false;
    if (ctx_ == nullptr)
        ctx_ = EVP_MD_CTX_new();
    if (ctx_ == nullptr || EVP_MD_CTX_copy_ex(ctx_, pads.inner_) != 1) {
        pads_ = nullptr;
        return OpenSslError("starting an HMAC");
    }
    return Status::OK();
}

Status Hmac::Init(MacAlgorithm algorithm, std::string_view key) {
    std::unique_ptr<HmacPads> pads;
    Status s = HmacPads::Make(algorithm, key, &pads);
    if (!s.ok())
        return s;
    owned_pads_ = std::move(pads);
    return Init(*owned_pads_);
}

void Hmac::Update(std::string_view data) {
    if (pads_ == nullptr || failed_ || data.empty())
        return;
    if (EVP_DigestUpdate(ctx_, data.data(), data.size()) != 1)
        failed_ = true;
}

Status Hmac::Final(std::string* mac) {
    if (pads_ == nullptr)
        return Status::InvalidArgument("HMAC used before Init");
    unsigned char inner[EVP_MAX_MD_SIZE], out[EVP_MAX_MD_SIZE];
    unsigned int inner_len = 0, out_len = 0;
    bool ok = !failed_ && EVP_DigestFinal_ex(ctx_, inner, &inner_len) == 1 &&
              EVP_MD_CTX_copy_ex(ctx_, pads_->outer_) == 1 &&
              EVP_DigestUpdate(ctx_, inner, inner_len) == 1 &&
              EVP_DigestFinal_ex(ctx_, out, &out_len) == 1;
    pads_ = nullptr;
    OPENSSL_cleanse(inner, sizeof(inner));
    if (!ok)
        return OpenSslError("computing an HMAC");
    mac->assign(reinterpret_cast<const char*>(out), out_len);
    return Status::OK();
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
    if (a.size() != b.size())
        return false;
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace keydir
