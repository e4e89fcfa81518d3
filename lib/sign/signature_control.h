// The one LDAP control keydir registers (doc/design.md, "Facts the design
// rests on": slapd has 32 control slots): it carries the HMAC signature of
// a server-to-server search request, and of the answer to it. doc/signing.md specifies it for
// other implementations.
//
//   OID 2.25.142655347163252810041593617359114918330.3.1
//
//   KeydirSignature ::= SEQUENCE {
//       version     INTEGER (2),
//       direction   ENUMERATED { request(0), answer(1) },
//       keyName     OCTET STRING (SIZE (1..64)),   -- [A-Za-z0-9._-]
//       algorithm   OCTET STRING (SIZE (1..32)),   -- "hmac-sha256" | "hmac-sha512"
//       timeSigned  INTEGER (0..281474976710655),  -- Unix seconds, 48 bits
//       fudge       INTEGER (0..65535),            -- seconds
//       nonce       OCTET STRING (SIZE (16..64)),
//       hopCount    INTEGER (0..255),              -- answer: 0
//       recursion   BOOLEAN,                       -- answer: FALSE
//       server      OCTET STRING (SIZE (0..255)),  -- request: "host:port" asked
//                                                  -- (1..255); answer: empty
//       mac         OCTET STRING (SIZE (0..255))
//   }
//
// encoded in DER. Version 1 (without `server`) is refused: a request must
// name the server it is meant for (doc/signing.md §2). The decoder accepts a structurally valid
// value with any algorithm name and any MAC length within those bounds: whether the key is known,
// the algorithm supported and the MAC as long as the algorithm makes it are questions for
// verification, which answers each one with a distinct result.
#ifndef KEYDIR_SIGN_SIGNATURE_CONTROL_H
#define KEYDIR_SIGN_SIGNATURE_CONTROL_H

#include <cstdint>
#include <string>
#include <string_view>

#include "base/oids.h"  // kSignatureControlOid
#include "base/status.h"

namespace keydir {

enum class SignedDirection { kRequest = 0, kAnswer = 1 };

struct SignatureControl {
    SignedDirection direction = SignedDirection::kRequest;
    std::string key_name;
    std::string algorithm;
    int64_t time_signed = 0;
    uint32_t fudge = 0;
    std::string nonce;
    uint32_t hop_count = 0;
    bool recursion = false;
    std::string server;  // request: the server asked, "host:port"; answer: empty
    std::string mac;
};

// Limits of the fields (decoder and encoder agree on them).
inline constexpr size_t kMaxKeyNameLen = 64;
inline constexpr size_t kMaxAlgorithmLen = 32;
inline constexpr size_t kMinNonceLen = 16;
inline constexpr size_t kMaxNonceLen = 64;
inline constexpr size_t kMaxMacLen = 255;
inline constexpr size_t kMaxServerLen = 255;
inline constexpr int64_t kMaxTimeSigned = (int64_t(1) << 48) - 1;
inline constexpr uint32_t kMaxFudge = 65535;
inline constexpr uint32_t kMaxHopCount = 255;
inline constexpr size_t kMaxControlValueLen = 1024;

// True for a key name keydir accepts: 1-64 of [A-Za-z0-9._-].
bool IsValidKeyName(std::string_view name);

// Fails (InvalidArgument) if a field is out of its bounds.
Status EncodeSignatureControl(const SignatureControl& control, std::string* value);

// Strict: every length and bound is checked, and nothing may follow the
// value. Errors say which field and at which byte.
Status DecodeSignatureControl(std::string_view value, SignatureControl* control);

}  // namespace keydir

#endif  // KEYDIR_SIGN_SIGNATURE_CONTROL_H
