"""Compound v2 family (Compound v2 on Ethereum and forks such as Venus).

A *market* in the canonical model is the Comptroller; an *asset* row is one cToken market, keyed by
the cToken address (one Comptroller may list two markets of the same underlying, e.g. legacy cWBTC and
cWBTC2). Amounts are in the underlying; the cToken balances the Comptroller reads are kept in the
accounts' ``extra["ctoken_balances"]``.
"""
