// What the store's tests share: ASSERT_OK for a Status, and the DN key of a
// DN given as text.
#ifndef KEYDIR_TESTS_UNIT_STORE_TEST_UTIL_H
#define KEYDIR_TESTS_UNIT_STORE_TEST_UTIL_H

#include <cppunit/extensions/HelperMacros.h>

#include <string>

#include "base/status.h"
#include "store/dn_key.h"

#define ASSERT_OK(expr)                                 \
    do {                                                \
        keydir::Status _s = (expr);                     \
        CPPUNIT_ASSERT_MESSAGE(_s.ToString(), _s.ok()); \
    } while (0)

namespace keydir {

inline std::string Key(const std::string& dn) {
    std::string k;
    DnKeyFromDn(dn, &k);
    return k;
}

}  // namespace keydir

#endif  // KEYDIR_TESTS_UNIT_STORE_TEST_UTIL_H
