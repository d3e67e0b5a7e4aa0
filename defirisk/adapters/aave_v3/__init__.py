"""Aave v3 family (Aave v3 on every chain, and forks such as Spark)."""
