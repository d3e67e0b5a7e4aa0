"""The operator recipes in ``cli/``: each is checked for syntax by the tool that would run it, and
against the others (the same wrapper, job file and folders everywhere)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from defirisk.jobs.jobfile import load_job
from tests.jobs.helpers import RPC_ENV, ChainJob, json_lines

CLI = Path(__file__).resolve().parents[2] / "cli"
WRAPPER = CLI / "defirisk-job.sh"
SERVICE = CLI / "defirisk-snapshot.service"
TIMER = CLI / "defirisk-snapshot.timer"
INSTALLED_WRAPPER = "/opt/defirisk/cli/defirisk-job.sh"
INSTALLED_JOB = "/etc/defirisk/job.toml"


# cron -------------------------------------------------------------------------------------------------

CRON_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day of month", 1, 31), ("month", 1, 12), ("day of week", 0, 7))
CRON_NAMES = {
    "month": {m: i for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), start=1)},
    "day of week": {d: i for i, d in enumerate("sun mon tue wed thu fri sat".split())},
}
_CRON_ENV = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\s*=")


def cron_values(field: str, name: str, low: int, high: int) -> set[int]:
    """The values a cron field matches; ``ValueError`` naming the field if it is malformed."""
    names = CRON_NAMES.get(name, {})

    def number(text: str) -> int:
        value = names.get(text.lower()) if text.lower() in names else int(text) if text.isdigit() else None
        if value is None or not low <= value <= high:
            raise ValueError(f"{name}: {text!r} is not in {low}-{high}")
        return value

    out: set[int] = set()
    for item in field.split(","):
        spec, _, step_text = item.partition("/")
        step = int(step_text) if step_text.isdigit() else None
        if step_text and (step is None or step < 1):
            raise ValueError(f"{name}: bad step in {item!r}")
        if spec == "*":
            first, last = low, high
        elif "-" in spec:
            first, last = (number(p) for p in spec.split("-", 1))
            if first > last:
                raise ValueError(f"{name}: empty range {spec!r}")
        else:
            first = number(spec)
            last = high if step else first
        out |= set(range(first, last + 1, step or 1))
    return out


def cron_jobs(text: str) -> list[tuple[list[set[int]], str]]:
    """The job lines of a user crontab: (matched values of the 5 fields, command)."""
    jobs = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#") or _CRON_ENV.match(stripped):
            continue
        parts = stripped.split(None, 5)
        if len(parts) < 6:
            raise ValueError(f"line {number}: 5 time fields and a command expected: {stripped!r}")
        fields = [cron_values(f, n, lo, hi) for f, (n, lo, hi) in zip(parts[:5], CRON_FIELDS, strict=True)]
        jobs.append((fields, parts[5]))
    return jobs


@pytest.mark.parametrize(
    "line",
    ["60 * * * * x", "*/0 * * * * x", "* 24 * * * x", "* * 0 * * x", "* * * 13 * x", "* * * * 8 x",
     "*/15 * * * x", "5-1 * * * * x", "* * * foo * x", "a * * * * x"],
)
def test_the_cron_parser_refuses_bad_lines(line: str) -> None:
    with pytest.raises(ValueError):
        cron_jobs(line)


def test_the_cron_line_runs_the_wrapper_every_15_minutes() -> None:
    (fields, command), = cron_jobs((CLI / "crontab.example").read_text())
    assert fields[0] == {0, 15, 30, 45}
    assert fields[1:] == [set(range(24)), set(range(1, 32)), set(range(1, 13)), set(range(8))]
    assert command.split() == [INSTALLED_WRAPPER, INSTALLED_JOB]
    assert cron_values("mon-fri", "day of week", 0, 7) == {1, 2, 3, 4, 5}


# systemd ----------------------------------------------------------------------------------------------


def unit_file(path: Path) -> dict[str, dict[str, list[str]]]:
    """A strict parse of a unit file: sections → key → values (keys may repeat, as in systemd)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current = None
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped[0] in "#;":
            continue
        if re.fullmatch(r"\[[A-Za-z]+\]", stripped):
            current = sections.setdefault(stripped[1:-1], defaultdict(list))
            continue
        match = re.fullmatch(r"([A-Za-z]+)=(.*)", stripped)
        if current is None or match is None:
            raise ValueError(f"{path.name}:{number}: not a key=value line in a section: {stripped!r}")
        current[match.group(1)].append(match.group(2))
    return sections


def systemd_analyze(*args: str) -> subprocess.CompletedProcess[str]:
    tool = shutil.which("systemd-analyze")
    assert tool, "systemd-analyze is missing: install Debian's systemd package (the Makefile's test target does)"
    return subprocess.run([tool, *args], capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture
def units(tmp_path: Path) -> tuple[Path, Path]:
    """The unit files with the wrapper at its place in this checkout (verify checks it is executable)."""
    service = tmp_path / SERVICE.name
    service.write_text(SERVICE.read_text().replace(INSTALLED_WRAPPER, str(WRAPPER)))
    timer = tmp_path / TIMER.name
    shutil.copy(TIMER, timer)
    return service, timer


def test_the_units_pass_systemd_analyze_verify_without_a_warning(units: tuple[Path, Path]) -> None:
    result = systemd_analyze("verify", *map(str, units))
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_verify_would_catch_a_typo(units: tuple[Path, Path]) -> None:
    service, _ = units
    service.write_text(service.read_text().replace("NoNewPrivileges=yes", "NoNewPrivilege=yes"))
    result = systemd_analyze("verify", str(service))
    assert "Unknown key" in result.stdout + result.stderr and "NoNewPrivilege" in result.stdout + result.stderr


def test_the_service_is_hardened(units: tuple[Path, Path]) -> None:
    service, _ = units
    # Exposure is reported ×10 against --threshold: 20 means "2.0 or better" on the 0-10 scale.
    result = systemd_analyze("security", "--offline=yes", "--threshold=20", str(service))
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr


def test_the_units_agree_with_the_wrapper_and_the_example_job() -> None:
    service = unit_file(SERVICE)["Service"]
    timer = unit_file(TIMER)
    assert service["Type"] == ["oneshot"]
    assert service["ExecStart"] == [f"{INSTALLED_WRAPPER} {INSTALLED_JOB}"]
    assert service["EnvironmentFile"] == ["/etc/defirisk/env"]
    for key, value in (("NoNewPrivileges", "yes"), ("ProtectSystem", "strict"), ("PrivateTmp", "yes"),
                       ("ProtectHome", "yes"), ("CapabilityBoundingSet", "")):
        assert service[key] == [value], key
    writable = [Path(p) for value in service["ReadWritePaths"] for p in value.split()]
    job = load_job(CLI / "job.example.toml")
    for path in (job.database, job.alert_file):
        assert path is not None and path.parent in writable, path
    assert timer["Timer"]["Unit"] == [SERVICE.name]
    assert timer["Install"]["WantedBy"] == ["timers.target"]
    (calendar,) = timer["Timer"]["OnCalendar"]
    shown = systemd_analyze("calendar", "--iterations=4", calendar).stdout
    assert re.search(r"Normalized form: \*-\*-\* \*:00/15:00", shown), shown


def test_the_example_job_parses() -> None:
    job = load_job(CLI / "job.example.toml")
    assert [d.rpc_env for d in job.deployments] == ["ETH_RPC_URL", "ARBITRUM_RPC_URL"]
    assert job.cadence == "*/15 * * * *" and job.alerts
    assert "://" not in (CLI / "job.example.toml").read_text()


# The wrapper --------------------------------------------------------------------------------------------


def test_the_wrapper_is_valid_bash_and_executable() -> None:
    assert subprocess.run(["bash", "-n", str(WRAPPER)], capture_output=True, check=False).returncode == 0
    assert WRAPPER.stat().st_mode & 0o111


def shim(folder: Path) -> Path:
    """A `defirisk` executable running this checkout with this interpreter."""
    path = folder / "defirisk"
    path.write_text(
        f'#!/bin/sh\nexec "{sys.executable}" -c '
        '"import defirisk.commands.jobs; from defirisk.cli import main; main()" "$@"\n'
    )
    path.chmod(0o755)
    return path


def wrapper(folder: Path, *args: str, env_file: str = "", bin_path: Path | None = None) -> subprocess.CompletedProcess[str]:
    (folder / "env").write_text(env_file)
    env = {
        "HOME": str(folder), "DEFIRISK_VENV": str(folder / "venv"), "DEFIRISK_LOG": str(folder / "log" / "job.log"),
        "DEFIRISK_ENV_FILE": str(folder / "env"), "PATH": "/usr/bin:/bin",
        "DEFIRISK_BIN": str(bin_path if bin_path is not None else shim(folder)),
    }
    return subprocess.run(["bash", str(WRAPPER), *args], capture_output=True, text=True, env=env, timeout=300,
                          check=False)


def test_the_wrapper_needs_a_job_file_and_a_defirisk(tmp_path: Path) -> None:
    result = wrapper(tmp_path)
    assert result.returncode == 2 and result.stderr.startswith("usage: defirisk-job.sh JOBFILE")
    result = wrapper(tmp_path, "job.toml", bin_path=tmp_path / "absent")
    assert result.returncode == 127 and "is not executable" in result.stderr


def test_the_wrapper_logs_passes_the_status_and_never_shows_the_url(tmp_path: Path) -> None:
    job = tmp_path / "job.toml"
    job.write_text('[job]\nname = "w"\ndatabase = "db.duckdb"\n'
                   '[[deployments]]\ndeployment = "aave-v3-ethereum"\nrpc_env = "WRAPPED_RPC"\n')
    env_file = (
        "# comment\n\n"
        'export WRAPPED_RPC="ftp://user:s3cretKEY@node.example/v2/s3cretKEY"\n'
        f"EVIL=$(touch {tmp_path}/pwned)\n"
        "not a setting s3cretKEY\n"
    )
    result = wrapper(tmp_path, str(job), env_file=env_file)
    assert result.returncode == 1
    assert result.stdout == ""
    assert "Error: aave-v3-ethereum: UsageError: RPC endpoint" in result.stderr
    assert "ignoring a malformed line" in result.stderr
    log = (tmp_path / "log" / "job.log").read_text().splitlines()
    assert re.fullmatch(rf"\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\dZ start job {re.escape(str(job))} \(pid \d+\)", log[0])
    assert log[1].startswith("Error: aave-v3-ethereum: UsageError")
    assert log[-1].endswith(f"end job {job}: exit 1")
    assert "s3cretKEY" not in result.stdout + result.stderr + "\n".join(log)
    assert not (tmp_path / "pwned").exists()


@pytest.mark.chain
def test_the_wrapper_runs_a_job_and_passes_its_alerts_through(chain_job: ChainJob) -> None:
    chain_job.write_job(alerts=[{"metric": "accounts", "above": 0}])
    secret = "s3cretKEY0123456789"
    result = wrapper(chain_job.folder, str(chain_job.job_file),
                     env_file=f"{RPC_ENV}={chain_job.aave.rpc_url}/?apikey={secret}\n")
    assert result.returncode == 0, result.stderr
    (alert,) = json_lines(result.stdout)
    assert alert["metric"] == "accounts" and alert["value"] > 0 and alert["previous"] is None
    log = (chain_job.folder / "log" / "job.log").read_text()
    assert result.stdout in log and log.rstrip().endswith("exit 0")
    assert secret not in result.stdout + result.stderr + log
    assert len(chain_job.snapshot_ids()) == 1
