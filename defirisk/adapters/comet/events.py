"""Which Comet events name accounts that may hold a position, and where (pure).

Signatures of ``CometMainInterface`` (compound-finance/comet); every argument named below is indexed:

======================  ===============================  ===========================================
event                   indexed (topics 1–3)             accounts taken
======================  ===============================  ===========================================
``Supply``              from, dst                        ``dst`` (topic 2): base supplied or repaid
``Withdraw``            src, to                          ``src`` (topic 1): base withdrawn or borrowed
``SupplyCollateral``    from, dst, asset                 ``dst`` (topic 2)
``TransferCollateral``  from, to, asset                  ``to`` (topic 2)
``Transfer``            from, to                         both (base moved between accounts)
======================  ===============================  ===========================================

Every account with collateral received it through ``SupplyCollateral`` or ``TransferCollateral``, and
every base supply through ``Supply`` or ``Transfer``; a borrow needs collateral first. The zero address
(mint and burn side of ``Transfer``) is never an account. Only logs of the Comet itself count.
"""

from __future__ import annotations

from collections.abc import Iterable

from defirisk.chain import Log, event_topic

SUPPLY = event_topic("Supply(address,address,uint256)")
WITHDRAW = event_topic("Withdraw(address,address,uint256)")
SUPPLY_COLLATERAL = event_topic("SupplyCollateral(address,address,address,uint256)")
TRANSFER_COLLATERAL = event_topic("TransferCollateral(address,address,address,uint256)")
TRANSFER = event_topic("Transfer(address,address,uint256)")
ACCOUNT_EVENTS = (SUPPLY, WITHDRAW, SUPPLY_COLLATERAL, TRANSFER_COLLATERAL, TRANSFER)

#: Topic indexes of the accounts per event.
_ACCOUNT_TOPICS: dict[str, tuple[int, ...]] = {
    SUPPLY: (2,),
    WITHDRAW: (1,),
    SUPPLY_COLLATERAL: (2,),
    TRANSFER_COLLATERAL: (2,),
    TRANSFER: (1, 2),
}
ZERO_ADDRESS = "0x" + "00" * 20


def accounts_of(log: Log, comet: str) -> list[str]:
    """The accounts ``log`` names (see the table), or none for a log of another contract or event."""
    if log.address != comet or not log.topics or log.topics[0] not in _ACCOUNT_TOPICS:
        return []
    found = []
    for index in _ACCOUNT_TOPICS[log.topics[0]]:
        if index < len(log.topics):
            account = "0x" + log.topics[index][-40:]
            if account != ZERO_ADDRESS:
                found.append(account)
    return found


def accounts_in_logs(logs: Iterable[Log], comet: str) -> dict[str, int]:
    """Every account the logs name (``accounts_of``) → the first block it appears in."""
    first: dict[str, int] = {}
    for log in logs:
        for account in accounts_of(log, comet):
            if account not in first or log.block_number < first[account]:
                first[account] = log.block_number
    return first
