"""Local-chain test fixture: a real Aave v3 market on anvil with seeded borrowers, cached as state.

Modules, in the order the chain is built: ``toolchain`` (pinned npm packages, cache keys), ``anvil``
(the node), ``rpc`` and ``tx`` (bulk JSON-RPC and transactions), ``artifacts`` and ``contracts``
(Hardhat artifacts, ABI encoding), ``multicall3``, ``market`` (real parameters), ``aave``
(deployment), ``portfolio`` and ``seed`` (borrowers), ``state`` (dump, cache, reload) and
``helpers`` (``LocalAave``, what tests use). ``python -m tests.localchain`` builds a cache entry.
"""
