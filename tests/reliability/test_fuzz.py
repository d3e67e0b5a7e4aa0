"""Fuzzing the CLI's arguments and the TOML parsers (hypothesis): nothing may end in a traceback.

* Every command the CLI registers (found by walking Typer's command tree, so commands added later
  are fuzzed too) gets random command lines built from its own options and arguments, with values
  drawn from real files (the clean snapshot database, deployment, job, scenario and liquidity
  files), URLs (a node stub that refuses every method, a closed port, the local anvil, non-HTTP
  schemes), numbers and free text. Every run must exit 0–4 without an uncaught exception.
* Deployment, job, scenario and liquidity TOML files: random documents shaped like the real ones
  (their keys, nested tables and arrays of tables, with values of every TOML type) and random text,
  fed to each parser (which may only raise the project's errors, usage errors for the user's files)
  and to the commands that read them.

Runs are derandomised (a fixed seed per test), so a failure reproduces; paths in the fuzzed values
never leave the test's temporary folder (no ``/`` in free text; the working directory is there); the
retry policy's back-off sleeps are shortened, so a closed port costs milliseconds.
"""

from __future__ import annotations

import functools
import json
import math
import shutil
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import typer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import defirisk.snapshot as snapshot_module
from defirisk.chain import RpcClient
from defirisk.cli import app
from defirisk.deployments import parse_deployment
from defirisk.engine.scenario_file import parse_scenario_toml
from defirisk.errors import DefiriskError, UsageError
from defirisk.jobs.jobfile import parse_job_text
from defirisk.liquidation.liquidity import load_liquidity
from tests.localchain.helpers import LocalAave
from tests.reliability.conftest import CleanRun
from tests.reliability.figures import breakdown, record
from tests.reliability.test_rpc_faults import FAST, closed_port

pytestmark = pytest.mark.chain

EXIT_CODES = {0, 1, 2, 3, 4}
FUZZ = settings(deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
CLI_EXAMPLES = 260
PARSER_EXAMPLES = 200
FILE_CLI_EXAMPLES = 25


class _RefusingNode(BaseHTTPRequestHandler):
    """Answers every JSON-RPC request with "method not found": a node that fails fast, for good."""

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        items = body if isinstance(body, list) else [body]
        answers = [{"jsonrpc": "2.0", "id": i.get("id"), "error": {"code": -32601, "message": "method not found"}}
                   for i in items]
        payload = json.dumps(answers if isinstance(body, list) else answers[0]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent."""


@pytest.fixture(scope="module")
def refusing_node() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _RefusingNode)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def files(clean: CleanRun, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Real input files of every kind, in a folder of their own."""
    folder = tmp_path_factory.mktemp("fuzz-inputs")
    db = folder / "snapshots.duckdb"
    shutil.copyfile(clean.db, db)
    dep = folder / "local.toml"
    shutil.copyfile(clean.deployment, dep)
    scenario = folder / "scenario.toml"
    scenario.write_text('[[scenario]]\nname = "a"\nshocks = ["WETH=-30%", "group:stables=-2%"]\n')
    job = folder / "job.toml"
    job.write_text(f'[job]\nname = "fuzz"\ndatabase = "job.duckdb"\nreorg_lag = 0\n\n[[deployments]]\n'
                   f'deployment = "{dep}"\nrpc_env = "FUZZ_RPC"\n')
    liquidity = folder / "liquidity.toml"
    liquidity.write_text('[default]\nkind = "constant_product"\ndepth_usd = 5e6\n')
    text = folder / "notes.txt"
    text.write_text("not a database\n")
    return {"db": db, "dep": dep, "scenario": scenario, "job": job, "liquidity": liquidity, "text": text,
            "folder": folder}


#: Commands left out of random command lines: ``demo`` imports and audits 29,369 real accounts
#: (about 20 s a run); its bad options are cases of ``test_bad_input``.
SKIPPED = {("demo",)}
#: Commands whose Monte Carlo default (1,000 paths) is capped in fuzzed runs unless ``--paths`` is given.
MONTE_CARLO = {"audit", "report"}


def leaf_commands() -> list[tuple[tuple[str, ...], Any]]:
    """Every runnable command of the CLI as (path, command), walking groups (``SKIPPED`` left out)."""
    found = []

    def walk(command: Any, path: tuple[str, ...]) -> None:
        if hasattr(command, "commands"):
            for name, sub in sorted(command.commands.items()):
                walk(sub, (*path, name))
        elif path not in SKIPPED:
            found.append((path, command))

    walk(typer.main.get_command(app), ())
    return found


FREE_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="/\\~\x00"), max_size=24
).map(lambda s: "dot" if s in (".", "..") else s)


def values(files: dict[str, Path], urls: list[str]) -> st.SearchStrategy[str]:
    pool = [str(p) for name, p in files.items() if name != "folder"] + [str(files["folder"])] + urls + [
        "missing.toml", "missing.duckdb", "out", "1", "0", "-1", "2", "abc", "", " ", "latest", "nan", "inf",
        "-inf", "1e3", "-0", "99999999999999999999", "WETH=-30%", "WETH=abc", "WETH=-150%", "CRV=+1000%",
        "group:eth=-20%,USDC=-5%", "group:nope=-1%", "WETH", "CRV", "0x" + "ab" * 20, "2022-06", "24h", "7d",
        "0h", "bootstrap", "student-t", "csv", "parquet", "json", "list", "debt_hf_below_1_usd",
        "aave-v3-ethereum", "aave-v3-etherum", "local-aave-v3", "--json", "-q", "--help",
    ]
    return st.one_of(st.sampled_from(pool), st.integers(-3, 40).map(str), FREE_TEXT)


def typed_values(files: dict[str, Path], urls: list[str]) -> dict[str, st.SearchStrategy[str]]:
    """Values that make sense for an option of that name (so that runs get past the parser)."""
    small = st.integers(-2, 12).map(str)
    return {
        "--db": st.sampled_from([str(files["db"]), str(files["text"]), "new.duckdb", str(files["folder"])]),
        "--snapshot": st.sampled_from(["1", "2", "0", "-1"]),
        "--rpc-url": st.sampled_from(urls),
        "--shock": st.sampled_from(["WETH=-30%", "WETH=-100%", "CRV=+1000%", "group:eth=-20%,USDC=-5%", "USDC=0%",
                                    "WETH=-30%,WETH=+30%", "WBTC=-99.9%", "0x" + "ab" * 20 + "=-5%"]),
        "--scenario": st.sampled_from([str(files["scenario"]), str(files["text"]), "missing.toml"]),
        "--liquidity": st.sampled_from([str(files["liquidity"]), str(files["scenario"]), "missing.toml"]),
        "--asset": st.sampled_from(["WETH", "CRV", "group:eth", "group:stables", "USDC", "nope"]),
        "--episode": st.sampled_from(["2022-06", "2020-03", "2022-11", "2022", "nope"]),
        "--paths": st.integers(1, 30).map(str),
        "--horizon": st.sampled_from(["1h", "6h", "24h", "2d", "0h", "x"]),
        "--step": st.sampled_from(["1h", "15m", "2h", "0h"]),
        "--method": st.sampled_from(["bootstrap", "student-t", "gauss"]),
        "--top": small, "--last": small, "--seed": small, "--wait": st.sampled_from(["0", "0.1"]),
        "--gas-price": st.sampled_from(["0", "30", "1e6", "-1", "nan"]),
        "--mev-share": st.sampled_from(["0", "0.5", "1", "2", "nan"]),
        "--block": st.sampled_from(["latest", "1", "7", "99999999", "abc"]),
        "--reorg-lag": small, "--batch-size": small,
        "--format": st.sampled_from(["csv", "parquet", "json", "markdown", "html", "xlsx"]),
        "--out": st.sampled_from(["out", "out.csv", "report.md", "sub", str(files["text"])]),
        "--metric": st.sampled_from(["list", "debt_hf_below_1_usd", "accounts", "nope"]),
        "--accounts": st.sampled_from([str(files["text"]), "missing.txt"]),
        "--eth-price": st.sampled_from(["1800", "0", "-5", "nan", "1e308"]),
        "--set": st.sampled_from(["WETH.liquidation_threshold=78%", "WETH.ltv=2", "CRV.liquidation_bonus=-5%",
                                  "NOPE.ltv=1%", "WETH.nope=1%", "WETH.liquidation_threshold=abc"]),
        "--max-change": st.sampled_from(["liquidation_threshold=2%", "none", "ltv=abc", "nope=1%"]),
        "--fail-on": st.sampled_from(["bad_debt_usd>1e6", "bad_debt_usd>0", "nope>1", "bad_debt_usd>>1", "x"]),
        "deployment": st.sampled_from([str(files["dep"]), "local-aave-v3", "aave-v3-ethereum", "missing.toml"]),
        "jobfile": st.sampled_from([str(files["job"]), str(files["dep"]), "missing.toml"]),
    }


@st.composite
def command_lines(
    draw: st.DrawFn, commands: list[tuple[tuple[str, ...], Any]], value: st.SearchStrategy[str],
    typed: dict[str, st.SearchStrategy[str]],
) -> list[str]:
    path, command = draw(st.sampled_from(commands))
    params = [p for p in command.params if p.name != "help"]
    argv = list(path)

    def value_for(name: str) -> str:
        return draw(typed[name]) if name in typed and draw(st.integers(0, 3)) else draw(value)

    for param in draw(st.lists(st.sampled_from(params), max_size=6)) if params else []:
        if param.param_type_name == "argument":
            argv.append(value_for(param.name))
            continue
        option = draw(st.sampled_from(param.opts))
        argv.append(option)
        if not getattr(param, "is_flag", False) and draw(st.integers(0, 9)):
            argv.append(value_for(param.opts[0]))
    for _ in range(draw(st.integers(0, 2))):
        argv.insert(draw(st.integers(len(path), len(argv))), draw(value))
    return argv


@st.composite
def plausible_lines(
    draw: st.DrawFn, commands: list[tuple[tuple[str, ...], Any]], value: st.SearchStrategy[str],
    typed: dict[str, st.SearchStrategy[str]],
) -> list[str]:
    """A command line that gets past the parser more often: every required parameter, the stored
    snapshot where the command reads one, and a few optional ones, mostly with sensible values."""
    path, command = draw(st.sampled_from(commands))
    argv = list(path)
    names = {p.opts[0] for p in command.params}
    stored = {"--snapshot", "--db"} <= names and draw(st.integers(0, 3)) > 0
    for param in command.params:
        if param.name == "help":
            continue
        name = param.opts[0]
        wanted = param.required or (stored and name in ("--snapshot", "--db")) or draw(st.integers(0, 3)) == 0
        if stored and param.param_type_name == "argument":
            wanted = False
        if not wanted:
            continue
        chosen = draw(typed[name]) if name in typed and draw(st.integers(0, 5)) else draw(value)
        if stored and name == "--snapshot":
            chosen = "1"
        if param.param_type_name == "argument":
            argv.append(chosen)
        elif getattr(param, "is_flag", False):
            argv.append(name)
        else:
            argv += [name, chosen]
    return argv


def invoke(argv: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Run the CLI in process; fail on an uncaught exception, a traceback or a foreign exit code."""
    result = CliRunner().invoke(app, argv, env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), (argv, repr(result.exception))
    assert result.exit_code in EXIT_CODES, (argv, result.exit_code)
    assert "Traceback" not in result.output, (argv, result.output)
    return result.exit_code, result.output


def test_random_command_lines_never_end_in_a_traceback(
    files: dict[str, Path], refusing_node: str, local_aave: LocalAave, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(snapshot_module, "RpcClient", functools.partial(RpcClient, **FAST))
    commands = leaf_commands()
    urls = [refusing_node, f"http://127.0.0.1:{closed_port()}", local_aave.rpc_url, "ftp://127.0.0.1/x", "http://",
            refusing_node + "/v2/KEY?apikey=SECRET"]
    env = {"DEFIRISK_DB": str(tmp_path / "default.duckdb"), "ETH_RPC_URL": refusing_node, "FUZZ_RPC": refusing_node}
    codes: Counter[int] = Counter()
    per_command: Counter[str] = Counter()

    value, typed = values(files, urls), typed_values(files, urls)

    @settings(FUZZ, max_examples=CLI_EXAMPLES)
    @given(argv=st.one_of(command_lines(commands, value, typed), plausible_lines(commands, value, typed)))
    def run(argv: list[str]) -> None:
        if argv[0] in MONTE_CARLO and "--paths" not in argv:
            argv = [*argv, "--paths", "2"]
        code, _ = invoke(argv, env)
        codes[code] += 1
        per_command[" ".join(argv[:2] if argv[0] == "job" else argv[:1])] += 1

    run()
    assert set(per_command) == {" ".join(path) for path, _ in commands}
    assert {"audit", "report"} <= set(per_command)
    assert codes[2] and codes[0]
    record(
        "fuzz_1_cli_argv",
        area="Fuzzing",
        attack="random command lines for every registered command (its own options and arguments; values "
        "from real files, URLs of a refusing node / closed port / anvil / ftp, numbers, free Unicode text)",
        tried=f"{sum(codes.values())} command lines (hypothesis, derandomised) over {len(commands)} commands: "
        f"{breakdown(per_command)}",
        outcome=f"{', '.join(f'{codes[k]} exit {k}' for k in sorted(codes))}; 0 tracebacks, 0 uncaught exceptions",
        codes=dict(codes), per_command=dict(per_command),
    )


# TOML documents shaped like each file format ------------------------------------------------------

SCALARS = st.one_of(
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.sampled_from([0, 1, -1, 31337, 10**6, 2**64]),
    st.floats(allow_nan=True, allow_infinity=True),
    FREE_TEXT,
    st.sampled_from([
        "aave-v3", "comet", "0x" + "ab" * 20, "0x" + "AB" * 20, "0xabc", "WETH=-30%", "WETH=abc", "group:majors=-40%",
        "2022-06", "2022-06_steth_3ac", "episode", "window", "1h", "constant_product", "depth_table",
        "debt_hf_below_1_usd", "accounts_hf_below_1", "ETH_RPC_URL", "db.duckdb", ":memory:", "*/15 * * * *",
        "local-aave-v3", "aave-v3-ethereum", "",
    ]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(FREE_TEXT, inner, max_size=3)),
    max_leaves=8,
)


def toml_value(value: Any) -> str:
    """``value`` as an inline TOML value (strings JSON-escaped, which TOML reads the same way)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{json.dumps(k, ensure_ascii=False)} = {toml_value(v)}" for k, v in value.items()) + "}"


def toml_document(document: dict[str, Any]) -> str:
    """Scalars first, then ``[table]`` for dicts and ``[[table]]`` for lists of dicts."""
    lines, tables = [], []
    for key, value in document.items():
        name = json.dumps(key, ensure_ascii=False)
        if isinstance(value, dict):
            tables += [f"[{name}]", *(f"{json.dumps(k, ensure_ascii=False)} = {toml_value(v)}" for k, v in value.items())]
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for row in value:
                tables += [f"[[{name}]]", *(f"{json.dumps(k, ensure_ascii=False)} = {toml_value(v)}"
                                            for k, v in row.items())]
        else:
            lines.append(f"{name} = {toml_value(value)}")
    return "\n".join(lines + tables) + "\n"


def table(keys: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """A table whose keys are mostly the format's own, with values of any type."""
    key = st.one_of(st.sampled_from(keys), st.sampled_from(keys), FREE_TEXT)
    return st.dictionaries(key, VALUES, max_size=len(keys) + 1)


DEPLOYMENT_KEYS = ["name", "family", "chain_id", "label", "source", "start_block", "pool_addresses_provider",
                   "comptroller", "comet", "morpho"]
CURVE_KEYS = ["asset", "symbol", "kind", "depth_usd", "sizes_usd", "price_impacts", "fee_bps", "source", "date",
              "assumption", "note"]
#: A valid document of each format; fuzzing mutates it (values replaced, keys dropped or added) so
#: that runs reach the checks behind the first one.
VALID: dict[str, dict[str, Any]] = {
    "deployment": {"name": "fuzz", "family": "aave-v3", "chain_id": 31337, "label": "Fuzz", "source": "test",
                   "start_block": 1, "pool_addresses_provider": "0x" + "ab" * 20},
    "job": {
        "job": {"name": "fuzz", "database": "db.duckdb", "reorg_lag": 0, "cadence": "*/5 * * * *",
                "alert_file": "alerts.jsonl", "retention": {"keep_last": 3, "max_age_days": 7.5}},
        "deployments": [{"deployment": "aave-v3-ethereum", "rpc_env": "FUZZ_RPC", "verify": True, "batch_size": 100}],
        "alerts": [{"metric": "debt_hf_below_1_usd", "above": 1e6, "deployments": ["aave-v3-ethereum"]},
                   {"metric": "accounts_hf_below_1", "change_above": 3}],
    },
    "scenario": {
        "groups": {"majors": ["WETH", "WBTC"]},
        "symbols": {"sDAI": ["DAI"]},
        "scenario": [{"name": "a", "description": "d", "shocks": ["WETH=-30%", "group:majors=-10%"]},
                     {"name": "b", "episode": "2022-06", "anchor": "episode", "step": "1h"}],
    },
    "liquidity": {
        "meta": {"source": "s", "date": "2025-01-31"},
        "curve": [{"asset": "0x" + "ab" * 20, "symbol": "WETH", "kind": "constant_product", "depth_usd": 2e9,
                   "fee_bps": 5, "assumption": True},
                  {"symbol": "CRV", "kind": "depth_table", "sizes_usd": [1e6, 1e7], "price_impacts": [0.01, 0.1]}],
        "default": {"kind": "constant_product", "depth_usd": 5e6},
    },
}


@st.composite
def mutated(draw: st.DrawFn, valid: Any) -> Any:
    """``valid`` with each value kept (mostly), replaced by a random one, or dropped, recursively."""
    if isinstance(valid, dict):
        out = {}
        for key, value in valid.items():
            fate = draw(st.integers(0, 19))
            if fate == 0:
                continue
            out[key] = draw(VALUES) if fate == 1 else draw(mutated(value))
        if draw(st.integers(0, 19)) == 0:
            out[draw(FREE_TEXT)] = draw(VALUES)
        return out
    if isinstance(valid, list) and valid and all(isinstance(v, dict) for v in valid):
        return [draw(mutated(v)) for v in valid if draw(st.integers(0, 7))]
    return draw(VALUES) if draw(st.integers(0, 19)) == 0 else valid


FORMATS: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "deployment": table(DEPLOYMENT_KEYS),
    "job": st.fixed_dictionaries({}, optional={
        "job": table(["name", "database", "reorg_lag", "cadence", "alert_file", "retention"]),
        "deployments": st.lists(table(["deployment", "rpc_env", "verify", "batch_size"]), max_size=3),
        "alerts": st.lists(table(["metric", "deployments", "above", "below", "change_above", "change_below"]),
                           max_size=3),
    }),
    "scenario": st.fixed_dictionaries({}, optional={
        "groups": st.dictionaries(FREE_TEXT, VALUES, max_size=3),
        "symbols": st.dictionaries(FREE_TEXT, VALUES, max_size=3),
        "scenario": st.lists(table(["name", "description", "shocks", "episode", "anchor", "step"]), max_size=3),
    }),
    "liquidity": st.fixed_dictionaries({}, optional={
        "meta": table(["source", "date"]),
        "curve": st.lists(table(CURVE_KEYS), max_size=3),
        "default": table(CURVE_KEYS),
    }),
}


def parse(kind: str, text: str, folder: Path) -> None:
    """Feed ``text`` to the parser of ``kind`` (from a file where the parser reads files)."""
    if kind == "scenario":
        parse_scenario_toml(text)
    elif kind == "job":
        parse_job_text(text, folder / "job.toml")
    else:
        path = folder / f"{kind}.toml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        parse_deployment(path) if kind == "deployment" else load_liquidity(path)


#: The project error each parser may raise: usage errors for the user's own files; the liquidity
#: loader reports a malformed curve as ``DataError`` (exit 1).
ALLOWED: dict[str, type[DefiriskError]] = {
    "deployment": UsageError, "job": UsageError, "scenario": UsageError, "liquidity": DefiriskError,
}


@pytest.mark.parametrize("kind", sorted(FORMATS))
def test_random_toml_documents_only_raise_the_projects_errors(kind: str, tmp_path: Path) -> None:
    outcomes: Counter[str] = Counter()

    def check(text: str) -> None:
        try:
            parse(kind, text, tmp_path)
            outcomes["accepted"] += 1
        except ALLOWED[kind] as exc:
            assert str(exc).strip() and "\n" not in str(exc).strip(), repr(exc)
            outcomes[type(exc).__name__] += 1

    @settings(FUZZ, max_examples=PARSER_EXAMPLES)
    @given(document=st.one_of(mutated(VALID[kind]), mutated(VALID[kind]), FORMATS[kind]))
    def shaped(document: dict[str, Any]) -> None:
        check(toml_document(document))

    @settings(FUZZ, max_examples=PARSER_EXAMPLES // 4)
    @given(text=st.one_of(st.text(max_size=200), st.text(alphabet="[]{}=\"'.,#\n abc123_-", max_size=200)))
    def raw(text: str) -> None:
        check(text)

    shaped()
    raw()
    record(
        f"fuzz_2_toml_{kind}",
        area="Fuzzing",
        attack=f"random {kind} TOML files: documents with the format's keys, tables and arrays of tables holding "
        "values of every TOML type (nan, inf, 2^64, Unicode), and raw random text",
        tried=f"{sum(outcomes.values())} documents (hypothesis, derandomised)",
        outcome=f"{breakdown(outcomes)}; 0 other exceptions; every message one line",
        outcomes=dict(outcomes),
    )


def test_random_files_through_the_commands_that_read_them(
    files: dict[str, Path], refusing_node: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    env = {"DEFIRISK_DB": str(tmp_path / "default.duckdb"), "FUZZ_RPC": refusing_node}
    stored = ["--snapshot", "1", "--db", str(files["db"])]
    commands = {
        "deployment": lambda p: ["snapshot", str(p), "--rpc-url", refusing_node, "--db", str(tmp_path / "x.duckdb")],
        "job": lambda p: ["job", "check", str(p)],
        "scenario": lambda p: ["stress", *stored, "--scenario", str(p), "--top", "1"],
        "liquidity": lambda p: ["bad-debt", *stored, "--shock", "WETH=-20%", "--liquidity", str(p)],
    }
    codes: Counter[tuple[str, int]] = Counter()

    @settings(FUZZ, max_examples=FILE_CLI_EXAMPLES * len(commands))
    @given(kind=st.sampled_from(sorted(commands)), data=st.data())
    def run(kind: str, data: st.DataObject) -> None:
        path = tmp_path / f"{kind}.toml"
        document = data.draw(st.one_of(mutated(VALID[kind]), FORMATS[kind]))
        path.write_text(toml_document(document), encoding="utf-8", errors="surrogatepass")
        code, _ = invoke(commands[kind](path), env)
        codes[(kind, code)] += 1

    run()
    assert not (tmp_path / "x.duckdb").exists()
    record(
        "fuzz_3_toml_cli",
        area="Fuzzing",
        attack="random deployment / job / scenario / liquidity files given to `snapshot`, `job check`, "
        "`stress --scenario` and `bad-debt --liquidity`",
        tried=f"{sum(codes.values())} runs (hypothesis, derandomised)",
        outcome="; ".join(
            f"{kind}: " + ", ".join(f"{n} exit {code}" for (k, code), n in sorted(codes.items()) if k == kind)
            for kind in sorted(commands)
        ) + "; 0 tracebacks",
        codes={f"{k} {c}": n for (k, c), n in codes.items()},
    )
