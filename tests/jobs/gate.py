"""A JSON-RPC proxy on 127.0.0.1 that holds every request until the test opens it.

It lets a test keep a job run inside its lock for as long as it needs (to start a second run
against it) without sleeping and hoping: the held run makes its first RPC call and waits there.
"""

from __future__ import annotations

import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

#: Longest a request is held if the test never opens the gate (it then fails on its own asserts).
HOLD_LIMIT_S = 120


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False


class Gate:
    """Forward POSTs to ``upstream`` once ``open()`` was called; counts the requests that arrived."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.opened = threading.Event()
        self.arrived = threading.Event()
        gate = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                gate.arrived.set()
                gate.opened.wait(HOLD_LIMIT_S)
                request = urllib.request.Request(gate.upstream, body, {"Content-Type": "application/json"})
                with urllib.request.urlopen(request, timeout=60) as response:
                    answer = response.read()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                """Quiet: the test output is not the place for access logs."""

        self._server = _Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.01,), daemon=True)

    def open(self) -> None:
        self.opened.set()

    def __enter__(self) -> Gate:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.opened.set()
        self._server.shutdown()
        self._server.server_close()
