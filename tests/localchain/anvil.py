"""Start and stop an anvil node pinned by ``tests/node/package.json``.

The binary comes from the npm package ``@foundry-rs/anvil-linux-amd64`` so that every machine runs
the same anvil (``npm ci --prefix tests/node``). Each node listens on 127.0.0.1 on a free port and
is stopped by its own PID, on ``stop()``, on leaving the ``with`` block, or at interpreter exit.
"""

from __future__ import annotations

import atexit
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import requests

from tests.localchain.rpc import Rpc
from tests.localchain.toolchain import ANVIL_BIN, ToolchainMissing

CHAIN_ID = 31337

# A 1e9 block gas limit lets seeding put ~1,000 transactions in a block (anvil's cost per block
# grows with the size of the whole state, so fewer, fuller blocks are much faster) and lets one
# eth_call run 500 getUserAccountData views through Multicall3. Two funded dev accounts serve as
# the market's admin and treasury.
BASE_ARGS = (
    "--host", "127.0.0.1",
    "--chain-id", str(CHAIN_ID),
    "--no-request-size-limit",
    "--gas-limit", "1000000000",
    "--accounts", "2",
    "--balance", "1000000000",
)


class AnvilError(RuntimeError):
    """anvil could not be started, or exited while it was expected to run."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Anvil:
    """A running anvil process and an ``Rpc`` client bound to it."""

    def __init__(self, load_state: Path | None = None, dump_state: Path | None = None) -> None:
        if not ANVIL_BIN.exists():
            raise ToolchainMissing(f"{ANVIL_BIN} missing: run `npm ci --prefix tests/node`")
        self.port = _free_port()
        self.load_state = load_state
        self.rpc_url = f"http://127.0.0.1:{self.port}"
        args = [str(ANVIL_BIN), *BASE_ARGS, "--port", str(self.port)]
        if load_state is not None:
            args += ["--load-state", str(load_state)]
        if dump_state is not None:
            args += ["--dump-state", str(dump_state)]
        self._dumps = dump_state is not None
        # stderr goes to a file, not a pipe: a pipe nobody reads could fill and block anvil.
        self._stderr = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=self._stderr, start_new_session=True
        )
        atexit.register(self.stop)
        self.rpc = Rpc(self.rpc_url)
        self._wait_ready()

    def _wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self._stderr.seek(0)
                err = self._stderr.read().decode(errors="replace")
                raise AnvilError(f"anvil exited with {self.process.returncode}: {err[-2000:]}")
            try:
                if int(self.rpc.call("eth_chainId"), 16) == CHAIN_ID:
                    return
            except requests.ConnectionError:
                time.sleep(0.02)
        self.stop()
        raise AnvilError(f"anvil not ready on {self.rpc_url} after {timeout} s")

    def stop(self) -> None:
        """Terminate this node by its PID (SIGTERM, then SIGKILL); idempotent.

        On SIGTERM anvil writes its ``--dump-state`` file, plain JSON, which takes seconds for a
        large chain (mostly call traces), so such a node gets longer before it is killed.
        """
        atexit.unregister(self.stop)
        self.rpc.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=300 if self._dumps else 5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._stderr.close()

    def __enter__(self) -> Anvil:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
