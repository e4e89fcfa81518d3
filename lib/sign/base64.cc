#include "sign/base64.h"

namespace keydir {
namespace {

const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int Sextet(char c) {
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

bool IsSpace(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

}  // namespace

Status Base64Decode(std::string_view text, std::string* out) {
    std::string compact;
    compact.reserve(text.size());
    for (size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (IsSpace(c))
            continue;
        if (Sextet(c) < 0 && c != '=')
            return Status::InvalidArgument("not base64: unexpected character at byte " +
                                           std::to_string(i));
        compact += c;
    }
    if (compact.size() % 4 != 0)
        return Status::InvalidArgument("not base64: " + std::to_string(compact.size()) +
                                       " characters, not a multiple of 4");
    size_t pad = 0;
    while (pad < compact.size() && compact[compact.size() - 1 - pad] == '=')
        ++pad;
    if (pad > 2)
        return Status::InvalidArgument("not base64: more than two '=' at the end");
    if (compact.find('=') < compact.size() - pad)
        return Status::InvalidArgument("not base64: '=' before the end");
    std::string bytes;
    bytes.reserve(compact.size() / 4 * 3);
    for (size_t i = 0; i < compact.size(); i += 4) {
        int s[4];
        for (int k = 0; k < 4; ++k)
            s[k] = compact[i + k] == '=' ? 0 : Sextet(compact[i + k]);
        unsigned v = (s[0] << 18) | (s[1] << 12) | (s[2] << 6) | s[3];
        bytes += static_cast<char>((v >> 16) & 0xff);
        bytes += static_cast<char>((v >> 8) & 0xff);
        bytes += static_cast<char>(v & 0xff);
    }
    if (pad > 0) {
        // the bits that padding stands for must be zero (one encoding per value)
        unsigned last = Sextet(compact[compact.size() - 1 - pad]);
        if ((pad == 1 && (last & 0x03)) || (pad == 2 && (last & 0x0f)))
            return Status::InvalidArgument("not base64: non-zero bits before the padding");
        bytes.resize(bytes.size() - pad);
    }
    out->swap(bytes);
    return Status::OK();
}

std::string Base64Encode(std::string_view in) {
    std::string out;
    out.reserve((in.size() + 2) / 3 * 4);
    for (size_t i = 0; i < in.size(); i += 3) {
        unsigned v = static_cast<unsigned char>(in[i]) << 16;
        if (i + 1 < in.size())
            v |= static_cast<unsigned char>(in[i + 1]) << 8;
        if (i + 2 < in.size())
            v |= static_cast<unsigned char>(in[i + 2]);
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        out += i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=';
        out += i + 2 < in.size() ? kAlphabet[v & 63] : '=';
    }
    return out;
}

}  // namespace keydir
