"""Which node failures are worth retrying, in one place.

A transport turns every failure it sees into either a ``TransientFault`` (the executor retries it,
perhaps with a smaller request) or a final project error. The transient conditions, explicitly:

* transport: ``TRANSIENT_EXCEPTIONS`` (timeouts, refused or reset connections, truncated bodies);
* HTTP status: 429 (honouring ``Retry-After``), 408, 425 and every 5xx; 413 means "too big";
* body: not JSON, not a JSON-RPC answer, or a batch answer lacking an id;
* JSON-RPC errors: ``TRANSIENT_RPC_CODES`` or a message containing one of ``TRANSIENT_RPC_WORDS``
  (rate limits, "header not found" from a load-balanced node that lags behind);
* ``eth_getLogs`` refusing a block range (``is_range_refusal``): "too big", split the range.

Messages are written here in our own words: exception texts from ``requests`` contain the raw URL
(and so an API key), so they never reach a message.
"""

from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass
from typing import Any

import requests
from urllib3.exceptions import NewConnectionError

from defirisk.errors import BlockNotAvailable, RpcError, RpcUnavailable

TRANSIENT_EXCEPTIONS: tuple[type[BaseException], ...] = (
    requests.Timeout,
    requests.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)

#: HTTP statuses retried besides 429 and 5xx (request timeout, too early).
TRANSIENT_HTTP_STATUS = frozenset({408, 425})

#: -32005 "limit exceeded" (EIP-1474), used by providers for rate limits.
TRANSIENT_RPC_CODES = frozenset({-32005, 429})

TRANSIENT_RPC_WORDS = (
    "header not found",
    "unknown block",
    "rate limit",
    "too many requests",
    "request limit",
    "exceeded its compute units",
    "capacity",
    "try again",
    "temporarily",
    "timed out",
    "timeout",
    "busy",
)

#: Words with which nodes refuse an ``eth_getLogs`` range (geth, erigon, Alchemy, Infura, QuickNode,
#: Ankr, ...).
RANGE_WORDS = (
    "block range",
    "range too large",
    "range is too large",
    "too many blocks",
    "more than 10000 results",
    "query returned more than",
    "response size exceeded",
    "response size should not",
    "too many results",
    "logs matched by query exceeds",
    "max range",
    "exceed maximum block range",
    "limited to a",
)

#: Words with which a node says it no longer holds the state of an old block.
MISSING_STATE_WORDS = (
    "missing trie node",
    "historical state",
    "state not available",
    "state is not available",
    "pruned",
    "is not available, lookups",
)

#: Words with which a node says an ``eth_call`` needs more gas than it grants one call.
GAS_WORDS = ("out of gas", "gas required exceeds", "exceeds block gas limit", "gas limit reached", "gas cap")

#: Words with which a node refuses a JSON-RPC batch as too long.
BATCH_TOO_BIG_WORDS = ("batch size", "batch too large", "too many requests in batch", "batch limit")


class TransientFault(RpcUnavailable):
    """One failed attempt that may succeed when retried; only the executor sees it.

    ``shrink``: a smaller request may help (timeouts, truncation), so a splittable request is split.
    ``too_big``: the node refused the request's size; split at once, and retrying the same size is
    pointless. ``retry_after``: seconds the server asked us to wait (HTTP 429).
    """

    def __init__(
        self, reason: str, *, retry_after: float | None = None, shrink: bool = False, too_big: bool = False
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.shrink = shrink
        self.too_big = too_big


@dataclass(frozen=True)
class NodeError:
    """A JSON-RPC error object as the node sent it (``message`` is untrusted text)."""

    code: int | None
    message: str
    data: Any = None

    @classmethod
    def parse(cls, raw: Any) -> NodeError:
        if not isinstance(raw, dict):
            return cls(None, str(raw)[:300])
        code = raw.get("code")
        return cls(
            code if isinstance(code, int) and not isinstance(code, bool) else None,
            str(raw.get("message", ""))[:300],
            raw.get("data"),
        )

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}" if self.code is not None else self.message


def _has(words: tuple[str, ...], text: str) -> bool:
    lowered = text.lower()
    return any(word in lowered for word in words)


def is_range_refusal(error: NodeError) -> bool:
    """Whether an ``eth_getLogs`` error says the block range (or its result) is too large.

    Range wording decides; a bare -32005 (EIP-1474 "limit exceeded") counts too unless its message
    speaks of a rate limit.
    """
    if _has(RANGE_WORDS, error.message):
        return True
    return error.code == -32005 and not _has(TRANSIENT_RPC_WORDS, error.message)


def is_gas_refusal(error: NodeError) -> bool:
    """Whether an ``eth_call`` error says the call ran out of the gas the node grants."""
    return _has(GAS_WORDS, error.message)


def fault_from_node_error(method: str, error: NodeError) -> TransientFault | None:
    """The transient fault a JSON-RPC error stands for, or None when retrying will not help."""
    if method == "eth_getLogs" and is_range_refusal(error):
        return TransientFault(f"eth_getLogs range refused: {error}", too_big=True)
    if error.code in TRANSIENT_RPC_CODES or _has(TRANSIENT_RPC_WORDS, error.message):
        return TransientFault(f"{method} answered {error}", shrink=True)
    return None


def error_for_node_error(method: str, error: NodeError, endpoint: str) -> RpcError | BlockNotAvailable:
    """The project error for a JSON-RPC error that is not retried."""
    if _has(MISSING_STATE_WORDS, error.message):
        return BlockNotAvailable(
            f"{endpoint} no longer holds the state {method} needs ({error}); use an archive node"
        )
    return RpcError(f"{method} failed at {endpoint}: {error}")


def batch_fault(error: NodeError) -> TransientFault | None:
    """The fault for an error object sent in place of a whole batch answer."""
    if _has(BATCH_TOO_BIG_WORDS, error.message):
        return TransientFault(f"batch refused: {error}", too_big=True)
    if error.code in TRANSIENT_RPC_CODES or _has(TRANSIENT_RPC_WORDS, error.message):
        return TransientFault(f"batch answered {error}")
    return None


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta seconds or HTTP date), None if absent."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def fault_from_status(status: int, retry_after: str | None) -> TransientFault | None:
    """The fault for a non-200 HTTP status, or None when the status is final."""
    if status == 429:
        return TransientFault("HTTP 429 Too Many Requests", retry_after=parse_retry_after(retry_after))
    if status == 413:
        return TransientFault("HTTP 413 request too large", too_big=True)
    if status >= 500 or status in TRANSIENT_HTTP_STATUS:
        return TransientFault(f"HTTP {status}", shrink=True)
    return None


def _is_connect_failure(exc: requests.ConnectionError) -> bool:
    """Whether no connection was made at all (refused, DNS), as opposed to one lost mid-answer."""
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, NewConnectionError)


def fault_from_exception(exc: requests.RequestException, timeout: float) -> TransientFault:
    """The fault for a transport exception; ``RpcUnavailable`` for ones retrying cannot fix.

    ``exc`` must not be chained into what is raised: its text holds the raw URL.
    """
    if isinstance(exc, requests.exceptions.SSLError):
        raise RpcUnavailable("TLS handshake failed (certificate or protocol problem)")
    if isinstance(exc, requests.ConnectTimeout):
        return TransientFault(f"no connection within {timeout:g} s")
    if isinstance(exc, requests.Timeout):
        return TransientFault(f"no answer within {timeout:g} s", shrink=True)
    if isinstance(exc, requests.ConnectionError):
        if _is_connect_failure(exc):
            return TransientFault("connection refused or host unknown")
        return TransientFault("connection reset or closed mid-answer", shrink=True)
    if isinstance(exc, TRANSIENT_EXCEPTIONS):
        return TransientFault("truncated or undecodable response body", shrink=True)
    raise RpcUnavailable(f"HTTP request failed ({type(exc).__name__})")
