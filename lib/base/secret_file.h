// Reading a secret from a file (a passphrase, a password, a key), with the
// one rule every keydir program applies to such files: nobody but the
// owner and group may read or write it. A file everyone can read has
// leaked its secret already; one everyone can write lets anyone choose it.
#ifndef KEYDIR_BASE_SECRET_FILE_H
#define KEYDIR_BASE_SECRET_FILE_H

#include <string>

#include "base/env.h"
#include "base/status.h"

namespace keydir {

// The contents of `path` without one final line end ("\n" or "\r\n").
// PermissionDenied if others may read or write the file, InvalidArgument
// if it is empty, IOError if it cannot be read; each message names the
// file and what to do. The text is all the caller gets: nothing is logged.
Status ReadSecretFile(Env* env, const std::string& path, std::string* secret);

// Overwrites a string that held a secret before it is released.
void WipeSecret(std::string* secret);

}  // namespace keydir

#endif  // KEYDIR_BASE_SECRET_FILE_H
