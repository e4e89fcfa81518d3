#include "admin/zone.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cert/address.h"
#include "cert/issuer.h"
#include "cert/x509_util.h"
#include "common/atomic_file.h"
#include "common/ldif.h"

namespace keydir {
namespace {

namespace po = boost::program_options;

Status Errno(const std::string& what) {
    return Status::IOError(what + ": " + std::strerror(errno));
}

Status WriteNew(const std::string& path, const std::string& data) {
    return WriteFileAtomically(path, data, 0600, /*replace=*/false);
}

}  // namespace

std::string ZoneEntryLdif(const std::string& domain, int ttl) {
    std::string first_label = domain.substr(0, domain.find('.'));
    LdifRecord r(ZoneDn(domain));
    r.Add("objectClass", "top")
        .Add("objectClass", "domain")
        .Add("objectClass", "keydirZone")
        .Add("objectClass", "pkiCA")
        .Add("dc", first_label)
        .Add("keydirTTL", std::to_string(ttl))
        .Add("description", "keydir zone " + domain);
    return r.Text();
}

// The two entries dirmngr (gpg's LDAP keyserver access) reads: where the
// key space is, and the key space below which member add --openpgp and
// gpg --send-keys write pgpKeyInfo entries. Kept apart from zone.ldif: it
// loads only where schema/gnupg.schema is loaded.
std::string ZoneOpenPgpLdif(const std::string& domain) {
    std::string suffix = ZoneDn(domain);
    std::string key_space = "ou=GnuPG Keys," + suffix;
    LdifRecord info("cn=pgpServerInfo," + suffix);
    info.Add("objectClass", "pgpServerInfo")
        .Add("cn", "pgpServerInfo")
        .Add("pgpBaseKeySpaceDN", key_space)
        .Add("pgpSoftware", "GnuPG")
        .Add("pgpVersion", "2");
    LdifRecord keys(key_space);
    keys.Add("objectClass", "organizationalUnit").Add("ou", "GnuPG Keys");
    return info.Text() + keys.Text();
}

std::string ZoneSlapdSnippet(const ZoneInitOptions& o, const std::string& zone_dir) {
    std::string suffix = ZoneDn(o.domain);
    std::string gateway = o.gateway_dn.empty() ? "cn=gateway," + suffix : o.gateway_dn;
    std::string dbdir =
        o.db_directory.empty() ? "/var/lib/ldap/keydir/" + o.domain : o.db_directory;
    std::ostringstream s;
    s << "# slapd.conf snippet for the keydir zone " << o.domain << " (keydir-admin zone init).\n"
      << "# The global section needs:\n"
      << "#   include " << o.schema_dir << "/core.schema\n"
      << "#   include " << o.schema_dir << "/cosine.schema\n"
      << "#   include " << o.schema_dir << "/inetorgperson.schema\n"
      << "#   include " << o.schema_dir << "/keydir.schema\n";
    if (o.database_type == "keydir")
        s << "#   moduleload back_keydir.la\n";
    s << "database " << o.database_type << "\n"
      << "suffix \"" << suffix << "\"\n"
      << "rootdn \"cn=admin," << suffix << "\"\n"
      << "# rootpw: a hash from slappasswd\n"
      << "directory " << dbdir << "\n";
    if (o.database_type == "mdb")
        s << "maxsize 10737418240\n";
    s << "index objectClass,mail,keydirFingerprint eq\n"
      << "# OpenPGP keys for gpg (keys.md, \"OpenPGP keys\"): include\n"
      << "# " << o.schema_dir << "/gnupg.schema in the global section, load\n"
      << "# openpgp.ldif after zone.ldif, and index:\n"
      << "# index gpgMailbox,gpgFingerprint,gpgSubFingerprint,pgpCertID,pgpKeyID eq\n";
    if (o.database_type == "keydir")
        s << "# Certificates published in the zone must chain to its CA: copy\n"
          << "# " << zone_dir << "/ca.crt where slapd can read it.\n"
          << "keydir-trust-anchor /etc/ldap/keydir/" << o.domain << "-ca.crt\n";
    s << "# userPassword: members bind with it; nobody reads it.\n"
      << "access to attrs=userPassword\n"
      << "    by self =xw\n"
      << "    by anonymous auth\n"
      << "    by * none\n"
      << "# userPKCS12 (the members' encrypted private keys): the member itself\n"
      << "# and the gateway may read it; nobody else may read, compare or search it.\n"
      << "access to attrs=userPKCS12\n"
      << "    by self read\n"
      << "    by dn.exact=\"" << gateway << "\" read\n"
      << "    by * none\n"
      << "access to *\n"
      << "    by * read\n";
    return s.str();
}

Status Zone::Init(const std::string& root, const ZoneInitOptions& o, Env* env,
                  std::string* zone_dir) {
    if (::mkdir(root.c_str(), 0700) != 0 && errno != EEXIST)
        return Errno("cannot create the zones directory " + root);
    std::string final_dir = root + "/" + o.domain;
    struct stat st;
    if (::lstat(final_dir.c_str(), &st) == 0)
        return Status::Exists("the zone " + o.domain + " exists already (" + final_dir + ")");

    std::string temp = root + "/." + o.domain + ".new.XXXXXX";
    if (::mkdtemp(&temp[0]) == nullptr)
        return Errno("cannot write in " + root);
    // From here on, the half-made zone goes away on any failure.
    struct Cleanup {
        std::string dir;
        ~Cleanup() {
            if (!dir.empty()) {
                std::error_code ec;
                std::filesystem::remove_all(dir, ec);
            }
        }
    } cleanup{temp};

    ossl::PKeyPtr key;
    Status s = GenerateKey(o.key_type, &key);
    if (!s.ok())
        return s;
    int64_t now = env->NowUnixSeconds();
    ossl::X509Ptr cert;
    // Back-dated an hour: certificates issued now are valid on clients whose
    // clocks are a little behind.
    s = MakeZoneCaCertificate(o.domain, key.get(), now - 3600,
                              now + static_cast<int64_t>(o.ca_days) * 86400, env, &cert);
    if (!s.ok())
        return s;
    std::string key_pem;
    s = EncryptPrivateKey(key.get(), o.ca_passphrase, &key_pem);
    if (!s.ok())
        return s;

    std::string conf = "# keydir zone (keydir-admin zone init)\ndomain = " + o.domain +
                       "\nsuffix = " + ZoneDn(o.domain) + "\n";
    s = WriteNew(temp + "/ca.key", key_pem);
    if (s.ok())
        s = WriteNew(temp + "/ca.crt", DerToPem(CertificateDer(cert.get())));
    if (s.ok())
        s = WriteNew(temp + "/zone.conf", conf);
    if (s.ok())
        s = WriteNew(temp + "/zone.ldif", ZoneEntryLdif(o.domain, o.ttl));
    if (s.ok())
        s = WriteNew(temp + "/openpgp.ldif", ZoneOpenPgpLdif(o.domain));
    if (s.ok())
        s = WriteNew(temp + "/slapd.conf", ZoneSlapdSnippet(o, final_dir));
    if (s.ok())
        s = WriteNew(temp + "/issued.log", "");
    if (!s.ok())
        return s;
    if (::renameat2(AT_FDCWD, temp.c_str(), AT_FDCWD, final_dir.c_str(), RENAME_NOREPLACE) != 0) {
        if (errno == EEXIST)
            return Status::Exists("the zone " + o.domain + " exists already (" + final_dir + ")");
        return Errno("cannot create " + final_dir);
    }
    cleanup.dir.clear();
    *zone_dir = final_dir;
    return Status::OK();
}

Status Zone::Open(const std::string& root, const std::string& domain, std::unique_ptr<Zone>* out) {
    std::string dir = root + "/" + domain;
    std::ifstream in(dir + "/zone.conf");
    if (!in)
        return Status::NotFound("unknown zone " + domain + " (no " + dir +
                                "/zone.conf; create it with keydir-admin zone init " + domain +
                                ")");
    po::options_description desc;
    desc.add_options()("domain", po::value<std::string>())("suffix", po::value<std::string>());
    po::variables_map vm;
    try {
        po::store(po::parse_config_file(in, desc, /*allow_unregistered=*/true), vm);
    } catch (const po::error& e) {
        return Status::Corruption(dir + "/zone.conf: " + e.what());
    }
    if (!vm.count("domain") || vm["domain"].as<std::string>() != domain)
        return Status::Corruption(dir + "/zone.conf does not describe the zone " + domain);
    std::unique_ptr<Zone> zone(new Zone);
    zone->domain_ = domain;
    zone->suffix_ = vm.count("suffix") ? vm["suffix"].as<std::string>() : ZoneDn(domain);
    zone->dir_ = dir;
    *out = std::move(zone);
    return Status::OK();
}

Zone::~Zone() {
    if (lock_fd_ >= 0)
        ::close(lock_fd_);
}

Status Zone::Lock() {
    if (lock_fd_ >= 0)
        return Status::OK();
    std::string path = dir_ + "/.lock";
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return Errno("cannot open " + path);
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        ::close(fd);
        return Status::Busy("another keydir-admin is working on the zone " + domain_ +
                            " (it holds " + path + ")");
    }
    lock_fd_ = fd;
    return Status::OK();
}

Status Zone::LoadCaCertificate() {
    if (ca_cert_)
        return Status::OK();
    std::string pem;
    Status s = Env::Default()->ReadFile(dir_ + "/ca.crt", &pem);
    if (!s.ok())
        return s;
    std::string der;
    s = PemToDer(pem, &der);
    if (s.ok())
        s = ParseDerCertificate(der, &ca_cert_);
    if (s.ok())
        s = TrustAnchors::FromPem(pem, dir_ + "/ca.crt", &anchors_);
    if (!s.ok())
        return Status::Corruption(dir_ + "/ca.crt: " + s.message());
    return Status::OK();
}

Status Zone::LoadCaKey(const std::string& passphrase) {
    Status s = LoadCaCertificate();
    if (!s.ok())
        return s;
    std::string pem;
    s = Env::Default()->ReadFile(dir_ + "/ca.key", &pem);
    if (!s.ok())
        return s;
    s = DecryptPrivateKey(pem, passphrase, &ca_key_);
    if (s.code() == Status::Code::kPermissionDenied)
        return Status::PermissionDenied("wrong CA passphrase: it does not decrypt " + dir_ +
                                        "/ca.key");
    if (!s.ok())
        return Status::Corruption(dir_ + "/ca.key: " + s.message());
    if (X509_check_private_key(ca_cert_.get(), ca_key_.get()) != 1) {
        ossl::TakeError();
        return Status::Corruption(dir_ + "/ca.key does not belong to " + dir_ + "/ca.crt");
    }
    return Status::OK();
}

Status Zone::IssuedAddresses(std::unordered_set<std::string>* out) const {
    std::ifstream in(dir_ + "/issued.log");
    if (!in)
        return Errno("cannot read " + dir_ + "/issued.log");
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::string time, event, address;
        if (fields >> time >> event >> address && event == "issue")
            out->insert(address);
    }
    return Status::OK();
}

Status Zone::AppendLog(const std::string& lines) {
    std::string path = dir_ + "/issued.log";
    int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0)
        return Errno("cannot append to " + path);
    std::string_view rest(lines);
    while (!rest.empty()) {
        ssize_t n = ::write(fd, rest.data(), rest.size());
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            Status s = Errno("cannot append to " + path);
            ::close(fd);
            return s;
        }
        rest.remove_prefix(static_cast<size_t>(n));
    }
    int rc = ::fsync(fd);
    ::close(fd);
    return rc == 0 ? Status::OK() : Errno("cannot sync " + path);
}

Status Zone::RevokedCertificates(std::vector<CrlEntry>* out) const {
    std::ifstream in(dir_ + "/issued.log");
    if (!in)
        return Errno("cannot read " + dir_ + "/issued.log");
    struct Issued {
        std::string address, fingerprint, serial;
        bool revoked = false;
    };
    std::vector<Issued> issued;
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::string time, event, address, field;
        if (!(fields >> time >> event >> address))
            continue;
        fields >> field;
        int64_t when = 0;
        if (!ParseGeneralizedTime(time, &when).ok())
            return Status::Corruption(dir_ + "/issued.log: bad time in '" + line + "'");
        if (event == "issue") {
            std::string serial;
            fields >> serial;
            issued.push_back({address, field, serial});
            continue;
        }
        for (Issued& i : issued) {
            if (i.revoked || i.serial.empty())
                continue;
            if ((event == "revoke-member" && i.address == address) ||
                (event == "revoke-cert" && i.address == address && i.fingerprint == field)) {
                i.revoked = true;
                out->push_back({i.serial, when});
            }
        }
    }
    return Status::OK();
}

std::string Zone::CrlUrl() const {
    return "ldap:///" + suffix_ + "?certificateRevocationList;binary";
}

Status Zone::WriteCrl(Env* env, int days, std::string* der, CrlInfo* info) {
    if (!ca_key_)
        return Status::InvalidArgument("the zone CA key is needed to sign the CRL");
    CrlRequest req;
    Status s = RevokedCertificates(&req.revoked);
    if (!s.ok())
        return s;
    req.this_update = env->NowUnixSeconds();
    req.next_update = req.this_update + static_cast<int64_t>(days) * 86400;
    req.number = 1;
    std::string previous;
    if (Env::Default()->ReadFile(dir_ + "/zone.crl", &previous).ok()) {
        CrlInfo old;
        s = ParseCrl(previous, ca_cert_.get(), &old);
        if (!s.ok())
            return Status::Corruption(dir_ + "/zone.crl: " + s.message());
        req.number = old.number + 1;
    }
    s = MakeCrl(ca_cert_.get(), ca_key_.get(), req, der);
    if (s.ok())
        s = ParseCrl(*der, ca_cert_.get(), info);
    if (s.ok())
        s = WriteFileAtomically(dir_ + "/zone.crl.pem", CrlDerToPem(*der), 0644, /*replace=*/true);
    if (s.ok())
        s = WriteFileAtomically(dir_ + "/zone.crl", *der, 0644, /*replace=*/true);
    return s;
}

std::string Zone::LogLine(Env* env, const std::string& event, const std::string& address,
                          const std::string& fields) {
    return FormatGeneralizedTime(env->NowUnixSeconds()) + " " + event + " " + address +
           (fields.empty() ? "" : " " + fields) + "\n";
}

}  // namespace keydir
