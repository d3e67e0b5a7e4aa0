"""The job-file validator: what it accepts, how it names the field it refuses, and that nothing it is
fed makes it fail with anything but a ``UsageError``."""

from __future__ import annotations

import copy
import string
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from defirisk.errors import InvalidParameter, UnknownDeployment, UsageError
from defirisk.jobs.jobfile import AlertRule, load_job, parse_job, parse_job_text
from defirisk.jobs.metrics import METRICS
from defirisk.snapshot import DEFAULT_BATCH_SIZE, DEFAULT_REORG_LAG
from tests.jobs.helpers import job_text

SOURCE = Path("/etc/defirisk/job.toml")


def valid() -> dict[str, Any]:
    """A complete, valid job document (as tomllib would return it)."""
    return {
        "job": {
            "name": "watch-1",
            "database": "data/defirisk.duckdb",
            "reorg_lag": 12,
            "cadence": "*/15 * * * *",
            "alert_file": "/var/lib/defirisk/alerts.jsonl",
            "retention": {"keep_last": 96, "max_age_days": 30},
        },
        "deployments": [
            {"deployment": "aave-v3-ethereum", "rpc_env": "ETH_RPC_URL"},
            {"deployment": "aave-v3-arbitrum", "rpc_env": "ARB_RPC", "verify": False, "batch_size": 250},
        ],
        "alerts": [
            {"metric": "debt_hf_below_1_usd", "change_above": 1e6},
            {"metric": "accounts_hf_below_1", "above": 10, "deployments": ["aave-v3-ethereum"]},
        ],
    }


def test_a_full_job_is_read_with_paths_from_its_folder() -> None:
    job = parse_job(valid(), SOURCE)
    assert job.name == "watch-1"
    assert job.database == Path("/etc/defirisk/data/defirisk.duckdb")
    assert job.alert_file == Path("/var/lib/defirisk/alerts.jsonl")
    assert (job.reorg_lag, job.cadence) == (12, "*/15 * * * *")
    assert (job.retention.keep_last, job.retention.max_age_days) == (96, 30)
    assert [(d.name, d.rpc_env, d.verify, d.batch_size) for d in job.deployments] == [
        ("aave-v3-ethereum", "ETH_RPC_URL", True, DEFAULT_BATCH_SIZE),
        ("aave-v3-arbitrum", "ARB_RPC", False, 250),
    ]
    assert job.deployments[1].deployment.chain_id == 42161
    assert job.alerts == (
        AlertRule("debt_hf_below_1_usd", "change_above", 1e6, ()),
        AlertRule("accounts_hf_below_1", "above", 10.0, ("aave-v3-ethereum",)),
    )
    document = job.to_dict()
    assert document["deployments"][0]["rpc_env"] == "ETH_RPC_URL"
    assert document["alerts"][1] == {
        "metric": "accounts_hf_below_1", "comparison": "above", "threshold": 10.0, "deployments": ["aave-v3-ethereum"],
    }


def test_optional_keys_take_their_defaults() -> None:
    data = {"job": {"name": "j", "database": "db.duckdb"},
            "deployments": [{"deployment": "aave-v3-ethereum", "rpc_env": "ETH_RPC_URL"}]}
    job = parse_job(data, SOURCE)
    assert job.reorg_lag == DEFAULT_REORG_LAG
    assert (job.cadence, job.alert_file, job.alerts) == (None, None, ())
    assert (job.retention.keep_last, job.retention.max_age_days) == (None, None)


def test_a_deployment_file_is_found_next_to_the_job_file(tmp_path: Path) -> None:
    (tmp_path / "deps").mkdir()
    (tmp_path / "deps" / "mine.toml").write_text(
        'name = "mine"\nfamily = "aave-v3"\nlabel = "x"\nchain_id = 5\nsource = "s"\n'
        'pool_addresses_provider = "0x2f39d218133afab8f2b819b1066c7e434ad94e9e"\n'
    )
    path = tmp_path / "job.toml"
    path.write_text(job_text({"name": "j", "database": "~/db.duckdb"},
                             [{"deployment": "deps/mine.toml", "rpc_env": "GOERLI"}]))
    job = load_job(path)
    assert job.deployments[0].name == "mine" and job.deployments[0].deployment.chain_id == 5
    assert job.database == Path("~/db.duckdb").expanduser()


def _set(path: str, value: Any) -> Any:
    """A mutation of ``valid()`` setting the dotted ``path`` (list indexes as numbers) to ``value``."""
    def apply(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = data
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        if value is _DELETE:
            del node[int(last) if last.isdigit() else last]
        else:
            node[int(last) if last.isdigit() else last] = value
    return apply


_DELETE = object()

REFUSED = [
    (_set("job.naem", "x"), "[job] unknown key 'naem' (did you mean 'name'?)"),
    (_set("job.name", _DELETE), "[job] name is required"),
    (_set("job.name", "has space"), "[job] name must be 1-64 letters"),
    (_set("job.database", ":memory:"), "[job] database must be a file"),
    (_set("job.database", 7), "[job] database must be a file path, got 7"),
    (_set("job.reorg_lag", -1), "[job] reorg_lag must be an integer from 0 to 10000"),
    (_set("job.reorg_lag", True), "[job] reorg_lag must be an integer"),
    (_set("job.reorg_lag", 1.5), "[job] reorg_lag must be an integer"),
    (_set("job.cadence", ["*/15"]), "[job] cadence must be a printable string"),
    (_set("job.alert_file", "data/defirisk.duckdb"), "[job] alert_file must not be the database file"),
    (_set("job.retention", {}), "[job.retention] needs keep_last, max_age_days or both"),
    (_set("job.retention.keep_last", 0), "[job.retention] keep_last must be an integer ≥ 1"),
    (_set("job.retention.max_age_days", float("nan")), "[job.retention] max_age_days must be a number of days from 0 (excluded) to 36500"),
    (_set("job.retention.keep", 3), "[job.retention] unknown key 'keep'"),
    (_set("job", "x"), "[job] must be a table"),
    (_set("deployments", []), "job.toml: deployments must be one or more [[deployments]] tables"),
    (_set("deployments", _DELETE), "job.toml: deployments is required"),
    (_set("deployments.0.rpc_url", "https://eth.example/v2/KEY"), "[[deployments]] #1 must not hold rpc_url"),
    (_set("deployments.1.rpc_env", "https://eth.example/v2/KEY"), "[[deployments]] #2 rpc_env names an environment variable"),
    (_set("deployments.1.rpc_env", "ETH-RPC"), "[[deployments]] #2 rpc_env must be an environment variable name"),
    (_set("deployments.0.rpc_env", _DELETE), "[[deployments]] #1 rpc_env is required"),
    (_set("deployments.0.verify", "yes"), "[[deployments]] #1 verify must be true or false"),
    (_set("deployments.0.batch_size", 0), "[[deployments]] #1 batch_size must be an integer from 1 to 10000"),
    (_set("deployments.0.chain", 1), "[[deployments]] #1 unknown key 'chain'"),
    (_set("deployments.1.deployment", "aave-v3-ethereum"), "lists deployment 'aave-v3-ethereum' twice (again as #2)"),
    (_set("deployments.0", "aave-v3-ethereum"), "[[deployments]] #1 must be a table"),
    (_set("alerts.0.metric", "debt_below_1_usd"), "[[alerts]] #1 metric is not a known metric 'debt_below_1_usd'; did you mean"),
    (_set("alerts.0.above", 3), "[[alerts]] #1 needs exactly one of above, below, change_above, change_below; got above, change_above"),
    (_set("alerts.0.change_above", _DELETE), "got none"),
    (_set("alerts.0.change_above", "1e6"), "[[alerts]] #1 change_above must be a finite number, got '1e6'"),
    (_set("alerts.0.change_above", float("inf")), "[[alerts]] #1 change_above must be a finite number"),
    (_set("alerts.0.change_above", 10**400), "[[alerts]] #1 change_above must be a finite number"),
    (_set("job.retention.max_age_days", 10**9), "[job.retention] max_age_days must be a number of days"),
    (_set("job.database", "~nosuchuser-defirisk/db"), "[job] database names the home folder of an unknown user"),
    (_set("alerts.1.deployments", ["aave-v3-base"]), "[[alerts]] #2 deployments names 'aave-v3-base', which is not a deployment"),
    (_set("alerts.1.deployments", "aave-v3-ethereum"), "[[alerts]] #2 deployments must be a list of deployment names"),
    (_set("alerts", {"metric": "debt_usd"}), "job.toml: alerts must be a list of [[alerts]] tables"),
    (_set("extra", 1), "job.toml: unknown key 'extra'"),
    (_set("job", _DELETE), "job.toml: [job] is required"),
]


@pytest.mark.parametrize(("mutate", "expected"), REFUSED, ids=[e for _, e in REFUSED])
def test_each_problem_is_refused_naming_its_field(mutate: Any, expected: str) -> None:
    data = valid()
    mutate(data)
    with pytest.raises(InvalidParameter) as caught:
        parse_job(data, SOURCE)
    message = str(caught.value)
    assert message.startswith(f"{SOURCE}: ") and expected in message
    assert "\n" not in message and "KEY" not in message


def test_an_unknown_deployment_keeps_its_error_and_names_the_field() -> None:
    data = valid()
    data["deployments"][0]["deployment"] = "aave-v3-etherium"
    with pytest.raises(UnknownDeployment, match=r"\[\[deployments\]\] #1 deployment: unknown deployment .*did you mean 'aave-v3-ethereum'"):
        parse_job(data, SOURCE)


@pytest.mark.parametrize("target", ["missing/dep.toml", "a" * 5000, "nul\x00.toml", "x" * 300 + "/y.toml"])
def test_unreadable_deployment_paths_are_usage_errors(target: str) -> None:
    data = valid()
    data["deployments"][0]["deployment"] = target
    with pytest.raises(UsageError, match=r"\[\[deployments\]\] #1 deployment"):
        parse_job(data, SOURCE)


def test_text_that_is_not_toml_is_refused_with_the_file_name(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameter, match=r"job.toml: not valid TOML"):
        parse_job_text("[job\nname = 1", tmp_path / "job.toml")
    with pytest.raises(InvalidParameter, match="cannot read the job file"):
        load_job(tmp_path / "absent.toml")
    (tmp_path / "binary.toml").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(InvalidParameter, match="cannot read the job file"):
        load_job(tmp_path / "binary.toml")


@pytest.mark.parametrize(
    ("comparison", "threshold", "previous", "value", "fires"),
    [
        ("above", 10, None, 11, True),
        ("above", 10, None, 10, False),
        ("above", 10, 10, 11, True),
        ("above", 10, 11, 12, False),  # already above: no new crossing
        ("above", 10, 12, 9, False),
        ("below", 1e6, None, 5e5, True),
        ("below", 1e6, 2e6, 1e6, False),
        ("below", 1e6, 2e6, 999_999.0, True),
        ("below", 1e6, 5e5, 4e5, False),
        ("change_above", 1e6, None, 5e9, False),  # nothing to compare with
        ("change_above", 1e6, 0, 1_000_001, True),
        ("change_above", 1e6, 0, 1e6, False),
        ("change_above", 1e6, 3e6, 2e6, False),
        ("change_below", -5, 10, 4, True),
        ("change_below", -5, 10, 5, False),
        ("change_below", -5, None, -100, False),
    ],
)
def test_rules_fire_on_crossings(comparison: str, threshold: float, previous: float | None, value: float,
                                 fires: bool) -> None:
    assert AlertRule("debt_usd", comparison, threshold).crossed(value, previous) is fires


# Fuzzing --------------------------------------------------------------------------------------------

toml_scalars = st.one_of(
    st.text(max_size=30), st.integers(), st.integers(min_value=-(10**400), max_value=10**400), st.floats(),
    st.booleans(), st.sampled_from(["~nosuchuser-defirisk/x", "~/x", ":memory:", "/", "aave-v3-base"]),
    st.dates(), st.datetimes(), st.times(),
)
toml_values = st.recursive(
    toml_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
known_keys = st.sampled_from(
    ["job", "deployments", "alerts", "name", "database", "reorg_lag", "cadence", "alert_file", "retention",
     "keep_last", "max_age_days", "deployment", "rpc_env", "verify", "batch_size", "metric", "rpc_url",
     *METRICS, "above", "below", "change_above", "change_below"]
)


def tables_in(node: Any) -> list[dict[str, Any]]:
    """Every table (dict) in a parsed TOML tree, ``node`` itself included."""
    if isinstance(node, dict):
        return [node, *(t for child in node.values() for t in tables_in(child))]
    if isinstance(node, list):
        return [t for child in node for t in tables_in(child)]
    return []


@st.composite
def mutated_documents(draw: st.DrawFn) -> dict[str, Any]:
    """``valid()`` with a few keys set to arbitrary values, deleted or added, anywhere in the tree."""
    data = copy.deepcopy(valid())
    for _ in range(draw(st.integers(1, 4))):
        table = draw(st.sampled_from(tables_in(data)))
        key = draw(st.sampled_from(sorted(table)) if table and draw(st.booleans()) else known_keys)
        if draw(st.integers(0, 4)) == 0:
            table.pop(key, None)
        else:
            table[key] = draw(toml_values)
    return data


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_documents())
def test_fuzzed_documents_give_a_job_or_a_usage_error(data: dict[str, Any]) -> None:
    try:
        job = parse_job(data, SOURCE)
    except UsageError as exc:
        assert str(exc).startswith(f"{SOURCE}: ")
        return
    assert job.deployments and all(rule.metric in METRICS for rule in job.alerts)


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=string.printable + "[]=\"'#é\x00", max_size=300))
def test_fuzzed_text_gives_a_job_or_a_usage_error(text: str) -> None:
    try:
        parse_job_text(text, SOURCE)
    except UsageError:
        return
