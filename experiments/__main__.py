"""``python -m experiments``: run the experiment (see ``experiments.main``)."""

from experiments.main import main

if __name__ == "__main__":  # not when a spawned worker process imports this module
    raise SystemExit(main())
