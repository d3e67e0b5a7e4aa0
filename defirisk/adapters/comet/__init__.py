"""Compound III (Comet) family: one Comet proxy per market, one borrowable base asset, several collaterals.

A *market* in the canonical model is one Comet (its proxy address). Its asset rows are the base token
and every collateral of ``getAssetInfo(0 … numAssets − 1)``; prices are the Comet's own
``getPrice(feed)`` answers (8 decimals, in the unit the market's feeds quote: USD for most markets,
ETH for the WETH markets). Accounts are found from the Comet's Supply/Withdraw/SupplyCollateral/
TransferCollateral/Transfer logs.

Modules: ``structs`` (the contract's return structs), ``maths`` (fixed point, present values and
interest accrual), ``reference`` (the account checks, ``absorb`` and ``quoteCollateral``), ``calls``
and ``events`` (pure encoders and decoders), ``market`` and ``accounts`` (chain reads), ``frames``
(canonical tables), ``reconcile``, ``family`` and ``liquidation`` (engine semantics), ``adapter``.
"""
