#include "common/ldif.h"

#include <lber.h>
#include <ldif.h>

#include <new>

namespace keydir {

LdifRecord::LdifRecord(std::string_view dn) {
    Add("dn", dn);
}

LdifRecord& LdifRecord::Add(std::string_view name, std::string_view value, bool binary) {
    std::string n(name);
    char* line = ldif_put_wrap(binary ? LDIF_PUT_BINARY : LDIF_PUT_VALUE, n.c_str(), value.data(),
                               value.size(), 0);
    if (line == nullptr)
        throw std::bad_alloc();  // as std::string would
    text_ += line;
    ber_memfree(line);
    return *this;
}

LdifRecord& LdifRecord::Line(std::string_view line) {
    text_.append(line);
    text_.push_back('\n');
    return *this;
}

}  // namespace keydir
