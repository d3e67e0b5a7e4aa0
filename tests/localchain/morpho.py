"""``LocalMorpho``: Morpho Blue compiled from ``@morpho-org/morpho-blue`` 1.0.0, deployed and seeded on anvil.

    with LocalMorpho.start(SHARED) as chain:
        chain.set_price("usdc-weth", price)
        chain.liquidate("usdc-weth", borrower, seized_assets=10**17)

Compilation: every ``src/**/*.sol`` of the package, plus two small test contracts written here
(``TestToken``: the package's ``ERC20Mock`` with name, symbol and decimals; ``BalancesLens``: the
package's own ``MorphoBalancesLib`` exposed as views), with the npm ``solc`` 0.8.19 that
``Morpho.sol`` pins and the package's foundry ``[profile.default]`` settings (via-IR, optimizer
999,999 runs, EVM paris, no metadata hash). solc-js takes about 30 s, so the output (ABI and creation
code) is cached under ``.cache/localchain`` keyed on the solc and package versions and the sources.

Deployment is fast (about a second), so each node is deployed and seeded fresh rather than loaded
from a state file: the owner enables the IRM mock and the LLTVs and creates each market with its own
``OracleMock``; suppliers, borrowers (at several fractions of their borrowing limit, some within
0.1 % of it) and collateral-only accounts are seeded with real transactions; then the clock moves
30 days so interest is due (and accrued by the next touch of each market).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import eth_abi
from eth_utils import keccak, to_checksum_address

from defirisk.chain import encode_call
from tests.localchain.anvil import CHAIN_ID, Anvil
from tests.localchain.multicall3 import install as install_multicall3
from tests.localchain.rpc import Rpc
from tests.localchain.toolchain import CACHE_DIR, NODE_MODULES, installed_version
from tests.localchain.tx import Transactor

MORPHO_PACKAGE = "@morpho-org/morpho-blue"
SOLC_PACKAGE = "solc-0.8.19"
MORPHO_DIR = NODE_MODULES / MORPHO_PACKAGE
WAD = 10**18
PARAMS = "(address,address,address,address,uint256)"
ZERO = "0x" + "00" * 20
GAS = 1_000_000
DEPLOY_GAS = 12_000_000
SECONDS_BEFORE_SNAPSHOT = 30 * 86_400
SETTINGS = {
    "viaIR": True,
    "optimizer": {"enabled": True, "runs": 999_999},
    "evmVersion": "paris",
    "metadata": {"bytecodeHash": "none"},
    "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object"]}},
}

TEST_SOURCES = {
    "defirisk-tests/TestToken.sol": """// SPDX-License-Identifier: GPL-2.0-or-later
pragma solidity 0.8.19;

import {ERC20Mock} from "src/mocks/ERC20Mock.sol";

contract TestToken is ERC20Mock {
    string public name;
    string public symbol;
    uint8 public decimals;

    constructor(string memory name_, string memory symbol_, uint8 decimals_) {
        name = name_;
        symbol = symbol_;
        decimals = decimals_;
    }
}
""",
    "defirisk-tests/BalancesLens.sol": """// SPDX-License-Identifier: GPL-2.0-or-later
pragma solidity 0.8.19;

import {IMorpho, MarketParams} from "src/interfaces/IMorpho.sol";
import {MorphoBalancesLib} from "src/libraries/periphery/MorphoBalancesLib.sol";
import {MorphoLib} from "src/libraries/periphery/MorphoLib.sol";
import {MarketParamsLib} from "src/libraries/MarketParamsLib.sol";

contract BalancesLens {
    using MorphoBalancesLib for IMorpho;
    using MorphoLib for IMorpho;
    using MarketParamsLib for MarketParams;

    function balances(IMorpho morpho, MarketParams memory params, address user)
        external view returns (uint256 supplyAssets, uint256 borrowAssets, uint256 collateral)
    {
        supplyAssets = morpho.expectedSupplyAssets(params, user);
        borrowAssets = morpho.expectedBorrowAssets(params, user);
        collateral = morpho.collateral(params.id(), user);
    }

    function marketBalances(IMorpho morpho, MarketParams memory params)
        external view returns (uint256, uint256, uint256, uint256)
    {
        return morpho.expectedMarketBalances(params);
    }
}
""",
}


class CompileError(RuntimeError):
    """solc-js reported an error."""


_COMPILE_JS = """
const solc = require(process.argv[1]);
let input = '';
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => process.stdout.write(solc.compile(input)));
"""


def _sources() -> dict[str, dict[str, str]]:
    sources = {
        path.relative_to(MORPHO_DIR).as_posix(): {"content": path.read_text()}
        for path in sorted((MORPHO_DIR / "src").rglob("*.sol"))
    }
    return sources | {name: {"content": text} for name, text in TEST_SOURCES.items()}


def artifacts() -> dict[str, dict[str, Any]]:
    """``{contract name: {"abi": ..., "bytecode": "0x..."}}``, from the cache or compiled."""
    standard_json = {"language": "Solidity", "sources": _sources(), "settings": SETTINGS}
    text = json.dumps(standard_json, sort_keys=True)
    key = hashlib.sha256(text.encode()).hexdigest()[:16]
    versions = f"solc{installed_version(SOLC_PACKAGE)}-blue{installed_version(MORPHO_PACKAGE)}"
    cached = CACHE_DIR / f"morpho-{versions}-{key}.json"
    if cached.exists():
        return json.loads(cached.read_text())
    result = subprocess.run(
        ["node", "-e", _COMPILE_JS, str(NODE_MODULES / SOLC_PACKAGE)],
        input=text.encode(), capture_output=True, check=True,
    )
    output = json.loads(result.stdout)
    errors = [e["formattedMessage"] for e in output.get("errors", []) if e["severity"] == "error"]
    if errors:
        raise CompileError("\n".join(errors))
    found = {
        name: {"abi": c["abi"], "bytecode": "0x" + c["evm"]["bytecode"]["object"]}
        for contracts in output["contracts"].values()
        for name, c in contracts.items()
        if name in ("Morpho", "IrmMock", "OracleMock", "TestToken", "BalancesLens")
    }
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(".tmp")
    tmp.write_text(json.dumps(found))
    tmp.replace(cached)
    return found


def calldata(signature: str, *args: Any) -> str:
    """Selector of ``signature`` followed by the ABI-encoded ``args`` (0x-hex)."""
    return "0x" + encode_call(signature, args).hex()


def account(label: str) -> str:
    """A deterministic address for ``label`` (lower-case)."""
    return "0x" + keccak(text=f"defirisk-localchain:morpho:{label}")[12:].hex()


@dataclass(frozen=True)
class TokenSpec:
    symbol: str
    decimals: int


@dataclass(frozen=True)
class MarketSpec:
    """A market to create: tokens by symbol (``collateral`` None: idle market), LLTV, oracle price in
    whole loan tokens per whole collateral token, market fee (WAD)."""

    label: str
    loan: str
    collateral: str | None
    lltv: int
    price: Decimal | None
    fee: int = 0


@dataclass(frozen=True)
class Borrower:
    """Collateral (whole tokens) and borrow as a fraction of the borrowing limit (0: collateral only)."""

    label: str
    collateral: Decimal
    fraction: Decimal


@dataclass(frozen=True)
class Scenario:
    """Tokens, markets, and per market its suppliers (whole tokens) and borrowers."""

    name: str
    tokens: tuple[TokenSpec, ...]
    markets: tuple[MarketSpec, ...]
    suppliers: dict[str, tuple[tuple[str, Decimal], ...]]
    borrowers: dict[str, tuple[Borrower, ...]]


_FRACTIONS = (Decimal("0.3"), Decimal("0.6"), Decimal("0.9"), Decimal("0.99"), Decimal("0.999"), Decimal("0.9999"), 0)


def _borrowers(prefix: str, collateral: Decimal) -> tuple[Borrower, ...]:
    return tuple(
        Borrower(f"{prefix}-b{i}", collateral * (i + 1), Decimal(f)) for i, f in enumerate(_FRACTIONS)
    )


#: Distinct tokens per market, each account in one market: what the conformance suite can key on.
ISOLATED = Scenario(
    name="isolated",
    tokens=(TokenSpec("tUSDC", 6), TokenSpec("tWETH", 18), TokenSpec("tWETHb", 18), TokenSpec("tWBTC", 8),
            TokenSpec("tUSDT", 6), TokenSpec("tsDAI", 18), TokenSpec("tDAI", 18), TokenSpec("tLINK", 18),
            TokenSpec("tEURC", 6)),
    markets=(
        MarketSpec("usdc-weth", "tUSDC", "tWETH", 86 * 10**16, Decimal("3012.345678"), fee=10**17),
        MarketSpec("wethb-wbtc", "tWETHb", "tWBTC", 625 * 10**15, Decimal("19.87654321")),
        MarketSpec("usdt-sdai", "tUSDT", "tsDAI", 945 * 10**15, Decimal("1.0612345")),
        MarketSpec("dai-link", "tDAI", "tLINK", 385 * 10**15, Decimal("14.25")),
        MarketSpec("eurc-idle", "tEURC", None, 0, None),
    ),
    suppliers={
        "usdc-weth": (("usdc-weth-s0", Decimal(5_000_000)), ("usdc-weth-s1", Decimal("123456.789012"))),
        "wethb-wbtc": (("wethb-wbtc-s0", Decimal(20_000)),),
        "usdt-sdai": (("usdt-sdai-s0", Decimal(2_000_000)),),
        "dai-link": (("dai-link-s0", Decimal(1_000_000)), ("dai-link-s1", Decimal("0.000000000000000001"))),
        "eurc-idle": (("eurc-idle-s0", Decimal(1_000)), ("eurc-idle-s1", Decimal("0.5"))),
    },
    borrowers={
        "usdc-weth": _borrowers("usdc-weth", Decimal("1.5")),
        "wethb-wbtc": _borrowers("wethb-wbtc", Decimal("0.25")),
        "usdt-sdai": _borrowers("usdt-sdai", Decimal(10_000)),
        "dai-link": _borrowers("dai-link", Decimal(300)),
    },
)

#: ``ISOLATED`` plus a second market on the same tokens as ``usdc-weth`` (another oracle and LLTV)
#: and accounts holding positions in both.
SHARED = Scenario(
    name="shared",
    tokens=ISOLATED.tokens,
    markets=(*ISOLATED.markets, MarketSpec("usdc-weth-915", "tUSDC", "tWETH", 915 * 10**15, Decimal("3011.5"))),
    suppliers={**ISOLATED.suppliers, "usdc-weth-915": (("usdc-weth-s0", Decimal(1_000_000)),)},
    borrowers={
        **ISOLATED.borrowers,
        "usdc-weth-915": tuple(
            Borrower(b.label, b.collateral, f) for b, f in
            zip(ISOLATED.borrowers["usdc-weth"][:4], (Decimal("0.5"), Decimal("0.99"), 0, Decimal("0.95")), strict=True)
        ),
    },
)


def _units(amount: Decimal, decimals: int) -> int:
    return int(amount * 10**decimals)


@dataclass
class SeededMarket:
    """A created market: label, params (lower-case addresses, LLTV WAD), id, oracle, decimals."""

    label: str
    params: tuple[str, str, str, str, int]
    id: str
    loan_decimals: int
    collateral_decimals: int | None
    accounts: list[str] = field(default_factory=list)

    @property
    def loan(self) -> str:
        return self.params[0]

    @property
    def collateral(self) -> str:
        return self.params[1]

    @property
    def oracle(self) -> str:
        return self.params[2]


def oracle_price(price: Decimal, loan_decimals: int, collateral_decimals: int) -> int:
    """``price`` (whole loan per whole collateral) in Morpho's oracle unit, scale 1e36."""
    return int(price * 10 ** (36 + loan_decimals - collateral_decimals))


class LocalMorpho:
    """A node running Morpho Blue with the markets and positions of one ``Scenario``."""

    def __init__(self, node: Anvil, scenario: Scenario) -> None:
        self.node = node
        self.scenario = scenario
        self.rpc: Rpc = node.rpc
        self.rpc_url = node.rpc_url
        self.art = artifacts()
        self.rpc.call("anvil_autoImpersonateAccount", True)
        self.owner = self.rpc.call("eth_accounts")[0].lower()
        self.liquidator = account("liquidator")
        self.fee_recipient = account("fee-recipient")
        self.tokens: dict[str, tuple[str, int]] = {}
        self.markets: dict[str, SeededMarket] = {}
        install_multicall3(self.rpc)
        self.start_block = int(self.rpc.call("eth_blockNumber"), 16) + 1
        self._deploy()
        self._seed()
        self.advance_time(SECONDS_BEFORE_SNAPSHOT)

    @classmethod
    def start(cls, scenario: Scenario = ISOLATED) -> LocalMorpho:
        """Start a fresh node and deploy and seed ``scenario`` on it."""
        node = Anvil()
        try:
            return cls(node, scenario)
        except BaseException:
            node.stop()
            raise

    def stop(self) -> None:
        self.node.stop()

    def __enter__(self) -> LocalMorpho:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # Deployment ---------------------------------------------------------------------------------

    def _create(self, transactor: Transactor, name: str, ctor_types: list[str], *args: Any) -> dict:
        code = self.art[name]["bytecode"] + eth_abi.encode(ctor_types, list(args)).hex()
        return transactor.tx(self.owner, None, code, DEPLOY_GAS)

    def _deploy(self) -> None:
        t = Transactor(self.rpc)
        s = self.scenario
        txs = [self._create(t, "Morpho", ["address"], self.owner), self._create(t, "IrmMock", [])]
        txs += [self._create(t, "TestToken", ["string", "string", "uint8"], f"Test {k.symbol}", k.symbol, k.decimals)
                for k in s.tokens]
        txs += [self._create(t, "OracleMock", []) for _ in s.markets]
        receipts = t.send(txs)
        created = [r["contractAddress"].lower() for r in receipts]
        self.morpho, self.irm = created[0], created[1]
        for k, address in zip(s.tokens, created[2 : 2 + len(s.tokens)], strict=True):
            self.tokens[k.symbol] = (address, k.decimals)
        oracles = created[2 + len(s.tokens) :]
        self.lens = t.send([self._create(t, "BalancesLens", [])])[0]["contractAddress"].lower()

        setup = [self.tx(t, self.owner, self.morpho, "enableIrm(address)", self.irm),
                 self.tx(t, self.owner, self.morpho, "enableIrm(address)", ZERO),
                 self.tx(t, self.owner, self.morpho, "setFeeRecipient(address)", self.fee_recipient)]
        for lltv in sorted({m.lltv for m in s.markets}):
            setup.append(self.tx(t, self.owner, self.morpho, "enableLltv(uint256)", lltv))
        for spec, oracle in zip(s.markets, oracles, strict=True):
            loan, loan_dec = self.tokens[spec.loan]
            if spec.collateral is None:
                params = (loan, ZERO, ZERO, ZERO, spec.lltv)
                coll_dec = None
            else:
                collateral, coll_dec = self.tokens[spec.collateral]
                params = (loan, collateral, oracle, self.irm, spec.lltv)
                setup.append(self.tx(t, self.owner, oracle, "setPrice(uint256)",
                                     oracle_price(spec.price, loan_dec, coll_dec)))
            market_id = "0x" + keccak(eth_abi.encode([PARAMS], [params])).hex()
            self.markets[spec.label] = SeededMarket(spec.label, params, market_id, loan_dec, coll_dec)
            setup.append(self.tx(t, self.owner, self.morpho, f"createMarket({PARAMS})", params))
            if spec.fee:
                setup.append(self.tx(t, self.owner, self.morpho, f"setFee({PARAMS},uint256)", params, spec.fee))
        t.send(setup)

    def tx(self, t: Transactor, sender: str, to: str, signature: str, *args: Any, gas: int = GAS) -> dict:
        return t.tx(sender, to, calldata(signature, *args), gas)

    def _fund(self, t: Transactor, user: str, token: str, amount: int) -> list[dict]:
        return [
            self.tx(t, self.owner, token, "setBalance(address,uint256)", user, amount),
            self.tx(t, user, token, "approve(address,uint256)", self.morpho, 2**256 - 1),
        ]

    def _seed(self) -> None:
        """Fund every account first (one block), then supply, then add collateral and borrow."""
        s = self.scenario
        users = {a for entries in s.suppliers.values() for a, _ in entries}
        users |= {b.label for entries in s.borrowers.values() for b in entries}
        self.rpc.batch(("anvil_setBalance", [account(u), hex(10**21)]) for u in sorted(users | {"liquidator"}))
        t = Transactor(self.rpc)
        t.assume_fresh([account(u) for u in users])
        funding: dict[tuple[str, str], int] = {}
        supplies, borrows = [], []
        for label, entries in s.suppliers.items():
            m = self.markets[label]
            for user, amount in entries:
                a, raw = account(user), _units(amount, m.loan_decimals)
                funding[(a, m.loan)] = funding.get((a, m.loan), 0) + raw
                supplies.append((m, f"supply({PARAMS},uint256,uint256,address,bytes)", a, (m.params, raw, 0, a, b"")))
        for label, entries in s.borrowers.items():
            m = self.markets[label]
            assert m.collateral_decimals is not None
            price = oracle_price(next(x.price for x in s.markets if x.label == label), m.loan_decimals,
                                 m.collateral_decimals)
            for b in entries:
                a, collateral = account(b.label), _units(b.collateral, m.collateral_decimals)
                funding[(a, m.collateral)] = funding.get((a, m.collateral), 0) + collateral
                borrows.append((m, f"supplyCollateral({PARAMS},uint256,address,bytes)", a, (m.params, collateral, a, b"")))
                borrow = int(collateral * price // 10**36 * m.params[4] // WAD * b.fraction)
                if borrow:
                    borrows.append((m, f"borrow({PARAMS},uint256,uint256,address,address)", a,
                                    (m.params, borrow, 0, a, a)))
        t.send([tx for (a, token), raw in funding.items() for tx in self._fund(t, a, token, raw)])
        for actions in (supplies, borrows):
            t.send([self.tx(t, a, self.morpho, signature, *args) for _, signature, a, args in actions])
            for m, _, a, _ in actions:
                if a not in m.accounts:
                    m.accounts.append(a)

    # Chain control ------------------------------------------------------------------------------

    def block_number(self) -> int:
        return int(self.rpc.call("eth_blockNumber"), 16)

    def advance_time(self, seconds: int) -> None:
        """Move the clock and mine one block at the new time."""
        self.rpc.call("evm_increaseTime", hex(seconds))
        self.rpc.call("evm_mine")

    def snapshot(self) -> str:
        return self.rpc.call("evm_snapshot")

    def revert(self, snapshot_id: str) -> bool:
        return self.rpc.call("evm_revert", snapshot_id)

    # Reads --------------------------------------------------------------------------------------

    def call(self, to: str, signature: str, out: list[str], *args: Any, block: int | str = "latest",
             sender: str | None = None) -> tuple:
        tag = hex(block) if isinstance(block, int) else block
        request: dict[str, str] = {"to": to, "data": calldata(signature, *args)}
        if sender is not None:
            request["from"] = sender
        data = self.rpc.call("eth_call", request, tag)
        return eth_abi.decode(out, bytes.fromhex(data[2:]))

    def price(self, label: str, block: int | str = "latest") -> int:
        """The market oracle's ``price()``."""
        return self.call(self.markets[label].oracle, "price()", ["uint256"], block=block)[0]

    def set_price(self, label: str, price: int) -> None:
        """Set the market oracle's answer (scale 1e36) in a mined transaction."""
        Transactor(self.rpc).send([self.tx(Transactor(self.rpc), self.owner, self.markets[label].oracle,
                                           "setPrice(uint256)", price)])

    def position(self, label: str, user: str, block: int | str = "latest") -> tuple[int, int, int]:
        """``position(id, user)``: supply shares, borrow shares, collateral."""
        market_id = bytes.fromhex(self.markets[label].id[2:])
        return self.call(self.morpho, "position(bytes32,address)", ["uint256", "uint128", "uint128"],
                         market_id, user, block=block)

    def market(self, label: str, block: int | str = "latest") -> tuple[int, ...]:
        """``market(id)``: supply assets and shares, borrow assets and shares, lastUpdate, fee."""
        return self.call(self.morpho, "market(bytes32)", ["uint128"] * 6, bytes.fromhex(self.markets[label].id[2:]),
                         block=block)

    def lens_balances(self, label: str, user: str, block: int | str = "latest") -> tuple[int, int, int]:
        """``MorphoBalancesLib``: expected supply and borrow assets and the collateral of ``user``."""
        return self.call(self.lens, f"balances(address,{PARAMS},address)", ["uint256"] * 3,
                         self.morpho, self.markets[label].params, user, block=block)

    def lens_market(self, label: str, block: int | str = "latest") -> tuple[int, int, int, int]:
        """``MorphoBalancesLib.expectedMarketBalances``: supply assets and shares, borrow assets and shares."""
        return self.call(self.lens, f"marketBalances(address,{PARAMS})", ["uint256"] * 4,
                         self.morpho, self.markets[label].params, block=block)

    # Liquidation --------------------------------------------------------------------------------

    def liquidate(self, label: str, borrower: str, seized_assets: int = 0, repaid_shares: int = 0) -> dict[str, Any]:
        """A real ``liquidate`` by the funded liquidator; returns the decoded ``Liquidate`` event and receipt."""
        m = self.markets[label]
        t = Transactor(self.rpc)
        txs = self._fund(t, self.liquidator, m.loan, 10**40)
        txs.append(self.tx(t, self.liquidator, self.morpho, f"liquidate({PARAMS},address,uint256,uint256,bytes)",
                           m.params, borrower, seized_assets, repaid_shares, b""))
        receipt = t.send(txs)[-1]
        topic = "0x" + keccak(text="Liquidate(bytes32,address,address,uint256,uint256,uint256,uint256,uint256)").hex()
        (log,) = [entry for entry in receipt["logs"] if entry["topics"][0] == topic]
        names = ("repaid_assets", "repaid_shares", "seized_assets", "bad_debt_assets", "bad_debt_shares")
        values = eth_abi.decode(["uint256"] * 5, bytes.fromhex(log["data"][2:]))
        return {"receipt": receipt, "block": int(receipt["blockNumber"], 16), **dict(zip(names, values, strict=True))}

    def write_deployment_toml(self, path: Path, markets: list[str] | None = None) -> Path:
        """The deployment file of this node's Morpho (optionally naming its markets by label)."""
        lines = [
            'name = "local-morpho-blue"',
            'family = "morpho-blue"',
            'label = "Local anvil Morpho Blue fixture"',
            f"chain_id = {CHAIN_ID}",
            f'morpho = "{to_checksum_address(self.morpho)}"',
            f"start_block = {self.start_block}",
            'source = "tests/localchain/morpho.py fixture"',
        ]
        if markets is not None:
            lines.append("markets = [" + ", ".join(f'"{self.markets[k].id}"' for k in markets) + "]")
        path.write_text("\n".join(lines) + "\n")
        return path
