"""A real HTTP proxy on 127.0.0.1 in front of a JSON-RPC node, injecting faults on a seeded schedule.

Each HTTP request the proxy receives may carry one fault, taken first from ``script`` (in order;
``None`` lets a request through) and then drawn with probability ``rate`` from ``kinds`` by a
``random.Random(seed)``. Independently of the schedule, ``shuffle`` reorders every batch answer
(legal JSON-RPC), ``max_log_range`` makes ``eth_getLogs`` over more blocks fail the way
``range_style`` names, and ``max_multicall_calls`` makes a Multicall3 ``aggregate3`` with more
sub-calls fail with "gas required exceeds allowance", as real providers do.

The proxy counts what it saw: ``http_requests``, ``batch_bodies`` (those sent as JSON arrays), ``methods`` (JSON-RPC calls by method),
``injected`` (faults by kind), ``log_ranges`` (every ``eth_getLogs`` range, with whether it was
refused) and ``multicall_sizes`` (sub-calls per ``aggregate3``, with whether it was refused), so tests can check both the answers and the traffic.
"""

from __future__ import annotations

import json
import random
import socket
import struct
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Iterable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import eth_abi
from eth_utils import keccak

#: Every fault the proxy can inject.
FAULTS = (
    "timeout",  # hold the request past the client's timeout, then drop the connection
    "reset",  # close the connection with a TCP RST before answering
    "http_429",  # 429 without Retry-After
    "http_429_retry_after",  # 429 with Retry-After: <retry_after>
    "http_502",
    "http_503",
    "truncated",  # the right answer, cut in half under a Content-Length of the whole
    "non_json",  # 200 with an HTML page
    "bad_json",  # 200 with the right answer cut in half (Content-Length of the half)
    "rpc_rate_limit",  # every answer a JSON-RPC error -32005 "rate limit exceeded"
    "rpc_header_not_found",  # one answer a JSON-RPC error -32000 "header not found"
    "missing_id",  # a batch answer without one of its items, or a single answer with a wrong id
)

#: Faults that corrupt the node's real answer (the others stop the request before the node).
SPOILERS = ("rpc_rate_limit", "rpc_header_not_found", "missing_id")

#: Faults that retrying must not cure: the client has to give up at once.
PERMANENT = ("http_401",)

AGGREGATE3 = keccak(text="aggregate3((address,bool,bytes)[])")[:4]

#: How nodes refuse a large eth_getLogs range: (code, message), or "timeout" to hold the request.
RANGE_STYLES: dict[str, tuple[int, str] | str] = {
    "block_range": (-32602, "block range too large"),
    "infura": (-32005, "query returned more than 10000 results"),
    "alchemy": (
        -32602,
        "Log response size exceeded. You can make eth_getLogs requests with up to a 2K block range "
        "and no limit on the response size, or you can request any block range with a cap of 10K "
        "logs in the response.",
    ),
    "quicknode": (-32614, "eth_getLogs is limited to a 10,000 range"),
    "timeout": "timeout",
}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Keep-alive connections park their threads in readline; do not wait for them on close.
    block_on_close = False

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Faults close sockets under the handler's feet; that is the point, not an error."""


class FaultProxy:
    """Forward JSON-RPC over HTTP to ``upstream``, injecting faults. Use as a context manager."""

    def __init__(
        self,
        upstream: str,
        *,
        script: Iterable[str | None] = (),
        rate: float = 0.0,
        kinds: Sequence[str] = FAULTS,
        seed: int = 0,
        shuffle: bool = False,
        max_log_range: int | None = None,
        range_style: str = "block_range",
        max_multicall_calls: int | None = None,
        hold: float = 0.5,
        retry_after: str = "1",
    ) -> None:
        known = set(FAULTS) | set(PERMANENT)
        unknown = set(kinds) - known | {k for k in script if k is not None} - known
        if unknown or range_style not in RANGE_STYLES:
            raise ValueError(f"unknown fault kinds {sorted(unknown)} or range style {range_style!r}")
        self.upstream = upstream
        self.script = list(script)
        self.rate = rate
        self.kinds = tuple(kinds)
        self.shuffle = shuffle
        self.max_log_range = max_log_range
        self.range_style = range_style
        self.max_multicall_calls = max_multicall_calls
        self.multicall_sizes: list[tuple[int, bool]] = []
        self.hold = hold
        self.retry_after = retry_after
        self.http_requests = 0
        self.batch_bodies = 0
        self.methods: Counter[str] = Counter()
        self.injected: Counter[str] = Counter()
        self.log_ranges: list[tuple[int, int, bool]] = []
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.01,), daemon=True)

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _next_fault(self) -> str | None:
        with self._lock:
            self.http_requests += 1
            if self.script:
                return self.script.pop(0)
            if self.rate and self._rng.random() < self.rate:
                return self._rng.choice(self.kinds)
            return None

    def _forward(self, items: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
        """Answers for ``items`` in order: refused log ranges answered here, the rest by upstream.

        None when a refusal takes the form of holding the request until the client gives up.
        """
        answers: dict[int, dict[str, Any]] = {}
        passed = []
        for n, item in enumerate(items):
            refusal = self._log_refusal(item) or self._gas_refusal(item)
            if refusal == "timeout":
                return None
            if refusal is not None:
                answers[n] = {"jsonrpc": "2.0", "id": item.get("id"), "error": refusal}
            else:
                passed.append(n)
        if passed:
            body = json.dumps([items[n] for n in passed]).encode()
            request = urllib.request.Request(self.upstream, body, {"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=60) as response:
                upstream_answers = json.loads(response.read())
            by_id = {a["id"]: a for a in upstream_answers}
            for n in passed:
                answers[n] = by_id[items[n]["id"]]
        return [answers[n] for n in range(len(items))]

    def _log_refusal(self, item: dict[str, Any]) -> dict[str, Any] | str | None:
        """The error refusing this eth_getLogs range, "timeout", or None to let it through."""
        if item.get("method") != "eth_getLogs":
            return None
        spec = item["params"][0]
        start, end = int(spec["fromBlock"], 16), int(spec["toBlock"], 16)
        refused = self.max_log_range is not None and end - start + 1 > self.max_log_range
        with self._lock:
            self.log_ranges.append((start, end, refused))
        if not refused:
            return None
        style = RANGE_STYLES[self.range_style]
        if style == "timeout":
            return "timeout"
        code, message = style
        return {"code": code, "message": message}

    def _gas_refusal(self, item: dict[str, Any]) -> dict[str, Any] | None:
        """A gas error for an aggregate3 with more than ``max_multicall_calls`` sub-calls, else None."""
        if item.get("method") != "eth_call":
            return None
        data = bytes.fromhex(item["params"][0]["data"][2:])
        if data[:4] != AGGREGATE3:
            return None
        (calls,) = eth_abi.decode(["(address,bool,bytes)[]"], data[4:])
        refused = self.max_multicall_calls is not None and len(calls) > self.max_multicall_calls
        with self._lock:
            self.multicall_sizes.append((len(calls), refused))
        return {"code": -32000, "message": "gas required exceeds allowance (50000000)"} if refused else None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                # Headers and body go out as two writes; without this, Nagle's algorithm and the
                # client's delayed ACK hold every keep-alive answer back by about 40 ms.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, format: str, *args: Any) -> None:
                """Silent: the test reads the proxy's counters instead."""

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fault = proxy._next_fault()
                items = body if isinstance(body, list) else [body]
                with proxy._lock:
                    proxy.batch_bodies += isinstance(body, list)
                    proxy.methods.update(item.get("method") for item in items)
                    if fault is not None:
                        proxy.injected[fault] += 1
                if fault is not None and fault not in ("truncated", "bad_json", *SPOILERS):
                    self._fail_early(fault)
                    return
                answers = proxy._forward(items)
                if answers is None:
                    self._fail_early("timeout")
                    return
                answers = proxy._spoil(fault, answers)
                if proxy.shuffle and isinstance(body, list):
                    with proxy._lock:
                        proxy._rng.shuffle(answers)
                payload = json.dumps(answers if isinstance(body, list) else answers[0]).encode()
                if fault == "truncated":
                    self._send(200, payload[: len(payload) // 2], length=len(payload))
                    self.close_connection = True
                elif fault == "bad_json":
                    self._send(200, payload[: len(payload) // 2])
                else:
                    self._send(200, payload)

            def _send(self, status: int, payload: bytes, length: int | None = None, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload) if length is None else length))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(payload)
                self.wfile.flush()

            def _reset(self) -> None:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
                self.close_connection = True

            def _fail_early(self, fault: str) -> None:
                if fault == "timeout":
                    time.sleep(proxy.hold)
                    self._reset()
                elif fault == "reset":
                    self._reset()
                elif fault == "http_429":
                    self._send(429, b"Too Many Requests")
                elif fault == "http_429_retry_after":
                    self._send(429, b"Too Many Requests", headers={"Retry-After": proxy.retry_after})
                elif fault == "non_json":
                    self._send(200, b"<html><body>Service temporarily unavailable</body></html>")
                else:
                    self._send(int(fault.removeprefix("http_")), b"<html>Bad Gateway or Unauthorized</html>")

        return Handler

    def _spoil(self, fault: str | None, answers: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Apply the faults that corrupt an otherwise correct answer."""
        if fault == "rpc_rate_limit":
            return [
                {"jsonrpc": "2.0", "id": a["id"], "error": {"code": -32005, "message": "rate limit exceeded"}}
                for a in answers
            ]
        if fault == "rpc_header_not_found":
            with self._lock:
                n = self._rng.randrange(len(answers))
            spoiled = list(answers)
            spoiled[n] = {"jsonrpc": "2.0", "id": answers[n]["id"], "error": {"code": -32000, "message": "header not found"}}
            return spoiled
        if fault == "missing_id":
            if len(answers) > 1:
                with self._lock:
                    n = self._rng.randrange(len(answers))
                return answers[:n] + answers[n + 1 :]
            return [{**answers[0], "id": answers[0]["id"] + 10**9}]
        return answers
