#include "admin/openpgp.h"

#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace keydir {
namespace {

int RemoveOne(const char* path, const struct stat*, int, struct FTW*) {
    remove(path);
    return 0;
}

// Runs `program args...` with stdin from /dev/null, stdout captured, stderr
// into `err`; no shell.
Status Run(const std::vector<std::string>& argv, std::string* out, std::string* err) {
    int outp[2], errp[2];
    if (pipe(outp) != 0)
        return Status::IOError(std::string("pipe: ") + strerror(errno));
    if (pipe(errp) != 0) {
        close(outp[0]);
        close(outp[1]);
        return Status::IOError(std::string("pipe: ") + strerror(errno));
    }
    std::vector<char*> args;
    for (const std::string& a : argv)
        args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid = fork();
    if (pid < 0)
        return Status::IOError(std::string("fork: ") + strerror(errno));
    if (pid == 0) {
        int null = open("/dev/null", O_RDONLY);
        if (null >= 0)
            dup2(null, 0);
        dup2(outp[1], 1);
        dup2(errp[1], 2);
        close(outp[0]);
        close(errp[0]);
        execvp(args[0], args.data());
        _exit(127);
    }
    close(outp[1]);
    close(errp[1]);
    // gpg writes little to stderr; read stdout to its end, then stderr.
    char buf[8192];
    ssize_t n;
    out->clear();
    while ((n = read(outp[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
        if (n > 0)
            out->append(buf, static_cast<size_t>(n));
    close(outp[0]);
    err->clear();
    while ((n = read(errp[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
        if (n > 0)
            err->append(buf, static_cast<size_t>(n));
    close(errp[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && err->empty())
        return Status::NotFound(argv[0] + " cannot be run (is GnuPG installed?)");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        std::string why = *err;
        while (!why.empty() && why.back() == '\n')
            why.pop_back();
        return Status::InvalidArgument(argv[0] + " failed: " + why);
    }
    return Status::OK();
}

// A temporary GNUPGHOME (short, under /tmp: gpg-agent's socket lives
// there); its agent is stopped and the directory removed at the end.
class GnupgHome {
  public:
    Status Create() {
        char tmpl[] = "/tmp/kdgXXXXXX";
        if (!mkdtemp(tmpl))
            return Status::IOError(std::string("mkdtemp: ") + strerror(errno));
        dir_ = tmpl;
        return Status::OK();
    }
    ~GnupgHome() {
        if (dir_.empty())
            return;
        std::string out, err;
        Run({"gpgconf", "--homedir", dir_, "--kill", "all"}, &out, &err);
        nftw(dir_.c_str(), RemoveOne, 16, FTW_DEPTH | FTW_PHYS);
    }
    const std::string& dir() const { return dir_; }

    Status Gpg(std::vector<std::string> args, std::string* out) {
        std::vector<std::string> argv = {"gpg", "--homedir", dir_, "--batch"};
        argv.insert(argv.end(), args.begin(), args.end());
        std::string err;
        return Run(argv, out, &err);
    }

  private:
    std::string dir_;
};

// The listing and armored export of the only public key in `home`.
Status ExportOnlyKey(GnupgHome* home, const std::string& address, OpenPgpKey* key) {
    std::string listing;
    Status s = home->Gpg({"--with-colons", "--fixed-list-mode", "--list-keys"}, &listing);
    if (!s.ok())
        return s;
    s = ParseGpgListing(listing, key);
    if (!s.ok())
        return s;
    bool has = false;
    for (const std::string& m : key->mailboxes)
        has = has || m == address;
    if (!has)
        return Status::InvalidArgument("the key " + key->fingerprint + " has no user ID <" +
                                       address + ">");
    return home->Gpg({"--armor", "--export", key->fingerprint}, &key->armored);
}

}  // namespace

Status ReadOpenPgpKeyFile(const std::string& file, const std::string& address, OpenPgpKey* key) {
    GnupgHome home;
    Status s = home.Create();
    if (!s.ok())
        return s;
    std::string out;
    s = home.Gpg({"--import", file}, &out);
    if (!s.ok())
        return Status::InvalidArgument(file + ": not an OpenPGP key (" + s.message() + ")");
    s = home.Gpg({"--with-colons", "--list-secret-keys"}, &out);
    if (!s.ok())
        return s;
    if (!out.empty())
        return Status::InvalidArgument(file + " holds a secret key: give the exported public key");
    s = ExportOnlyKey(&home, address, key);
    if (!s.ok())
        return s.WithContext(file + ": ");
    return Status::OK();
}

Status MakeOpenPgpKey(const std::string& address, const std::string& cn,
                      const std::string& passphrase, OpenPgpKey* key, std::string* secret) {
    GnupgHome home;
    Status s = home.Create();
    if (!s.ok())
        return s;
    std::string pass_file = home.dir() + "/passphrase";
    int fd = open(pass_file.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0)
        return Status::IOError(pass_file + ": " + strerror(errno));
    bool written =
        write(fd, passphrase.data(), passphrase.size()) == static_cast<ssize_t>(passphrase.size());
    close(fd);
    if (!written)
        return Status::IOError(pass_file + ": cannot write");
    const std::vector<std::string> loopback = {"--pinentry-mode", "loopback", "--passphrase-file",
                                               pass_file};
    std::string uid = cn.empty() ? "<" + address + ">" : cn + " <" + address + ">";
    std::string out;
    std::vector<std::string> gen = {"--quick-gen-key", uid, "ed25519", "sign", "never"};
    gen.insert(gen.begin(), loopback.begin(), loopback.end());
    s = home.Gpg(gen, &out);
    if (!s.ok())
        return s;
    std::string listing;
    s = home.Gpg({"--with-colons", "--fixed-list-mode", "--list-keys"}, &listing);
    if (!s.ok())
        return s;
    s = ParseGpgListing(listing, key);
    if (!s.ok())
        return s;
    std::vector<std::string> sub = {"--quick-add-key", key->fingerprint, "cv25519", "encr",
                                    "never"};
    sub.insert(sub.begin(), loopback.begin(), loopback.end());
    s = home.Gpg(sub, &out);
    if (!s.ok())
        return s;
    s = ExportOnlyKey(&home, address, key);
    if (!s.ok())
        return s;
    std::vector<std::string> exp = {"--armor", "--export-secret-keys", key->fingerprint};
    exp.insert(exp.begin(), loopback.begin(), loopback.end());
    return home.Gpg(exp, secret);
}

}  // namespace keydir
