"""Member certificates for the backend tests, made with the openssl tool.

A keydir database checks the certificates of keydirMember entries and
derives keydirFingerprint and keydirNotAfter from them; back-mdb stores
what it is sent. The tests' members therefore carry real certificates
(self-signed, one per address, naming it in subjectAltName, fit for S/MIME
encryption) and the derived values, which keydir accepts because they
match. Certificates are made once per test run and kept in memory.
"""

import atexit
import base64
import functools
import hashlib
import os
import shutil
import subprocess
import tempfile

from ldapwire import read_tlv


@functools.lru_cache(maxsize=None)
def _key():
    """One EC key for every test certificate (fingerprints still differ)."""
    directory = tempfile.mkdtemp(prefix="keydir-certs-")
    atexit.register(shutil.rmtree, directory, True)
    path = os.path.join(directory, "key.pem")
    subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-out", path], check=True, capture_output=True)
    return path


def _generalized(tag, value):
    text = value.decode()
    if tag == 0x17:  # UTCTime YYMMDDHHMMSSZ
        text = ("19" if int(text[:2]) >= 50 else "20") + text
    return text


def not_after(der):
    """The certificate's notAfter as GeneralizedTime text (YYYYMMDDHHMMSSZ)."""
    _, cert, _ = read_tlv(der, 0)
    _, tbs, _ = read_tlv(cert, 0)
    pos = 0
    tag, _, nxt = read_tlv(tbs, pos)
    if tag == 0xA0:  # [0] version
        pos = nxt
    for _ in range(3):  # serialNumber, signature, issuer
        _, _, pos = read_tlv(tbs, pos)
    _, validity, _ = read_tlv(tbs, pos)
    _, _, pos = read_tlv(validity, 0)  # notBefore
    tag, value, _ = read_tlv(validity, pos)
    return _generalized(tag, value)


def certificate(mail, days=365):
    """(DER, fingerprint, notAfter) of a certificate for mail (the same one
    for the same arguments)."""
    return _certificate(mail, days)


@functools.lru_cache(maxsize=None)
def _certificate(mail, days):
    der = subprocess.run(
        ["openssl", "req", "-x509", "-new", "-key", _key(), "-subj", f"/CN={mail}",
         "-days", str(days), "-outform", "DER",
         "-addext", f"subjectAltName=email:{mail}",
         "-addext", "keyUsage=critical,digitalSignature,keyAgreement",
         "-addext", "extendedKeyUsage=emailProtection"],
        check=True, capture_output=True).stdout
    return der, hashlib.sha256(der).hexdigest(), not_after(der)


def member_attrs(mail, days=365):
    """The certificate attributes of a member, as LDAP attributes."""
    der, fp, na = certificate(mail, days)
    return {"userCertificate;binary": [der], "keydirFingerprint": [fp], "keydirNotAfter": [na]}


def member_ldif(mail, days=365):
    """The same as LDIF lines (the certificate in base64)."""
    out = []
    for name, values in member_attrs(mail, days).items():
        for v in values:
            out.append(f"{name}:: {base64.b64encode(v).decode()}" if isinstance(v, bytes)
                       else f"{name}: {v}")
    return "\n".join(out) + "\n"
