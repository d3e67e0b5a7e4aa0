"""Aave v3 liquidations: the family's rules object, and an integer reference of one ``liquidationCall``.

Which rules a deployment runs
-----------------------------
``SnapshotMeta.rules_version`` names the Pool's code version ("3.0.2", "3.1", "3.3", ...). The snapshot
adapter decides it from the Pool's ``getRevision()`` at the snapshot block, with
``rules_version_for_pool_revision``: revisions 1–3 are the v3.0.x code (``@aave/core-v3``; 1.19.3 ships
``POOL_REVISION = 1``), and aave-dao/aave-v3-origin tags v3.1.0 … v3.6.0 set 4, 5 (3.2.0), 6 (3.2.1),
7 (3.3.0), 8 (3.4.0), 9 (3.5.0), 10 (3.6.0) in ``PoolInstance.POOL_REVISION`` (read at each tag). The
repository's next version (v3.7, revision 11) changes the liquidation maths again and is not mapped:
it is reported as unknown. The liquidation maths has two generations:

* **"3.0"** — v3.0, v3.1, v3.2: close factor 50 % of the debt reserve's balance, 100 % when
  ``HF ≤ 0.95`` (``CLOSE_FACTOR_HF_THRESHOLD``); debt left on an account without collateral stays
  there. ``liquidation_call_v30`` follows ``LiquidationLogic`` of ``@aave/core-v3`` 1.19.3
  (``executeLiquidationCall``, ``_calculateDebt``, ``_calculateAvailableCollateralToLiquidate``)
  operation by operation and is checked against that code on a local chain, to the wei.
* **"3.3"** — v3.3 and later: close factor 50 % of the *position's* total debt value (capped by the
  reserve's debt), 100 % when ``HF ≤ 0.95`` or when the reserve's collateral or debt is worth less
  than ``MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD`` (2,000 base units); a call that leaves less than
  ``MIN_LEFTOVER_BASE`` (1,000) of debt or collateral without clearing either reverts; when the
  account's last collateral is seized, its remaining debt in every reserve is burned into the
  reserves' ``deficit``. v3.5 (revision 9) rounds against the borrower: the reserve's debt value and
  the leftover debt value are ``mulDivCeil``, the debt that buys a whole collateral balance is
  ``percentDivCeil``, and balances come from ``TokenMath`` (collateral floored, debt ceiled; aToken
  burns and transfers ``rayDivCeil``, debt burns ``rayDivFloor``). ``liquidation_call_v35`` and
  ``balances_after_v35`` follow aave-v3-origin v3.6.0 ``LiquidationLogic.sol`` (v3.5's maths) and are
  checked against real ``liquidationCall``s of the compiled v3.6.0 contracts on a local chain, to
  the wei (``tests/adapters/aave_v3/test_origin_liquidation.py``). ``liquidation_call_v33`` is
  v3.3/v3.4's flooring variant of the same code, a model read from v3.3.0 and not run on chain.

From v3.2 on, e-mode membership is the category's collateral bitmap (the e-mode bonus applies to
collateral on it) and there is no price source; from v3.6 on a collateral the user enabled can be
liquidated even where the reserve's own liquidation threshold is 0 (e-mode-only collateral).

An empty or unknown ``rules_version`` is an error: the numbers differ between the generations.

Integer reference conventions: balances in token base units, prices in base-currency units (Aave:
USD with 8 decimals; the e-mode price source's answer where v3.0 uses it), bonus and fee in basis
points (a 5 % bonus is 10500), health factor in WAD.
"""

from __future__ import annotations

from dataclasses import dataclass

from defirisk.adapters.aave_v3.revisions import (
    V30,
    V36,
    maths_of,
    mul_div_ceil,
    percent_div_ceil,
    ray_div_ceil,
    ray_div_floor,
    ray_mul_ceil,
    ray_mul_floor,
)
from defirisk.errors import DataError
from defirisk.liquidation.rules import BadDebtPolicy, LiquidationRules
from defirisk.model import MarketState
from defirisk.units import WAD, percent_div, percent_mul, ray_div, ray_mul

CLOSE_FACTOR_HF_THRESHOLD = 95 * 10**16
DEFAULT_LIQUIDATION_CLOSE_FACTOR = 5_000
MAX_LIQUIDATION_CLOSE_FACTOR = 10_000
HEALTH_FACTOR_LIQUIDATION_THRESHOLD = WAD
MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD = 2_000 * 10**8
MIN_LEFTOVER_BASE = MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD // 2

#: Pool revision (``getRevision()``) → Aave code version, from the contracts' ``POOL_REVISION``.
POOL_REVISIONS = {4: "3.1", 5: "3.2.0", 6: "3.2.1", 7: "3.3", 8: "3.4", 9: "3.5", 10: "3.6"}


def rules_version_for_pool_revision(revision: int) -> str:
    """The Aave code version of a Pool implementation revision (1–3 → "3.0")."""
    if revision in (1, 2, 3):
        return "3.0"
    if revision in POOL_REVISIONS:
        return POOL_REVISIONS[revision]
    raise DataError(f"unknown Aave v3 Pool revision {revision}")


def _minor(version: str) -> int:
    parts = version.strip().split(".")
    try:
        major, minor = int(parts[0]), int(parts[1])
    except (IndexError, ValueError):
        raise DataError(f"Aave rules version {version!r} is not of the form 3.<minor>[.<patch>]") from None
    if major != 3:
        raise DataError(f"Aave rules version {version!r} is not an Aave v3 version")
    return minor


def rules_generation(version: str) -> str:
    """"3.0" or "3.3": the liquidation maths a code version runs."""
    return "3.0" if _minor(version) < 3 else "3.3"


def rounds_against_borrower(version: str) -> bool:
    """v3.5 and later round liquidation values against the borrower (``liquidation_call_v35``)."""
    return _minor(version) >= 5


def aave_rules(state: MarketState) -> LiquidationRules:
    """The estimator's rules for an Aave v3 snapshot, chosen by ``state.meta.rules_version``.

    v3.3's thresholds are constants in base-currency units with 8 decimals; on a pool whose base
    currency has other decimals they mean ``2000e8 / 10**decimals`` of its base currency.
    """
    version = state.meta.rules_version
    if not version:
        raise DataError(
            "the snapshot does not say which Aave v3 code it runs (meta.rules_version); "
            "the snapshot adapter sets it from Pool.getRevision()"
        )
    generation = rules_generation(version)
    if generation == "3.0":
        return LiquidationRules(
            family="aave-v3",
            version=generation,
            close_factor=DEFAULT_LIQUIDATION_CLOSE_FACTOR / 10_000,
            full_close_hf=CLOSE_FACTOR_HF_THRESHOLD / WAD,
            bad_debt=BadDebtPolicy.KEEP,
            note=f"Aave v{version}: v3.0 liquidation rules (verified on chain against core-v3 1.19.3)",
        )
    base_unit = 10**state.meta.base_currency_decimals
    return LiquidationRules(
        family="aave-v3",
        version=generation,
        close_factor=DEFAULT_LIQUIDATION_CLOSE_FACTOR / 10_000,
        full_close_hf=CLOSE_FACTOR_HF_THRESHOLD / WAD,
        close_factor_of_position=True,
        full_close_below=MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD / base_unit,
        min_leftover=MIN_LEFTOVER_BASE / base_unit,
        bad_debt=BadDebtPolicy.DEFICIT,
        note=f"Aave v{version}: v3.3 liquidation rules ("
        + ("verified on chain against aave-v3-origin v3.6.0)" if rounds_against_borrower(version)
           else "model of aave-v3-origin v3.3.0, not verified on chain)"),
    )


@dataclass(frozen=True)
class CallInputs:
    """What ``executeLiquidationCall`` reads, at the block it runs in.

    ``collateral_balance`` is the aToken ``balanceOf``; debts are ``balanceOf`` of the debt tokens;
    ``health_factor`` is ``getUserAccountData``'s; ``total_collateral_base`` / ``total_debt_base`` (v3.3
    only) are its first two values. ``collateral_enabled``: the user uses the reserve as collateral and
    (before v3.6) its liquidation threshold is not 0.
    """

    debt_to_cover: int
    health_factor: int
    collateral_balance: int
    variable_debt: int
    collateral_price: int
    debt_price: int
    collateral_decimals: int
    debt_decimals: int
    liquidation_bonus: int
    protocol_fee: int
    stable_debt: int = 0
    collateral_enabled: bool = True
    total_collateral_base: int = 0
    total_debt_base: int = 0


@dataclass(frozen=True)
class CallOutcome:
    """What one call does; all amounts in token base units.

    ``reverted`` names the Aave error when the call would revert (then every amount is 0); a debt burn
    of zero reverts (``INVALID_BURN_AMOUNT``), and so does a collateral aToken burn whose scaled amount
    rounds to zero, which depends on the liquidity index and is not checked here.
    ``debt_repaid`` and ``collateral_to_liquidator`` are the ``LiquidationCall`` event's
    ``debtToCover`` and ``liquidatedCollateralAmount``; ``protocol_fee`` goes to the treasury as aTokens
    (before the contract's 1-wei clamp, see ``balances_after``). ``deficit`` (v3.3) is the debt of this
    reserve burned into its deficit; ``burns_other_debt`` says the account's debt in every other reserve
    is burned too.
    """

    reverted: str | None
    debt_repaid: int = 0
    collateral_to_liquidator: int = 0
    protocol_fee: int = 0
    variable_debt_burned: int = 0
    stable_debt_burned: int = 0
    deficit: int = 0
    burns_other_debt: bool = False
    collateral_disabled: bool = False
    borrowing_cleared: bool = False

    @property
    def collateral_seized(self) -> int:
        """Collateral leaving the account: the liquidator's part plus the protocol fee."""
        return self.collateral_to_liquidator + self.protocol_fee


def _validate(inp: CallInputs, reserve_debt: int) -> str | None:
    if inp.health_factor >= HEALTH_FACTOR_LIQUIDATION_THRESHOLD:
        return "HEALTH_FACTOR_NOT_BELOW_THRESHOLD"
    if not inp.collateral_enabled:
        return "COLLATERAL_CANNOT_BE_LIQUIDATED"
    if reserve_debt == 0:
        return "SPECIFIED_CURRENCY_NOT_BORROWED_BY_USER"
    return None


def available_collateral(inp: CallInputs, debt_to_cover: int, ceil: bool = False) -> tuple[int, int, int]:
    """``_calculateAvailableCollateralToLiquidate`` (v3.0 to v3.6 agree): (to liquidator, debt, fee).

    ``base = debtPrice · debt · collateralUnit // (collateralPrice · debtUnit)``; ``max = percentMul(base,
    bonus)``; above the balance the whole balance is taken and the debt becomes
    ``percentDiv(collateralPrice · balance · debtUnit // (debtPrice · collateralUnit), bonus)``
    (``percentDivCeil`` from v3.5 on: ``ceil``). The fee is ``percentMul(amount − percentDiv(amount,
    bonus), feeBps)``, taken out of the amount.
    """
    collateral_unit = 10**inp.collateral_decimals
    debt_unit = 10**inp.debt_decimals
    base_collateral = (inp.debt_price * debt_to_cover * collateral_unit) // (inp.collateral_price * debt_unit)
    max_collateral = percent_mul(base_collateral, inp.liquidation_bonus)
    if max_collateral > inp.collateral_balance:
        amount = inp.collateral_balance
        debt_needed = (percent_div_ceil if ceil else percent_div)(
            (inp.collateral_price * amount * debt_unit) // (inp.debt_price * collateral_unit),
            inp.liquidation_bonus,
        )
    else:
        amount = max_collateral
        debt_needed = debt_to_cover
    if inp.protocol_fee == 0:
        return amount, debt_needed, 0
    bonus_collateral = amount - percent_div(amount, inp.liquidation_bonus)
    fee = percent_mul(bonus_collateral, inp.protocol_fee)
    return amount - fee, debt_needed, fee


def liquidation_call_v30(inp: CallInputs) -> CallOutcome:
    """One ``liquidationCall`` under Aave v3.0 (core-v3 1.19.3), exactly."""
    total_debt = inp.variable_debt + inp.stable_debt
    reason = _validate(inp, total_debt)
    if reason:
        return CallOutcome(reverted=reason)
    close_factor = (
        DEFAULT_LIQUIDATION_CLOSE_FACTOR
        if inp.health_factor > CLOSE_FACTOR_HF_THRESHOLD
        else MAX_LIQUIDATION_CLOSE_FACTOR
    )
    max_debt = percent_mul(total_debt, close_factor)
    to_liquidator, debt, fee = available_collateral(inp, min(inp.debt_to_cover, max_debt))
    if debt == 0:
        return CallOutcome(reverted="INVALID_BURN_AMOUNT")
    variable = min(debt, inp.variable_debt)
    return CallOutcome(
        reverted=None,
        debt_repaid=debt,
        collateral_to_liquidator=to_liquidator,
        protocol_fee=fee,
        variable_debt_burned=variable,
        stable_debt_burned=debt - variable,
        collateral_disabled=to_liquidator + fee == inp.collateral_balance,
        borrowing_cleared=debt == total_debt,
    )


def liquidation_call_v33(inp: CallInputs) -> CallOutcome:
    """One ``liquidationCall`` under the Aave v3.3/v3.4 rules (a model; see the module docstring)."""
    return _liquidation_call_v33(inp, ceil=False)


def liquidation_call_v35(inp: CallInputs) -> CallOutcome:
    """One ``liquidationCall`` under Aave v3.5/v3.6, exactly (verified on chain against v3.6.0)."""
    return _liquidation_call_v33(inp, ceil=True)


def _liquidation_call_v33(inp: CallInputs, ceil: bool) -> CallOutcome:
    """v3.3's ``executeLiquidationCall``; ``ceil``: with v3.5's roundings against the borrower."""
    if inp.stable_debt:
        raise DataError("Aave v3.2+ has no stable debt; got a stable debt balance for a v3.3 call")
    reserve_debt = inp.variable_debt
    reason = _validate(inp, reserve_debt)
    if reason:
        return CallOutcome(reverted=reason)
    collateral_unit = 10**inp.collateral_decimals
    debt_unit = 10**inp.debt_decimals

    def debt_value(amount: int) -> int:
        return mul_div_ceil(amount, inp.debt_price, debt_unit) if ceil else amount * inp.debt_price // debt_unit

    reserve_debt_base = debt_value(reserve_debt)
    reserve_collateral_base = inp.collateral_balance * inp.collateral_price // collateral_unit
    max_debt = reserve_debt
    if (
        reserve_collateral_base >= MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD
        and reserve_debt_base >= MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD
        and inp.health_factor > CLOSE_FACTOR_HF_THRESHOLD
    ):
        half_of_all = percent_mul(inp.total_debt_base, DEFAULT_LIQUIDATION_CLOSE_FACTOR)
        if reserve_debt_base > half_of_all:
            max_debt = half_of_all * debt_unit // inp.debt_price
    to_liquidator, debt, fee = available_collateral(inp, min(inp.debt_to_cover, max_debt), ceil=ceil)
    seized = to_liquidator + fee
    if debt < reserve_debt and seized < inp.collateral_balance:
        debt_left_base = debt_value(reserve_debt - debt)
        collateral_left_base = (inp.collateral_balance - seized) * inp.collateral_price // collateral_unit
        if debt_left_base < MIN_LEFTOVER_BASE or collateral_left_base < MIN_LEFTOVER_BASE:
            return CallOutcome(reverted="MUST_NOT_LEAVE_DUST")
    # The contract values the seized amount before the fee is taken out of it.
    no_collateral_left = inp.total_collateral_base == seized * inp.collateral_price // collateral_unit
    deficit = reserve_debt - debt if no_collateral_left else 0
    if debt + deficit == 0:
        return CallOutcome(reverted="INVALID_BURN_AMOUNT")
    return CallOutcome(
        reverted=None,
        debt_repaid=debt,
        collateral_to_liquidator=to_liquidator,
        protocol_fee=fee,
        variable_debt_burned=debt + deficit,
        deficit=deficit,
        burns_other_debt=no_collateral_left,
        collateral_disabled=seized == inp.collateral_balance,
        borrowing_cleared=debt + deficit == reserve_debt,
    )


def liquidation_call(version: str, inp: CallInputs) -> CallOutcome:
    """One call under the rules of code ``version`` (``rules_generation``, ``rounds_against_borrower``)."""
    if rules_generation(version) == "3.0":
        return liquidation_call_v30(inp)
    if rounds_against_borrower(version):
        return liquidation_call_v35(inp)
    return liquidation_call_v33(inp)


@dataclass(frozen=True)
class BalancesAfter:
    """The liquidated account's balances after one call, token base units."""

    scaled_collateral: int
    collateral: int
    scaled_variable_debt: int
    variable_debt: int
    protocol_fee: int


def balances_after(
    outcome: CallOutcome,
    scaled_collateral: int,
    liquidity_index: int,
    scaled_variable_debt: int,
    variable_borrow_index: int,
) -> BalancesAfter:
    """Post-call aToken and variable-debt balances from scaled balances and the indexes (RAY).

    The indexes are the reserves' normalised income / variable debt at the call's block. The aToken
    burn (or transfer) and the fee transfer each remove ``rayDiv(amount, index)`` scaled units; the fee
    is clamped to what is left (``rayMul(scaledLeft, index)``) when its scaled value exceeds it, as the
    contract does against 1-wei imprecision. The debt burn removes ``rayDiv(burned, borrowIndex)``.
    """
    scaled = scaled_collateral - ray_div(outcome.collateral_to_liquidator, liquidity_index)
    fee = outcome.protocol_fee
    if fee and ray_div(fee, liquidity_index) > scaled:
        fee = ray_mul(scaled, liquidity_index)
    if fee:
        scaled -= ray_div(fee, liquidity_index)
    debt_scaled = scaled_variable_debt
    if outcome.variable_debt_burned:
        debt_scaled -= ray_div(outcome.variable_debt_burned, variable_borrow_index)
    return BalancesAfter(
        scaled_collateral=scaled,
        collateral=ray_mul(scaled, liquidity_index),
        scaled_variable_debt=debt_scaled,
        variable_debt=ray_mul(debt_scaled, variable_borrow_index),
        protocol_fee=fee,
    )


def balances_after_v35(
    outcome: CallOutcome,
    scaled_collateral: int,
    liquidity_index: int,
    scaled_variable_debt: int,
    variable_borrow_index: int,
) -> BalancesAfter:
    """``balances_after`` with v3.5's ``TokenMath`` (v3.5 and v3.6).

    The collateral leaves in ``rayDivCeil(amount, index)`` scaled units (burned, or transferred with
    ``receiveAToken``), and so does the fee, clamped to the scaled balance left (the fee then is
    ``rayMulFloor(scaledLeft, index)``); the debt burn removes ``rayDivFloor(burned, borrowIndex)``.
    Balances are ``rayMulFloor`` (aToken) and ``rayMulCeil`` (debt).
    """
    scaled = scaled_collateral - ray_div_ceil(outcome.collateral_to_liquidator, liquidity_index)
    fee = outcome.protocol_fee
    if fee:
        scaled_fee = ray_div_ceil(fee, liquidity_index)
        if scaled_fee > scaled:
            scaled_fee, fee = scaled, ray_mul_floor(scaled, liquidity_index)
        scaled -= scaled_fee
    debt_scaled = scaled_variable_debt - ray_div_floor(outcome.variable_debt_burned, variable_borrow_index)
    return BalancesAfter(
        scaled_collateral=scaled,
        collateral=ray_mul_floor(scaled, liquidity_index),
        scaled_variable_debt=debt_scaled,
        variable_debt=ray_mul_ceil(debt_scaled, variable_borrow_index),
        protocol_fee=fee,
    )


def call_inputs(
    state: MarketState,
    market: str,
    account: str,
    collateral_asset: str,
    debt_asset: str,
    debt_to_cover: int,
) -> CallInputs:
    """The ``CallInputs`` of one call on a snapshot (balances and prices as stored in it).

    Before v3.2 prices follow v3.0's ``_getConfigurationData``: with an e-mode price source set, the
    account's e-mode source prices the debt, and the collateral too when the collateral is in that
    e-mode; the e-mode bonus applies to collateral of the account's category. From v3.2 on the oracle
    prices both and the e-mode bonus applies to collateral on the category's collateral bitmap; from
    v3.6 on an enabled collateral may be liquidated whatever its own liquidation threshold. The
    health factor and totals come from ``AaveReference`` (``getUserAccountData``'s integer maths).
    """
    from defirisk.adapters.aave_v3.reference import AaveReference, bps

    assets = state.assets[state.assets["market"] == market].set_index("asset")
    accounts = state.accounts[(state.accounts["market"] == market) & (state.accounts["account"] == account)]
    if accounts.empty or collateral_asset not in assets.index or debt_asset not in assets.index:
        raise DataError(f"no account {account} or asset in market {market} of this snapshot")
    category = int(accounts.iloc[0]["emode_category"])
    positions = state.positions[(state.positions["market"] == market) & (state.positions["account"] == account)]
    by_asset = positions.set_index("asset")
    collateral = assets.loc[collateral_asset]
    debt = assets.loc[debt_asset]
    collateral_price, debt_price = int(collateral["price_raw"]), int(debt["price_raw"])
    bonus = bps(1.0 + float(collateral["liquidation_bonus"]))
    maths = maths_of(state.meta.market_params)
    if category:
        emode = state.emodes[(state.emodes["market"] == market) & (state.emodes["category"] == category)]
        if emode.empty:
            raise DataError(f"account {account} is in e-mode {category}, which the snapshot lacks")
        row = emode.iloc[0]
        if maths != V30:
            extra = collateral["extra"] if isinstance(collateral["extra"], dict) else {}
            if category in extra.get("emode_collateral", []):
                bonus = bps(1.0 + float(row["liquidation_bonus"]))
        else:
            source_price = int(row["price_raw"]) if row["price_source"] else 0
            if int(collateral["emode_category"]) == category:
                bonus = bps(1.0 + float(row["liquidation_bonus"]))
                collateral_price = source_price or collateral_price
            debt_price = source_price or debt_price
    data = AaveReference(state).account_data(market, account)
    enabled = collateral_asset in by_asset.index and bool(by_asset.loc[collateral_asset, "collateral_enabled"])
    if maths != V36:
        enabled = enabled and float(collateral["liquidation_threshold"]) != 0
    return CallInputs(
        debt_to_cover=debt_to_cover,
        health_factor=data.health_factor,
        collateral_balance=int(by_asset.loc[collateral_asset, "collateral_raw"]) if collateral_asset in by_asset.index else 0,
        variable_debt=int(by_asset.loc[debt_asset, "debt_raw"]) if debt_asset in by_asset.index else 0,
        collateral_price=collateral_price,
        debt_price=debt_price,
        collateral_decimals=int(collateral["decimals"]),
        debt_decimals=int(debt["decimals"]),
        liquidation_bonus=bonus,
        protocol_fee=bps(float(collateral["protocol_fee"])),
        collateral_enabled=enabled,
        total_collateral_base=data.total_collateral_base,
        total_debt_base=data.total_debt_base,
    )
