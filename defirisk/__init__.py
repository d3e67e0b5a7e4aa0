"""defirisk: liquidation and bad-debt risk of DeFi lending protocols."""

__version__ = "0.1.0"
