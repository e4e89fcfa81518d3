// Strict base64 (RFC 4648 §4, with '=' padding) for key files: line breaks
// and surrounding white space are allowed, anything else that is not in
// the alphabet, misplaced padding or non-zero pad bits are refused.
#ifndef KEYDIR_SIGN_BASE64_H
#define KEYDIR_SIGN_BASE64_H

#include <string>
#include <string_view>

#include "base/status.h"

namespace keydir {

Status Base64Decode(std::string_view text, std::string* out);
std::string Base64Encode(std::string_view bytes);

}  // namespace keydir

#endif  // KEYDIR_SIGN_BASE64_H
