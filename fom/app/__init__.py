"""Composition, the top layer: the only part of ``fom`` that imports ``actors`` and ``bus``.

``run``/``run_async`` play the FPS match (``fom-run``), ``play``/``play_async`` an Atari game
with FMC (``fom-fmc``), ``format_summary`` prints a run's summary, ``StopSignals`` handles
SIGINT and SIGTERM for a whole command. The layers are checked by import-linter
(``lint-imports``, contracts in pyproject.toml).
"""

from fom.app.atari import format_fmc_result, play, play_async
from fom.app.fps import RunResult, run, run_async
from fom.app.report import format_summary
from fom.signals import StopSignals

__all__ = [
    "RunResult",
    "StopSignals",
    "format_fmc_result",
    "format_summary",
    "play",
    "play_async",
    "run",
    "run_async",
]
