"""The project's exception tree.

Library code raises only these; the CLI maps them to exit codes (``DefiriskError`` → 1,
``UsageError`` → 2, ``GateFailed`` → 3).

    DefiriskError
    ├── UsageError                 bad input from the user (exit code 2)
    │   ├── UnknownDeployment
    │   ├── InvalidDeployment      a deployment TOML with missing or wrong fields
    │   ├── InvalidAddress
    │   ├── InvalidScenario        a malformed shock, scenario file or episode name
    │   └── InvalidParameter       a malformed --set, --fail-on or option value
    ├── ChainError                 talking to the node failed
    │   ├── RpcUnavailable         the node cannot be reached (after retries)
    │   ├── RpcError               the node answered with an error we do not retry
    │   ├── WrongChain             the node's chain id differs from the deployment's
    │   ├── BlockNotAvailable      a block in the future, before the deployment, or pruned
    │   ├── ReorgDetected          the pinned block's hash changed during a snapshot
    │   ├── MulticallFailed        sub-calls of a Multicall3 batch failed
    │   └── NotTheProtocol         the contract at an address is not what the deployment says
    ├── ReconciliationError        our reference maths disagrees with the protocol's own view
    ├── StoreError                 the database cannot be used
    │   ├── SnapshotNotFound
    │   ├── SchemaVersionError     written by a newer (or unknown) schema version
    │   ├── DatabaseLocked         another writer holds the database
    │   │   └── JobLocked          another job run holds the job's lock (exit code 4)
    │   └── CorruptDatabase        not a defirisk database, or damaged
    ├── DataError                  bundled or imported data is missing or inconsistent
    ├── OutputError                a report or export could not be written
    └── GateFailed                 a --fail-on condition held (exit code 3)
"""

from __future__ import annotations


class DefiriskError(Exception):
    """Root of every error defirisk raises on purpose."""

    exit_code = 1


class UsageError(DefiriskError):
    """The user's input is invalid; nothing was done."""

    exit_code = 2


class UnknownDeployment(UsageError):
    """No deployment of that name, and no TOML file at that path."""


class InvalidDeployment(UsageError):
    """A deployment TOML is missing a field or has a wrong one."""


class InvalidAddress(UsageError):
    """A malformed address or one with a wrong EIP-55 checksum."""


class InvalidScenario(UsageError):
    """A malformed shock, scenario file, episode name or path."""


class InvalidParameter(UsageError):
    """A malformed option value, ``--set`` assignment or ``--fail-on`` expression."""


class ChainError(DefiriskError):
    """Reading the chain failed."""


class RpcUnavailable(ChainError):
    """The node could not be reached, even after retrying."""


class RpcError(ChainError):
    """The node answered with an error that retrying will not fix."""


class WrongChain(ChainError):
    """The node serves a different chain than the deployment names."""


class BlockNotAvailable(ChainError):
    """The requested block is in the future, before the deployment, or pruned."""


class ReorgDetected(ChainError):
    """The pinned block's hash changed while a snapshot was being read."""


class MulticallFailed(ChainError):
    """One or more sub-calls of a Multicall3 batch failed."""


class NotTheProtocol(ChainError):
    """The contract at the configured address does not behave like the protocol."""


class ReconciliationError(DefiriskError):
    """Recomputed account values differ from the protocol's own view on chain."""


class StoreError(DefiriskError):
    """The snapshot database cannot be used."""


class SnapshotNotFound(StoreError):
    """No complete snapshot with that id (or for that deployment)."""


class SchemaVersionError(StoreError):
    """The database was written by a newer or unknown schema version."""


class DatabaseLocked(StoreError):
    """Another process is writing to the database."""


class JobLocked(DatabaseLocked):
    """Another ``defirisk job run`` holds the job's lock."""

    exit_code = 4


class CorruptDatabase(StoreError):
    """The file is not a defirisk database or is damaged."""


class DataError(DefiriskError):
    """Bundled or imported data is missing or inconsistent."""


class OutputError(DefiriskError):
    """A report or export could not be written (nothing half-written is left)."""


class GateFailed(DefiriskError):
    """A ``--fail-on`` condition held."""

    exit_code = 3
