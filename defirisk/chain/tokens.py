"""ERC-20 metadata (symbol, name, decimals) read so that no token can make it fail.

Tokens answer ``symbol()`` and ``name()`` as ABI strings, as ``bytes32`` (MKR, SAI), or revert;
``abi.decode_text`` takes each as it comes, verbatim. The text is untrusted: it is stored, never
interpreted, and renderers escape it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from defirisk.addresses import normalize_address
from defirisk.chain.abi import decode_small_uint, decode_text, encode_call
from defirisk.chain.blocks import PinnedBlock
from defirisk.chain.multicall import Call, multicall
from defirisk.chain.rpc import RpcClient

_SYMBOL = encode_call("symbol()")
_NAME = encode_call("name()")
_DECIMALS = encode_call("decimals()")


@dataclass(frozen=True)
class TokenMetadata:
    """What a token says about itself; None where it would not say (reverted or malformed)."""

    address: str
    symbol: str | None
    name: str | None
    decimals: int | None


def metadata_calls(token: str) -> list[Call]:
    """The three reads for one token, all allowed to fail."""
    return [Call(token, _SYMBOL), Call(token, _NAME), Call(token, _DECIMALS)]


def read_token_metadata(
    client: RpcClient, tokens: Sequence[str], block: int | PinnedBlock
) -> dict[str, TokenMetadata]:
    """Symbol, name and decimals of each token at ``block``, keyed by lower-case address."""
    addresses = [normalize_address(t) for t in tokens]
    calls = [call for token in addresses for call in metadata_calls(token)]
    results = multicall(client, calls, block)
    found: dict[str, TokenMetadata] = {}
    for i, token in enumerate(addresses):
        symbol, name, decimals = results[3 * i : 3 * i + 3]
        found[token] = TokenMetadata(
            address=token,
            symbol=decode_text(symbol.return_data) if symbol.success else None,
            name=decode_text(name.return_data) if name.success else None,
            decimals=decode_small_uint(decimals.return_data) if decimals.success else None,
        )
    return found
