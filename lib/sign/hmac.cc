#include "sign/hmac.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>

namespace keydir {
namespace {

// Fetched once: EVP_MAC objects may be shared by threads, contexts may not.
EVP_MAC* HmacImplementation() {
    static EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    return mac;
}

std::string OpenSslError(const char* what) {
    unsigned long e = ERR_get_error();
    char buf[256] = "unknown error";
    if (e != 0)
        ERR_error_string_n(e, buf, sizeof(buf));
    ERR_clear_error();
    return std::string(what) + ": " + buf;
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

Hmac::~Hmac() {
    EVP_MAC_CTX_free(ctx_);
}

Status Hmac::Init(MacAlgorithm algorithm, std::string_view key) {
    EVP_MAC_CTX_free(ctx_);
    ctx_ = nullptr;
    failed_ = false;
    EVP_MAC* mac = HmacImplementation();
    if (mac == nullptr)
        return Status::Unavailable(OpenSslError("OpenSSL has no HMAC"));
    ctx_ = EVP_MAC_CTX_new(mac);
    if (ctx_ == nullptr)
        return Status::Unavailable(OpenSslError("EVP_MAC_CTX_new"));
    char digest[16];
    snprintf(digest, sizeof(digest), "%s",
             algorithm == MacAlgorithm::kHmacSha512 ? "SHA512" : "SHA256");
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end(),
    };
    if (EVP_MAC_init(ctx_, reinterpret_cast<const unsigned char*>(key.data()), key.size(),
                     params) != 1) {
        EVP_MAC_CTX_free(ctx_);
        ctx_ = nullptr;
        return Status::Unavailable(OpenSslError("EVP_MAC_init"));
    }
    return Status::OK();
}

void Hmac::Update(std::string_view data) {
    if (ctx_ == nullptr || failed_ || data.empty())
        return;
    if (EVP_MAC_update(ctx_, reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1)
        failed_ = true;
}

Status Hmac::Final(std::string* mac) {
    if (ctx_ == nullptr)
        return Status::InvalidArgument("HMAC used before Init");
    unsigned char out[EVP_MAX_MD_SIZE];
    size_t len = 0;
    bool ok = !failed_ && EVP_MAC_final(ctx_, out, &len, sizeof(out)) == 1;
    EVP_MAC_CTX_free(ctx_);
    ctx_ = nullptr;
    if (!ok)
        return Status::Unavailable(OpenSslError("HMAC computation failed"));
    mac->assign(reinterpret_cast<const char*>(out), len);
    OPENSSL_cleanse(out, sizeof(out));
    return Status::OK();
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
    if (a.size() != b.size())
        return false;
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace keydir
