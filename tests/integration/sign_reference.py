"""An independent implementation of doc/signing.md in Python.

It shares no code with lib/sign: it was written from the document, so that
test_sign_vectors.py can show that the document is precise enough for a
second implementation to compute the same canonical bytes, control values
and MACs as the C++ one (whose unit tests check the same vectors).
"""

import hashlib
import hmac
import struct

REQUEST_LABEL = b"keydir-signature-v2 request"
ANSWER_LABEL = b"keydir-signature-v2 answer"
ALGORITHMS = {"hmac-sha256": hashlib.sha256, "hmac-sha512": hashlib.sha512}


# -- primitives (§4.1) -------------------------------------------------------
def u8(v):
    return struct.pack(">B", v)


def u16(v):
    return struct.pack(">H", v)


def u32(v):
    return struct.pack(">I", v)


def u64(v):
    return struct.pack(">Q", v)


def lstr(b):
    return u32(len(b)) + b


# -- values and DNs (§4.2) ---------------------------------------------------
def canonical_value(b):
    words = [w for w in b.split(b" ") if w]
    return b" ".join(words).translate(bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ",
                                                      b"abcdefghijklmnopqrstuvwxyz"))


def lower_ascii(b):
    return b.translate(bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", b"abcdefghijklmnopqrstuvwxyz"))


def parse_dn(text):
    """RFC 4514 string -> list of RDNs, each a list of (type, value bytes)."""
    s = text.encode() if isinstance(text, str) else text
    i = 0
    rdns = []

    def skip():
        nonlocal i
        while i < len(s) and s[i:i + 1] == b" ":
            i += 1

    skip()
    if i == len(s):
        return rdns
    while True:
        rdn = []
        while True:
            skip()
            start = i
            while i < len(s) and (chr(s[i]).isalnum() or s[i:i + 1] in (b"-", b".")):
                i += 1
            typ = s[start:i]
            if not typ:
                raise ValueError("no attribute type")
            skip()
            if s[i:i + 1] != b"=":
                raise ValueError("no '='")
            i += 1
            skip()
            if s[i:i + 1] in (b"#", b'"'):
                raise ValueError("hex or quoted value")
            value = bytearray()
            keep = 0
            while i < len(s) and s[i:i + 1] not in (b",", b"+", b";"):
                c = s[i:i + 1]
                if c == b"\\":
                    nxt = s[i + 1:i + 3]
                    try:
                        value.append(int(nxt, 16))
                        i += 3
                    except ValueError:
                        value += s[i + 1:i + 2]
                        i += 2
                    keep = len(value)
                    continue
                value += c
                i += 1
                if c != b" ":
                    keep = len(value)
            rdn.append((typ, bytes(value[:keep])))
            if s[i:i + 1] == b"+":
                i += 1
                continue
            break
        rdns.append(rdn)
        if i == len(s):
            return rdns
        if s[i:i + 1] != b",":
            raise ValueError("bad separator")
        i += 1


def canonical_dn_bytes(text):
    out = b""
    rdns = parse_dn(text)
    out += u32(len(rdns))
    for rdn in rdns:
        avas = sorted((lower_ascii(t), canonical_value(v)) for t, v in rdn)
        out += u32(len(avas))
        for t, v in avas:
            out += lstr(t) + lstr(v)
    return out


# -- filters (§4.3) ----------------------------------------------------------
def canonical_description(desc):
    parts = lower_ascii(desc).split(b";")
    return b";".join([parts[0]] + sorted(parts[1:]))


def _unescape(raw):
    out = bytearray()
    i = 0
    while i < len(raw):
        if raw[i:i + 1] == b"\\":
            out.append(int(raw[i + 1:i + 3], 16))
            i += 3
        else:
            out += raw[i:i + 1]
            i += 1
    return bytes(out)


def _split_unescaped_star(raw):
    return raw.split(b"*")  # escaped stars are \2a, never a literal '*'


def canonical_filter(text):
    s = text.encode() if isinstance(text, str) else text
    pos = 0

    def skip():
        nonlocal pos
        while pos < len(s) and s[pos:pos + 1] == b" ":
            pos += 1

    def parse():
        nonlocal pos
        assert s[pos:pos + 1] == b"(", "expected ("
        pos += 1
        c = s[pos:pos + 1]
        if c in (b"&", b"|"):
            pos += 1
            members = []
            while True:
                skip()
                if s[pos:pos + 1] == b")":
                    break
                members.append(parse())
            members.sort()
            out = u8(0xa0 if c == b"&" else 0xa1) + u32(len(members))
            for m in members:
                out += lstr(m)
        elif c == b"!":
            pos += 1
            skip()
            out = u8(0xa2) + lstr(parse())
            skip()
        elif s[pos:pos + 7] == b"?=true)":
            pos += 6
            out = u8(0xa0) + u32(0)
        elif s[pos:pos + 8] == b"?=false)":
            pos += 7
            out = u8(0xa1) + u32(0)
        else:
            end = s.index(b")", pos)
            item = s[pos:end]
            pos = end
            out = _item(item)
        assert s[pos:pos + 1] == b")", "expected )"
        pos += 1
        return out

    def _item(item):
        for op, tag in ((b"~=", 0xa8), (b">=", 0xa5), (b"<=", 0xa6)):
            k = item.find(op)
            if k > 0 and b"=" not in item[:k]:
                return (u8(tag) + lstr(canonical_description(item[:k])) +
                        lstr(canonical_value(_unescape(item[k + 2:]))))
        k = item.index(b"=")
        left, raw = item[:k], item[k + 1:]
        if left.endswith(b":"):  # extensible
            parts = left[:-1].split(b":")
            attr, dn, rule = parts[0], False, b""
            for p in parts[1:]:
                if lower_ascii(p) == b"dn" and not dn:
                    dn = True
                else:
                    rule = p
            return (u8(0xa9) + lstr(lower_ascii(rule)) + lstr(canonical_description(attr)) +
                    u8(1 if dn else 0) + lstr(canonical_value(_unescape(raw))))
        desc = canonical_description(left)
        if raw == b"*":
            return u8(0x87) + lstr(desc)
        if b"*" not in raw:
            return u8(0xa3) + lstr(desc) + lstr(canonical_value(_unescape(raw)))
        pieces = [canonical_value(_unescape(p)) for p in _split_unescaped_star(raw)]
        initial, anys, final = pieces[0], [p for p in pieces[1:-1] if p], pieces[-1]
        out = u8(0xa4) + lstr(desc)
        out += (u8(1) + lstr(initial)) if initial else u8(0)
        out += u32(len(anys)) + b"".join(lstr(a) for a in anys)
        out += (u8(1) + lstr(final)) if final else u8(0)
        return out

    skip()
    result = parse()
    skip()
    assert pos == len(s), "trailing text"
    return result


# -- request, entry, URLs (§4.4-4.6) -----------------------------------------
def canonical_request(base, scope, deref, size_limit, time_limit, types_only, manage_dsa_it,
                      filt, attributes):
    attrs = sorted(canonical_description(a.encode()) for a in attributes)
    return (lstr(canonical_dn_bytes(base)) + u8(scope) + u8(deref) + u32(size_limit) +
            u32(time_limit) + u8(1 if types_only else 0) + u8(1 if manage_dsa_it else 0) +
            lstr(canonical_filter(filt)) + u32(len(attrs)) + b"".join(lstr(a) for a in attrs))


def canonical_entry(dn, attributes):
    """attributes: list of (description, [value bytes])"""
    attrs = sorted((canonical_description(d.encode()), sorted(vals)) for d, vals in attributes)
    out = lstr(canonical_dn_bytes(dn)) + u32(len(attrs))
    for d, vals in attrs:
        out += lstr(d) + u32(len(vals)) + b"".join(lstr(v) for v in vals)
    return out


def canonical_urls(urls):
    return u32(len(urls)) + b"".join(lstr(u.encode()) for u in urls)


# -- MAC inputs (§5) ---------------------------------------------------------
def canonical_server(host, port):
    """§2: the server a request is meant for, "host:port": the host in lower
    case (an IPv6 address in brackets), the port in decimal, always given."""
    host = host.lower()
    if ":" in host and not host.startswith("["):
        host = "[" + host + "]"
    return f"{host}:{int(port)}"


def request_mac_input(key_name, algorithm, time_signed, fudge, nonce, hop_count, recursion,
                      server, canonical_req):
    return (lstr(REQUEST_LABEL) + lstr(key_name.encode()) + lstr(algorithm.encode()) +
            u64(time_signed) + u16(fudge) + lstr(nonce) + u8(hop_count) +
            u8(1 if recursion else 0) + lstr(server.encode()) + lstr(canonical_req))


def answer_mac_input(key_name, algorithm, request_mac, items, result_code, referrals,
                     time_signed, fudge, nonce):
    """items: list of ("entry", canonical_entry_bytes) or ("reference", [urls])"""
    out = lstr(ANSWER_LABEL) + lstr(key_name.encode()) + lstr(algorithm.encode()) + lstr(request_mac)
    for kind, value in items:
        if kind == "entry":
            out += u8(1) + lstr(value)
        else:
            out += u8(2) + lstr(canonical_urls(value))
    out += u8(0) + u32(result_code) + lstr(canonical_urls(referrals))
    out += u64(time_signed) + u16(fudge) + lstr(nonce)
    return out


def mac(algorithm, key, data):
    return hmac.new(key, data, ALGORITHMS[algorithm]).digest()


# -- the control (§2), DER ---------------------------------------------------
def _der(tag, content):
    n = len(content)
    if n < 0x80:
        length = bytes([n])
    else:
        b = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(b)]) + b
    return bytes([tag]) + length + content


def _der_uint(tag, v):
    b = v.to_bytes(max(1, (v.bit_length() + 7) // 8), "big")
    if b[0] & 0x80:
        b = b"\x00" + b
    return _der(tag, b)


def control_value(direction, key_name, algorithm, time_signed, fudge, nonce, hop_count,
                  recursion, server, mac_bytes):
    """server: the request's "host:port"; "" in an answer."""
    content = (_der_uint(0x02, 2) + _der_uint(0x0a, 0 if direction == "request" else 1) +
               _der(0x04, key_name.encode()) + _der(0x04, algorithm.encode()) +
               _der_uint(0x02, time_signed) + _der_uint(0x02, fudge) + _der(0x04, nonce) +
               _der_uint(0x02, hop_count) + _der(0x01, b"\xff" if recursion else b"\x00") +
               _der(0x04, server.encode()) + _der(0x04, mac_bytes))
    return _der(0x30, content)


# -- publications (§4.7) -----------------------------------------------------
PUBLISH_OID = "2.25.142655347163252810041593617359114918330.4.2"


def canonical_publication(action, member_dn, urls):
    """action: 0 add, 1 delete."""
    return (u8(0xFF) + lstr(b"keydir-publish-v1") + u8(action) +
            lstr(canonical_dn_bytes(member_dn)) + u32(len(urls)) +
            b"".join(lstr(u.encode()) for u in urls))


def publication_value(action, member_dn, urls):
    return _der(0x30, _der_uint(0x0a, action) + _der(0x04, member_dn.encode()) +
                _der(0x30, b"".join(_der(0x04, u.encode()) for u in urls)))
