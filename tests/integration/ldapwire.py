"""LDAP messages built byte by byte (BER, RFC 4511), for the tests that need
what no client library sends: a malformed filter, or a client that stops
reading. Only what those tests use is here.
"""

import socket
import time

# Tags (RFC 4511 section 4).
BIND_REQUEST = 0x60
BIND_RESPONSE = 0x61
SEARCH_REQUEST = 0x63
SEARCH_ENTRY = 0x64
SEARCH_DONE = 0x65
SEARCH_REFERENCE = 0x73
EXTENDED_RESPONSE = 0x78

SCOPE_BASE, SCOPE_ONE, SCOPE_SUB = 0, 1, 2


def _len(n):
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def tlv(tag, content):
    return bytes([tag]) + _len(len(content)) + content


def integer(v, tag=0x02):
    body = v.to_bytes(max(1, (v.bit_length() + 8) // 8), "big", signed=True)
    return tlv(tag, body)


def enumerated(v):
    return integer(v, 0x0A)


def octets(s, tag=0x04):
    return tlv(tag, s.encode() if isinstance(s, str) else s)


def boolean(v):
    return tlv(0x01, b"\xff" if v else b"\x00")


def sequence(*parts, tag=0x30):
    return tlv(tag, b"".join(parts))


# Filters (RFC 4511 4.5.1).
def f_present(attr):
    return octets(attr, 0x87)


def f_equal(attr, value):
    return sequence(octets(attr), octets(value), tag=0xA3)


def message(msgid, op):
    return sequence(integer(msgid), op)


def bind_request(msgid, dn="", password=""):
    return message(msgid, sequence(integer(3), octets(dn), octets(password, 0x80),
                                   tag=BIND_REQUEST))


def search_request(msgid, base, filt, scope=SCOPE_SUB, size_limit=0, time_limit=0, attrs=()):
    """filt: the filter's encoding (f_present, f_equal, or any bytes)."""
    return message(msgid, sequence(
        octets(base), enumerated(scope), enumerated(0), integer(size_limit),
        integer(time_limit), boolean(False), filt,
        sequence(*[octets(a) for a in attrs]), tag=SEARCH_REQUEST))


class Message:
    def __init__(self, msgid, tag, body):
        self.msgid, self.tag, self.body = msgid, tag, body

    def result_code(self):
        """The resultCode of an LDAPResult-shaped response."""
        tag, value, _ = read_tlv(self.body, 0)
        assert tag == 0x0A, f"no result code in message tag {self.tag:#x}"
        return int.from_bytes(value, "big")

    def __repr__(self):
        return f"Message(id={self.msgid}, tag={self.tag:#x})"


def read_tlv(data, pos):
    """(tag, value, next position) of the element at pos."""
    tag = data[pos]
    n = data[pos + 1]
    pos += 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(data[pos:pos + k], "big")
        pos += k
    return tag, data[pos:pos + n], pos + n


class Connection:
    """A plain TCP connection speaking LDAP messages."""

    def __init__(self, port, rcvbuf=None, timeout=30):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            # Before connect, so that the advertised window stays small.
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect(("127.0.0.1", port))
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("connection closed by the server")
        self.buf += chunk

    def read(self):
        """The next message (EOFError if the server closed the connection)."""
        while True:
            if len(self.buf) >= 2:
                n = self.buf[1]
                head = 2 + (n & 0x7F if n & 0x80 else 0)
                if len(self.buf) >= head:
                    total = head + (int.from_bytes(self.buf[2:head], "big") if n & 0x80 else n)
                    if len(self.buf) >= total:
                        _, content, _ = read_tlv(self.buf, 0)
                        self.buf = self.buf[total:]
                        _, msgid, pos = read_tlv(content, 0)
                        tag, body, _ = read_tlv(content, pos)
                        return Message(int.from_bytes(msgid, "big"), tag, body)
            self._fill()

    def read_until_done(self, msgid):
        """Reads the responses to one search: (entries, references, result code)."""
        entries = refs = 0
        while True:
            m = self.read()
            if m.tag == EXTENDED_RESPONSE and m.msgid == 0:
                return entries, refs, ("disconnect", m.result_code())
            if m.msgid != msgid:
                continue
            if m.tag == SEARCH_ENTRY:
                entries += 1
            elif m.tag == SEARCH_REFERENCE:
                refs += 1
            elif m.tag == SEARCH_DONE:
                return entries, refs, m.result_code()

    def closed_by_server(self, timeout=10):
        """True once the server has closed the connection (reads and drops
        anything still sent)."""
        deadline = time.time() + timeout
        self.sock.settimeout(1)
        while time.time() < deadline:
            try:
                if not self.sock.recv(65536):
                    return True
            except socket.timeout:
                continue
            except OSError:
                return True
        return False

    def close(self):
        self.sock.close()
