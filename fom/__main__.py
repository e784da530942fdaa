"""``python -m fom``: the same as ``fom-run``."""

from fom.cli import run_main

run_main()
