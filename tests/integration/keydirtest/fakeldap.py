"""Misbehaving LDAP servers on 127.0.0.1 for the keychase fault tests.

    BlackHole   accepts connections (the kernel does) and never answers
    Streamer    answers every search with as many large entries as it is
                told, then success: more than a base search can need
    Counter     counts the connections made to it and answers nothing

Each listens on a free port (`port`, `uri`) and counts `connections`,
`requests` and `searches`;
close() stops it.
"""

import socket
import threading

from .relay import SEARCH_DONE, SEARCH_ENTRY, SEARCH_REQUEST, Message, Tlv, message_length


class _Server:
    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(256)
        self.port = self.sock.getsockname()[1]
        self.uri = f"ldap://127.0.0.1:{self.port}"
        self.connections = 0
        self.requests = 0  # LDAP messages received
        self.searches = 0  # search requests among them
        self._conns = []
        self._lock = threading.Lock()
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
                self._conns.append(conn)
            threading.Thread(target=self._serve_safely, args=(conn,), daemon=True).start()

    def _serve_safely(self, conn):
        try:
            self.serve(conn)
        except OSError:
            pass

    def _requests(self, conn):
        """Yields the LDAP messages the client sends."""
        buf = b""
        while True:
            data = conn.recv(65536)
            if not data:
                return
            buf += data
            while True:
                n = message_length(buf)
                if not n:
                    break
                raw, buf = buf[:n], buf[n:]
                msg = Message(raw)
                with self._lock:
                    self.requests += 1
                    self.searches += msg.op.tag == SEARCH_REQUEST
                yield msg

    def serve(self, conn):
        for _ in self._requests(conn):
            pass  # never answers

    def close(self):
        self._stop = True
        self.sock.close()
        with self._lock:
            for c in self._conns:
                try:
                    c.shutdown(socket.SHUT_RDWR)
                    c.close()
                except OSError:
                    pass


class BlackHole(_Server):
    pass


class Counter(_Server):
    pass


class Streamer(_Server):
    def __init__(self, entries, value_bytes):
        self.entries = entries
        self.value = b"x" * value_bytes
        self.sent_entries = 0
        super().__init__()

    def serve(self, conn):
        for msg in self._requests(conn):
            if msg.op.tag != SEARCH_REQUEST:
                continue
            msgid = Tlv(0x02)
            msgid.set_int(msg.msgid)
            base = msg.op.children[0].content
            entry = Tlv(0x30, children=[msgid, Tlv(SEARCH_ENTRY, children=[
                Tlv(0x04, base),
                Tlv(0x30, children=[Tlv(0x30, children=[
                    Tlv(0x04, b"description"), Tlv(0x31, children=[Tlv(0x04, self.value)])])])])])
            raw = entry.encode()
            for _ in range(self.entries):
                conn.sendall(raw)
                self.sent_entries += 1
            done = Tlv(0x30, children=[msgid, Tlv(SEARCH_DONE, children=[
                Tlv(0x0A, b"\x00"), Tlv(0x04, b""), Tlv(0x04, b"")])])
            conn.sendall(done.encode())


class Liar(_Server):
    """Answers every search with one entry that carries the address the
    search's base names (mail=ADDRESS,...) but is named `dn`: an upstream
    that tries to pass its answer off as some other entry."""

    def __init__(self, dn):
        self.dn = dn.encode()
        super().__init__()

    def serve(self, conn):
        for msg in self._requests(conn):
            if msg.op.tag != SEARCH_REQUEST:
                continue
            msgid = Tlv(0x02)
            msgid.set_int(msg.msgid)
            base = msg.op.children[0].content
            address = base.split(b",", 1)[0].split(b"=", 1)[-1]
            attrs = [(b"objectClass", b"keydirMember"), (b"mail", address)]
            entry = Tlv(0x30, children=[msgid, Tlv(SEARCH_ENTRY, children=[
                Tlv(0x04, self.dn),
                Tlv(0x30, children=[Tlv(0x30, children=[Tlv(0x04, name),
                                                         Tlv(0x31, children=[Tlv(0x04, value)])])
                                    for name, value in attrs])])])
            conn.sendall(entry.encode())
            done = Tlv(0x30, children=[msgid, Tlv(SEARCH_DONE, children=[
                Tlv(0x0A, b"\x00"), Tlv(0x04, b""), Tlv(0x04, b"")])])
            conn.sendall(done.encode())
