"""``defirisk`` as a real process for the crash and concurrency tests, with the discovery window
shrunk so that a snapshot of the small local chain saves its cursor several times:

    python tests/reliability/child.py WINDOW defirisk-arguments...
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import defirisk.snapshot  # noqa: E402
from defirisk.cli import main  # noqa: E402

if __name__ == "__main__":
    defirisk.snapshot.DISCOVERY_WINDOW = int(sys.argv[1])
    sys.argv = ["defirisk", *sys.argv[2:]]
    main()
