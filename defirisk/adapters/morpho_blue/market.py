"""Discover the Morpho Blue markets of a deployment at a pinned block.

The deployment names the Morpho singleton; its markets are the ids listed in the deployment's
``markets`` field or, without one, every ``CreateMarket`` log of the singleton from ``start_block``
to the pinned block. In three Multicall3 rounds at the pinned block:

1. ``DOMAIN_SEPARATOR``, ``owner``, ``feeRecipient``: the domain separator must equal
   ``keccak256(abi.encode(keccak256("EIP712Domain(uint256 chainId,address verifyingContract)"),
   chainId, morpho))``, which only a Morpho Blue contract at that address answers (else
   ``NotTheProtocol``);
2. per market ``idToMarketParams`` and ``market`` (the id must hash from the params);
3. per market the oracle's ``price()``, the IRM's ``borrowRateView`` at the stored totals (when
   interest is due), and the tokens' metadata.

Interest is then accrued to the block's timestamp exactly as ``MorphoBalancesLib.expectedMarketBalances``
does, so balances are those an ``accrueInterest`` in this block would leave. A market that cannot
be valued (its oracle or IRM reverts, a token without ``decimals()``, the same token as loan and
collateral, not created at the block) is left out and listed in ``skipped`` with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import eth_abi
from eth_utils import keccak

from defirisk.adapters.morpho_blue import calls, events
from defirisk.adapters.morpho_blue.ids import ZERO_ADDRESS, MarketParams, normalize_market_id
from defirisk.adapters.morpho_blue.maths import MarketTotals, accrue_interest, liquidation_incentive_factor
from defirisk.chain import PinnedBlock, RpcClient, TokenMetadata, multicall, read_token_metadata, scan_logs
from defirisk.deployments import Deployment
from defirisk.errors import DataError, InvalidDeployment, InvalidParameter, NotTheProtocol

DOMAIN_TYPEHASH = keccak(text="EIP712Domain(uint256 chainId,address verifyingContract)")
LOG_CHUNK = 2_000
LOG_MAX_CHUNK = 50_000


@dataclass(frozen=True)
class BlueMarket:
    """One market at the block; integers as the contracts keep them.

    ``stored``: ``market(id)`` as read; ``totals``: accrued to the block timestamp. ``borrow_rate``:
    the IRM's rate (WAD per second) used for the accrual, None when none was due. ``price``: the
    oracle's answer (scale 1e36), None for an idle market. ``lif``: liquidation incentive factor (WAD).
    """

    id: str
    params: MarketParams
    stored: MarketTotals
    totals: MarketTotals
    borrow_rate: int | None
    price: int | None
    loan: TokenMetadata
    collateral: TokenMetadata | None
    lif: int
    loan_decimals: int
    collateral_decimals: int | None


@dataclass(frozen=True)
class MorphoDeployment:
    """The singleton and its markets at one block; ``skipped`` maps left-out market ids to the reason."""

    morpho: str
    owner: str
    fee_recipient: str
    markets: tuple[BlueMarket, ...]
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return self.morpho

    def by_id(self) -> dict[str, BlueMarket]:
        return {m.id: m for m in self.markets}


def domain_separator(chain_id: int, morpho: str) -> str:
    """``keccak256(abi.encode(DOMAIN_TYPEHASH, chainId, morpho))`` as 0x-hex (``Morpho``'s constructor)."""
    return "0x" + keccak(eth_abi.encode(["bytes32", "uint256", "address"], [DOMAIN_TYPEHASH, chain_id, morpho])).hex()


def _not_morpho(morpho: str, why: str) -> NotTheProtocol:
    return NotTheProtocol(f"{morpho} is not a Morpho Blue contract: {why}")


def _singleton(client: RpcClient, morpho: str, block: PinnedBlock) -> tuple[str, str]:
    code = client.call("eth_getCode", [morpho, block.tag])
    if code in (None, "0x", ""):
        raise _not_morpho(morpho, f"no contract code there at block {block.number}")
    batch = calls.singleton_calls(morpho)
    results = multicall(client, batch, block)
    failed = [f"{c.label} {r.error}" for c, r in zip(batch, results, strict=True) if not r.success]
    if failed:
        raise _not_morpho(morpho, "; ".join(failed))
    separator, owner, fee_recipient = (r.value for r in results)
    expected = domain_separator(block.chain_id, morpho)
    if separator != expected:
        raise _not_morpho(morpho, f"DOMAIN_SEPARATOR {separator} is not Morpho's {expected}")
    return owner, fee_recipient


def configured_ids(deployment: Deployment) -> list[str] | None:
    """The deployment's ``markets`` list (lower-case ids), or None when it has none."""
    listed = deployment.extra.get("markets")
    if listed is None:
        return None
    if not isinstance(listed, list) or not all(isinstance(x, str) for x in listed):
        raise InvalidDeployment(f"{deployment.path}: field 'markets' must be a list of market ids")
    try:
        return sorted({normalize_market_id(x) for x in listed})
    except InvalidParameter as exc:
        raise InvalidDeployment(f"{deployment.path}: field 'markets': {exc}") from None


def created_ids(client: RpcClient, morpho: str, start: int, block: PinnedBlock) -> list[str]:
    """Ids of every ``CreateMarket`` log of ``morpho`` in blocks ``[start, block]``, in creation order."""
    found = []
    logs = scan_logs(client, min(start, block.number), block.number, address=morpho,
                     topics=[events.CREATE_MARKET], chunk=LOG_CHUNK, max_chunk=LOG_MAX_CHUNK)
    for log in logs:
        created = events.created_market(log, morpho)
        if created is not None:
            found.append(created[0])
    return found


def _why_unusable(params: MarketParams, tokens: dict[str, TokenMetadata]) -> str | None:
    if params.loan_token == ZERO_ADDRESS:
        return "no loan token"
    if params.loan_token == params.collateral_token:
        return "the same token is loan and collateral"
    for role, token in (("loan", params.loan_token), ("collateral", params.collateral_token)):
        if token != ZERO_ADDRESS and tokens[token].decimals is None:
            return f"the {role} token {token} does not answer decimals()"
    return None


def _decimals(token: TokenMetadata) -> int:
    """A token's decimals; ``_why_unusable`` has left out the markets of tokens without them."""
    if token.decimals is None:
        raise DataError(f"token {token.address} has no decimals()")
    return token.decimals


def load_markets(
    client: RpcClient, deployment: Deployment, block: PinnedBlock, *, batch_size: int = 100
) -> MorphoDeployment:
    """Everything about the deployment's markets at ``block`` (see the module docstring)."""
    morpho = deployment.root
    owner, fee_recipient = _singleton(client, morpho, block)
    ids = configured_ids(deployment)
    if ids is None:
        ids = created_ids(client, morpho, deployment.start_block, block)
    skipped: dict[str, str] = {}

    batch = [call for market_id in ids for call in calls.market_calls(morpho, market_id)]
    results = multicall(client, batch, block, batch_size=batch_size)
    found: dict[str, tuple[MarketParams, MarketTotals]] = {}
    for k, market_id in enumerate(ids):
        params, stored = results[2 * k].value, results[2 * k + 1].value
        if stored.last_update == 0:
            skipped[market_id] = f"not created at block {block.number}"
        elif params.id != market_id:
            raise _not_morpho(morpho, f"idToMarketParams({market_id}) hashes to {params.id}")
        else:
            found[market_id] = (params, stored)

    priced = [i for i, (p, _) in found.items() if not p.is_idle]
    accruing = [i for i, (p, s) in found.items()
                if p.irm != ZERO_ADDRESS and s.total_borrow_assets != 0 and block.timestamp > s.last_update]
    round3 = [calls.price_call(found[i][0].oracle, i) for i in priced]
    round3 += [calls.borrow_rate_call(found[i][0], found[i][1], i) for i in accruing]
    answers = multicall(client, round3, block, batch_size=batch_size)
    prices = dict(zip(priced, answers[: len(priced)], strict=True))
    rates = dict(zip(accruing, answers[len(priced) :], strict=True))
    tokens = read_token_metadata(
        client, sorted({t for p, _ in found.values() for t in (p.loan_token, p.collateral_token)} - {ZERO_ADDRESS}),
        block,
    )

    markets = []
    for market_id, (params, stored) in found.items():
        why = _why_unusable(params, tokens)
        if why is None and market_id in prices and not prices[market_id].success:
            why = f"its oracle {params.oracle} price() failed: {prices[market_id].error}"
        if why is None and market_id in rates and not rates[market_id].success:
            why = f"its IRM {params.irm} borrowRateView failed: {rates[market_id].error}"
        if why is not None:
            skipped[market_id] = why
            continue
        rate = rates[market_id].value if market_id in rates else None
        markets.append(BlueMarket(
            id=market_id,
            params=params,
            stored=stored,
            totals=accrue_interest(stored, rate or 0, block.timestamp, has_irm=params.irm != ZERO_ADDRESS),
            borrow_rate=rate,
            price=prices[market_id].value if market_id in prices else None,
            loan=tokens[params.loan_token],
            collateral=None if params.collateral_token == ZERO_ADDRESS else tokens[params.collateral_token],
            lif=liquidation_incentive_factor(params.lltv),
            loan_decimals=_decimals(tokens[params.loan_token]),
            collateral_decimals=None if params.collateral_token == ZERO_ADDRESS
            else _decimals(tokens[params.collateral_token]),
        ))
    return MorphoDeployment(morpho, owner, fee_recipient, tuple(markets), skipped)
