// libFuzzer target: the gateway's MIME parser (gateway/mime.h) on a whole
// message as a sender wrote it — header fields and folding, Content-Type
// and its parameters, the multipart structure check, the test for mail
// that is already encrypted (S/MIME CMS from base64 or binary bodies,
// PGP/MIME, inline PGP) — and the messages the gateway builds from it.
//
// Properties besides "no crash, no sanitizer report":
// - every header field is "Name: ...CRLF" with a name that has no ':';
// - the inner entity (Content-* fields and body) parses back to the same
//   body and the same Content-* fields;
// - a multipart message that passes the structure check has a boundary of
//   1-70 characters;
// - a field made by MakeField from any text is one field.
#include <cstddef>
#include <cstdint>
#include <string>

#include "gateway/mime.h"

namespace gw = keydir::gateway;

namespace {

bool StartsWithContent(const std::string& name) {
    if (name.size() < 8)
        return false;
    std::string p = name.substr(0, 8);
    for (char& c : p)
        if (c >= 'A' && c <= 'Z')
            c = static_cast<char>(c - 'A' + 'a');
    return p == "content-";
}

void CheckMessage(const gw::Message& m) {
    for (const gw::HeaderField& f : m.headers()) {
        if (f.name.empty() || f.name.find(':') != std::string::npos ||
            f.raw.compare(0, f.name.size(), f.name) != 0 || f.raw.size() < f.name.size() + 3 ||
            f.raw.compare(f.raw.size() - 2, 2, "\r\n") != 0)
            __builtin_trap();
        (void)f.Value();
    }
    gw::ContentType ct;
    if (m.GetContentType(&ct).ok() && (ct.type.empty() || ct.subtype.empty()))
        __builtin_trap();
    (void)gw::ClassifyProtection(m);
    if (gw::CheckMimeStructure(m).ok() && ct.type == "multipart") {
        std::string boundary = ct.Param("boundary");
        if (boundary.empty() || boundary.size() > 70)
            __builtin_trap();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);

    // What the session hands over (CRLF), and the raw bytes.
    const gw::Message m = gw::Message::Parse(gw::ToCrlf(text));
    CheckMessage(m);
    CheckMessage(gw::Message::Parse(text));

    // The S/MIME split: inner entity and outer fields.
    std::string inner = gw::InnerEntity(m);
    gw::Message back = gw::Message::Parse(inner);
    if (back.body() != m.body())
        __builtin_trap();
    size_t content_fields = 0;
    for (const gw::HeaderField& f : m.headers())
        content_fields += StartsWithContent(f.name);
    if (back.headers().size() != content_fields)
        __builtin_trap();
    std::string outer = gw::OuterHeaders(m);
    std::string built = gw::BuildSmimeMessage(outer, "", "enveloped-data", text.substr(0, 512));
    CheckMessage(gw::Message::Parse(built));
    CheckMessage(gw::Message::Parse(gw::BuildDecryptedMessage(m, "", m.text())));

    gw::ContentType ct;
    (void)gw::ParseContentType(text, &ct);

    std::string field = gw::MakeField("X-Keydir-Decrypt-Failed", text.substr(0, 2048));
    gw::Message one = gw::Message::Parse(field + "\r\nbody");
    if (one.headers().size() != 1 || one.body() != "body")
        __builtin_trap();
    return 0;
}
