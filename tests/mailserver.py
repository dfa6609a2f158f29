"""Real SMTP servers on loopback for the mail tests: aiosmtpd (accepting or refusing)
and a raw socket server that drops the connection in the middle of a message."""
from __future__ import annotations

import email
import socket
import threading
from email import policy

import pytest
from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class CollectingHandler:
    def __init__(self, reply: str = "250 OK"):
        self.reply = reply
        self.messages: list = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        if self.reply.startswith("250"):
            msg = email.message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
            with self.lock:
                self.messages.append((list(envelope.rcpt_tos), msg))
        return self.reply

    def keys(self) -> list[str]:
        return [m["X-Tracker-Dedupe-Key"] for _rcpt, m in self.messages]


class SMTPServer:
    def __init__(self, reply: str = "250 OK", port: int | None = None):
        self.handler = CollectingHandler(reply)
        self.port = port or free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    def start(self) -> "SMTPServer":
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    @property
    def messages(self):
        return self.handler.messages

    def keys(self) -> list[str]:
        return self.handler.keys()


class DroppingServer:
    """Speaks just enough SMTP to reach DATA, then closes the socket mid-message."""

    def __init__(self, silent: bool = False):
        self.silent = silent  # True: accept and never answer (a timeout)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.running = True
        self.conns: list[socket.socket] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.conns.append(conn)
            if self.silent:
                continue
            threading.Thread(target=self._talk, args=(conn,), daemon=True).start()

    def _talk(self, conn: socket.socket) -> None:
        try:
            f = conn.makefile("rb")
            conn.sendall(b"220 dropper ESMTP\r\n")
            while True:
                line = f.readline()
                if not line:
                    return
                cmd = line.strip().upper()
                if cmd.startswith(b"EHLO") or cmd.startswith(b"HELO"):
                    conn.sendall(b"250 dropper\r\n")
                elif cmd.startswith(b"DATA"):
                    conn.sendall(b"354 go ahead\r\n")
                    f.readline()  # one line of the message, then hang up
                    conn.shutdown(socket.SHUT_RDWR)
                    conn.close()
                    return
                else:
                    conn.sendall(b"250 ok\r\n")
        except OSError:
            return

    def stop(self) -> None:
        self.running = False
        for conn in self.conns:
            try:
                conn.close()
            except OSError:
                pass
        self.sock.close()
        self.thread.join(timeout=2)


@pytest.fixture
def smtp_server():
    server = SMTPServer().start()
    yield server
    server.stop()


@pytest.fixture
def refusing_smtp_server():
    server = SMTPServer(reply="550 5.1.1 mailbox unavailable").start()
    yield server
    server.stop()


@pytest.fixture
def dropping_server():
    server = DroppingServer()
    yield server
    server.stop()


@pytest.fixture
def silent_server():
    server = DroppingServer(silent=True)
    yield server
    server.stop()
