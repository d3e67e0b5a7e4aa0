"""Morpho Blue family: one singleton contract, isolated markets keyed by id.

A *market* in the canonical model is one Morpho Blue market id, with two asset rows (loan token and
collateral token) priced in that market's loan token by its own oracle. The deployment's root is the
singleton; its markets are listed in the deployment or discovered from ``CreateMarket`` logs.
"""
