"""``fom-fmc``: an Atari game played by FMC through the actor system (game actor + walker pool)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from actors import Runtime
from actors import run as run_loop
from actors.atari import AtariGame, AtariWalkerPool
from actors.channels import GameFinished
from actors.event_log import EventLog
from actors.progress import Progress
from bus import Bus
from fom.app.report import events_error_message
from fom.checkpoint import AtariCheckpoint, game_settings
from fom.config import FmcConfig
from fom.engines.atari import AtariSimulator, resolve_game
from fom.errors import RunFailed
from fom.events import open_event_writer
from fom.signals import StopSignals

__all__ = ["format_fmc_result", "play", "play_async"]


async def play_async(
    config: FmcConfig, *, handle_signals: bool | StopSignals = False
) -> GameFinished:
    """Play ``config.game``; an unknown name, or a checkpoint to resume that is missing or of
    another game, raises (UnknownGame, StateFileError, ConfigError) before anything starts."""
    config.validate()
    game_id = resolve_game(config.game)
    settings = game_settings(config, game_id)
    start = AtariCheckpoint.load(config.checkpoint) if config.resume and config.checkpoint else None
    if start is not None:
        start.check(settings, str(config.checkpoint))
    writer = open_event_writer(config.events, config.events_format) if config.events else None
    game = AtariSimulator(game_id, frameskip=config.frameskip, seed=config.seed)
    if start is not None:
        game.import_root(start.state, start.score)
    planner_sim: AtariSimulator | None = None
    actor = AtariGame(
        game, steps=config.steps, request_timeout=600.0, settings=settings,
        walkers=config.walkers, start=start, save=_saver(config.checkpoint),
        save_every=config.checkpoint_every,
    )  # fmt: skip
    try:
        planner_sim = AtariSimulator(
            game_id, frameskip=config.frameskip, seed=config.seed, obs=config.obs,
            loss_is_death=config.loss_is_death, processes=config.processes,
        )  # fmt: skip
        async with Runtime(Bus()) as rt:
            if handle_signals is not False:
                rt.install_signal_handlers(
                    handle_signals if isinstance(handle_signals, StopSignals) else None
                )
            log = EventLog(writer)
            rt.spawn(log, name="event-log")
            rt.spawn(
                AtariWalkerPool(
                    planner_sim,
                    walkers=config.walkers,
                    horizon=config.horizon,
                    max_samples=config.max_samples,
                    seed=config.seed,
                    adaptive=config.adaptive,
                    min_walkers=config.min_walkers,
                    start_walkers=actor.walkers,
                ),
                name="walker-pool",
            )
            if not config.quiet:
                progress = Progress.for_stderr(config.steps, "step", start=actor.step)
                if progress is not None:
                    rt.spawn(progress, name="progress", topics=("event.atari.step",))
            rt.spawn(actor, name="game")
            await rt.shutdown_requested.wait()
            if handle_signals is not False:
                rt.remove_signal_handlers()
    finally:
        if planner_sim is not None:
            planner_sim.close()  # stop the worker processes on every path out
        if writer is not None:
            with contextlib.suppress(OSError):  # the EventLog reports it
                writer.close()
    if actor.save is not None and actor.error is None:  # also when interrupted: go on later
        actor.save(actor.checkpoint())
    if actor.error is not None:  # the game actor crashed (it is never restarted)
        raise RunFailed(actor.error)
    if log.error is not None:  # the events could not be written: the game was stopped
        raise RunFailed(events_error_message(config.events, log.error, log.first_lost, log.seq))
    return actor.result or actor.summary()  # the figures so far if interrupted


def _saver(path: str | None) -> Callable[[AtariCheckpoint], None] | None:
    """Save a checkpoint to ``path``; RunFailed, with the reason, if it cannot be written."""
    if path is None:
        return None

    def save(checkpoint: AtariCheckpoint) -> None:
        try:
            checkpoint.save(path)
        except OSError as exc:
            raise RunFailed(f"cannot write the checkpoint {path}: {exc.strerror or exc}") from None

    return save


def play(config: FmcConfig, *, handle_signals: bool | StopSignals = True) -> GameFinished:
    """``play_async`` on a fresh event loop."""
    return run_loop(play_async(config, handle_signals=handle_signals), use_uvloop=config.uvloop)


def format_fmc_result(r: GameFinished, *, interrupted: bool = False) -> str:
    """The console lines of ``fom-fmc``."""
    end = "game over" if r.game_over else "interrupted" if interrupted else "steps done"
    return (
        f"{r.game}: score {r.score:g} after {r.steps} steps ({end})\n"
        f"samples per step {r.samples_per_step:,.1f}   walker-steps/s {r.walker_steps_per_s:,.0f}"
        f"   wall {r.wall_s:.1f} s"
    )
