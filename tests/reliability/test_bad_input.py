"""Bad input, end to end through the CLI: one ``Error: …`` line, the error's exit code (2 for usage
errors, 1 for a chain that is not what the input claims), no traceback, nothing written.

Every case runs in process (``CliRunner``); the cases in ``AS_PROCESS`` also as real processes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from eth_utils import to_checksum_address
from typer.testing import CliRunner

from defirisk.cli import app
from tests.localchain.helpers import LocalAave
from tests.reliability.conftest import CleanRun
from tests.reliability.figures import record
from tests.store.rawdb import folder_bytes

pytestmark = pytest.mark.chain

DEFIRISK = [sys.executable, "-c", "from defirisk.cli import main; main()"]
AS_PROCESS = {"unknown-deployment", "accounts-bad-checksum", "wrong-chain", "shock-abc", "scenario-huge"}


@dataclass(frozen=True)
class Ctx:
    """Paths and URLs the cases are built from. ``db`` is a copy of the clean run's database in
    ``stored/``; ``new_db`` a path in ``fresh/`` that must never come into existence."""

    tmp: Path
    dep: Path
    url: str
    db: Path
    new_db: Path
    aave: LocalAave

    def toml(self, name: str, **changes: object) -> Path:
        """The local deployment file with fields changed (None removes a field)."""
        lines = []
        for line in self.dep.read_text().splitlines():
            key = line.split("=", 1)[0].strip()
            if key not in changes:
                lines.append(line)
            elif changes[key] is not None:
                lines.append(f"{key} = {json.dumps(changes[key])}")
        path = self.tmp / name
        path.write_text("\n".join(lines) + "\n")
        return path

    def file(self, name: str, content: str | bytes) -> Path:
        path = self.tmp / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        return path

    def snap(self, *args: object, dep: Path | None = None) -> list[str]:
        """``snapshot`` of ``dep`` (default: the local market) at the head into the fresh path."""
        return ["snapshot", str(dep or self.dep), "--rpc-url", self.url, "--db", str(self.new_db), "--reorg-lag",
                "0", *map(str, args)]

    def stored(self, command: str, *args: object) -> list[str]:
        """An analysis command on the stored clean snapshot."""
        return [command, "--snapshot", "1", "--db", str(self.db), *map(str, args)]


def _checksum_typo(address: str) -> str:
    good = to_checksum_address(address)
    i = next(i for i, ch in enumerate(good) if i > 1 and ch.isalpha())
    return good[:i] + good[i].swapcase() + good[i + 1 :]


Case = tuple[str, Callable[[Ctx], list[str]], int, str]

CASES: list[Case] = [
    # Addresses.
    ("accounts-malformed", lambda c: c.snap("--accounts", c.file("a.txt", "0xc0ffee\n")), 2, "a.txt, line 1: not an address"),
    ("accounts-bad-checksum", lambda c: c.snap("--accounts", c.file("b.txt", "# ok\n" + _checksum_typo(
        c.aave.seeded_accounts[0].address) + "\n")), 2, "line 2: bad EIP-55 checksum"),
    ("accounts-not-utf8", lambda c: c.snap("--accounts", c.file("c.txt", b"\xff\xfe0x")), 2, "cannot read the accounts file"),
    ("accounts-missing-file", lambda c: c.snap("--accounts", c.tmp / "nope.txt"), 2, "cannot read the accounts file"),
    # Deployments.
    ("unknown-deployment", lambda c: ["snapshot", "aave-v3-etherum", "--rpc-url", c.url, "--db", str(c.new_db)], 2,
     "unknown deployment 'aave-v3-etherum'; did you mean 'aave-v3-ethereum'?"),
    ("deployment-missing-field", lambda c: c.snap(dep=c.toml("m.toml", chain_id=None)), 2, "missing field 'chain_id'"),
    ("deployment-wrong-type", lambda c: c.snap(dep=c.toml("t.toml", chain_id="31337")), 2,
     "field 'chain_id' must be int"),
    ("deployment-bad-address", lambda c: c.snap(dep=c.toml("a.toml", pool_addresses_provider="0x12")), 2,
     "field 'pool_addresses_provider': not an address"),
    ("deployment-unknown-family", lambda c: c.snap(dep=c.toml("f.toml", family="aave-v9")), 2,
     "field 'family' must be one of"),
    ("deployment-not-toml", lambda c: c.snap(dep=c.file("x.toml", "name = [")), 2, "not valid TOML"),
    ("deployment-missing-file", lambda c: c.snap(dep=c.tmp / "gone.toml"), 2, "no deployment file at"),
    # The chain is not what the input says.
    ("wrong-chain", lambda c: c.snap(dep=c.toml("w.toml", chain_id=1)), 1,
     "serves chain id 31337, but the deployment is on chain 1"),
    ("block-in-future", lambda c: c.snap("--block", 10**9), 1, "is beyond the node's head"),
    ("block-before-deployment", lambda c: c.snap("--block", "2", dep=c.toml("s.toml", start_block=5)), 1,
     "block 2 is before the deployment's first block 5"),
    ("block-not-a-number", lambda c: c.snap("--block", "12abc"), 2, "--block must be a block number"),
    ("block-negative", lambda c: c.snap("--block", "-5"), 2, "--block must be a block number"),
    ("not-the-protocol-erc20", lambda c: c.snap(dep=c.toml(
        "e.toml", pool_addresses_provider=c.aave.reserves["USDC"].underlying.lower())), 1,
     "is not an Aave v3 PoolAddressesProvider"),
    ("not-the-protocol-eoa", lambda c: c.snap(dep=c.toml("o.toml", pool_addresses_provider="0x" + "ab" * 20)), 1,
     "no contract code there"),
    ("rpc-not-http", lambda c: ["snapshot", str(c.dep), "--rpc-url", "ftp://127.0.0.1/x", "--db", str(c.new_db)], 2,
     "is not an http:// or https:// URL"),
    # Shocks.
    ("shock-abc", lambda c: c.stored("stress", "--shock", "WETH=abc"), 2, "write the move in percent"),
    ("shock-abc-percent", lambda c: c.stored("stress", "--shock", "WETH=abc%"), 2, "'abc%' is not a percentage"),
    ("shock-minus-150", lambda c: c.stored("stress", "--shock", "WETH=-150%"), 2, "between -100% and +1000%"),
    ("shock-no-percent", lambda c: c.stored("bad-debt", "--shock", "WETH=-0.3"), 2, "write the move in percent"),
    ("shock-unknown-asset", lambda c: c.stored("stress", "--shock", "WETHH=-10%"), 2, "no asset 'WETHH'"),
    ("shock-unknown-group", lambda c: c.stored("stress", "--shock", "group:nope=-10%"), 2, "unknown group 'nope'"),
    ("shock-nan", lambda c: c.stored("stress", "--shock", "WETH=nan%"), 2, "is not a percentage"),
    ("curves-unknown-asset", lambda c: c.stored("curves", "--asset", "NOPE"), 2, "NOPE"),
    # Scenario files.
    ("scenario-empty", lambda c: c.stored("stress", "--scenario", c.file("e.toml", "")), 2, "no [[scenario]] entries"),
    ("scenario-huge", lambda c: c.stored("stress", "--scenario", c.file("h.toml", "# x\n" * 300_000)), 2,
     "a scenario file may hold at most 1048576"),
    ("scenario-not-utf8", lambda c: c.stored("stress", "--scenario", c.file("u.toml", b"\xff[[scenario]]")), 2,
     "not UTF-8"),
    ("scenario-typo-key", lambda c: c.stored("stress", "--scenario", c.file("k.toml", '[[scenario]]\nname = "a"\n'
                                                                            'shock = ["WETH=-1%"]\n')), 2,
     "needs exactly one of 'shocks' or 'episode'"),
    ("scenario-bad-shock", lambda c: c.stored("bad-debt", "--scenario", c.file("b.toml", '[[scenario]]\nname = "a"\n'
                                                                                'shocks = ["WETH=-150%"]\n')), 2,
     "scenario 'a'"),
    ("scenario-too-many", lambda c: c.stored("stress", "--scenario", c.file("n.toml", "".join(
        f'[[scenario]]\nname = "s{i}"\nshocks = ["WETH=-1%"]\n' for i in range(1001)))), 2, "1001 scenarios; at most 1000"),
    ("scenario-missing", lambda c: c.stored("stress", "--scenario", c.tmp / "gone.toml"), 2, "cannot read"),
    # Report options.
    ("report-format", lambda c: c.stored("report", "--format", "xlsx", "--out", str(c.tmp / "r.xlsx")), 2,
     "--format must be one of"),
    ("audit-set-unknown-param", lambda c: c.stored("audit", "--set", "WETH.nope=1%"), 2, "nope"),
    ("audit-set-not-a-number", lambda c: c.stored("audit", "--set", "WETH.liquidation_threshold=abc"), 2, "abc"),
    ("audit-fail-on-malformed", lambda c: c.stored("audit", "--fail-on", "bad_debt_usd>>1"), 2, "bad_debt_usd>>1"),
    ("demo-out-is-a-file", lambda c: ["demo", "--out", str(c.file("a-file", "x")), "--paths", "1"], 1,
     "cannot create the demo folder"),
    # Stored data.
    ("snapshot-id-unknown", lambda c: ["stress", "--snapshot", "99", "--db", str(c.db), "--shock", "WETH=-1%"], 1,
     "99"),
    ("db-not-a-database", lambda c: ["snapshots", "--db", str(c.file("notes.duckdb", "hello"))], 1,
     "is not a DuckDB database"),
]


@pytest.fixture(scope="module")
def ctx(clean: CleanRun, local_aave: LocalAave, tmp_path_factory: pytest.TempPathFactory) -> Ctx:
    tmp = tmp_path_factory.mktemp("bad-input")
    (tmp / "stored").mkdir()
    db = tmp / "stored" / "db.duckdb"
    db.write_bytes(clean.db.read_bytes())
    return Ctx(tmp, clean.deployment, local_aave.rpc_url, db, tmp / "fresh" / "db.duckdb", local_aave)


def _check(case: Case, code: int, stdout: str, stderr: str, ctx: Ctx, before: dict[str, bytes]) -> None:
    name, _, expected, fragment = case
    assert code == expected, (name, code, stderr)
    assert "Traceback" not in stderr and stdout == "", (name, stdout, stderr)
    (line,) = stderr.splitlines()
    assert line.startswith("Error: ") and fragment in line, (name, line)
    assert not ctx.new_db.parent.exists(), f"{name}: a database was created"
    assert folder_bytes(ctx.db.parent) == before, f"{name}: the stored database changed"


OUTCOMES: Counter[str] = Counter()


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_with_its_exit_code_and_writes_nothing(ctx: Ctx, case: Case) -> None:
    before = folder_bytes(ctx.db.parent)
    result = CliRunner().invoke(app, case[1](ctx))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    _check(case, result.exit_code, result.stdout, result.stderr, ctx, before)
    OUTCOMES[f"exit {case[2]}"] += 1
    if case[0] in AS_PROCESS:
        process = subprocess.run([*DEFIRISK, *case[1](ctx)], capture_output=True, text=True, timeout=120)
        _check(case, process.returncode, process.stdout, process.stderr, ctx, before)
        OUTCOMES["also as a process"] += 1
    if sum(v for k, v in OUTCOMES.items() if k.startswith("exit")) == len(CASES):
        record(
            "bad_input_1_cli",
            area="Bad input",
            attack="malformed addresses and EIP-55 typos in --accounts files, unknown deployment name, deployment "
            "TOML with missing/mistyped/bad fields, RPC on another chain, blocks in the future or before the "
            "deployment, an ERC-20 or an EOA as the protocol, shocks like WETH=abc / -150% / nan%, empty, "
            "1 MiB+, non-UTF-8 and 1,001-scenario files, malformed --set / --fail-on / --format, unknown "
            "snapshot id, a text file as database, a file as the demo folder",
            tried=f"{len(CASES)} cases through the CLI in process, {OUTCOMES['also as a process']} of them also "
            "as real processes",
            outcome=f"{OUTCOMES['exit 2']} exit 2 (usage errors), {OUTCOMES['exit 1']} exit 1 (a chain, contract, "
            "snapshot or file other than the input claims), as errors.py maps them; every one a single "
            "'Error: …' line naming the field, line or value (the unknown name with its closest match); no "
            "traceback; no database created, the stored one byte-identical",
            cases=[c[0] for c in CASES],
        )


def test_option_values_typer_rejects_exit_2_without_traceback(ctx: Ctx) -> None:
    """Values refused by Typer's own parsing (a boxed usage message, not our one-liner)."""
    argvs = [
        ctx.snap("--batch-size", "0"),
        ctx.snap("--reorg-lag", "-1"),
        ctx.snap("--batch-size", "many"),
        ctx.stored("stress", "--top", "-3", "--shock", "WETH=-1%"),
        ctx.stored("bad-debt", "--mev-share", "1.5", "--shock", "WETH=-1%"),
        ctx.stored("bad-debt", "--paths", "0"),
        ["demo", "--paths", "0"],
        ["snapshot"],
        ["nosuchcommand"],
    ]
    for argv in argvs:
        result = CliRunner().invoke(app, argv)
        assert result.exit_code == 2 and isinstance(result.exception, SystemExit), (argv, result.output)
        assert "Traceback" not in result.stderr and "Usage:" in result.stderr
        assert not ctx.new_db.parent.exists()
    record(
        "bad_input_2_typer",
        area="Bad input",
        attack="option values the CLI's parser refuses (batch size 0, negative reorg lag, text for a number, "
        "negative --top, MEV share 1.5, 0 paths, missing argument, unknown command)",
        tried=f"{len(argvs)} command lines",
        outcome=f"{len(argvs)}/{len(argvs)} exit 2 with Typer's usage message naming the option (a boxed "
        "message, several lines); no traceback; nothing written",
    )
