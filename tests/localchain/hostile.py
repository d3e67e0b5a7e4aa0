"""Malicious tokens on the local Aave market: ERC-20s whose ``symbol()`` / ``name()`` answer anything.

``HostileERC20`` (Solidity below, compiled with the pinned solc-js 0.8.12) is a working ERC-20 whose
``symbol()`` and ``name()`` return, as their *whole* return data, raw bytes fixed at deployment, or
revert with an HTML reason. So one contract plays every shape real tokens answer in: an ABI
``string`` with HTML, quotes, SQL, spreadsheet formulas, terminal escapes or 10,000 characters, a
``string`` of invalid UTF-8, a bare ``bytes32`` (as MKR and SAI do), or a revert.

``list_hostile_reserve`` lists such a token on the running market exactly as Aave's own listing
does: an aggregator for its price, ``AaveOracle.setAssetSources``, ``PoolConfigurator.initReserves``
(fresh aToken / debt-token implementations, the USDC rate strategy), collateral parameters and
borrowing; every transaction from the market's admin, receipts checked. ``ZeroPriceOracle`` is a
fallback oracle that prices everything at 0, for the oracle-price tests.

The compiled code is cached in ``.cache/localchain`` keyed on the solc version and the source.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from dataclasses import dataclass

import eth_abi
from eth_utils import keccak, to_checksum_address
from web3.utils.address import get_create_address

from tests.localchain.aave import ZERO_ADDRESS, Deployment
from tests.localchain.contracts import calldata, deploy_data
from tests.localchain.rpc import Rpc
from tests.localchain.toolchain import CACHE_DIR, SOLC_DIR, SOLC_PACKAGE, installed_version
from tests.localchain.tx import Transactor

SOURCE = """\
// SPDX-License-Identifier: MIT
pragma solidity 0.8.12;

/// An ERC-20 whose symbol() and name() answer raw bytes chosen by its deployer, or revert.
contract HostileERC20 {
    mapping(address => uint256) public balanceOf;
    mapping(address => mapping(address => uint256)) public allowance;
    uint256 public totalSupply;
    uint8 public immutable decimals;
    bytes private symbolAnswer;
    bytes private nameAnswer;
    bool private immutable symbolReverts;
    bool private immutable nameReverts;

    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);

    constructor(uint8 decimals_, bytes memory symbol_, bool symbolReverts_, bytes memory name_, bool nameReverts_) {
        decimals = decimals_;
        symbolAnswer = symbol_;
        symbolReverts = symbolReverts_;
        nameAnswer = name_;
        nameReverts = nameReverts_;
    }

    function symbol() external view returns (string memory) {
        answer(symbolAnswer, symbolReverts);
    }

    function name() external view returns (string memory) {
        answer(nameAnswer, nameReverts);
    }

    function answer(bytes storage stored, bool reverts) private view {
        require(!reverts, "<script>alert('revert')</script>");
        bytes memory data = stored;
        assembly {
            return(add(data, 32), mload(data))
        }
    }

    function mint(address to, uint256 amount) external {
        totalSupply += amount;
        balanceOf[to] += amount;
        emit Transfer(address(0), to, amount);
    }

    function approve(address spender, uint256 amount) external returns (bool) {
        allowance[msg.sender][spender] = amount;
        emit Approval(msg.sender, spender, amount);
        return true;
    }

    function transfer(address to, uint256 amount) external returns (bool) {
        move(msg.sender, to, amount);
        return true;
    }

    function transferFrom(address from, address to, uint256 amount) external returns (bool) {
        allowance[from][msg.sender] -= amount;
        move(from, to, amount);
        return true;
    }

    function move(address from, address to, uint256 amount) private {
        balanceOf[from] -= amount;
        balanceOf[to] += amount;
        emit Transfer(from, to, amount);
    }
}

/// A fallback price oracle that prices every asset at zero.
contract ZeroPriceOracle {
    function getAssetPrice(address) external pure returns (uint256) {
        return 0;
    }
}
"""
SOURCE_NAME = "Hostile.sol"
GAS = 16_000_000
CONFIGURATOR = "PoolConfigurator"

_COMPILE_JS = """
const solc = require(process.argv[1]);
let input = '';
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => process.stdout.write(solc.compile(input)));
"""


class CompileError(RuntimeError):
    """solc-js reported an error."""


@dataclass(frozen=True)
class Answer:
    """What ``symbol()`` or ``name()`` answers: ``raw`` return data, or a revert."""

    raw: bytes = b""
    reverts: bool = False

    @classmethod
    def string(cls, text: str | bytes) -> Answer:
        """An ABI-encoded ``string`` (bytes are sent as they are, valid UTF-8 or not)."""
        data = text.encode("utf-8") if isinstance(text, str) else text
        return cls(eth_abi.encode(["bytes"], [data]))

    @classmethod
    def bytes32(cls, text: bytes) -> Answer:
        """A bare ``bytes32``, right-padded with NUL bytes (MKR's ``symbol()``)."""
        return cls(text.ljust(32, b"\0"))

    @classmethod
    def revert(cls) -> Answer:
        return cls(reverts=True)


@dataclass(frozen=True)
class HostileReserve:
    """A hostile token listed on the market: its addresses and what it answers."""

    label: str
    token: str
    aggregator: str
    symbol: Answer
    name: Answer
    decimals: int


def _compile() -> dict[str, str]:
    standard_json = {
        "language": "Solidity",
        "sources": {SOURCE_NAME: {"content": SOURCE}},
        "settings": {
            "optimizer": {"enabled": True, "runs": 200},
            "outputSelection": {"*": {"*": ["evm.bytecode.object"]}},
        },
    }
    result = subprocess.run(
        ["node", "-e", _COMPILE_JS, str(SOLC_DIR)],
        input=json.dumps(standard_json).encode(),
        capture_output=True,
        check=True,
    )
    output = json.loads(result.stdout)
    errors = [e["formattedMessage"] for e in output.get("errors", []) if e["severity"] == "error"]
    if errors:
        raise CompileError("\n".join(errors))
    contracts = output["contracts"][SOURCE_NAME]
    return {name: "0x" + c["evm"]["bytecode"]["object"] for name, c in contracts.items()}


def creation_code() -> dict[str, str]:
    """Creation bytecode (0x-hex) of ``HostileERC20`` and ``ZeroPriceOracle``, cached."""
    source_hash = hashlib.sha256(SOURCE.encode()).hexdigest()[:16]
    cached = CACHE_DIR / f"hostile-solc{installed_version(SOLC_PACKAGE)}-{source_hash}.json"
    if cached.exists():
        return json.loads(cached.read_text())
    code = _compile()
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(".tmp")
    tmp.write_text(json.dumps(code))
    tmp.replace(cached)
    return code


def _deploy(transactor: Transactor, sender: str, code: str) -> str:
    tx = transactor.tx(sender, None, code, GAS)
    (receipt,) = transactor.send([tx])
    return receipt["contractAddress"].lower()


def deploy_token(transactor: Transactor, sender: str, symbol: Answer, name: Answer, decimals: int = 18) -> str:
    """Deploy one ``HostileERC20``; return its lower-case address."""
    args = eth_abi.encode(
        ["uint8", "bytes", "bool", "bytes", "bool"], [decimals, symbol.raw, symbol.reverts, name.raw, name.reverts]
    )
    return _deploy(transactor, sender, creation_code()["HostileERC20"] + args.hex())


def deploy_zero_price_oracle(transactor: Transactor, sender: str) -> str:
    """Deploy a ``ZeroPriceOracle``; return its lower-case address."""
    return _deploy(transactor, sender, creation_code()["ZeroPriceOracle"])


def list_hostile_reserve(
    rpc: Rpc,
    deployment: Deployment,
    label: str,
    symbol: Answer,
    name: Answer,
    *,
    decimals: int = 18,
    price: int = 10**8,
    ltv_bps: int = 5_000,
    liquidation_threshold_bps: int = 6_000,
    liquidation_bonus_bps: int = 10_500,
) -> HostileReserve:
    """Deploy a hostile token and list it as a reserve of the market, priced at ``price`` (USD, 8
    decimals), usable as collateral and borrowable. The aToken and debt tokens get plain names
    (``label``); only the underlying's own ``symbol()`` / ``name()`` are hostile."""
    admin = deployment.admin
    transactor = Transactor(rpc)
    token = deploy_token(transactor, admin, symbol, name, decimals)
    nonce = int(rpc.call("eth_getTransactionCount", admin, "pending"), 16)
    names = ("MockAggregator", "AToken", "StableDebtToken", "VariableDebtToken")
    aggregator, a_token, stable, variable = (
        to_checksum_address(get_create_address(admin, nonce + i)) for i in range(len(names))
    )
    txs = [
        transactor.tx(admin, None, deploy_data("MockAggregator", price), GAS),
        *(transactor.tx(admin, None, deploy_data(n, deployment.pool), GAS) for n in names[1:]),
    ]
    configurator = deployment.pool_configurator
    strategy = deployment.reserves["USDC"].strategy
    init = (
        a_token, stable, variable, decimals, strategy, to_checksum_address(token), deployment.treasury,
        ZERO_ADDRESS, f"Aave Local {label}", f"aLoc{label}", f"Aave Local Variable Debt {label}",
        f"variableDebtLoc{label}", f"Aave Local Stable Debt {label}", f"stableDebtLoc{label}", b"",
    )
    for to, contract, fn, args in (
        (deployment.oracle, "AaveOracle", "setAssetSources", ([to_checksum_address(token)], [aggregator])),
        (configurator, CONFIGURATOR, "initReserves", ([init],)),
        (configurator, CONFIGURATOR, "configureReserveAsCollateral",
         (to_checksum_address(token), ltv_bps, liquidation_threshold_bps, liquidation_bonus_bps)),
        (configurator, CONFIGURATOR, "setReserveBorrowing", (to_checksum_address(token), True)),
    ):
        txs.append(transactor.tx(admin, to, calldata(contract, fn, *args), GAS))
    transactor.send(txs)
    return HostileReserve(label, token, aggregator.lower(), symbol, name, decimals)


def supply_hostile(rpc: Rpc, deployment: Deployment, user: str, token: str, amount: int) -> None:
    """``user`` mints ``amount`` of a hostile token and supplies it to the Pool (as collateral)."""
    transactor = Transactor(rpc)
    rpc.call("anvil_setBalance", user, hex(10**20))
    pool = deployment.pool
    mint = "0x" + (keccak(text="mint(address,uint256)")[:4] + eth_abi.encode(["address", "uint256"], [user, amount])).hex()
    approve = "0x" + (keccak(text="approve(address,uint256)")[:4] + eth_abi.encode(["address", "uint256"], [pool, amount])).hex()
    transactor.send([
        transactor.tx(user, token, mint, GAS),
        transactor.tx(user, token, approve, GAS),
        transactor.tx(user, pool, calldata("Pool", "supply", to_checksum_address(token), amount, user, 0), GAS),
    ])
