"""Endpoint URLs without their secrets, for every message, log line and repr.

Providers put API keys in the path (``/v2/<key>``, ``/<token>/``), the query (``?apikey=``) or the
userinfo (``user:pass@``). The rule errs towards hiding:

* a path segment survives only when short (≤ 3 characters: ``v2``, ``rpc``) or plain lower-case
  words shorter than 20 characters (``eth-mainnet``);
* query keys survive when made of letters, ``_`` and ``-``; every query value becomes ``***``;
* userinfo and fragment become ``***``, and so does a host label that is long and holds digits.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

MASK = "***"
_WORDS = re.compile(r"[a-z]+(?:-[a-z]+)*")
_QUERY_KEY = re.compile(r"[A-Za-z_-]{1,20}")


def _segment(segment: str) -> str:
    if segment == "" or len(segment) <= 3 or (len(segment) < 20 and _WORDS.fullmatch(segment)):
        return segment
    return MASK


def _label(label: str) -> str:
    return MASK if len(label) >= 20 and any(c.isdigit() for c in label) else label


def _query(query: str) -> str:
    parts = []
    for item in query.split("&"):
        key, sep, _ = item.partition("=")
        name = key if _QUERY_KEY.fullmatch(key) else MASK
        parts.append(f"{name}={MASK}" if sep else _segment(key))
    return "&".join(parts)


def redact_url(url: str) -> str:
    """``url`` with anything that may be a credential replaced by ``***``.

    >>> redact_url("https://eth-mainnet.g.alchemy.com/v2/AbC123xyz")
    'https://eth-mainnet.g.alchemy.com/v2/***'
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return MASK
    if not parts.scheme or not parts.hostname:
        return MASK
    host = ".".join(_label(label) for label in parts.hostname.split("."))
    if ":" in host:
        host = f"[{host}]"
    netloc = (f"{MASK}@" if "@" in parts.netloc else "") + host + (f":{port}" if port is not None else "")
    path = "/".join(_segment(s) for s in parts.path.split("/"))
    return urlunsplit(
        (parts.scheme, netloc, path, _query(parts.query) if parts.query else "", MASK if parts.fragment else "")
    )
