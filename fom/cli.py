"""Command-line entry points: parse flags into a config dataclass and call the public API.

Flags are made from the config's fields (name, type, default, docstring), so the dataclass is
the single place a flag is defined. Bad input is one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import errno
import importlib.metadata
import inspect
import itertools
import os
import re
import signal
import sys
import types
import typing
from collections.abc import Sequence
from typing import Any, NoReturn, TypeVar

from fom import plugins
from fom.config import PLUGIN_FIELDS, DashConfig, FmcConfig, RunConfig, WorkerConfig
from fom.errors import FomError, RunFailed
from fom.signals import StopSignals

__all__ = ["build_parser", "dash_main", "fmc_main", "run_main", "worker_main"]

C = TypeVar("C")

_POSITIONAL = {FmcConfig: ("game",), DashConfig: ("events",)}
_SHORT = {(DashConfig, "output"): "-o"}
_HIDDEN = {"extra"}
_REGISTERED = {RunConfig: PLUGIN_FIELDS}
"""Fields whose choices are the names registered in an entry-point group (read at build time)."""


class _Names(list):
    """Choices of a plug-in field: a registered name, or ``name:argument`` of a registered name
    (``doom:deadly_corridor``; the argument is checked by the configuration's validate)."""

    def __contains__(self, value: object) -> bool:
        return isinstance(value, str) and list.__contains__(self, value.partition(":")[0])


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def _field_docs(cls: type) -> dict[str, str]:
    """The docstring under each field of a dataclass (attribute docstrings, read from source)."""
    tree = ast.parse(inspect.getsource(cls))
    body = tree.body[0].body  # type: ignore[attr-defined]
    docs: dict[str, str] = {}
    for node, nxt in itertools.pairwise(body):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and isinstance(nxt, ast.Expr)
            and isinstance(nxt.value, ast.Constant)
            and isinstance(nxt.value.value, str)
        ):
            docs[node.target.id] = " ".join(nxt.value.value.split())
    return docs


def _version() -> str:
    """The installed distribution's version."""
    try:
        return importlib.metadata.version("fom")
    except importlib.metadata.PackageNotFoundError:
        return "unknown (not installed)"


def _plain(text: str) -> str:
    """A docstring as help text: ``literal`` markup becomes 'literal'."""
    return re.sub(r"``([^`]+)``", r"'\1'", text)


def build_parser(cls: type, prog: str) -> argparse.ArgumentParser:
    """An argument parser whose flags are ``cls``'s fields."""
    parser = _Parser(prog=prog, description=_plain((cls.__doc__ or "").strip()))
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    docs = {name: _plain(text) for name, text in _field_docs(cls).items()}
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if f.name in _HIDDEN:
            continue
        hint = hints[f.name]
        default = f.default
        help_text = docs.get(f.name, "")
        if f.name in _POSITIONAL.get(cls, ()):
            parser.add_argument(f.name, help=help_text)
            continue
        flag = "--" + f.name.replace("_", "-")
        names = [flag, *([_SHORT[(cls, f.name)]] if (cls, f.name) in _SHORT else [])]
        if hint is bool:
            if default:  # a feature on by default is turned off with --no-<name>
                parser.add_argument(
                    "--no-" + f.name.replace("_", "-"), dest=f.name, action="store_false",
                    help=f"turn off (on by default): {help_text}",
                )
            else:
                parser.add_argument(*names, dest=f.name, action="store_true", help=help_text)
            continue
        kind, choices = _scalar(hint)
        group = _REGISTERED.get(cls, {}).get(f.name)
        if group is not None:  # none registered: validate() says how to install them
            choices = _Names(plugins.names(group)) or None
        parser.add_argument(
            *names, dest=f.name, type=kind, choices=choices, default=default,
            metavar=None if choices else f.name.upper(),
            help=f"{help_text} (default: {default})" if default is not None else help_text,
        )
    return parser


def _scalar(hint: Any) -> tuple[type, list[Any] | None]:
    """The argparse type and choices of a field's type (optional and Literal unwrapped)."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(hint) if a is not type(None)]
        return _scalar(inner[0])
    if origin is typing.Literal:
        values = list(typing.get_args(hint))
        return type(values[0]), values
    return hint, None


def parse(cls: type[C], prog: str, argv: Sequence[str] | None) -> C:
    """Parse ``argv`` into a ``cls`` instance."""
    args = build_parser(cls, prog).parse_args(argv)
    return cls(**vars(args))


def _quiet_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's last flush of a closed pipe is silent."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _fail(prog: str, error: BaseException) -> NoReturn:
    print(f"{prog}: error: {error}", file=sys.stderr)
    raise SystemExit(2)


def run_main(argv: Sequence[str] | None = None) -> None:
    """``fom-run``: play the simulated match headless and print the summary."""
    # From the start to the process's exit (it ends after this): never a KeyboardInterrupt.
    with StopSignals().installed(restore=False) as signals:
        _run(argv, signals)


def _run(argv: Sequence[str] | None, signals: StopSignals) -> None:
    from fom.app import format_summary, run
    from fom.app.report import events_error_message, workers_line

    config = parse(RunConfig, "fom-run", argv)
    try:
        config.validate()
        if config.live:
            from fom.dashboard.live import has_display

            if not has_display():
                raise FomError("--live needs a display; use --dashboard out.png to draw headless")
        result = run(config, handle_signals=signals)
    except RunFailed as exc:  # not bad input: the workers could not be started
        print(f"fom-run: error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    except FomError as exc:
        _fail("fom-run", exc)
    lost = result.events_error
    if lost is not None and lost.errno == errno.EPIPE and config.events == "-":
        _quiet_stdout()  # the reader went away (`| head`): stop quietly, as Unix tools do
        raise SystemExit(128 + signal.SIGPIPE)
    out = sys.stderr if config.events == "-" else sys.stdout
    print(format_summary(result.summary, interrupted=result.interrupted), file=out)
    errors = [result.error] if result.error else []  # a lockstep actor crashed
    if lost is not None:
        errors.append(
            events_error_message(config.events, lost, result.first_lost_event, result.events)
        )
    if errors:  # the run did not complete: status 1, whatever else failed
        for error in [*errors, *([result.save_error] if result.save_error else [])]:
            print(f"fom-run: error: {error}", file=sys.stderr)
        raise SystemExit(1)
    if result.workers is not None:
        print(workers_line(result), file=out)
    if result.save_error:
        _fail("fom-run", FomError(result.save_error))
    late = signals.received[0] if signals.received else None  # also one while this printed
    if result.interrupted or late is not None:  # 130 for SIGINT, 143 for SIGTERM, as shells expect
        raise SystemExit(128 + (result.signal or late or signal.SIGINT))


def fmc_main(argv: Sequence[str] | None = None) -> None:
    """``fom-fmc``: play an Atari game by name with the FMC planner."""
    with StopSignals().installed(restore=False) as signals:  # to the exit, as fom-run
        _fmc(argv, signals)


def _fmc(argv: Sequence[str] | None, signals: StopSignals) -> None:
    from fom.app import format_fmc_result, play

    config = parse(FmcConfig, "fom-fmc", argv)
    try:
        result = play(config.validate(), handle_signals=signals)
    except RunFailed as exc:  # not bad input: the game crashed
        print(f"fom-fmc: error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    except FomError as exc:
        _fail("fom-fmc", exc)
    out = sys.stderr if config.events == "-" else sys.stdout
    print(format_fmc_result(result, interrupted=bool(signals.received)), file=out)
    if signals.received and config.checkpoint and not result.game_over:
        print(f"fom-fmc: saved in {config.checkpoint}: --resume goes on from decision "
              f"{result.steps}", file=sys.stderr)  # fmt: skip
    if signals.received:  # stopped early (or interrupted while this printed): 130 or 143
        raise SystemExit(128 + signals.received[0])


def dash_main(argv: Sequence[str] | None = None) -> None:
    """``fom-dash``: draw the dashboard from a recorded event stream."""
    from fom.dashboard import render_file
    from fom.progress import terminal_stderr

    config = parse(DashConfig, "fom-dash", argv)
    try:
        progress = terminal_stderr(config.quiet)
        result = render_file(config.events, config.output, at_tick=config.at, progress=progress)
    except FomError as exc:
        _fail("fom-dash", exc)
    print(f"{result.path}: {result.frames} frame(s), tick {result.tick}")


def worker_main(argv: Sequence[str] | None = None) -> None:
    """``fom-worker``: host encounters and plan for the drivers on a NATS server until stopped
    or orphaned."""
    from fom.app.worker import run_worker

    config = parse(WorkerConfig, "fom-worker", argv)
    try:
        result = run_worker(config.validate())
    except FomError as exc:
        _fail("fom-worker", exc)
    if not config.quiet:
        print(
            f"fom-worker: {result.batches} step(s)/batch(es), {result.problems} decision(s); "
            f"{result.reason}",
            file=sys.stderr,
        )
