"""Build (or reuse) a cached local Aave v3 chain and report it: ``python -m tests.localchain``.

    python -m tests.localchain --accounts 5000            # build/cache, print timings, exit
    python -m tests.localchain --accounts 5000 --serve    # then keep a node running until Ctrl-C

Benchmarks use it to prepare a large state once and to get an RPC URL to point a tool at.
"""

from __future__ import annotations

import argparse
import time

from tests.localchain.helpers import DEFAULT_ACCOUNTS, DEFAULT_SEED, LocalAave


def main() -> None:
    """Parse arguments, start the market from the cache (building it if needed), print a summary."""
    parser = argparse.ArgumentParser(prog="python -m tests.localchain", description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=DEFAULT_ACCOUNTS, help="seeded accounts")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed of the portfolios")
    parser.add_argument("--serve", action="store_true", help="keep the node running until interrupted")
    args = parser.parse_args()

    started = time.perf_counter()
    with LocalAave.start(args.accounts, args.seed) as aave:
        ready = time.perf_counter() - started
        chain = aave.chain
        print(f"state file      {chain.state_file} ({chain.state_bytes / 1e6:.1f} MB)")
        if chain.built:
            timings = ", ".join(f"{k.removesuffix('_s')} {v:.2f} s" for k, v in chain.timings.items())
            print(f"built           {timings}")
        print(f"ready in        {ready:.2f} s ({'built' if chain.built else 'from cache'})")
        print(f"accounts        {len(aave.seeded_accounts)} seeded, head block {aave.block_number()}")
        print(f"pool            {aave.pool}")
        print(f"provider        {aave.provider} (start block {aave.start_block})")
        print(f"rpc url         {aave.rpc_url}")
        if args.serve:
            print("serving; Ctrl-C stops the node")
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass


if __name__ == "__main__":
    main()
