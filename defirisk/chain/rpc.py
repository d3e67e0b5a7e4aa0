"""JSON-RPC over HTTP, built for snapshots: keep-alive, batches, one retry executor, redacted URL.

``requests`` (a dependency of web3) is used directly rather than web3's provider: batching, status
codes and body parsing need to be classified by hand (``defirisk.chain.faults``), and web3's
middleware costs far more per request than a batch of ``eth_call`` does.

The raw URL lives in one private attribute; messages, ``repr`` and ``endpoint`` use
``redact_url``. Transport exceptions are never chained into ours, because their text holds the URL.
"""

from __future__ import annotations

import itertools
import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import requests

from defirisk.chain.executor import Executor, RetryPolicy
from defirisk.chain.faults import (
    NodeError,
    TransientFault,
    batch_fault,
    error_for_node_error,
    fault_from_exception,
    fault_from_node_error,
    fault_from_status,
)
from defirisk.chain.redact import redact_url
from defirisk.errors import InvalidParameter, RpcError, UsageError

ENV_VAR = "ETH_RPC_URL"

Request = tuple[str, Sequence[Any]]


def resolve_rpc_url(cli_value: str | None) -> str:
    """The endpoint from ``--rpc-url``, else from ``$ETH_RPC_URL``; ``UsageError`` when neither."""
    url = (cli_value or os.environ.get(ENV_VAR) or "").strip()
    if not url:
        raise UsageError(f"no RPC endpoint: pass --rpc-url URL or set {ENV_VAR}")
    check_url(url)
    return url


def check_url(url: str) -> None:
    """``UsageError`` unless ``url`` is an http(s) URL with a host."""
    redacted = redact_url(url)
    if not url.lower().startswith(("http://", "https://")) or redacted == "***":
        raise UsageError(f"RPC endpoint {redacted} is not an http:// or https:// URL")


@dataclass(frozen=True)
class Reply:
    """One JSON-RPC answer: ``result`` or ``error`` (never both)."""

    result: Any
    error: NodeError | None = None


class RpcClient:
    """A JSON-RPC client for one node.

    ``timeout``: seconds per HTTP attempt (connecting gets at most 10 of them). ``max_batch``: most
    requests per JSON-RPC batch (providers cap it; 100 is accepted everywhere we know; 1 sends no
    batches at all). The retry settings are those of ``RetryPolicy``; ``sleep`` is injectable so
    tests need not wait. A node that cannot be reached costs at most ``max_attempts`` attempts of at
    most ``timeout`` seconds each plus the back-off sleeps between them (see ``executor``).
    Not thread-safe: use one client per thread.
    """

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 30.0,
        max_attempts: int = 5,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        retry_after_cap: float = 30.0,
        seed: int | None = None,
        max_batch: int = 100,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        check_url(url)
        if timeout <= 0 or max_batch < 1:
            raise InvalidParameter("timeout must be positive and max_batch at least 1")
        self._url = url
        self.endpoint = redact_url(url)
        self.timeout = timeout
        self.max_batch = max_batch
        self.executor = Executor(
            RetryPolicy(max_attempts, backoff, max_backoff, retry_after_cap, seed), self.endpoint, sleep
        )
        self.http_requests = 0
        self._ids = itertools.count(1)
        self._session = requests.Session()
        self._session.headers.update({"Content-Type": "application/json", "User-Agent": "defirisk"})

    def __repr__(self) -> str:
        return f"RpcClient({self.endpoint!r})"

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> RpcClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # One attempt, no retries: these raise TransientFault for the executor.

    def _post(self, payload: Any) -> Any:
        """POST one JSON body and return the parsed JSON answer."""
        self.http_requests += 1
        try:
            response = self._session.post(
                self._url, data=json.dumps(payload), timeout=(min(self.timeout, 10.0), self.timeout)
            )
            body = response.content
        except requests.RequestException as exc:
            raise fault_from_exception(exc, self.timeout) from None
        status = response.status_code
        if status != 200:
            fault = fault_from_status(status, response.headers.get("Retry-After"))
            if fault is not None:
                raise fault
        try:
            answer = json.loads(body)
        except ValueError:
            if status != 200:
                raise RpcError(f"{self.endpoint} answered HTTP {status}") from None
            raise TransientFault(f"malformed answer (not JSON, {len(body)} bytes)", shrink=True) from None
        # Some providers send JSON-RPC errors with a 4xx status; anything else with one is final.
        if status != 200 and not (isinstance(answer, list) or (isinstance(answer, dict) and "jsonrpc" in answer)):
            raise RpcError(f"{self.endpoint} answered HTTP {status}")
        return answer

    def attempt(self, method: str, params: Sequence[Any]) -> Reply:
        """One un-retried request; a JSON-RPC error comes back as ``Reply.error`` if not transient."""
        ident = next(self._ids)
        answer = self._post({"jsonrpc": "2.0", "id": ident, "method": method, "params": list(params)})
        # An error the node could not tie to a request (a parse error, a rate limit) has id null.
        if isinstance(answer, dict) and (
            answer.get("id") == ident or (answer.get("id") is None and answer.get("error") is not None)
        ):
            return self._reply(method, answer)
        raise TransientFault("malformed answer (not the JSON-RPC answer to our request)", shrink=True)

    def attempt_batch(self, requests_: Sequence[Request]) -> list[Reply]:
        """One un-retried JSON-RPC batch; answers matched by id, returned in request order.

        A lone request goes out as a plain JSON-RPC object, so ``max_batch=1`` serves endpoints
        that refuse batches.
        """
        if len(requests_) <= 1:
            return [self.attempt(method, params) for method, params in requests_]
        ids = [next(self._ids) for _ in requests_]
        payload = [
            {"jsonrpc": "2.0", "id": i, "method": m, "params": list(p)}
            for i, (m, p) in zip(ids, requests_, strict=True)
        ]
        answer = self._post(payload)
        if isinstance(answer, dict) and "error" in answer:
            error = NodeError.parse(answer["error"])
            fault = batch_fault(error)
            if fault is not None:
                raise fault
            raise RpcError(
                f"batch of {len(requests_)} refused by {self.endpoint}: {error} "
                "(an endpoint without JSON-RPC batches needs max_batch=1)"
            )
        if not isinstance(answer, list):
            raise TransientFault("malformed batch answer (not a list)", shrink=True)
        by_id = {item.get("id"): item for item in answer if isinstance(item, dict)}
        missing = [i for i in ids if i not in by_id]
        if missing:
            raise TransientFault(f"batch answer lacks {len(missing)} of {len(ids)} ids", shrink=True)
        return [self._reply(m, by_id[i]) for i, (m, _) in zip(ids, requests_, strict=True)]

    @staticmethod
    def _reply(method: str, answer: dict[str, Any]) -> Reply:
        if "error" in answer and answer["error"] is not None:
            error = NodeError.parse(answer["error"])
            fault = fault_from_node_error(method, error)
            if fault is not None:
                raise fault
            return Reply(None, error)
        if "result" not in answer:
            raise TransientFault(f"malformed answer to {method} (no result, no error)", shrink=True)
        return Reply(answer["result"])

    # Retried requests.

    def request(self, method: str, params: Sequence[Any] = ()) -> Reply:
        """One retried request; a final JSON-RPC error is returned in ``Reply.error``."""
        return self.executor.run(lambda: self.attempt(method, params), method)

    def call(self, method: str, params: Sequence[Any] = ()) -> Any:
        """One retried request's result; ``RpcError`` (or ``BlockNotAvailable``) on an error."""
        return self.unwrap(method, self.request(method, params))

    def batch_replies(self, requests_: Sequence[Request]) -> list[Reply]:
        """Retried JSON-RPC batches of at most ``max_batch``; a batch that keeps failing is halved."""
        replies: list[Reply] = []
        for start in range(0, len(requests_), self.max_batch):
            chunk = list(requests_[start : start + self.max_batch])
            for part in self.executor.run_split(
                chunk, self.attempt_batch, halves, f"batch of {len(chunk)} requests"
            ):
                replies.extend(part)
        return replies

    def batch(self, requests_: Sequence[Request]) -> list[Any]:
        """Results of ``requests_`` in order; raises for the first request answered with an error."""
        return [
            self.unwrap(method, reply)
            for (method, _), reply in zip(requests_, self.batch_replies(requests_), strict=True)
        ]

    def unwrap(self, method: str, reply: Reply) -> Any:
        """``reply.result``, or the project error for ``reply.error``."""
        if reply.error is not None:
            raise error_for_node_error(method, reply.error, self.endpoint)
        return reply.result


def halves(items: list[Any]) -> tuple[list[Any], list[Any]] | None:
    """The two halves of a list, or None for fewer than two items."""
    if len(items) < 2:
        return None
    mid = len(items) // 2
    return items[:mid], items[mid:]


def hex_bytes(value: Any, what: str) -> bytes:
    """0x-hex data from the node as bytes; a malformed value is a transient fault (a garbled answer)."""
    if isinstance(value, str) and value[:2] in ("0x", "0X") and len(value) % 2 == 0:
        try:
            return bytes.fromhex(value[2:])
        except ValueError:
            pass
    raise TransientFault(f"malformed {what}: {str(value)[:40]!r}", shrink=True)
