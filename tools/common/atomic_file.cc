#include "common/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace keydir {
namespace {

Status Errno(const std::string& what) {
    return Status::IOError(what + ": " + std::strerror(errno));
}

std::string DirOf(const std::string& path) {
    size_t slash = path.rfind('/');
    if (slash == std::string::npos)
        return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

// Makes a rename durable: the directory entry is synced too.
void SyncDir(const std::string& dir) {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        ::fsync(fd);
        ::close(fd);
    }
}

}  // namespace

Status AtomicFile::Create(const std::string& path, mode_t mode, std::unique_ptr<AtomicFile>* out) {
    if (path.empty())
        return Status::InvalidArgument("no file name");
    struct stat st;
    if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
        return Status::InvalidArgument(path + " is a directory");
    std::string dir = DirOf(path);
    std::string base = path.substr(path.rfind('/') == std::string::npos ? 0 : path.rfind('/') + 1);
    std::string temp = dir + "/." + base + ".tmp.XXXXXX";
    int fd = ::mkostemp(&temp[0], O_CLOEXEC);
    if (fd < 0)
        return Errno("cannot write " + path);
    if (::fchmod(fd, mode) != 0) {
        Status s = Errno("cannot set the mode of " + temp);
        ::close(fd);
        ::unlink(temp.c_str());
        return s;
    }
    out->reset(new AtomicFile(path, temp, fd));
    return Status::OK();
}

AtomicFile::~AtomicFile() {
    if (fd_ >= 0)
        ::close(fd_);
    if (!committed_)
        ::unlink(temp_.c_str());
}

Status AtomicFile::Write(std::string_view data) {
    if (fd_ < 0)
        return Status::InvalidArgument("the file is closed");
    while (!data.empty()) {
        ssize_t n = ::write(fd_, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno == ENOSPC ? Status::NoSpace(path_ + ": no space left on the device")
                                   : Errno("cannot write " + path_);
        }
        data.remove_prefix(static_cast<size_t>(n));
    }
    return Status::OK();
}

Status AtomicFile::Commit(bool replace) {
    if (fd_ < 0)
        return Status::InvalidArgument("the file is closed");
    if (::fsync(fd_) != 0)
        return Errno("cannot write " + path_);
    int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0)
        return Errno("cannot write " + path_);
    if (replace) {
        if (::rename(temp_.c_str(), path_.c_str()) != 0)
            return Errno("cannot create " + path_);
    } else {
        // link() refuses to replace, atomically; then the temporary name goes.
        if (::link(temp_.c_str(), path_.c_str()) != 0) {
            if (errno == EEXIST)
                return Status::Exists(path_ + " exists already");
            return Errno("cannot create " + path_);
        }
        ::unlink(temp_.c_str());
    }
    committed_ = true;
    SyncDir(DirOf(path_));
    return Status::OK();
}

Status WriteFileAtomically(const std::string& path, std::string_view data, mode_t mode,
                           bool replace) {
    std::unique_ptr<AtomicFile> file;
    Status s = AtomicFile::Create(path, mode, &file);
    if (s.ok())
        s = file->Write(data);
    if (s.ok())
        s = file->Commit(replace);
    return s;
}

}  // namespace keydir
