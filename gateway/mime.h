// The parts of an Internet message (RFC 5322, MIME RFC 2045-2049) the
// gateway needs: the header section as a list of fields, the body, the
// Content-Type, whether the message is already encrypted, whether its MIME
// structure is sound, and the split into the headers that stay outside an
// S/MIME envelope and the entity that goes inside (RFC 8551 section 3).
#ifndef KEYDIR_GATEWAY_MIME_H
#define KEYDIR_GATEWAY_MIME_H

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace keydir {
namespace gateway {

// Bare LF and bare CR become CRLF; existing CRLF stays.
std::string ToCrlf(std::string_view text);

struct HeaderField {
    std::string name;  // as written
    std::string raw;   // the whole field: "Name: value\r\n" plus folded lines
    // The value, unfolded, without the leading blank and the final CRLF.
    std::string Value() const;
    bool Is(std::string_view other) const;  // case-insensitive name match
};

struct ContentType {
    std::string type = "text";  // lower case
    std::string subtype = "plain";
    std::map<std::string, std::string> params;  // lower-case names, unquoted values
    bool Is(std::string_view t, std::string_view s) const { return type == t && subtype == s; }
    std::string Param(const std::string& name) const;
};

// Parses a Content-Type value ("multipart/mixed; boundary=\"x\"").
Status ParseContentType(std::string_view value, ContentType* out);

class Message {
  public:
    // Splits `crlf_text` (CRLF line ends) into header fields and body. The
    // header section ends at the first empty line, or at the first line that
    // is not a header field (then there is no separator line, as Postfix
    // treats it).
    static Message Parse(std::string crlf_text);

    const std::vector<HeaderField>& headers() const { return headers_; }
    std::string_view body() const { return std::string_view(text_).substr(body_offset_); }
    const std::string& text() const { return text_; }

    // The unfolded value of the first field called `name`.
    std::optional<std::string> Get(std::string_view name) const;
    std::vector<std::string> GetAll(std::string_view name) const;
    size_t Count(std::string_view name) const;

    // Content-Type of the top-level entity (text/plain when absent or when
    // MIME-Version is missing, per RFC 2045 section 5.2).
    Status GetContentType(ContentType* out) const;

  private:
    std::string text_;
    std::vector<HeaderField> headers_;
    size_t body_offset_ = 0;
};

enum class Protection {
    kNone,
    kSmimeEnveloped,      // application/pkcs7-mime holding a CMS EnvelopedData
    kSmimeAuthEnveloped,  // ... a CMS AuthEnvelopedData
    kPgp,                 // PGP/MIME, or a body that is one PGP MESSAGE block
};

// Whether the message is already encrypted (and so passes untouched).
// Decided from the content, not from labels: application/(x-)pkcs7-mime
// counts when its body (base64 or binary) decodes to a CMS ContentInfo of
// type EnvelopedData or AuthEnvelopedData, whatever smime-type and the file
// name say (opaque signed data is not encrypted); multipart/encrypted when
// it is RFC 3156 PGP/MIME (protocol application/pgp-encrypted, a control
// part, then one PGP MESSAGE); a text or application body (7bit/8bit) when
// it is one PGP MESSAGE armour block and nothing else.
Protection ClassifyProtection(const Message& message);

// Checks what the gateway relies on: no NUL octets, a parsable Content-Type,
// a boundary for multipart types that occurs in the body with its closing
// delimiter, a known Content-Transfer-Encoding, no encoding other than
// 7bit/8bit/binary on a multipart or message/* entity. InvalidArgument with a
// reason a person understands otherwise.
Status CheckMimeStructure(const Message& message);

// The fields that describe content (Content-*, MIME-Version) go inside an
// S/MIME envelope; all others (routing, From, To, Subject ...) stay outside.
bool IsContentField(const HeaderField& field);

// The MIME entity to encrypt: the message's Content-* fields and its body,
// CRLF. A message without Content-Type gets "text/plain; charset=us-ascii"
// only when it declared MIME-Version (otherwise the default is the same).
std::string InnerEntity(const Message& message);

// The header fields that stay outside, in their order.
std::string OuterHeaders(const Message& message);

// Base64 with CRLF every 76 characters (RFC 2045).
std::string Base64Lines(std::string_view data);

// The outer message around an encrypted CMS: `outer_headers` (from
// OuterHeaders), `extra_fields` (complete fields, CRLF), then MIME-Version,
// Content-Type application/pkcs7-mime with `smime_type`, Content-Disposition
// and base64 Content-Transfer-Encoding, the blank line and the DER in base64.
std::string BuildSmimeMessage(std::string_view outer_headers, std::string_view extra_fields,
                              std::string_view smime_type, std::string_view der);

// The decrypted message: the outer headers of `envelope` (minus its content
// fields), `extra_fields`, MIME-Version and the decrypted entity: only its
// Content-* header fields and its body. Other fields inside the encryption
// (From, Subject, X-Keydir-*, ...) are dropped: they never become header
// fields of the message.
std::string BuildDecryptedMessage(const Message& envelope, std::string_view extra_fields,
                                  std::string_view entity);

// `text` with `fields` (complete fields ending in CRLF) put in front.
std::string PrependFields(std::string_view fields, std::string_view text);

// A header field "Name: value\r\n", folded at blanks near 78 columns; CR, LF
// and other control characters in value become blanks.
std::string MakeField(std::string_view name, std::string_view value);

}  // namespace gateway
}  // namespace keydir

#endif  // KEYDIR_GATEWAY_MIME_H
