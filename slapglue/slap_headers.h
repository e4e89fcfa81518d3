// Includes slapd's C headers from C++.
//
// slapd's headers are C: they go inside extern "C". <ac/string.h> declares
// strdup() and strcasecmp() with empty parameter lists, which C++ reads as
// conflicting overloads, so it is skipped and the few macros the other
// headers need from it are defined here. Include this header instead of
// slap.h, and only from the slapd glue (backend/ and overlay/), never lib/.
#ifndef KEYDIR_SLAPGLUE_SLAP_HEADERS_H
#define KEYDIR_SLAPGLUE_SLAP_HEADERS_H

#include <string.h>
#include <strings.h>

extern "C" {
#include "portable.h"

#define _AC_STRING_H
#define SAFEMEMCPY(d, s, n) memmove((d), (s), (n))
#define AC_MEMCPY(d, s, n) (SAFEMEMCPY((d), (s), (n)))
#define STRLENOF(s) (sizeof(s) - 1)
#define AC_STRERROR_R(e, b, l) (strerror_r((e), (b), (l)))

#include "slap.h"
#include "slap-config.h"
#include "back-monitor/back-monitor.h"
#include "ldap_rq.h"
}

// slap.h defines lowercase macros (be_search, o_dn, ...); keep this header
// out of any file that also includes lib/ headers with such names.

#endif  // KEYDIR_SLAPGLUE_SLAP_HEADERS_H
