"""The paper's claims, measured: writes docs/results.md and its plots (``experiments`` package).

    python scripts/experiment.py [--quick] [--out DIR] [--seeds N] [--jobs N] [--quiet]
"""

from experiments.main import main

if __name__ == "__main__":  # not when a spawned worker process imports this file
    raise SystemExit(main())
