"""RunConfig: everything one run of the agent depends on, checked before anything starts."""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass, field
from typing import Literal

from fom import plugins
from fom.errors import ConfigError

__all__ = ["EVENT_FORMATS", "PLUGIN_FIELDS", "RunConfig", "WorkerConfig", "merge_rate"]


MAX_SEED = 2**63 - 1
"""The largest run seed: every seed travels in events and messages as a 64-bit integer."""
MAX_WORKERS = 64
"""The most worker processes one driver starts."""
MAX_ATARI_PROCESSES = 64
"""Most processes ``fom-fmc --processes`` may start."""
MAX_ATARI_SEED = 2**31 - 1
"""The largest seed ale-py's emulator takes."""
_EXTENSIONS = {".jsonl": "jsonl", ".json": "jsonl", ".msgpack": "msgpack", ".mpk": "msgpack"}


def _check_events_path(
    path: str, fmt: str, other_files: tuple[tuple[str | None, str], ...]
) -> None:
    """ConfigError if ``--events`` would overwrite another file of the run (``other_files``:
    its path and what it is), or if its name says one format and ``--events-format`` another."""
    target = os.path.realpath(path)
    for other, what in other_files:
        if other is not None and os.path.realpath(other) == target:
            raise ConfigError(f"--events {path} is also {what}: refusing that")
    named = _EXTENSIONS.get(os.path.splitext(path)[1].lower())
    if named is not None and named != fmt:
        raise ConfigError(
            f"--events {path} names a {named} file but the format is {fmt}: "
            f"pass --events-format {named}, or another name"
        )


def _check_checkpoint_path(path: str, *, resume: bool) -> None:
    """ConfigError if the checkpoint would overwrite another game's checkpoint (without
    ``resume``), or cannot be written where it is named."""
    if os.path.exists(path) and not os.path.isfile(path):
        raise ConfigError(f"--checkpoint {path} is not a file")
    if os.path.exists(path) and not resume:
        raise ConfigError(
            f"--checkpoint {path} exists: --resume goes on from it; remove it to start anew"
        )
    directory = os.path.dirname(path) or "."
    if not os.path.isdir(directory) or not os.access(directory, os.W_OK | os.X_OK):
        raise ConfigError(f"--checkpoint {path}: {directory} is not a writable directory")


def merge_rate(alpha: float | None, tips: int) -> float:
    """The ULP's alpha: ``alpha`` when given, else 1 / tips (concurrent deltas average)."""
    return alpha if alpha is not None else 1.0 / tips


EVENT_FORMATS: tuple[str, ...] = ("jsonl", "msgpack")
PLUGIN_FIELDS: dict[str, str] = {
    "world": plugins.ENGINES_GROUP,
    "learner": plugins.LEARNERS_GROUP,
    "planner": plugins.PLANNERS_GROUP,
}
"""RunConfig fields that name a plug-in, and the entry-point group they are looked up in."""


@dataclass(frozen=True, slots=True)
class RunConfig:
    """One run of the bot in a simulated world (the fields of ``fom-run``)."""

    ticks: int = 300
    """World ticks to play; the match then ends and the summary is printed."""
    tips: int = 4
    """Encounters (TIPs) running at once in steady state; the world keeps that many enemies."""
    seed: int = 0
    """Seed of every random draw of the run (world, TIPs, planner)."""
    world: str = "enhanced"
    """Simulated world: ``dummy`` (shotgun/rocket, an enemy every other tick), ``enhanced``, or
    one registered by a plug-in; ``doom:<scenario>`` plays a ViZDoom scenario (a built-in name
    such as ``deadly_corridor``, or a path to a .cfg)."""
    learner: str = "fom"
    """How TIPs learn: per-pattern deltas (fom), never (static), one shared Q-network
    (monolithic), a small network per pattern (mlp), or a plug-in's learner."""
    planner: str = "fmc"
    """How TIPs choose their moves: the FMC walker pool, uniform random shooting at FMC's budget
    in the same pool (mc), or flank-biased Dijkstra (graph)."""
    walkers: int = 32
    """FMC (or MC) walkers per plan request."""
    horizon: int = 12
    """FMC (or MC) horizon in ticks."""
    alpha: float | None = None
    """ULP merge rate in theta <- theta + alpha * delta; default 1 / tips."""
    events: str | None = None
    """Write the event stream to this path, or ``-`` for stdout (summary then on stderr)."""
    events_format: Literal["jsonl", "msgpack"] = "jsonl"
    """Event stream format: one JSON object per line, or msgpack maps back to back."""
    save: str | None = None
    """Save the pattern parameters here at the end (msgpack; temporary file, then rename)."""
    save_every: int | None = None
    """Also save the patterns every N ticks (atomically), so a killed run keeps what it learned."""
    load: str | None = None
    """Start from pattern parameters saved by an earlier run."""
    dashboard: str | None = None
    """Draw the dashboard's final frame to this PNG at the end (headless)."""
    live: bool = False
    """Show the dashboard in a window, refreshed twice a second (needs a display)."""
    tick_ms: float | None = None
    """Minimum wall time per tick in ms; default 250 with ``--live``, else as fast as possible."""
    uvloop: bool = True
    """Run on uvloop when it is installed."""
    gc_tuning: bool = True
    """Grow the garbage collector's young generation with the number of live actors, so that
    thousands of TIPs do not cost a full collection every tick (actors.GcPolicy)."""
    quiet: bool = False
    """No progress display."""
    request_timeout: float = 30.0
    """Seconds a request between actors may wait before it fails; a tick that waits more than
    twice this (plus the pace) stops the run (the watchdog)."""
    frame_skip: int = 4
    """Doom worlds: game tics per decision (a tick of the run)."""
    floors: int = 1
    """Doom worlds: games of the map played at once in lockstep (each its own ViZDoom; floor 0
    driven from the run's process, the others from worker processes of their own), sharing
    their patterns through the ULP; an episode that ends restarts on its floor."""
    extra: dict[str, str] = field(default_factory=dict)
    """Reserved for engines and learners plugged in by users (name -> value)."""
    bus: str | None = None
    """Carry the match over the NATS server at nats://HOST:PORT: the workers attached to it plan
    the match, and every event is published there live on its event.* subject."""
    workers: int = 0
    """Start N fom-worker processes that plan the match; with no --bus they meet on a private
    nats-server on a free loopback port."""
    world_on_worker: bool = False
    """Run the world's engine on the first worker too (the driver keeps the clock, CoreAgent,
    the ULP and the EventLog): a simulated or plug-in world, with --workers or --bus."""

    def validate(self) -> RunConfig:
        """Raise ConfigError (one clear line) for any value out of range; return self."""
        if self.ticks < 0:
            raise ConfigError(f"--ticks must be >= 0, got {self.ticks}")
        if self.tips < 1:
            raise ConfigError(f"--tips must be >= 1, got {self.tips}")
        if not 0 <= self.seed <= MAX_SEED:
            raise ConfigError(f"--seed must be in [0, 2**63 - 1], got {self.seed}")
        for name, group in PLUGIN_FIELDS.items():
            if name == "world":  # a world may take an argument: doom:<scenario>
                from fom.engines import check_world

                check_world(self.world)
                continue
            plugins.require(group, getattr(self, name))
        if self.frame_skip < 1:
            raise ConfigError(f"--frame-skip must be >= 1, got {self.frame_skip}")
        if not 1 <= self.floors <= 64:
            raise ConfigError(f"--floors must be in [1, 64], got {self.floors}")
        if self.walkers < 2:
            raise ConfigError(f"--walkers must be >= 2, got {self.walkers}")
        if self.horizon < 1:
            raise ConfigError(f"--horizon must be >= 1, got {self.horizon}")
        if self.alpha is not None and not 0.0 < self.alpha <= 10.0:
            raise ConfigError(f"--alpha must be in (0, 10], got {self.alpha}")
        if self.events_format not in EVENT_FORMATS:
            raise ConfigError(f"unknown events format {self.events_format!r}")
        if self.tick_ms is not None and not 0 <= self.tick_ms < math.inf:
            raise ConfigError(f"--tick-ms must be a finite number >= 0, got {self.tick_ms}")
        if self.events not in (None, "-"):
            patterns = "the run's pattern file"
            others = ((self.load, patterns), (self.save, patterns))
            _check_events_path(self.events, self.events_format, others)
        if self.save_every is not None and (self.save_every < 1 or not self.save):
            raise ConfigError(f"--save-every needs --save and N >= 1, got {self.save_every}")
        if not (math.isfinite(self.request_timeout) and self.request_timeout > 0):
            raise ConfigError(
                f"--request-timeout must be finite seconds > 0, got {self.request_timeout}"
            )
        if not 0 <= self.workers <= MAX_WORKERS:
            raise ConfigError(f"--workers must be in [0, {MAX_WORKERS}], got {self.workers}")
        if self.world_on_worker and not (self.workers or self.bus):
            raise ConfigError("--world-on-worker needs workers: --workers N or --bus URL")
        if self.world_on_worker and self.world.startswith("doom"):
            raise ConfigError(
                "--world-on-worker hosts simulated or plug-in worlds; a Doom world's games run "
                "in processes of their own already (--floors K)"
            )
        return self

    def world_options(self) -> dict[str, int]:
        """Keyword options for a world named with an argument (``doom:<scenario>``)."""
        return {"frame_skip": self.frame_skip, "floors": self.floors}

    @property
    def merge_rate(self) -> float:
        """The ULP's alpha: as configured, else 1 / tips (concurrent deltas average)."""
        return merge_rate(self.alpha, self.tips)

    @property
    def pace_s(self) -> float:
        """Minimum wall seconds per tick."""
        if self.tick_ms is not None:
            return self.tick_ms / 1000.0
        return 0.25 if self.live else 0.0

    def public(self) -> dict[str, str | int | float | bool | None]:
        """The fields as plain values, for the ``run.started`` event."""
        out: dict[str, str | int | float | bool | None] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, str | int | float | bool) or value is None:
                out[f.name] = value
        return out


@dataclass(frozen=True, slots=True)
class FmcConfig:
    """One Atari game played by the FMC planner (the fields of ``fom-fmc``)."""

    game: str = "pong"
    """The game's name, as ale-py knows it (``pong``, ``Boxing``, ``space_invaders`` ...)."""
    walkers: int = 32
    """FMC walkers (with ``adaptive``, the most the swarm may grow to)."""
    horizon: int = 15
    """FMC horizon in decisions (each decision lasts ``frameskip`` frames)."""
    max_samples: int | None = None
    """Cap on walker-steps per decision; default walkers * horizon."""
    min_walkers: int = 2
    """With ``adaptive``, the fewest walkers the swarm shrinks to when a decision spends the cap
    short of the horizon (2: the reference's rule; ``walkers``: never shrink, which Pong needs)."""
    steps: int = 200
    """Decisions to play (the episode may end first)."""
    frameskip: int = 5
    """Frames per decision: the planner's reaction time (each walker step lasts as long)."""
    adaptive: bool = True
    """Samples per step adapt so the walkers reach the horizon (the FractalAI recipe): walkers
    that clone do not step, a decision stops once the alive walkers' mean depth reaches
    ``horizon`` or ``max_samples`` is spent, and the walkers adapt between decisions.
    Off: every walker steps ``horizon`` times (fixed budget)."""
    obs: Literal["ram", "pixels"] = "ram"
    """What distances between walkers are measured on: the 128 RAM bytes or a grey screen
    averaged over 4 x 4 blocks."""
    loss_is_death: bool = False
    """For games that can be won (Boxing, Pong): a walker step with a negative reward is death,
    like a lost life (the reference's rule), and one that ends the game by scoring is a win, not
    a death."""
    processes: int = 1
    """Processes stepping the walkers, each with its own emulator (2 uses both cores of a 2-core
    machine); the actions and score do not depend on it."""
    seed: int = 0
    """Seed of the game and the planner."""
    checkpoint: str | None = None
    """Save where the game stands to this file (atomically) every ``checkpoint_every``
    decisions, at its end and when it is interrupted, so that ``resume`` can go on from it."""
    checkpoint_every: int = 100
    """Decisions between two saves of the checkpoint."""
    resume: bool = False
    """Go on from ``checkpoint`` (played with the same game, seed and planner settings) as if
    the game had never stopped; ``steps`` counts the decisions played before too."""
    events: str | None = None
    """Write events (plan.done per step, the final summary) to this path, or ``-`` for stdout."""
    events_format: Literal["jsonl", "msgpack"] = "jsonl"
    """Event stream format."""
    uvloop: bool = True
    """Run on uvloop when it is installed."""
    quiet: bool = False
    """No progress bar."""

    @property
    def sample_cap(self) -> int:
        """Walker-steps a decision may spend: ``max_samples``, or walkers * horizon."""
        return self.max_samples if self.max_samples is not None else self.walkers * self.horizon

    def validate(self) -> FmcConfig:
        """Raise ConfigError for any value out of range; return self."""
        if self.walkers < 2:
            raise ConfigError(f"--walkers must be >= 2, got {self.walkers}")
        if self.horizon < 1:
            raise ConfigError(f"--horizon must be >= 1, got {self.horizon}")
        if self.max_samples is not None and self.max_samples < 1:
            raise ConfigError(f"--max-samples must be >= 1, got {self.max_samples}")
        if self.steps < 0:
            raise ConfigError(f"--steps must be >= 0, got {self.steps}")
        if self.frameskip < 1:
            raise ConfigError(f"--frameskip must be >= 1, got {self.frameskip}")
        if self.adaptive and self.max_samples is not None and self.max_samples < self.walkers:
            raise ConfigError(
                f"--max-samples must be >= --walkers ({self.walkers}) with the adaptive budget,"
                f" got {self.max_samples}"
            )
        if not 2 <= self.min_walkers <= self.walkers:
            raise ConfigError(
                f"--min-walkers must be in [2, --walkers={self.walkers}], got {self.min_walkers}"
            )
        if self.obs not in ("ram", "pixels"):
            raise ConfigError(f"--obs must be 'ram' or 'pixels', got {self.obs!r}")
        if not 1 <= self.processes <= MAX_ATARI_PROCESSES:
            raise ConfigError(
                f"--processes must be in [1, {MAX_ATARI_PROCESSES}], got {self.processes}"
            )
        if not 0 <= self.seed <= MAX_ATARI_SEED:
            raise ConfigError(f"--seed must be in [0, 2**31 - 1] (the emulator's), got {self.seed}")
        if self.events_format not in EVENT_FORMATS:
            raise ConfigError(f"unknown events format {self.events_format!r}")
        if self.events not in (None, "-"):
            _check_events_path(
                self.events, self.events_format, ((self.checkpoint, "the --checkpoint file"),)
            )
        if self.checkpoint_every < 1:
            raise ConfigError(f"--checkpoint-every must be >= 1, got {self.checkpoint_every}")
        if self.resume and self.checkpoint is None:
            raise ConfigError("--resume goes on from a --checkpoint file: name one")
        if self.checkpoint is not None:
            _check_checkpoint_path(self.checkpoint, resume=self.resume)
        return self


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    """A worker process that hosts encounters, planning and worlds for the drivers on a NATS
    server (the fields of fom-worker)."""

    bus: str = ""
    """The NATS server, nats://HOST:PORT (the driver's --bus)."""
    name: str | None = None
    """The worker's name, one subject token; default <host>-<pid>."""
    driver_timeout: float = 5.0
    """Exit once the driver served has sent no heartbeat for this many seconds."""
    orphan_timeout: float | None = None
    """Also exit if no driver shows up within this many seconds (default: wait)."""
    uvloop: bool = True
    """Run on uvloop when it is installed."""
    quiet: bool = False
    """No closing line (batches planned, why it stopped) on stderr."""
    exit_with_parent: bool = False
    """Exit as soon as the process that started this worker is gone (a driver passes it)."""

    def validate(self) -> WorkerConfig:
        """Raise ConfigError for any value out of range; return self."""
        if not self.bus:
            raise ConfigError("fom-worker needs --bus nats://HOST:PORT")
        if self.name is not None and (not self.name or any(c in self.name for c in ". *>")):
            raise ConfigError(f"--name must be one subject token, got {self.name!r}")
        if not 0 < self.driver_timeout < math.inf:
            raise ConfigError(f"--driver-timeout must be > 0, got {self.driver_timeout}")
        if self.orphan_timeout is not None and not 0 < self.orphan_timeout < math.inf:
            raise ConfigError(f"--orphan-timeout must be > 0, got {self.orphan_timeout}")
        return self


@dataclass(frozen=True, slots=True)
class DashConfig:
    """Drawing the dashboard from a recorded event stream (the fields of ``fom-dash``)."""

    events: str = ""
    """The recorded JSONL or msgpack event stream."""
    output: str = "dashboard.png"
    """Where to draw: .png (a frame), .gif or .mp4 (the run animated)."""
    at: int | None = None
    """Draw the state at this tick instead of the last frame."""
    quiet: bool = False
    """No progress bar while an animation renders."""
