"""The one progress bar of FOM's commands (tqdm): on stderr, only in a terminal, only for work
that lasts more than ``SHOW_AFTER_S``; ``--quiet`` turns it off.

``fom-run`` and ``fom-fmc`` (the Progress actor), ``fom-dash`` animations and the experiments
(``python -m experiments``) all make their bar here.
"""

from __future__ import annotations

import sys
from typing import TextIO

from tqdm import tqdm

__all__ = ["SHOW_AFTER_S", "progress_bar", "terminal_stderr"]

SHOW_AFTER_S = 2.0
"""Work shorter than this shows no bar at all."""


def terminal_stderr(quiet: bool = False) -> TextIO | None:
    """stderr when it is a terminal and not ``quiet`` (where a bar goes), else None."""
    return None if quiet or not sys.stderr.isatty() else sys.stderr


def progress_bar(
    total: int, unit: str, stream: TextIO | None, *, delay: float = SHOW_AFTER_S,
    desc: str | None = None,
) -> tqdm:  # fmt: skip
    """A bar of ``total`` ``unit``s on ``stream``; disabled (draws nothing) when it is None.

    It appears only once the work has lasted ``delay`` seconds; use it as a context manager or
    ``close()`` it."""
    return tqdm(
        total=total, unit=unit, file=stream, delay=delay, mininterval=0.1, dynamic_ncols=True,
        desc=desc, disable=stream is None,
    )  # fmt: skip
