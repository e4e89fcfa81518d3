// A file that appears whole or not at all: written to a temporary file in
// the same directory, synced, then renamed over the target. Dropped
// uncommitted (an error, an exception, a signal-free early return), it
// leaves nothing behind.
#ifndef KEYDIR_TOOLS_COMMON_ATOMIC_FILE_H
#define KEYDIR_TOOLS_COMMON_ATOMIC_FILE_H

#include <sys/types.h>

#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"

namespace keydir {

class AtomicFile {
  public:
    // Opens the temporary file at once, so that an unwritable destination is
    // reported before any work is done.
    static Status Create(const std::string& path, mode_t mode, std::unique_ptr<AtomicFile>* out);
    ~AtomicFile();
    AtomicFile(const AtomicFile&) = delete;
    AtomicFile& operator=(const AtomicFile&) = delete;

    Status Write(std::string_view data);
    // Syncs and renames into place. With replace=false an existing file at
    // the path is an error (Exists) and is left alone.
    Status Commit(bool replace = true);

    const std::string& path() const { return path_; }

  private:
    AtomicFile(std::string path, std::string temp, int fd)
        : path_(std::move(path)), temp_(std::move(temp)), fd_(fd) {}
    std::string path_;
    std::string temp_;
    int fd_;
    bool committed_ = false;
};

// Writes a whole file atomically (Create, Write, Commit).
Status WriteFileAtomically(const std::string& path, std::string_view data, mode_t mode,
                           bool replace = true);

}  // namespace keydir

#endif  // KEYDIR_TOOLS_COMMON_ATOMIC_FILE_H
