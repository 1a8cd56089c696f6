"""Real receivers on 127.0.0.1 for the alert tests: an HTTP server that takes Apprise's json:// posts, and an
SMTP server (aiosmtpd) for mailto://. Each records what it received; the HTTP one can answer 500 or hang for a
while, as a broken service does."""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler

from conftest import LoopbackServer

ID = re.compile(r"id (\S+(?: \S+ \S+)?)\s*$")


class JSONReceiver(LoopbackServer):
    """Takes json:// posts. `fail` answers 500 that many times first; `hang` seconds: the next request waits
    that long before answering (a service that hangs). `received` holds (time, payload) of posts answered 200."""

    def __init__(self, fail: int = 0, hang: float = 0.0) -> None:
        self.received: list[tuple[float, dict]] = []
        self.attempts: list[tuple[float, dict]] = []
        self.fail, self.hang = fail, hang
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                now = time.time()
                with server.lock:
                    server.attempts.append((now, body))
                    hang, server.hang = server.hang, 0.0
                    failing = server.fail > 0
                    server.fail -= failing
                if hang:
                    time.sleep(hang)
                code = 500 if failing else 200
                try:
                    self.send_response(code)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"{}")
                except OSError:  # the sender gave up (or died) while this one hung
                    return
                if not failing and not hang:
                    with server.lock:
                        server.received.append((now, body))

            def log_message(self, *args) -> None:
                pass

        super().__init__(Handler)

    def json_url(self, path: str = "alerts") -> str:
        return self.url(path).replace("http://", "json://", 1)

    def ids(self) -> list[str]:
        """The stable ids of the messages received, in order."""
        with self.lock:
            return [m.group(1) for _, body in self.received if (m := ID.search(body.get("message", "")))]


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SMTPReceiver:
    """aiosmtpd's server on 127.0.0.1 (a real SMTP conversation); `messages` holds each mail's parsed form."""

    def __init__(self) -> None:
        from email import message_from_bytes, policy

        from aiosmtpd.controller import Controller

        self.messages: list = []
        receiver = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's naming)
                receiver.messages.append(message_from_bytes(envelope.original_content, policy=policy.default))
                return "250 OK"

        self.port = free_port()  # aiosmtpd checks its server by connecting to the port: it cannot be 0
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def close(self) -> None:
        self.controller.stop()
