"""A tampering relay for LDAP on 127.0.0.1: it sits between two key servers,
passes whole LDAP messages (BER, RFC 4511) each way, and lets a test change,
drop, keep or replay them. With no tamper function it is transparent.

BER here is the small subset LDAP uses: one-byte tags, definite lengths.
"""

import socket
import threading

# -- BER ------------------------------------------------------------------


def _read_len(buf, pos):
    first = buf[pos]
    pos += 1
    if first < 0x80:
        return first, pos
    n = first & 0x7F
    return int.from_bytes(buf[pos:pos + n], "big"), pos + n


def _enc_len(n):
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


class Tlv:
    """One BER element: tag, and either raw content or child elements."""

    def __init__(self, tag, content=b"", children=None):
        self.tag = tag
        self.content = content
        self.children = children

    @property
    def constructed(self):
        return bool(self.tag & 0x20)

    def encode(self):
        body = b"".join(c.encode() for c in self.children) if self.children is not None \
            else self.content
        return bytes([self.tag]) + _enc_len(len(body)) + body

    def int(self):
        return int.from_bytes(self.content, "big", signed=True)

    def set_int(self, v):
        self.content = v.to_bytes(max(1, (v.bit_length() + 8) // 8), "big", signed=True)


def decode(buf, deep=True):
    """All elements in buf (a list of Tlv)."""
    out, pos = [], 0
    while pos < len(buf):
        tag = buf[pos]
        length, start = _read_len(buf, pos + 1)
        content = buf[start:start + length]
        el = Tlv(tag, content)
        if deep and el.constructed:
            el.children = decode(content)
        out.append(el)
        pos = start + length
    return out


def message_length(buf):
    """The length of the first complete message in buf, or 0."""
    if len(buf) < 2:
        return 0
    first = buf[1]
    if first < 0x80:
        total = 2 + first
    else:
        n = first & 0x7F
        if len(buf) < 2 + n:
            return 0
        total = 2 + n + int.from_bytes(buf[2:2 + n], "big")
    return total if len(buf) >= total else 0


# -- LDAP messages ----------------------------------------------------------

SEARCH_REQUEST, SEARCH_ENTRY, SEARCH_DONE, SEARCH_REF = 0x63, 0x64, 0x65, 0x73
CONTROLS = 0xA0
SIGNATURE_OID = b"2.25.142655347163252810041593617359114918330.3.1"
# KeydirSignature fields (doc/signing.md §2), by position.
(F_VERSION, F_DIRECTION, F_KEY, F_ALG, F_TIME, F_FUDGE, F_NONCE, F_HOPS, F_RECURSION, F_SERVER,
 F_MAC) = range(11)


class Message:
    def __init__(self, raw):
        self.tlv = decode(raw)[0]

    @property
    def msgid(self):
        return self.tlv.children[0].int()

    @msgid.setter
    def msgid(self, v):
        self.tlv.children[0].set_int(v)

    @property
    def op(self):
        return self.tlv.children[1]

    def signature(self):
        """The KeydirSignature SEQUENCE of our control (a Tlv), or None."""
        for el in self.tlv.children[2:]:
            if el.tag != CONTROLS:
                continue
            for ctrl in el.children:
                if ctrl.children[0].content == SIGNATURE_OID:
                    value = ctrl.children[-1]
                    sig = decode(value.content)[0]
                    return _BoundSignature(value, sig)
        return None

    def add_control(self, oid, value=None, critical=False):
        """Appends a request control (RFC 4511 Control) to the message."""
        parts = [Tlv(0x04, oid.encode() if isinstance(oid, str) else oid)]
        if critical:
            parts.append(Tlv(0x01, b"\xff"))
        if value is not None:
            parts.append(Tlv(0x04, value))
        ctrl = Tlv(0x30, children=parts)
        for el in self.tlv.children[2:]:
            if el.tag == CONTROLS:
                el.children.append(ctrl)
                return
        self.tlv.children.append(Tlv(CONTROLS, children=[ctrl]))

    def encode(self):
        return self.tlv.encode()


class _BoundSignature:
    """A decoded signature whose changes go back into the control value."""

    def __init__(self, value_tlv, sig):
        self.value_tlv, self.sig = value_tlv, sig

    def field(self, i):
        return self.sig.children[i]

    def commit(self):
        self.value_tlv.content = self.sig.encode()


# -- the relay --------------------------------------------------------------


class Relay:
    """Listens on a free 127.0.0.1 port and forwards to (host, port).

    tamper(direction, Message) -> list of bytes to send instead ([] drops it);
    direction is "up" (towards the server) or "down" (towards the client).
    """

    def __init__(self, target_port, tamper=None):
        self.target_port = target_port
        self.tamper = tamper
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.uri = f"ldap://127.0.0.1:{self.port}"
        self.seen = []  # (direction, raw bytes) of every message
        self._stop = False
        self._threads = []
        t = threading.Thread(target=self._accept, daemon=True)
        t.start()
        self._threads.append(t)

    def _accept(self):
        while not self._stop:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.target_port))
            for src, dst, direction in ((client, server, "up"), (server, client, "down")):
                t = threading.Thread(target=self._pump, args=(src, dst, direction), daemon=True)
                t.start()
                self._threads.append(t)

    def _pump(self, src, dst, direction):
        buf = b""
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                buf += data
                while True:
                    n = message_length(buf)
                    if not n:
                        break
                    raw, buf = buf[:n], buf[n:]
                    self.seen.append((direction, raw))
                    out = [raw]
                    if self.tamper:
                        out = self.tamper(direction, Message(raw))
                    for piece in out:
                        dst.sendall(piece)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self):
        self._stop = True
        self.sock.close()
