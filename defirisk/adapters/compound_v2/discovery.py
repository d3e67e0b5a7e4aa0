"""Discover a Compound v2 (or fork) Comptroller and its markets at a pinned block.

The deployment names only the Comptroller (the Unitroller proxy). Four Multicall3 rounds at the block:

1. the Comptroller: ``getAllMarkets``, ``oracle``, ``closeFactorMantissa``,
   ``liquidationIncentiveMantissa`` (all must answer, else ``NotTheProtocol``), and what only some
   forks answer: Venus's ``liquidatorContract``, ``vaiController``, ``comptrollerLens``,
   ``protocolPaused``; Compound's ``seizeGuardianPaused``;
2. per market (``calls.market_calls``): ``markets(cToken)`` (listed, collateral factor), the cToken's
   own accounting (``exchangeRateStored``, totals, reserve factor, borrow index, accrual block and
   rates, Compound's ``protocolSeizeShareMantissa``), ``underlying``, the oracle's
   ``getUnderlyingPrice`` and the pause, cap and deprecation flags of the fork; every cToken must name
   this Comptroller in ``comptroller()``;
3. the Liquidator's ``treasuryPercentMantissa`` where the Comptroller restricts liquidations to a
   Liquidator contract (Venus), and the VAI token of a VAI controller;
4. symbol, name and decimals of every cToken and underlying (``read_token_metadata``, verbatim).

Exchange rates are ``exchangeRateStored``: the rate as of each market's last accrual, the one
``getAccountLiquidity`` uses at this block (no interest is accrued here; see ``accounts``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from defirisk.adapters.compound_v2 import calls
from defirisk.adapters.compound_v2.dataset import NATIVE_ETH
from defirisk.chain import Call, PinnedBlock, RpcClient, TokenMetadata, multicall, read_token_metadata
from defirisk.chain.multicall import Result
from defirisk.errors import DataError, NotTheProtocol

ZERO_ADDRESS = "0x" + "00" * 20
#: The placeholder address of a native-currency market's underlying (cETH, vBNB): they have no token.
NATIVE = NATIVE_ETH
#: Symbol of the native currency by chain id, for markets without an underlying token.
NATIVE_SYMBOLS = {1: "ETH", 56: "BNB", 31337: "ETH"}
NATIVE_DECIMALS = 18


@dataclass(frozen=True)
class CompoundAsset:
    """One cToken market at the block. ``values`` holds every answer of ``calls.market_calls`` by name
    (``None`` where an optional read was not answered)."""

    ctoken: str
    underlying: str
    native: bool
    ctoken_token: TokenMetadata
    token: TokenMetadata
    decimals: int
    values: dict[str, Any]

    @property
    def is_listed(self) -> bool:
        return self.values["market"][0]

    @property
    def collateral_factor(self) -> int:
        """``collateralFactorMantissa`` (1e18 = 100 %)."""
        return self.values["market"][1]

    @property
    def price(self) -> int:
        """``getUnderlyingPrice``: base currency per underlying base unit × 1e36."""
        return self.values["price"]

    @property
    def exchange_rate(self) -> int:
        """``exchangeRateStored``: underlying base units per cToken base unit × 1e18."""
        return self.values["exchangeRateStored"]


@dataclass(frozen=True)
class CompoundMarket:
    """A Comptroller as discovered at one block; ``key`` (the Comptroller) is the canonical market key.

    ``liquidator_contract`` / ``treasury_percent``: Venus's Liquidator, the only caller the Comptroller
    lets liquidate, and the share of seized vTokens (× incentive) it sends to the treasury; ``None``
    where the Comptroller has none (Compound). ``vai_controller`` / ``vai``: Venus's VAI, whose minted
    amounts count as borrows in ``getAccountLiquidity``.
    """

    comptroller: str
    oracle: str
    close_factor: int
    liquidation_incentive: int
    assets: tuple[CompoundAsset, ...]
    liquidator_contract: str | None = None
    treasury_percent: int | None = None
    vai_controller: str | None = None
    vai: TokenMetadata | None = None
    comptroller_lens: str | None = None
    protocol_paused: bool | None = None
    seize_guardian_paused: bool | None = None
    chain_id: int = 0
    ctokens: frozenset[str] = field(default_factory=frozenset)

    @property
    def key(self) -> str:
        return self.comptroller

    def asset(self, ctoken: str) -> CompoundAsset:
        for a in self.assets:
            if a.ctoken == ctoken:
                return a
        raise DataError(f"{ctoken} is not a market of the Comptroller {self.comptroller}")


def _not_comptroller(root: str, why: str) -> NotTheProtocol:
    return NotTheProtocol(f"{root} is not a Compound v2 Comptroller: {why}")


def _optional_address(result: Result) -> str | None:
    return result.value if result.success and result.value != ZERO_ADDRESS else None


def _comptroller(client: RpcClient, root: str, block: PinnedBlock) -> tuple[list[str], list[Result]]:
    code = client.call("eth_getCode", [root, block.tag])
    if code in (None, "0x", ""):
        raise _not_comptroller(root, f"no contract code there at block {block.number}")
    batch = calls.comptroller_calls(root)
    results = multicall(client, batch, block)
    n = len(calls.REQUIRED_COMPTROLLER)
    failed = [f"{c.label} {r.error}" for c, r in zip(batch[:n], results[:n], strict=True) if not r.success]
    if failed:
        raise _not_comptroller(root, "; ".join(failed))
    return results[0].value, results


def _market_values(client: RpcClient, root: str, oracle: str, ctokens: list[str], block: PinnedBlock,
                   batch_size: int) -> list[dict[str, Any]]:
    per_market = [calls.market_calls(root, oracle, c) for c in ctokens]
    flat: list[Call] = [call for reads in per_market for call in reads.values()]
    results = iter(multicall(client, flat, block, batch_size=batch_size))
    out = []
    for ctoken, reads in zip(ctokens, per_market, strict=True):
        values = {name: (r.value if (r := next(results)).success else None) for name in reads}
        if values["comptroller"] != root:
            raise _not_comptroller(root, f"its market {ctoken} answers comptroller() {values['comptroller']}")
        out.append(values)
    return out


def load_market(client: RpcClient, root: str, block: PinnedBlock, *, batch_size: int = 100) -> CompoundMarket:
    """Everything about the Comptroller ``root`` and its markets at ``block`` (module docstring)."""
    ctokens, results = _comptroller(client, root, block)
    oracle, close_factor, incentive = (r.value for r in results[1:4])
    optional = dict(zip(calls.OPTIONAL_COMPTROLLER, results[len(calls.REQUIRED_COMPTROLLER):], strict=True))
    liquidator = _optional_address(optional["liquidatorContract"])
    vai_controller = _optional_address(optional["vaiController"])
    values = _market_values(client, root, oracle, ctokens, block, batch_size)

    extra_calls = []
    if liquidator is not None:
        extra_calls.append(calls.treasury_percent_call(liquidator))
    if vai_controller is not None:
        extra_calls.append(calls.vai_address_call(vai_controller))
    answers = iter(r.value for r in multicall(client, extra_calls, block))
    treasury_percent = next(answers) if liquidator is not None else None
    vai_token = next(answers) if vai_controller is not None else None

    underlying = [v["underlying"] for v in values]
    tokens = sorted({*ctokens, *(u for u in underlying if u is not None), *([vai_token] if vai_token else [])})
    metadata = read_token_metadata(client, tokens, block)
    native = TokenMetadata(NATIVE, NATIVE_SYMBOLS.get(block.chain_id, "native"), "native currency", NATIVE_DECIMALS)
    assets = []
    for ctoken, token, v in zip(ctokens, underlying, values, strict=True):
        meta = native if token is None else metadata[token]
        if meta.decimals is None:
            raise DataError(f"the underlying {token} of market {ctoken} answers no decimals()")
        assets.append(CompoundAsset(ctoken, token or NATIVE, token is None, metadata[ctoken], meta, meta.decimals, v))

    paused = optional["protocolPaused"]
    seize_paused = optional["seizeGuardianPaused"]
    return CompoundMarket(
        comptroller=root,
        oracle=oracle,
        close_factor=close_factor,
        liquidation_incentive=incentive,
        assets=tuple(assets),
        liquidator_contract=liquidator,
        treasury_percent=treasury_percent,
        vai_controller=vai_controller,
        vai=metadata[vai_token] if vai_token else None,
        comptroller_lens=_optional_address(optional["comptrollerLens"]),
        protocol_paused=paused.value if paused.success else None,
        seize_guardian_paused=seize_paused.value if seize_paused.success else None,
        chain_id=block.chain_id,
        ctokens=frozenset(ctokens),
    )
