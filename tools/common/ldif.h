// LDIF records (RFC 2849) for ldapadd, ldapmodify and slapadd, written with
// libldap's own ldif_put so that base64 and line folding are exactly what
// the OpenLDAP tools read.
#ifndef KEYDIR_TOOLS_COMMON_LDIF_H
#define KEYDIR_TOOLS_COMMON_LDIF_H

#include <string>
#include <string_view>

namespace keydir {

class LdifRecord {
  public:
    explicit LdifRecord(std::string_view dn);
    // An attribute line; `binary` forces base64 (certificates, PKCS#12),
    // otherwise base64 is used when the value needs it.
    LdifRecord& Add(std::string_view name, std::string_view value, bool binary = false);
    // A bare line such as "changetype: modify" or "-".
    LdifRecord& Line(std::string_view line);
    // The record followed by the blank line that ends it.
    std::string Text() const { return text_ + "\n"; }

  private:
    std::string text_;
};

}  // namespace keydir

#endif  // KEYDIR_TOOLS_COMMON_LDIF_H
