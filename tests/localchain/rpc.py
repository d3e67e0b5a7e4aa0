"""A minimal JSON-RPC client for anvil, built for bulk work.

web3.py's middleware stack costs far more per request than anvil needs to answer one, which matters
when the fixture sends tens of thousands of calls. This client speaks plain JSON-RPC over one
keep-alive HTTP session and sends lists of calls as JSON-RPC batches (anvil must run with
``--no-request-size-limit`` for large ones).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import requests

Call = tuple[str, Sequence[Any]]


class RpcError(RuntimeError):
    """The node answered a JSON-RPC request with an error object."""


class Rpc:
    """JSON-RPC over HTTP to one node: single calls and batches."""

    def __init__(self, url: str, timeout: float = 120.0) -> None:
        self.url = url
        self._timeout = timeout
        self._session = requests.Session()

    def call(self, method: str, *params: Any) -> Any:
        """Send one request and return its ``result``; raise ``RpcError`` on an error answer."""
        return self.batch([(method, params)])[0]

    def batch(self, calls: Iterable[Call], chunk: int = 2000) -> list[Any]:
        """Send calls as JSON-RPC batches of at most ``chunk`` requests; results in call order.

        Raises ``RpcError`` naming the first failed request, after the whole batch was sent
        (a batch is not atomic: requests before and after a failing one still take effect).
        """
        calls = list(calls)
        results: list[Any] = []
        for start in range(0, len(calls), chunk):
            part = calls[start : start + chunk]
            payload = [
                {"jsonrpc": "2.0", "id": i, "method": method, "params": list(params)}
                for i, (method, params) in enumerate(part)
            ]
            response = self._session.post(self.url, json=payload, timeout=self._timeout)
            response.raise_for_status()
            answers = sorted(response.json(), key=lambda a: a["id"])
            for answer in answers:
                if "error" in answer:
                    method, params = part[answer["id"]]
                    raise RpcError(f"{method}{tuple(params)!r:.300}: {answer['error']}")
            results.extend(a["result"] for a in answers)
        return results

    def close(self) -> None:
        """Close the HTTP session."""
        self._session.close()
