"""Reading the chain: JSON-RPC client, one retry executor, Multicall3, block pinning, log scans.

Modules, each with one job: ``redact`` (URLs without secrets), ``faults`` (what is transient),
``executor`` (retry, back-off, batch halving), ``rpc`` (HTTP JSON-RPC client), ``blocks`` (pinning),
``multicall`` (Multicall3 aggregate3), ``logs`` (chunked ``eth_getLogs``), ``abi`` (encoding,
decoding), ``tokens`` (ERC-20 metadata from hostile tokens).
"""

from defirisk.chain.abi import decode, encode_call, event_topic, selector
from defirisk.chain.blocks import PinnedBlock, check_chain, pin_block, verify_still_canonical
from defirisk.chain.executor import Executor, RetryPolicy
from defirisk.chain.logs import Log, scan_logs
from defirisk.chain.multicall import MULTICALL3, Call, Result, failures, multicall
from defirisk.chain.redact import redact_url
from defirisk.chain.rpc import RpcClient, resolve_rpc_url
from defirisk.chain.tokens import TokenMetadata, read_token_metadata

__all__ = [
    "MULTICALL3",
    "Call",
    "Executor",
    "Log",
    "PinnedBlock",
    "Result",
    "RetryPolicy",
    "RpcClient",
    "TokenMetadata",
    "check_chain",
    "decode",
    "encode_call",
    "event_topic",
    "failures",
    "multicall",
    "pin_block",
    "read_token_metadata",
    "redact_url",
    "resolve_rpc_url",
    "scan_logs",
    "selector",
    "verify_still_canonical",
]
