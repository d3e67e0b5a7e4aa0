"""``LocalVenus``: a Venus core pool (a production Compound v2 fork) on anvil, seeded and cached.

    with LocalVenus.start() as venus:
        venus.set_price("tWETH", 2_000 * 10**18)
        venus.liquidate(liquidator, "tUSDC", borrower, repay, "tWETH")

Contracts: the Hardhat artifacts of ``@venusprotocol/venus-protocol`` 5.2.0, deployed as on BNB Chain:
``Unitroller`` → ``Diamond`` with the four facets (Market, Policy, Setter, Reward) cut in, a
``ComptrollerLens`` (the Diamond computes account liquidity through it), ``VBep20Delegator`` markets
over one ``VBep20Delegate``, ``JumpRateModel``s, the package's ``SimplePriceOracle``, ``FaucetToken``
underlyings (WETH 18, WBTC 8, USDC 6, USDT 6 and OLD 18 decimals), the ``AccessControlManagerMock`` that the setters ask, and the
``Liquidator`` behind an OpenZeppelin ``ERC1967Proxy`` (set as the Comptroller's
``liquidatorContract``, so every liquidation goes through it and ``treasuryPercentMantissa`` of the
seized vTokens go to the treasury). Why 5.2.0: its Comptroller has one collateral factor per market
and ``getAccountLiquidity`` is the Compound v2 maths plus minted VAI (10.x adds liquidation thresholds
and e-mode pools), and its dependency tree installs from the registry (9.7.0 and 10.3.0 ask for a
``@venusprotocol/governance-contracts`` ^2.13 that the registry does not serve).

Fixture-only settings: the access control mock lets the admin call every setter; reserves are never
swept (``reduceReservesBlockDelta`` = 2²⁵⁶ − 1, as no ProtocolShareReserve is deployed); the
Liquidator's immutable ``vBnb`` is a placeholder address (no vBNB market: 5.2.0 ships no VBNB artifact).

Seeding (real transactions, so the Comptroller and the markets emit ``MarketEntered``, ``Mint`` and
``Borrow``): a liquidity provider; single-collateral borrowers at 30 %–99.9 % of their borrowing
power; multi-collateral multi-debt borrowers; collateral-only accounts; an account that received
vTokens by transfer; a supplier that never entered a market and an account that entered without
supplying (both discovered, neither holds a position that counts). The ``tOLD`` market is then
deprecated (collateral factor 0, mint and borrow paused, forced liquidation on), which puts its
suppliers in shortfall. Finally ``BLOCKS_BEFORE_ACCRUAL`` blocks pass, interest is accrued on every
market, and the oracle moves from the seeding prices to the final ones (WETH −0.1 %, WBTC +0.4 %, USDC
+0.01 %), which tips some 99.9 % borrowers into shortfall and leaves others just above it; then
``BLOCKS_AFTER_ACCRUAL`` empty blocks, so the head's stored values lag its current ones.

Deployment and seeding take a few seconds; the result is cached as an anvil state dump (traces
stripped) under ``.cache/localchain`` keyed on the anvil and Venus versions and this file's hash.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import Any

import eth_abi
from eth_utils import keccak, to_checksum_address

from defirisk.chain import encode_call
from tests.localchain.anvil import CHAIN_ID, Anvil, AnvilError
from tests.localchain.multicall3 import install as install_multicall3
from tests.localchain.state import strip_traces
from tests.localchain.toolchain import ANVIL_PACKAGE, CACHE_DIR, NODE_MODULES, installed_version
from tests.localchain.tx import Transactor

VENUS_PACKAGE = "@venusprotocol/venus-protocol"
VENUS_ARTIFACTS = NODE_MODULES / VENUS_PACKAGE / "artifacts" / "contracts"
PROXY_ARTIFACT = NODE_MODULES / "@openzeppelin" / "contracts" / "build" / "contracts" / "ERC1967Proxy.json"

EXP = 10**18
MAX_UINT = 2**256 - 1
GAS = 3_000_000
DEPLOY_GAS = 30_000_000
FACETS = ("MarketFacet", "PolicyFacet", "RewardFacet", "SetterFacet")
CLOSE_FACTOR = 5 * 10**17
LIQUIDATION_INCENTIVE = 108 * 10**16
TREASURY_PERCENT = 5 * 10**16
BLOCKS_BEFORE_ACCRUAL = 500
#: Blocks mined after the last accrual, so that stored values lag the head (as on a live chain).
BLOCKS_AFTER_ACCRUAL = 50
#: ``ComptrollerStorage.Action`` values.
MINT, BORROW = 0, 2


def _raw(amount: str, decimals: int) -> int:
    """A decimal string in base units of ``decimals`` (digits beyond them dropped)."""
    whole, _, frac = amount.partition(".")
    return int(whole + frac.ljust(decimals, "0")[:decimals])


@dataclass(frozen=True)
class MarketSpec:
    """One market: underlying symbol and decimals, USD price, collateral factor and reserve factor
    (mantissas), JumpRateModel (per year, mantissas) and caps in whole tokens (borrow cap 0 = none)."""

    symbol: str
    decimals: int
    price_usd: str
    seed_price_usd: str
    collateral_factor: int
    reserve_factor: int
    rates: tuple[int, int, int, int]
    supply_cap: int
    borrow_cap: int

    @property
    def vsymbol(self) -> str:
        return "v" + self.symbol[1:]

    @property
    def price_mantissa(self) -> int:
        """The final price at ``getUnderlyingPrice`` scale: USD per whole token · 10^(36 − decimals)."""
        return _raw(self.price_usd, 36 - self.decimals)

    @property
    def seed_price_mantissa(self) -> int:
        """The price while the accounts are seeded (same scale)."""
        return _raw(self.seed_price_usd, 36 - self.decimals)

    @property
    def initial_exchange_rate(self) -> int:
        """0.02 underlying per vToken in whole units: ``0.02 · 10^(18 − 8 + decimals)``."""
        return 2 * 10 ** (18 - 8 + self.decimals - 2)


_STABLE = (0, 5 * 10**16, 109 * 10**16, 8 * 10**17)
_VOLATILE = (2 * 10**16, 15 * 10**16, 3 * 10**18, 75 * 10**16)
MARKETS = (
    MarketSpec("tWETH", 18, "3012.345678", "3015.5", 80 * 10**16, 10 * 10**16, _VOLATILE, 1_000_000, 0),
    MarketSpec("tWBTC", 8, "61234.5678", "61000", 75 * 10**16, 20 * 10**16, _VOLATILE, 100_000, 50_000),
    MarketSpec("tUSDC", 6, "1.0001", "1", 85 * 10**16, 10 * 10**16, _STABLE, 10**10, 0),
    MarketSpec("tUSDT", 6, "0.99985", "0.99985", 80 * 10**16, 10 * 10**16, _STABLE, 10**10, 0),
    MarketSpec("tOLD", 18, "12.5", "12.5", 50 * 10**16, 25 * 10**16, _VOLATILE, 10**9, 0),
)
BY_SYMBOL = {m.symbol: m for m in MARKETS}
DEPRECATED = "tOLD"


@dataclass(frozen=True)
class Plan:
    """A seeded account: whole-token supplies (entered as collateral unless ``enter`` is False) and
    borrows as fractions of its borrowing power, per debt symbol."""

    label: str
    supplies: tuple[tuple[str, str], ...]
    borrows: tuple[tuple[str, str], ...] = ()
    enter: bool = True


def _plans() -> list[Plan]:
    plans = [Plan("lp", tuple((m.symbol, str(m.supply_cap // 50)) for m in MARKETS))]
    pairs = (("tWETH", "3", "tUSDC"), ("tWBTC", "0.25", "tUSDT"), ("tUSDC", "20000", "tWETH"),
             ("tUSDT", "15000", "tWBTC"), ("tWETH", "7.5", "tWBTC"))
    for collateral, amount, debt in pairs:
        for fraction in ("0.3", "0.6", "0.9", "0.99", "0.999"):
            plans.append(Plan(f"{collateral}-{debt}-{fraction}", ((collateral, amount),), ((debt, fraction),)))
    for i, fraction in enumerate(("0.2", "0.45", "0.7", "0.95")):
        plans.append(Plan(f"multi-{i}", (("tWETH", "2"), ("tWBTC", "0.1"), ("tUSDC", "5000")),
                          (("tUSDT", fraction), ("tWETH", "0.02"))))
    plans += [Plan(f"saver-{s}", ((s, a),)) for s, a in (("tWETH", "12"), ("tWBTC", "0.7"), ("tUSDT", "999.5"))]
    plans += [Plan(f"old-{f}", (("tOLD", "800"),), (("tUSDC", f),)) for f in ("0.5", "0.8")]
    plans += [Plan(f"old-borrower-{f}", (("tWETH", "4"),), (("tOLD", f),)) for f in ("0.4", "0.7")]
    plans.append(Plan("not-entered", (("tUSDC", "1234.5"),), enter=False))
    plans.append(Plan("entered-only", ()))
    return plans


PLANS = tuple(_plans())
#: Holds vTokens received by transfer from ``TRANSFER_FROM`` and enters their market.
TRANSFER_TO = "receiver"
TRANSFER_FROM = "saver-tWETH"
TRANSFER_SHARE = 4  # a quarter of the sender's vWETH


def account(label: str) -> str:
    """The deterministic address of a seeded role (lower-case)."""
    return "0x" + keccak(text=f"defirisk-localchain:venus:{label}")[12:].hex()


# Artifacts ------------------------------------------------------------------------------------------


@cache
def _artifact_index() -> dict[str, Path]:
    return {p.stem: p for p in VENUS_ARTIFACTS.rglob("*.json") if not p.name.endswith(".dbg.json")}


@cache
def artifact(name: str) -> dict[str, Any]:
    """``{"abi", "bytecode"}`` of a contract of the Venus package (or OpenZeppelin's ERC1967Proxy)."""
    path = PROXY_ARTIFACT if name == "ERC1967Proxy" else _artifact_index()[name]
    data = json.loads(path.read_text())
    return {"abi": data["abi"], "bytecode": data["bytecode"]}


def _signature(entry: dict[str, Any]) -> str:
    def kind(param: dict[str, Any]) -> str:
        if param["type"].startswith("tuple"):
            return "(" + ",".join(kind(c) for c in param["components"]) + ")" + param["type"][5:]
        return param["type"]

    return f"{entry['name']}({','.join(kind(p) for p in entry['inputs'])})"


def selectors(name: str) -> list[bytes]:
    """4-byte selectors of every function in the contract's ABI."""
    return [keccak(text=_signature(e))[:4] for e in artifact(name)["abi"] if e["type"] == "function"]


def creation_code(name: str, types: list[str], *args: Any) -> str:
    """Creation bytecode of ``name`` with ABI-encoded constructor ``args`` (0x-hex)."""
    return artifact(name)["bytecode"] + eth_abi.encode(types, list(args)).hex()


def calldata(signature: str, *args: Any) -> str:
    """Calldata (0x-hex) of ``signature`` with ``args``."""
    return "0x" + encode_call(signature, args).hex()


# Deployment ------------------------------------------------------------------------------------------


@dataclass
class VenusDeployment:
    """Addresses (lower-case) of the deployed pool; ``markets`` and ``underlyings`` by underlying symbol."""

    admin: str
    comptroller: str
    oracle: str
    lens: str
    acm: str
    liquidator: str
    treasury: str
    markets: dict[str, str]
    underlyings: dict[str, str]
    start_block: int


class FixtureError(RuntimeError):
    """The deployed pool does not have the configuration the fixture set (a setter returned an error)."""


class _Deployer:
    def __init__(self, rpc: Any) -> None:
        self.rpc = rpc
        self.t = Transactor(rpc)
        self.admin = rpc.call("eth_accounts")[0].lower()

    def create(self, specs: list[tuple[str, list[str], tuple[Any, ...]]]) -> list[str]:
        txs = [self.t.tx(self.admin, None, creation_code(name, types, *args), DEPLOY_GAS) for name, types, args in specs]
        return [r["contractAddress"].lower() for r in self.t.send(txs)]

    def tx(self, to: str, signature: str, *args: Any, sender: str | None = None) -> dict[str, Any]:
        return self.t.tx(sender or self.admin, to, calldata(signature, *args), GAS)

    def send(self, txs: list[dict[str, Any]]) -> None:
        self.t.send(txs)


def _diamond_cut(facets: dict[str, str]) -> list[tuple[str, int, list[bytes]]]:
    """``FacetCut``s adding every facet function the Diamond does not serve itself, each once."""
    taken = set(selectors("Diamond"))
    cut = []
    for name, address in facets.items():
        own = [s for s in dict.fromkeys(selectors(name)) if s not in taken]
        taken.update(own)
        cut.append((address, 0, own))
    return cut


def deploy(rpc: Any) -> VenusDeployment:
    """Deploy and configure the pool (no accounts yet)."""
    d = _Deployer(rpc)
    start = int(rpc.call("eth_blockNumber"), 16) + 1
    unitroller, diamond, lens, oracle, acm, delegate, *rest = d.create(
        [("Unitroller", [], ()), ("Diamond", [], ()), ("ComptrollerLens", [], ()), ("SimplePriceOracle", [], ()),
         ("AccessControlManagerMock", ["address"], (d.admin,)), ("VBep20Delegate", [], ())]
        + [(f, [], ()) for f in FACETS]
        + [("FaucetToken", ["uint256", "string", "uint8", "string"], (0, f"Test {m.symbol[1:]}", m.decimals, m.symbol))
           for m in MARKETS]
        + [("JumpRateModel", ["uint256"] * 4, rates) for rates in (_STABLE, _VOLATILE)]
    )
    facets = dict(zip(FACETS, rest[: len(FACETS)], strict=True))
    tokens = dict(zip([m.symbol for m in MARKETS], rest[len(FACETS) : len(FACETS) + len(MARKETS)], strict=True))
    irm = dict(zip((_STABLE, _VOLATILE), rest[len(FACETS) + len(MARKETS) :], strict=True))
    d.send([d.tx(unitroller, "_setPendingImplementation(address)", diamond),
            d.tx(diamond, "_become(address)", unitroller)])
    d.send([d.tx(unitroller, "diamondCut((address,uint8,bytes4[])[])", _diamond_cut(facets))])
    d.send([d.tx(unitroller, "_setAccessControl(address)", acm),
            d.tx(unitroller, "_setComptrollerLens(address)", lens),
            d.tx(unitroller, "_setPriceOracle(address)", oracle),
            d.tx(unitroller, "_setCloseFactor(uint256)", CLOSE_FACTOR),
            d.tx(unitroller, "_setLiquidationIncentive(uint256)", LIQUIDATION_INCENTIVE)])
    vtokens = d.create([
        ("VBep20Delegator",
         ["address", "address", "address", "uint256", "string", "string", "uint8", "address", "address", "bytes"],
         (tokens[m.symbol], unitroller, irm[m.rates], m.initial_exchange_rate, f"Venus {m.symbol[1:]}",
          m.vsymbol, 8, d.admin, delegate, b""))
        for m in MARKETS
    ])
    markets = dict(zip([m.symbol for m in MARKETS], vtokens, strict=True))
    setup = []
    for m in MARKETS:
        v = markets[m.symbol]
        setup += [
            d.tx(oracle, "setUnderlyingPrice(address,uint256)", v, m.seed_price_mantissa),
            d.tx(unitroller, "_supportMarket(address)", v),
            d.tx(v, "setAccessControlManager(address)", acm),
            d.tx(v, "setReduceReservesBlockDelta(uint256)", MAX_UINT),
            d.tx(v, "_setReserveFactor(uint256)", m.reserve_factor),
        ]
    setup += [
        d.tx(unitroller, "_setMarketSupplyCaps(address[],uint256[])", vtokens,
             [m.supply_cap * 10**m.decimals for m in MARKETS]),
        d.tx(unitroller, "_setMarketBorrowCaps(address[],uint256[])", vtokens,
             [m.borrow_cap * 10**m.decimals for m in MARKETS]),
    ]
    setup += [d.tx(unitroller, "_setCollateralFactor(address,uint256)", markets[m.symbol], m.collateral_factor)
              for m in MARKETS]
    d.send(setup)
    treasury = account("treasury")
    (implementation,) = d.create([("Liquidator", ["address", "address", "address"],
                                   (unitroller, account("no-vbnb"), treasury))])
    init = bytes.fromhex(calldata("initialize(uint256)", TREASURY_PERCENT)[2:])
    (liquidator,) = d.create([("ERC1967Proxy", ["address", "bytes"], (implementation, init))])
    d.send([d.tx(unitroller, "_setLiquidatorContract(address)", liquidator)])
    return VenusDeployment(d.admin, unitroller, oracle, lens, acm, liquidator, treasury, markets, tokens, start)


# Seeding ---------------------------------------------------------------------------------------------


def _borrow_amounts(plan: Plan) -> list[tuple[str, int]]:
    """Raw borrow per debt symbol: ``fraction · power / price_debt`` rounded down, where ``power =
    Σ supply · price · CF`` (USD · 1e18, the Comptroller's ``sumCollateral`` at the seeding prices).

    The exchange rate is left out: minting and valuing the vTokens happen at the same rate, and the
    fractions leave more headroom than the truncation of the mint costs.
    """
    power = sum(_raw(a, BY_SYMBOL[s].decimals) * BY_SYMBOL[s].seed_price_mantissa * BY_SYMBOL[s].collateral_factor
                for s, a in plan.supplies) // EXP**2
    return [(s, power * _raw(f, 18) // BY_SYMBOL[s].seed_price_mantissa) for s, f in plan.borrows]


def _seed(rpc: Any, dep: VenusDeployment) -> None:
    d = _Deployer(rpc)
    users = [account(p.label) for p in PLANS] + [account(TRANSFER_TO)]
    rpc.batch(("anvil_setBalance", [u, hex(10**21)]) for u in users)
    rpc.call("anvil_autoImpersonateAccount", True)
    d.t.assume_fresh(users)
    for group in (PLANS[:1], PLANS[1:]):
        txs: list[dict[str, Any]] = []
        for plan in group:
            user = account(plan.label)
            for symbol, amount in plan.supplies:
                raw = _raw(amount, BY_SYMBOL[symbol].decimals)
                token, vtoken = dep.underlyings[symbol], dep.markets[symbol]
                txs += [d.tx(token, "allocateTo(address,uint256)", user, raw, sender=user),
                        d.tx(token, "approve(address,uint256)", vtoken, raw, sender=user),
                        d.tx(vtoken, "mint(uint256)", raw, sender=user)]
            if plan.enter:
                entered = [dep.markets[s] for s, _ in plan.supplies] or [dep.markets["tUSDT"]]
                txs.append(d.tx(dep.comptroller, "enterMarkets(address[])", entered, sender=user))
            txs += [d.tx(dep.markets[s], "borrow(uint256)", amount, sender=user) for s, amount in _borrow_amounts(plan)]
        d.send(txs)
    sender, receiver, vweth = account(TRANSFER_FROM), account(TRANSFER_TO), dep.markets["tWETH"]
    balance = int(rpc.call("eth_call", {"to": vweth, "data": calldata("balanceOf(address)", sender)}, "latest"), 16)
    old = dep.markets[DEPRECATED]
    d.send([
        d.tx(vweth, "transfer(address,uint256)", receiver, balance // TRANSFER_SHARE, sender=sender),
        d.tx(dep.comptroller, "enterMarkets(address[])", [vweth], sender=receiver),
        d.tx(dep.comptroller, "_setCollateralFactor(address,uint256)", old, 0),
        d.tx(dep.comptroller, "_setActionsPaused(address[],uint8[],bool)", [old], [MINT, BORROW], True),
        d.tx(dep.comptroller, "_setForcedLiquidation(address,bool)", old, True),
    ])
    rpc.call("anvil_mine", hex(BLOCKS_BEFORE_ACCRUAL))
    d.send([d.tx(v, "accrueInterest()") for v in dep.markets.values()]
           + [d.tx(dep.oracle, "setUnderlyingPrice(address,uint256)", dep.markets[m.symbol], m.price_mantissa)
              for m in MARKETS])
    rpc.call("anvil_mine", hex(BLOCKS_AFTER_ACCRUAL))


def _check(rpc: Any, dep: VenusDeployment) -> None:
    """Fail loudly if a setter returned an error code instead of reverting (Compound-style setters)."""
    def view(to: str, signature: str, *args: Any) -> bytes:
        return bytes.fromhex(rpc.call("eth_call", {"to": to, "data": calldata(signature, *args)}, "latest")[2:])

    for m in MARKETS:
        listed, cf = eth_abi.decode(["bool", "uint256"], view(dep.comptroller, "markets(address)", dep.markets[m.symbol])[:64])
        expected = 0 if m.symbol == DEPRECATED else m.collateral_factor
        if not listed or cf != expected:
            raise FixtureError(f"{m.vsymbol}: listed {listed}, collateral factor {cf}, expected {expected}")
    answers = {s: int.from_bytes(view(dep.comptroller, s), "big")
               for s in ("closeFactorMantissa()", "liquidationIncentiveMantissa()")}
    if answers != {"closeFactorMantissa()": CLOSE_FACTOR, "liquidationIncentiveMantissa()": LIQUIDATION_INCENTIVE}:
        raise FixtureError(f"comptroller parameters not set: {answers}")


# Cache -----------------------------------------------------------------------------------------------


def _cache_key() -> str:
    text = "|".join([installed_version(ANVIL_PACKAGE), installed_version(VENUS_PACKAGE),
                     hashlib.sha256(Path(__file__).read_bytes()).hexdigest()])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _build(state_file: Path) -> dict[str, Any]:
    raw = state_file.with_suffix(".raw.json")
    started = time.perf_counter()
    node = Anvil(dump_state=raw)
    try:
        install_multicall3(node.rpc)
        dep = deploy(node.rpc)
        _seed(node.rpc, dep)
        _check(node.rpc, dep)
    finally:
        node.stop()
    if node.process.returncode != 0 or not raw.exists():
        raise AnvilError(f"anvil exited with {node.process.returncode} without writing {raw}")
    state_file.write_bytes(strip_traces(raw.read_bytes()))
    raw.unlink()
    return {"deployment": asdict(dep), "build_s": time.perf_counter() - started}


def load_or_build(cache_dir: Path = CACHE_DIR) -> tuple[Path, VenusDeployment]:
    """The cached state file and deployment, built first if missing (file-locked)."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    stem = cache_dir / f"venus-{_cache_key()}"
    state_file, meta_file = stem.with_suffix(".state.json"), stem.with_suffix(".meta.json")
    with open(stem.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not meta_file.exists():
            meta = _build(state_file)
            tmp = meta_file.with_suffix(".tmp")
            tmp.write_text(json.dumps(meta))
            os.replace(tmp, meta_file)
            for path in cache_dir.glob("venus-*"):
                if not path.name.startswith(stem.name + "."):
                    path.unlink(missing_ok=True)
        meta = json.loads(meta_file.read_text())
    return state_file, VenusDeployment(**meta["deployment"])


# The running node -----------------------------------------------------------------------------------


class LocalVenus:
    """A node started from the cached Venus state; any address may send (auto-impersonation)."""

    def __init__(self, node: Anvil, deployment: VenusDeployment) -> None:
        self.node = node
        self.rpc = node.rpc
        self.rpc_url = node.rpc_url
        self.deployment = deployment
        self.rpc.call("anvil_autoImpersonateAccount", True)

    @classmethod
    def start(cls, cache_dir: Path = CACHE_DIR) -> LocalVenus:
        state_file, deployment = load_or_build(cache_dir)
        node = Anvil(load_state=state_file)
        return cls(node, deployment)

    def stop(self) -> None:
        self.node.stop()

    def __enter__(self) -> LocalVenus:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def comptroller(self) -> str:
        return self.deployment.comptroller

    def market(self, symbol: str) -> str:
        """The vToken of the underlying ``symbol``."""
        return self.deployment.markets[symbol]

    def seeded_accounts(self) -> dict[str, str]:
        """Every seeded role → its address."""
        return {p.label: account(p.label) for p in PLANS} | {TRANSFER_TO: account(TRANSFER_TO)}

    # Chain control

    def block_number(self) -> int:
        return int(self.rpc.call("eth_blockNumber"), 16)

    def snapshot(self) -> str:
        return self.rpc.call("evm_snapshot")

    def revert(self, snapshot_id: str) -> bool:
        return self.rpc.call("evm_revert", snapshot_id)

    def view(self, to: str, signature: str, out: list[str], *args: Any, block: int | str = "latest") -> tuple:
        """``eth_call`` of ``signature`` decoded as ``out``."""
        tag = hex(block) if isinstance(block, int) else block
        data = self.rpc.call("eth_call", {"to": to, "data": calldata(signature, *args)}, tag)
        return eth_abi.decode(out, bytes.fromhex(data[2:]))

    def send(self, sender: str, calls: list[tuple[str, str, tuple[Any, ...]]]) -> list[dict[str, Any]]:
        """Mine ``(to, signature, args)`` transactions from ``sender`` in order; receipts (reverts raise)."""
        t = Transactor(self.rpc)
        self.rpc.call("anvil_setBalance", sender, hex(10**21))
        return t.send([t.tx(sender, to, calldata(sig, *args), GAS) for to, sig, args in calls])

    # Market control

    def set_price(self, symbol: str, mantissa: int) -> None:
        """Set the oracle's ``getUnderlyingPrice`` of the market of ``symbol`` (scale 36 − decimals)."""
        self.send(self.deployment.admin, [(self.deployment.oracle, "setUnderlyingPrice(address,uint256)",
                                           (self.market(symbol), mantissa))])

    def deploy_zero_rate_model(self) -> str:
        """A ``WhitePaperInterestRateModel(0, 0)``: markets on it accrue no interest."""
        t = Transactor(self.rpc)
        code = creation_code("WhitePaperInterestRateModel", ["uint256", "uint256"], 0, 0)
        return t.send([t.tx(self.deployment.admin, None, code, DEPLOY_GAS)])[0]["contractAddress"].lower()

    def set_interest_rate_model(self, symbol: str, model: str) -> None:
        self.send(self.deployment.admin, [(self.market(symbol), "_setInterestRateModel(address)", (model,))])

    def liquidate(self, liquidator: str, debt: str, borrower: str, repay: int, collateral: str) -> dict[str, Any]:
        """``Liquidator.liquidateBorrow`` from ``liquidator``, funded with ``repay`` of the debt token."""
        token, proxy = self.deployment.underlyings[debt], self.deployment.liquidator
        return self.send(liquidator, [
            (token, "allocateTo(address,uint256)", (liquidator, repay)),
            (token, "approve(address,uint256)", (proxy, repay)),
            (proxy, "liquidateBorrow(address,address,uint256,address)",
             (self.market(debt), borrower, repay, self.market(collateral))),
        ])[-1]

    def write_deployment_toml(self, path: Path) -> Path:
        """The deployment file (``protocols/<family>/<chain>.toml`` format) of this pool."""
        path.write_text(
            'name = "local-venus"\n'
            'family = "compound-v2"\n'
            'label = "Local anvil Venus core pool fixture"\n'
            f"chain_id = {CHAIN_ID}\n"
            f'comptroller = "{to_checksum_address(self.comptroller)}"\n'
            f"start_block = {self.deployment.start_block}\n"
            'source = "tests/localchain/venus.py fixture"\n'
        )
        return path
