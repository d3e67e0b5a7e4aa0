"""CLI command groups; each module registers its commands on ``defirisk.cli.app``."""
